"""Credentials this stack hands out (Vault role documents) and identity policies it defines reach
only this stack's own bucket and key; anything else must be listed in allowedResourceArns."""
import fnmatch
import functools

from .. import iam_catalog
from ..documents import IDENTITY, documents_of
from ..kms_keys import ALIAS_TYPE, KEY_TYPE, key_identifiers
from ..least_privilege import split_arn
from ..s3_encryption import BUCKET_TYPES, bucket_names
from . import Violation, judge_each, unverified

NAME = "iam-resources-scoped-to-stack"
SUPPORTED_RESOURCES = ("vault:aws/secretBackendRole:SecretBackendRole", "aws:iam/policy:Policy",
                       "aws:iam/rolePolicy:RolePolicy", "aws:iam/userPolicy:UserPolicy",
                       "aws:iam/groupPolicy:GroupPolicy", "aws:iam/role:Role")
SERVICES = ("s3", "kms")


class _Owned:
    """The stack's buckets and keys, and whether some of their names are not known yet."""

    def __init__(self, stack):
        self.buckets, self.keys, self.incomplete = set(), set(), False
        for bucket in stack.of_type(*BUCKET_TYPES):
            names = bucket_names(bucket)
            self.buckets |= names
            self.incomplete |= not names
        for key in stack.of_type(KEY_TYPE, ALIAS_TYPE):
            ids = {i for i in key_identifiers(key) if i.startswith("arn:")}
            self.keys |= ids
            self.incomplete |= not ids

    def owns(self, arn: str, parts: tuple | None = None) -> bool:
        _, service, _, _, resource_part = parts or split_arn(arn)
        if service == "s3":
            return resource_part.split("/", 1)[0] in self.buckets
        return arn in self.keys


def _services_reached(statement) -> frozenset[str]:
    """The services whose resource-level actions the statement grants; actions that support only
    "*" (s3:ListAllMyBuckets, kms:ListKeys) reach no particular resource. NotAction grants every
    action it does not list."""
    return _services_of(statement.actions, statement.not_actions)


@functools.lru_cache(maxsize=4096)
def _services_of(actions: tuple[str, ...], not_actions: tuple[str, ...]) -> frozenset[str]:
    """A catalog fact about an action list, kept: the copies of a design repeat their lists."""
    if not_actions:
        excluded = set().union(*(iam_catalog.resource_level_names(p) for p in not_actions))
        return frozenset(s for s in SERVICES if set(iam_catalog.resource_level_names(f"{s}:*")) - excluded)
    return frozenset().union(*(iam_catalog.services_of(p, resource_level=True) for p in actions))


def check_stack(stack, params):
    owned = _Owned(stack)
    allowed = params.get("allowedResourceArns") or []
    yield from judge_each(stack.of_type(*SUPPORTED_RESOURCES), lambda resource: _judge(resource, owned, allowed))


def _judge(resource, owned, allowed):
    for document in documents_of(resource):
        if document.kind != IDENTITY:
            continue
        for statement in document.statements:
            if not statement.allows:
                continue
            services = _services_reached(statement)
            if statement.not_resources and services & set(SERVICES):
                reached = sorted(services & set(SERVICES))
                yield Violation(f"{document.path} {statement.label} grants {'/'.join(reached)} actions on every "
                                f"resource but {', '.join(statement.not_resources)} (NotResource), not only this "
                                "stack's", evidence=statement)
            for arn in statement.resources:
                if any(fnmatch.fnmatchcase(arn, pattern) for pattern in allowed):
                    continue
                parts = split_arn(arn)
                if arn == "*" or (parts and parts[1] == "*"):
                    reached = sorted(services & set(SERVICES))
                    if reached:
                        yield Violation(f"{document.path} {statement.label} grants {'/'.join(reached)} actions on "
                                        f"{arn}: every bucket or key, not this stack's", evidence=statement)
                    continue
                if parts is None or parts[1] not in SERVICES:
                    continue
                if owned.owns(arn, parts):
                    continue
                if owned.incomplete:
                    yield unverified(f"{document.path} {statement.label} names {arn}, and this stack's "
                                     "bucket names or key ARNs are not known yet")
                else:
                    yield Violation(f"{document.path} {statement.label} grants {arn}, which is not this "
                                    "stack's bucket, its objects or its key", evidence=statement)
