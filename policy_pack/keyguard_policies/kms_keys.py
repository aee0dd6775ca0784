"""Which KMS key a value names, among the keys and aliases of the stack, and whether it is an
AWS-managed key. A value computed from a stack key (a property dependency) names that key while
the value itself is unknown during preview; a known value names what it says."""
from __future__ import annotations

import re
from typing import Any, Iterable

from .model import Resource, Stack
from .values import is_unknown

KEY_TYPE = "aws:kms/key:Key"
ALIAS_TYPE = "aws:kms/alias:Alias"
_AWS_MANAGED = re.compile(r"^(arn:aws[a-z-]*:kms:[^:]*:[^:]*:)?alias/aws/", re.IGNORECASE)


def is_aws_managed(value: str) -> bool:
    """`alias/aws/s3` or its ARN: a key AWS manages, not the customer."""
    return bool(_AWS_MANAGED.match(value))


def _known_strings(values: Iterable[Any]) -> set[str]:
    return {v for v in values if isinstance(v, str) and v and not is_unknown(v)}


def key_identifiers(key: Resource) -> set[str]:
    return _known_strings([key.outputs.get("id"), key.get("keyId"), key.get("arn")])


class KeyLookup:
    """Resolves key references against one stack."""

    def __init__(self, stack: Stack):
        # the URN index, not the stack: the stack memoizes this lookup, and a cycle between them
        # would keep a whole large stack alive until a full collection
        self.by_urn = stack.by_urn
        self.by_identifier: dict[str, Resource] = {}
        self.unknown_identity = False
        for key in stack.of_type(KEY_TYPE):
            ids = key_identifiers(key)
            self.by_identifier.update({i: key for i in ids})
            if not any(i.startswith("arn:") for i in ids):
                self.unknown_identity = True
        self._keys_by_identifier = dict(self.by_identifier)
        for alias in stack.of_type(ALIAS_TYPE):
            target = self.alias_target(alias)
            if target is not None:
                name = alias.get("name")
                for ident in _known_strings([name, alias.get("arn")]):
                    self.by_identifier[ident] = target

    @classmethod
    def of(cls, stack: Stack) -> "KeyLookup":
        """The stack's lookup, built once however many rules ask."""
        return stack.memo("kms-key-lookup", cls)

    def alias_target(self, alias: Resource) -> Resource | None:
        """The stack key an alias points at: by its known targetKeyId, else (while that is unknown)
        by the key it was computed from."""
        target = alias.get("targetKeyId")
        if is_unknown(target):
            for urn in alias.depends_on("targetKeyId"):
                if self.by_urn.get(urn) and self.by_urn[urn].type == KEY_TYPE:
                    return self.by_urn[urn]
            return None
        return self._keys_by_identifier.get(target) if isinstance(target, str) else None

    def from_dependencies(self, urns: Iterable[str]) -> Resource | None:
        for urn in urns:
            resource = self.by_urn.get(urn)
            if resource is None:
                continue
            if resource.type == KEY_TYPE:
                return resource
            if resource.type == ALIAS_TYPE:
                return self.alias_target(resource)
        return None

    def resolve(self, value: Any, dependencies: Iterable[str] = ()) -> Resource | None:
        """The stack key `value` names, or None. A known value is judged by what it names; the
        dependencies (the key it was computed from) only stand in while it is unknown (SPEC:
        "Which value wins"). Callers check `is_unknown(value)` first when they need to tell
        "unknown" from "not ours"."""
        if is_unknown(value):
            return self.from_dependencies(dependencies)
        if isinstance(value, str):
            if value in self.by_identifier:
                return self.by_identifier[value]
            # an alias ARN names the alias: arn:aws:kms:<region>:<account>:alias/<name>
            if ":alias/" in value:
                return self.by_identifier.get("alias/" + value.split(":alias/", 1)[1])
        return None
