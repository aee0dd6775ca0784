"""What the least-privilege rules share: the Allow statements they judge in each document of a
resource (with KMS key policies' `*` read as the key), the key-policy statements shaped like AWS's
default delegation, which only the stack can tell apart from a cross-account grant, and ARN
helpers."""
from __future__ import annotations

import dataclasses
import functools
import re
from typing import Callable, Iterable, Iterator

from . import iam_catalog
from .documents import KEY_POLICY, Document, Statement, delegated_account, document_types, documents_of
from .kms_keys import KEY_TYPE, KeyLookup
from .model import Resource, Stack, per_resource
from .values import Malformed, Unverifiable, describe_unknown, is_unknown

DOCUMENT_TYPES = document_types()
_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[^:]*:(\d{12}):key/.+$")
_KMS_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[^:]*:(\d{12}):(key|alias)/.+$")
KEY_POLICY_TYPES = (KEY_TYPE, "aws:kms/keyPolicy:KeyPolicy")


def key_arn_of(resource: Resource) -> str | None:
    """The key a key policy governs: the Key's ARN, or a KeyPolicy's keyId when it is an ARN."""
    value = resource.get("arn") if resource.type == "aws:kms/key:Key" else resource.props.get("keyId")
    return value if isinstance(value, str) and not is_unknown(value) and _KEY_ARN.match(value) else None


@per_resource
def judged_statements(resource: Resource) -> tuple[tuple[Document, Statement, tuple[str, ...]], ...]:
    """(document, Allow statement, its resources) for every statement the rules judge."""
    documents = documents_of(resource)
    if len(documents) == 1 and documents[0].kind != KEY_POLICY:
        return documents[0].judged()  # the common case, worked out once per parsed document
    key_arn = key_arn_of(resource)
    return tuple((document, statement, document.effective_resources(statement, key_arn))
                 for document in documents for statement in document.allow_statements())


# --- key-policy statements shaped like AWS's default delegation -----------------------------------
# A root principal with kms:* on "*" is AWS's default statement only for the key's own account;
# for any other account it is a cross-account grant (SPEC: "Which value wins"). A resource alone
# does not show its key's account (a Key's ARN is an output; a KeyPolicy's keyId is usually the
# key id), so these statements are judged here, with the stack: by `keyguard audit` in the same
# run, and by the pack in AnalyzeStack (pack.py), so both give the same verdict.

def key_account(stack: Stack, resource: Resource) -> tuple[str | None, str]:
    """(the account of the key `resource`'s policy governs, "") or (None, why it is not known)."""
    if resource.type == KEY_TYPE:
        return _account_of_key(resource)
    value = resource.get("keyId")
    if isinstance(value, str) and not is_unknown(value):
        match = _KMS_ARN.match(value)
        if match:  # a key or alias ARN carries its account
            return match.group(1), ""
    key = KeyLookup.of(stack).resolve(value, resource.depends_on("keyId"))
    if key is not None:
        return _account_of_key(key)
    if is_unknown(value):
        return None, describe_unknown(value, "keyId")
    if not isinstance(value, str) or not value:
        return None, "keyId is not set"
    return None, (f"keyId {value!r} names no key of this stack, so the key's account is not known "
                  "(name the key by its ARN)")


def _account_of_key(key: Resource) -> tuple[str | None, str]:
    arn = key.get("arn")
    if isinstance(arn, str) and not is_unknown(arn) and _KEY_ARN.match(arn):
        return _KEY_ARN.match(arn).group(1), ""
    return None, f"the ARN of key {key.name}, which names its account, is not known until the key exists"


def delegations(resource: Resource) -> list[tuple[Document, Statement, tuple[str, ...], str]]:
    """(document, statement, its resources, the account it delegates to) for each key-policy
    statement shaped like the default delegation."""
    key_arn = key_arn_of(resource)
    return [(document, statement, document.effective_resources(statement, key_arn), account)
            for document in documents_of(resource) if document.kind == KEY_POLICY
            for statement in document.statements if (account := delegated_account(statement))]


def key_policy_carriers(stack: Stack) -> list[Resource]:
    """The resources whose key policies `judge_delegations` reads."""
    return [r for r in stack.of_type(*KEY_POLICY_TYPES) if r.props.get("policy") is not None]


def judge_delegations(stack: Stack, judge: Callable[[Document, Statement, tuple[str, ...]], Iterable]) -> Iterator:
    """What a rule's `judge` finds in delegation-shaped statements, unless they delegate to the
    key's own account; unverifiable when that account is not known and the verdict depends on it."""
    from .policies import unverified  # the Violation helpers live with the rules
    for resource in key_policy_carriers(stack):
        try:
            candidates = delegations(resource)
        except (Malformed, Unverifiable):
            continue  # the document itself is reported by the rule's resource check
        found = [(d, s, account, list(judge(d, s, r))) for d, s, r, account in candidates]
        found = [f for f in found if f[3]]
        if not found:
            continue
        own, why = key_account(stack, resource)
        for document, statement, account, violations in found:
            if own == account:
                continue  # AWS's default statement: the key delegated to its own account
            if own is None:
                yield unverified(f"{document.path} {statement.label} gives kms:* to the root of account {account}, "
                                 f"which is AWS's default statement only if that is the key's own account; {why}",
                                 resource.urn)
                continue
            for v in violations:
                yield dataclasses.replace(v, urn=resource.urn, message=(
                    f"{v.message} (the root of account {account}, not the key's account {own}: a cross-account "
                    "grant, not AWS's default statement)"))


def split_arn(arn: str) -> tuple[str, str, str, str, str] | None:
    """(partition, service, region, account, resource) or None when it is not an ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[1], parts[2], parts[3], parts[4], parts[5]


_SEGMENTS = re.compile(r"[/:]").split  # compiled once: `re.split` looks its pattern up on every call


@functools.lru_cache(maxsize=4096)
def names_everything(arn: str) -> bool:
    """`*`, or an ARN whose resource part names no particular resource (`arn:aws:s3:::*`,
    `arn:aws:s3:::*/*`, `arn:aws:kms:*:*:key/*`): only wildcards and resource-type words."""
    if "*" not in arn:
        return False  # a concrete ARN names one resource
    if arn == "*":
        return True
    parts = split_arn(arn)
    if parts is None:
        return False
    _, service, _, _, resource_part = parts
    if service == "*":
        return True
    segments = _SEGMENTS(resource_part)  # empty segments (from "//") are neither "*" nor words: skipped below
    if "*" not in segments:
        return False
    keywords = iam_catalog.resource_type_keywords(service)
    for segment in segments:
        if segment and segment != "*" and segment.lower() not in keywords:
            return False
    return True


def shorten(items, limit: int = 4) -> str:
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def statement_checks(judge: Callable[[Document, Statement, tuple[str, ...]], Iterable]):
    """(check, check_stack, stack_subjects) for a rule that judges Allow statements one by one:
    `check` judges a resource's statements on the document alone, `check_stack` the delegation-shaped
    key-policy statements with the stack (policies.Rule runs both, in the audit and in the pack)."""
    def check(resource, params):
        # a list, not a generator: a judge that raises leaves no partial findings behind
        return [v for document, statement, resources in judged_statements(resource)
                for v in judge(document, statement, resources)]

    def check_stack(stack, params):
        yield from judge_delegations(stack, judge)

    return check, check_stack, key_policy_carriers
