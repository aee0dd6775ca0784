"""S3 default encryption as the rules see it: the rules a bucket declares inline (Bucket and
BucketV2 shape them differently) and those of the encryption-configuration resources that
target it, matched by bucket name or, while that is not known, by property dependency."""
from __future__ import annotations

import dataclasses
from typing import Any, Iterator

from .model import Resource, Stack
from .values import Malformed, Unverifiable, as_list, describe_unknown, is_unknown

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
CONFIG_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
OBJECT_TYPES = ("aws:s3/bucketObject:BucketObject", "aws:s3/bucketObjectv2:BucketObjectv2")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


@dataclasses.dataclass(frozen=True)
class EncryptionRule:
    source: Resource           # the bucket (inline) or the configuration resource
    path: str                  # where in its inputs, for messages
    algorithm: Any             # may be unknown
    key: Any                   # kmsMasterKeyId: may be unknown or None
    bucket_key_enabled: Any
    key_dependencies: tuple[str, ...]

    @property
    def uses_kms(self) -> bool:
        return self.algorithm in KMS_ALGORITHMS


def _field(obj: dict, *names: str) -> Any:
    for name in names:
        if name in obj:
            return obj[name]
    return None


def _checked_list(value: Any, path: str) -> list:
    if is_unknown(value):
        raise Unverifiable(describe_unknown(value, path))
    items = as_list(value)
    for i, item in enumerate(items):
        if is_unknown(item):
            raise Unverifiable(describe_unknown(item, f"{path}[{i}]"))
        if not isinstance(item, dict):
            raise Malformed(f"{path}[{i}] is not an object")
    return items


def _rules(source: Resource, rules: Any, path: str, deps: tuple[str, ...]) -> Iterator[EncryptionRule]:
    for i, rule in enumerate(_checked_list(rules, path)):
        where = f"{path}[{i}]"
        defaults = _field(rule, "applyServerSideEncryptionByDefault", "applyServerSideEncryptionByDefaults")
        for j, default in enumerate(_checked_list(defaults, f"{where}.applyServerSideEncryptionByDefault")):
            yield EncryptionRule(source, f"{where}.applyServerSideEncryptionByDefault",
                                 default.get("sseAlgorithm"), default.get("kmsMasterKeyId"),
                                 rule.get("bucketKeyEnabled"), deps)


def inline_rules(bucket: Resource) -> list[EncryptionRule]:
    """Bucket: `serverSideEncryptionConfiguration: {rule: {...}}`; BucketV2:
    `serverSideEncryptionConfigurations: [{rules: [...]}]`. Both shapes are read for both types."""
    found: list[EncryptionRule] = []
    for prop in ("serverSideEncryptionConfiguration", "serverSideEncryptionConfigurations"):
        value = bucket.props.get(prop)
        if value is None:
            continue
        deps = bucket.depends_on(prop)
        for i, config in enumerate(_checked_list(value, prop)):
            rules = _field(config, "rule", "rules")
            found.extend(_rules(bucket, rules, f"{prop}[{i}].rule", deps))
    return found


def config_rules(config: Resource) -> list[EncryptionRule]:
    rules = config.props.get("rules")
    if rules is None:
        raise Malformed("rules is missing")
    return list(_rules(config, rules, "rules", config.depends_on("rules")))


def bucket_names(bucket: Resource) -> set[str]:
    return {v for v in (bucket.get("bucket"), bucket.outputs.get("id"))
            if isinstance(v, str) and v and not is_unknown(v)}


class _ConfigIndex:
    """Encryption configurations by the bucket name they target, or (while that name is not
    known) by the bucket URN they were computed from, built once per stack so large stacks stay
    linear. A known target wins over a dependency (SPEC: "Which value wins")."""

    def __init__(self, stack: Stack):
        self.by_urn: dict[str, list[Resource]] = {}
        self.by_name: dict[str, list[Resource]] = {}
        self.named_by_urn: dict[str, list[Resource]] = {}  # a literal target, by the bucket it came from
        self.unresolved: list[Resource] = []     # target not known and no dependency
        self.named: list[Resource] = []          # a literal target
        for config in stack.of_type(*CONFIG_TYPES):
            target = config.props.get("bucket")
            deps = config.depends_on("bucket")
            if isinstance(target, str) and not is_unknown(target):
                self.by_name.setdefault(target, []).append(config)
                self.named.append(config)
                for urn in deps:
                    self.named_by_urn.setdefault(urn, []).append(config)
                continue
            for urn in deps:
                self.by_urn.setdefault(urn, []).append(config)
            if not deps:
                self.unresolved.append(config)


def configs_for(stack: Stack, bucket: Resource) -> tuple[list[Resource], bool]:
    """The encryption-configuration resources that target `bucket`, and whether some other one
    targets a bucket that cannot be known yet (so it might be this one)."""
    index: _ConfigIndex = stack.memo("s3-encryption-configs", _ConfigIndex)
    names = bucket_names(bucket)
    matched = {c.urn: c for c in index.by_urn.get(bucket.urn, ())}
    for name in names:
        matched.update((c.urn, c) for c in index.by_name.get(name, ()))
    if not names:  # a literal target cannot be compared with a name not known yet: its dependency decides
        matched.update((c.urn, c) for c in index.named_by_urn.get(bucket.urn, ()))
    ambiguous = bool(index.unresolved) or (not names and any(c.urn not in matched for c in index.named))
    return list(matched.values()), ambiguous


def all_rules(stack: Stack, bucket: Resource) -> tuple[tuple[EncryptionRule, ...], bool]:
    """Every encryption rule that applies to the bucket, and whether an unresolved configuration
    may add one. Read once per bucket and stack: three stack rules ask about every bucket. The
    answer (or the `Unverifiable`/`Malformed` it raised) is immutable and keyed by the bucket
    object itself, so two resources with one URN never share it."""
    read: dict[int, tuple] = stack.memo("s3-encryption-rules", lambda _: {})
    entry = read.get(id(bucket))
    if entry is None or entry[0] is not bucket:
        try:
            entry = (bucket, _all_rules(stack, bucket), None)
        except (Unverifiable, Malformed) as err:
            entry = (bucket, None, err)
        read[id(bucket)] = entry
    if entry[2] is not None:
        raise entry[2]
    return entry[1]


def _all_rules(stack: Stack, bucket: Resource) -> tuple[tuple[EncryptionRule, ...], bool]:
    configs, ambiguous = configs_for(stack, bucket)
    rules = inline_rules(bucket)
    for config in configs:
        rules.extend(config_rules(config))
    return tuple(rules), ambiguous
