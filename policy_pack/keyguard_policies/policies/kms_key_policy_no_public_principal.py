"""A key policy is the key's perimeter: no anonymous principal without a condition that pins the
caller (conditions.py says which do), and never bypassing the lockout safety check."""
from ..conditions import restricts_caller
from ..documents import documents_of
from ..values import as_bool, as_list
from . import Violation

NAME = "kms-key-policy-no-public-principal"
SUPPORTED_RESOURCES = ("aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy")


def is_public(principal) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(p == "*" for p in as_list(principal.get("AWS")))
    return False


def check(resource, params):
    if as_bool(resource.props.get("bypassPolicyLockoutSafetyCheck"), "bypassPolicyLockoutSafetyCheck"):
        yield Violation("bypassPolicyLockoutSafetyCheck is true: a policy that locks everyone out of the key "
                        "would be accepted", evidence="bypassPolicyLockoutSafetyCheck=true")
    for document in documents_of(resource):
        for statement in document.statements:
            if not statement.allows or restricts_caller(statement.condition):
                continue
            if is_public(statement.principal):
                yield Violation(f"{document.path} {statement.label} allows principal \"*\" without a condition "
                                "that restricts the caller's account, organization or principal",
                                evidence=statement)
            elif statement.not_principal is not None:
                yield Violation(f"{document.path} {statement.label} allows every principal but those in "
                                "NotPrincipal, without a condition that restricts the caller",
                                evidence=statement)
