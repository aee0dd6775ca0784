"""Wildcard actions grant every current and future action that matches, not what the workload
needs (CIS AWS 1.16 in its `*` form). NotAction with Allow is the widest wildcard of all: every
action it does not list."""
from ..least_privilege import DOCUMENT_TYPES, shorten, statement_checks
from . import Violation

NAME = "iam-no-wildcard-actions"
SUPPORTED_RESOURCES = DOCUMENT_TYPES  # every type that carries an IAM policy document


def _judge(document, statement, resources):
    wild = [a for a in statement.actions if "*" in a or "?" in a]
    if statement.not_actions:
        wild.append(f"every action but {shorten(statement.not_actions)} (NotAction)")
    if wild:
        yield Violation(f"{document.path} {statement.label} allows wildcard action(s) {', '.join(wild)}",
                        evidence=statement)


check, check_stack, stack_subjects = statement_checks(_judge)
