"""A Vault role can attach managed policies next to its document; an AWS-managed administrative
or *FullAccess policy there undoes every least-privilege check on the document."""
from ..values import Malformed, as_list, known
from . import Violation

NAME = "vault-role-no-broad-managed-policies"
SUPPORTED_RESOURCES = ("vault:aws/secretBackendRole:SecretBackendRole",)
BROAD_NAMES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")


def is_broad(arn: str) -> bool:
    if ":iam::aws:policy/" not in arn:
        return False
    name = arn.rsplit("/", 1)[-1]
    return name in BROAD_NAMES or name.endswith("FullAccess")


def check(resource, params):
    allowed = params.get("allowedPolicyArns") or []
    arns = as_list(known(resource.props.get("policyArns"), "policyArns"))
    for i, arn in enumerate(arns):
        arn = known(arn, f"policyArns[{i}]")
        if not isinstance(arn, str) or not arn:
            raise Malformed(f"policyArns[{i}] is {arn!r}, not a policy ARN")
        if is_broad(arn):
            yield Violation(f"policyArns attaches the AWS-managed policy {arn}", evidence=arn)
        elif allowed and arn not in allowed:
            yield Violation(f"policyArns attaches {arn}, which is not in allowedPolicyArns", evidence=arn)
    groups = as_list(known(resource.props.get("iamGroups"), "iamGroups"))
    if groups:
        yield Violation(f"iamGroups adds users to {', '.join(map(str, groups))}; those groups' policies cannot "
                        "be checked here", evidence=", ".join(map(str, groups)))
