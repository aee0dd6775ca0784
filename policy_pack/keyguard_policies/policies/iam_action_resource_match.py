"""An action granted on an ARN of the wrong type grants nothing: `s3:ListBucket` on objects, S3
actions on a KMS key. The pair hides a missing permission (and, for SSE-KMS, failing reads and
writes). Both directions are checked: each action needs a matching resource, and no listed
resource may belong to a service none of the statement's actions belongs to. An ARN of the
actions' own service that no action uses (the bucket next to `bucket/*` for `s3:GetObject`) is
harmless (SPEC)."""
import fnmatch
import functools

from .. import iam_catalog
from ..least_privilege import DOCUMENT_TYPES, shorten, split_arn, statement_checks
from . import Violation

NAME = "iam-action-resource-match"
SUPPORTED_RESOURCES = DOCUMENT_TYPES  # every type that carries an IAM policy document


def _describe(action) -> str:
    if not action.resource_types:
        return 'which supports only Resource "*"'
    return "which applies to " + iam_catalog.describe_resource_types(action)


@functools.lru_cache(maxsize=4096)
def _services(action: str) -> frozenset[str]:
    """The services (lower case) of the catalog actions an action string matches."""
    return frozenset(a.service.lower() for a in iam_catalog.expand(action))


def _foreign(arn: str, services: set[str]) -> bool:
    """Whether `arn` belongs to no service of the statement's actions (a non-ARN belongs to none)."""
    parts = split_arn(arn)
    if parts is None:
        return True
    service = parts[1].lower()
    if "*" in service or "?" in service:
        return not any(fnmatch.fnmatchcase(s, service) for s in services)
    return service not in services


def _judge(document, statement, resources):
    if not statement.actions or statement.not_resources:
        return
    # "*" matches every action; it does not excuse the ARNs listed next to it (and
    # iam-no-wildcard-resources judges it), so an action is paired with the named ARNs when there are any
    named = [r for r in resources if r != "*"] or list(resources)
    services: set[str] = set()
    for action in statement.actions:
        expanded = iam_catalog.expand(action)
        if not expanded:
            continue  # unknown: iam-known-actions reports it
        services |= _services(action)
        if not any(iam_catalog.pattern_matches(action, r) for r in named):
            shown = expanded[0] if len(expanded) == 1 else None
            detail = _describe(shown) if shown else "none of whose actions apply to them"
            yield Violation(f"{document.path} {statement.label} grants {action} on {shorten(named)}, "
                            f"{detail}", evidence=statement.evidence())
    if not services:
        return
    for arn in resources:
        if arn != "*" and _foreign(arn, services):
            yield Violation(f"{document.path} {statement.label} lists resource {arn}, of a service none of its "
                            f"actions ({shorten(statement.actions)}) belongs to", evidence=statement.evidence())


check, check_stack, stack_subjects = statement_checks(_judge)
