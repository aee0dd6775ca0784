"""An action granted on an ARN of the wrong type grants nothing: `s3:ListBucket` on objects, S3
actions on a KMS key. The pair hides a missing permission (and, for SSE-KMS, failing reads and
writes). Both directions are checked: each action needs a matching resource, and no listed
resource may belong to a service none of the statement's actions belongs to. An ARN of the
actions' own service that no action uses (the bucket next to `bucket/*` for `s3:GetObject`) is
harmless (SPEC)."""
import functools

from .. import action_patterns, iam_catalog
from ..least_privilege import DOCUMENT_TYPES, shorten, split_arn, statement_checks
from . import Violation

NAME = "iam-action-resource-match"
SUPPORTED_RESOURCES = DOCUMENT_TYPES  # every type that carries an IAM policy document


def _describe(action) -> str:
    if not action.resource_types:
        return 'which supports only Resource "*"'
    return "which applies to " + iam_catalog.describe_resource_types(action)


_facts = iam_catalog.facts  # what one action string matches: counts, services, resource types
_applies_to = iam_catalog.applies_to  # whether an ARN matches a resource type of the string's actions


@functools.lru_cache(maxsize=65536)
def _arn_service(arn: str) -> str | None:
    parts = split_arn(arn)
    return parts[1].lower() if parts else None


def _foreign(arn: str, granted: list) -> bool:
    """Whether `arn` belongs to no service of the statement's actions (their `Facts`; a non-ARN
    belongs to none)."""
    service = _arn_service(arn)
    if service is None:
        return True
    if "*" in service or "?" in service:
        return not any(action_patterns.matches(service, s) for f in granted for s in f.services)
    for found in granted:
        if service in found.services:
            return False
    return True


def _judge(document, statement, resources):
    if not statement.actions or statement.not_resources:
        return
    # "*" matches every action; it does not excuse the ARNs listed next to it (and
    # iam-no-wildcard-resources judges it), so an action is paired with the named ARNs when there are any
    named = [r for r in resources if r != "*"] or list(resources)
    granted = []
    for action in statement.actions:
        found = _facts(action)
        if not found.count:
            continue  # unknown: iam-known-actions reports it
        granted.append(found)
        for arn in named:  # "*" applies to every action; an ARN to those of its resource types
            if arn == "*" or _applies_to(found, arn):
                break
        else:
            detail = _describe(found.single) if found.single else "none of whose actions apply to them"
            yield Violation(f"{document.path} {statement.label} grants {action} on {shorten(named)}, "
                            f"{detail}", evidence=statement)
    if not granted:
        return
    for arn in resources:
        if arn != "*" and _foreign(arn, granted):
            yield Violation(f"{document.path} {statement.label} lists resource {arn}, of a service none of its "
                            f"actions ({shorten(statement.actions)}) belongs to", evidence=statement)


check, check_stack, stack_subjects = statement_checks(_judge)
