"""The secret id is the application's password to Vault. Without `bindSecretId` the role id alone
logs in; a secret id without TTL never expires, and one with unlimited uses can be replayed."""
from ..values import as_bool, as_seconds
from ..vault_acl import APPROLE_ROLE_TYPE
from . import Violation

NAME = "vault-approle-secret-id-bounds"
SUPPORTED_RESOURCES = (APPROLE_ROLE_TYPE,)


def check(resource, params):
    bind = as_bool(resource.props.get("bindSecretId"), "bindSecretId")
    if bind is False:  # unset is the provider's and Vault's default, true
        yield Violation("bindSecretId is false: the role id alone logs in", evidence="bindSecretId=False")
    ttl = as_seconds(resource.props.get("secretIdTtl"), "secretIdTtl")
    limit = params["maxSecretIdTtlSeconds"]
    if not ttl:
        yield Violation(f"secretIdTtl is {'0' if ttl == 0 else 'not set'}: secret ids never expire",
                        evidence=f"secretIdTtl={ttl}")
    elif ttl > limit:
        yield Violation(f"secretIdTtl {ttl} exceeds the limit of {limit}", evidence=f"secretIdTtl={ttl}")
    uses_limit = params["maxSecretIdNumUses"]
    if uses_limit > 0:
        uses = as_seconds(resource.props.get("secretIdNumUses"), "secretIdNumUses")
        if not uses:
            yield Violation(f"secretIdNumUses is {'0' if uses == 0 else 'not set'}: a secret id logs in any number "
                            "of times", evidence=f"secretIdNumUses={uses}")
        elif uses > uses_limit:
            yield Violation(f"secretIdNumUses {uses} exceeds the limit of {uses_limit}", evidence=f"secretIdNumUses={uses}")
