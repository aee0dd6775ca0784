"""Wildcard actions grant every current and future action that matches, not what the workload
needs (CIS AWS 1.16 in its `*` form)."""
from ..least_privilege import DOCUMENT_TYPES, judged_statements
from . import Violation

NAME = "iam-no-wildcard-actions"
SUPPORTED_RESOURCES = DOCUMENT_TYPES  # every type that carries an IAM policy document


def check(resource, params):
    for document, statement, _ in judged_statements(resource):
        wild = [a for a in statement.actions if "*" in a or "?" in a]
        if wild:
            yield Violation(f"{document.path} {statement.label} allows wildcard action(s) {', '.join(wild)}",
                            evidence=statement.evidence())
