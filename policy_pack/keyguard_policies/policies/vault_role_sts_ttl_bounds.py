"""STS TTLs bound assumed-role and federation-token credentials; on an iam_user role they do
nothing and suggest a bound that is not there."""
from ..values import as_seconds, as_str
from . import Violation

NAME = "vault-role-sts-ttl-bounds"
SUPPORTED_RESOURCES = ("vault:aws/secretBackendRole:SecretBackendRole",)
STS_TYPES = ("assumed_role", "federation_token", "session_token")


def check(resource, params):
    credential_type = as_str(resource.props.get("credentialType"), "credentialType")
    default = as_seconds(resource.props.get("defaultStsTtl"), "defaultStsTtl")
    maximum = as_seconds(resource.props.get("maxStsTtl"), "maxStsTtl")
    values = {"defaultStsTtl": default, "maxStsTtl": maximum}
    if credential_type not in STS_TYPES:
        for name, value in values.items():
            if value:
                yield Violation(f"{name} is set on a {credential_type} role, where it has no effect",
                                evidence=f"{name}={value}")
        return
    low, high = params["minStsTtlSeconds"], params["maxStsTtlSeconds"]
    for name, value in values.items():
        if value and not low <= value <= high:
            yield Violation(f"{name} {value} is outside [{low}, {high}]", evidence=f"{name}={value}")
    if default and maximum and default > maximum:
        yield Violation(f"defaultStsTtl {default} exceeds maxStsTtl {maximum}",
                        evidence=f"defaultStsTtl={default}, maxStsTtl={maximum}")
