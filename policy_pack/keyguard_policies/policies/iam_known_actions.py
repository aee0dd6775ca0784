"""IAM ignores actions it does not know: a typo in an Allow grants nothing, in a Deny denies
nothing. Every statement is checked, Deny included."""
import difflib
import functools

from .. import iam_catalog
from ..documents import documents_of
from ..least_privilege import DOCUMENT_TYPES
from . import Violation

NAME = "iam-known-actions"
SUPPORTED_RESOURCES = DOCUMENT_TYPES  # every type that carries an IAM policy document


@functools.lru_cache(maxsize=4096)
def problem(action: str) -> str | None:
    if action == "*":
        return None
    service, sep, name = action.partition(":")
    if not sep or not service or not name:
        return f"{action!r} is not of the form service:Action"
    if iam_catalog.is_pattern(action):
        return None if iam_catalog.match_count(action) else f"{action!r} matches no known action"
    if not iam_catalog.is_known_service(service) and "*" not in service:
        return f"{action!r} has an unknown service prefix {service!r}"
    if iam_catalog.lookup(action) is None:
        close = difflib.get_close_matches(name, iam_catalog.names_with_prefix(service, name[0]), n=1)
        hint = f" (did you mean {service}:{close[0]}?)" if close else ""
        return f"{action!r} is not a known action{hint}"
    return None


def check(resource, params):
    for document in documents_of(resource):
        for statement in document.statements:
            for action in statement.actions + statement.not_actions:
                issue = problem(action)
                if issue:
                    yield Violation(f"{document.path} {statement.label}: {issue}", evidence=statement.evidence())
