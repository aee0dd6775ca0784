"""Actions that can be scoped to resources must be: `*` (or an ARN naming every resource of a
type, or NotResource: every resource but those listed) grants them on everything in the account.
Actions that only support `*` are exempt. An Allow with NotAction grants every action it does not
list, resource-level ones included."""
import functools

from .. import iam_catalog
from ..documents import KEY_POLICY
from ..least_privilege import DOCUMENT_TYPES, names_everything, shorten, statement_checks
from . import Violation

NAME = "iam-no-wildcard-resources"
SUPPORTED_RESOURCES = DOCUMENT_TYPES  # every type that carries an IAM policy document


def _granted(actions: tuple[str, ...]) -> list[str]:
    """The statement's actions that can be scoped to resources, as the statement names them
    (a wildcard with how many such actions it covers)."""
    shown = []
    for action in actions:
        scoped = iam_catalog.facts(action).resource_level
        if scoped:
            shown.append(action if not iam_catalog.is_pattern(action) else f"{action} ({scoped} actions)")
    return shown


@functools.lru_cache(maxsize=1024)
def _granted_except(not_actions: tuple[str, ...]) -> tuple[str, ...]:
    """What NotAction with Allow grants: every resource-level action it does not list."""
    excluded = set().union(*(iam_catalog.resource_level_names(p) for p in not_actions))
    left = iam_catalog.resource_level_count("*") - len(excluded)
    return (f"every action but {shorten(not_actions)} ({left} actions)",) if left else ()


def _judge(document, statement, resources):
    # in a key policy "*" (and any resource) is the key itself, even while the key's ARN is not known
    key_policy = document.kind == KEY_POLICY
    broad = [r for r, raw in zip(resources, statement.resources)
             if names_everything(r) and not (key_policy and raw == "*")]
    if statement.not_resources and not key_policy:
        broad.append(f"every resource but {shorten(statement.not_resources)}")
    if not broad:
        return
    scoped = _granted_except(statement.not_actions) if statement.not_actions else _granted(statement.actions)
    if scoped:
        yield Violation(f"{document.path} {statement.label} grants {shorten(scoped)} on {', '.join(broad)}",
                        evidence=statement)


check, check_stack, stack_subjects = statement_checks(_judge)
