"""A permissions boundary caps what a Vault-created IAM user can ever do, even if the role's
document is later widened."""
from ..values import as_str
from . import Violation

NAME = "vault-role-iam-user-boundary"
SUPPORTED_RESOURCES = ("vault:aws/secretBackendRole:SecretBackendRole",)


def check(resource, params):
    if as_str(resource.props.get("credentialType"), "credentialType") != "iam_user":
        return
    if not as_str(resource.props.get("permissionsBoundaryArn"), "permissionsBoundaryArn"):
        yield Violation("an iam_user role without permissionsBoundaryArn", evidence="permissionsBoundaryArn unset")
