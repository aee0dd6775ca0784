"""An action granted on an ARN of the wrong type grants nothing: `s3:ListBucket` on objects, S3
actions on a KMS key. The pair hides a missing permission (and, for SSE-KMS, failing reads and
writes). Both directions are checked: each action needs a matching resource, and each resource
should be usable by some action of its statement."""
from .. import iam_catalog
from ..least_privilege import DOCUMENT_TYPES, judged_statements, shorten
from . import Violation

NAME = "iam-action-resource-match"
SUPPORTED_RESOURCES = DOCUMENT_TYPES  # every type that carries an IAM policy document


def _describe(action) -> str:
    if not action.resource_types:
        return 'which supports only Resource "*"'
    return "which applies to " + iam_catalog.describe_resource_types(action)


def check(resource, params):
    for document, statement, resources in judged_statements(resource):
        if not statement.actions or statement.not_resources:
            continue
        # "*" matches every action; it does not excuse the ARNs listed next to it (and
        # iam-no-wildcard-resources judges it), so an action is paired with the named ARNs when there are any
        named = [r for r in resources if r != "*"] or list(resources)
        granted = []
        for action in statement.actions:
            expanded = iam_catalog.expand(action)
            if not expanded:
                continue  # unknown: iam-known-actions reports it
            granted.append(action)
            if not any(iam_catalog.pattern_matches(action, r) for r in named):
                shown = expanded[0] if len(expanded) == 1 else None
                detail = _describe(shown) if shown else "none of whose actions apply to them"
                yield Violation(f"{document.path} {statement.label} grants {action} on {shorten(named)}, "
                                f"{detail}", evidence=statement.evidence())
        if not granted:
            continue
        for arn in resources:
            if arn != "*" and not any(iam_catalog.pattern_matches(a, arn) for a in granted):
                yield Violation(f"{document.path} {statement.label} lists resource {arn}, which none of its "
                                f"actions ({shorten(statement.actions)}) applies to", evidence=statement.evidence())
