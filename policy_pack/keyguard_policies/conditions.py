"""Whether a statement's Condition restricts who may call (SPEC: "Conditions that restrict the
caller"). Only a positive comparison of a caller-identity key against values that each pin an
account, organization or principal counts; anything that admits every caller (negated or
`IfExists` operators, `ForAllValues:`, empty or wildcard values, other keys) restricts nothing.
Keys and operators are compared case-insensitively, as IAM does."""
from __future__ import annotations

import re
from typing import Any

from .values import as_list

# caller-identity key -> how its values name the caller
_ACCOUNT, _ORG, _ORG_PATH, _ARN, _USERID = "account", "org", "org-path", "arn", "userid"
IDENTITY_KEYS = {
    "aws:principalaccount": _ACCOUNT, "aws:sourceaccount": _ACCOUNT, "kms:calleraccount": _ACCOUNT,
    "aws:principalorgid": _ORG, "aws:sourceorgid": _ORG,
    "aws:principalorgpaths": _ORG_PATH,
    "aws:principalarn": _ARN,
    "aws:userid": _USERID,
}
POSITIVE_OPERATORS = frozenset(("stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"))
_ACCOUNT_ID = re.compile(r"^\d{12}$")


def _wild(text: str) -> bool:
    return "*" in text or "?" in text


def pins(kind: str, value: Any) -> bool:
    """Whether one condition value names a particular account, organization or principal."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return False
    text = str(value)
    if not text or text == "*":
        return False
    if kind == _ARN:
        # arn:partition:service:region:account:...: nothing before the account may be a wildcard
        # (StringLike's `*` spans colons), and the account must be a concrete 12-digit id
        parts = text.split(":", 5)
        return (len(parts) == 6 and parts[0].lower() == "arn" and not any(_wild(p) for p in parts[:4])
                and bool(_ACCOUNT_ID.match(parts[4])))
    if kind == _ORG_PATH:  # o-xxxx/r-xxxx/ou-...: the organization is the first segment
        return not _wild(text.split("/", 1)[0])
    if kind == _USERID:    # AROAEXAMPLE:session or AIDAEXAMPLE: the principal is the first segment
        return not _wild(text.split(":", 1)[0]) and bool(text.split(":", 1)[0])
    return not _wild(text)  # an account or organization id names it whole


def _operator_restricts(operator: str) -> bool:
    op = operator.lower()
    if op.startswith("forallvalues:") or op.endswith("ifexists"):
        return False
    return op.removeprefix("foranyvalue:") in POSITIVE_OPERATORS


def restricts_caller(condition: Any) -> bool:
    """True when some clause of the condition (they all must hold) admits only pinned callers:
    a clause's values are alternatives, so every one of them must pin."""
    if not isinstance(condition, dict):
        return False
    for operator, clauses in condition.items():
        if not isinstance(operator, str) or not isinstance(clauses, dict) or not _operator_restricts(operator):
            continue
        for key, values in clauses.items():
            kind = IDENTITY_KEYS.get(key.lower()) if isinstance(key, str) else None
            listed = as_list(values)
            if kind and listed and all(pins(kind, v) for v in listed):
                return True
    return False
