"""session_token credentials carry the permissions of Vault's own AWS credentials, not the
role's document; only the allowed credential types may be issued."""
from ..values import as_str
from . import Violation

NAME = "vault-role-credential-type"
SUPPORTED_RESOURCES = ("vault:aws/secretBackendRole:SecretBackendRole",)


def check(resource, params):
    credential_type = as_str(resource.props.get("credentialType"), "credentialType")
    allowed = params["allowedCredentialTypes"]
    if credential_type not in allowed:
        yield Violation(f"credentialType is {credential_type!r}, not one of {', '.join(allowed)}",
                        evidence=f"credentialType={credential_type!r}")
