"""A key policy is the key's perimeter: no anonymous principal without an account or
organization condition, and never bypassing the lockout safety check."""
from ..documents import documents_of
from ..values import as_bool, as_list
from . import Violation

NAME = "kms-key-policy-no-public-principal"
SUPPORTED_RESOURCES = ("aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy")
RESTRICTING_KEYS = frozenset(k.lower() for k in (
    "aws:PrincipalAccount", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalArn",
    "aws:SourceAccount", "aws:SourceOrgID", "aws:SourceOrgPaths", "aws:SourceArn", "kms:CallerAccount"))
# Operators that admit only the listed values (negated operators and Null admit everyone else).
RESTRICTING_OPERATORS = frozenset(o.lower() for o in (
    "StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike"))


def is_public(principal) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(p == "*" for p in as_list(principal.get("AWS")))
    return False


def restricts_caller(condition: dict) -> bool:
    for operator, clauses in condition.items():
        if not isinstance(clauses, dict) or operator.lower().removeprefix("foranyvalue:") not in RESTRICTING_OPERATORS:
            continue
        for key, values in clauses.items():
            if key.lower() in RESTRICTING_KEYS and all(v != "*" for v in as_list(values)):
                return True
    return False


def check(resource, params):
    if as_bool(resource.props.get("bypassPolicyLockoutSafetyCheck"), "bypassPolicyLockoutSafetyCheck"):
        yield Violation("bypassPolicyLockoutSafetyCheck is true: a policy that locks everyone out of the key "
                        "would be accepted", evidence="bypassPolicyLockoutSafetyCheck=true")
    for document in documents_of(resource):
        for statement in document.statements:
            if statement.allows and is_public(statement.principal) and not restricts_caller(statement.condition):
                yield Violation(f"{document.path} {statement.label} allows principal \"*\" without a condition "
                                "on the caller's account or organization", evidence=statement.evidence())
