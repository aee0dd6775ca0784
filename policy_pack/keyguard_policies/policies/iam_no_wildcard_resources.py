"""Actions that can be scoped to resources must be: `*` (or an ARN naming every resource of a
type) grants them on everything in the account. Actions that only support `*` are exempt."""
from .. import iam_catalog
from ..documents import KEY_POLICY
from ..least_privilege import DOCUMENT_TYPES, judged_statements, names_everything, shorten
from . import Violation

NAME = "iam-no-wildcard-resources"
SUPPORTED_RESOURCES = DOCUMENT_TYPES  # every type that carries an IAM policy document


def _granted(actions: tuple[str, ...]) -> list[str]:
    """The statement's actions that can be scoped to resources, as the statement names them
    (a wildcard with how many such actions it covers)."""
    shown = []
    for action in actions:
        scoped = iam_catalog.resource_level_names(action)
        if scoped:
            shown.append(action if not iam_catalog.is_pattern(action) else f"{action} ({len(scoped)} actions)")
    return shown


def check(resource, params):
    for document, statement, resources in judged_statements(resource):
        # in a key policy "*" is the key itself, even while the key's ARN is not known
        broad = [r for r, raw in zip(resources, statement.resources)
                 if names_everything(r) and not (document.kind == KEY_POLICY and raw == "*")]
        if not broad:
            continue
        scoped = _granted(statement.actions)
        if scoped:
            yield Violation(f"{document.path} {statement.label} grants {shorten(scoped)} on {', '.join(broad)}",
                            evidence=statement.evidence())
