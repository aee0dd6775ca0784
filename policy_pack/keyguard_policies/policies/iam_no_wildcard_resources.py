"""Actions that can be scoped to resources must be: `*` (or an ARN naming every resource of a
type) grants them on everything in the account. Actions that only support `*` are exempt."""
import functools

from .. import iam_catalog
from ..documents import KEY_POLICY
from ..least_privilege import DOCUMENT_TYPES, judged_statements, names_everything, shorten
from . import Violation

NAME = "iam-no-wildcard-resources"
SUPPORTED_RESOURCES = DOCUMENT_TYPES  # every type that carries an IAM policy document


@functools.lru_cache(maxsize=4096)
def _scoped(actions: tuple[str, ...]) -> tuple[str, ...]:
    """Sorted names of the granted actions that support resource-level permissions."""
    return tuple(sorted(set().union(*(iam_catalog.resource_level_names(a) for a in actions))))


def check(resource, params):
    for document, statement, resources in judged_statements(resource):
        # in a key policy "*" is the key itself, even while the key's ARN is not known
        broad = [r for r, raw in zip(resources, statement.resources)
                 if names_everything(r) and not (document.kind == KEY_POLICY and raw == "*")]
        if not broad:
            continue
        scoped = _scoped(statement.actions)
        if scoped:
            yield Violation(f"{document.path} {statement.label} grants {shorten(scoped)} on {', '.join(broad)}",
                            evidence=statement.evidence())
