"""NotAction/NotResource in an Allow grant everything not listed, including services and
resources added later; NotPrincipal with Allow in a resource policy grants everyone else."""
from ..documents import IDENTITY
from ..least_privilege import DOCUMENT_TYPES, statement_checks
from . import Violation

NAME = "iam-no-not-action-not-resource"
SUPPORTED_RESOURCES = DOCUMENT_TYPES  # every type that carries an IAM policy document


def _judge(document, statement, resources):
    if not (statement.not_actions or statement.not_resources or statement.not_principal is not None):
        return  # the common case, decided without building the list below
    used = [k for k, v in (("NotAction", statement.not_actions), ("NotResource", statement.not_resources)) if v]
    if document.kind != IDENTITY and statement.not_principal is not None:
        used.append("NotPrincipal")
    if used:
        yield Violation(f"{document.path} {statement.label} uses {' and '.join(used)} with Allow",
                        evidence=statement)


check, check_stack, stack_subjects = statement_checks(_judge)
