"""The tokens an AppRole login issues carry the application's Vault access; their TTLs bound how long
a stolen token works. 0 or unset inherits the mount's TTLs and then the system's 768 h, and a
periodic token (`tokenPeriod`) renews forever."""
from ..values import as_seconds
from ..vault_acl import APPROLE_ROLE_TYPE
from . import Violation

NAME = "vault-approle-token-ttl-bounds"
SUPPORTED_RESOURCES = (APPROLE_ROLE_TYPE,)


def check(resource, params):
    ttl = as_seconds(resource.props.get("tokenTtl"), "tokenTtl")
    maximum = as_seconds(resource.props.get("tokenMaxTtl"), "tokenMaxTtl")
    period = as_seconds(resource.props.get("tokenPeriod"), "tokenPeriod")
    for name, value in (("tokenTtl", ttl), ("tokenMaxTtl", maximum)):
        if not value:
            yield Violation(f"{name} is {'0' if value == 0 else 'not set'}: tokens inherit the mount's TTLs and then "
                            "Vault's system default of 768 h", evidence=f"{name}={value}")
    if ttl and maximum and ttl > maximum:
        yield Violation(f"tokenTtl {ttl} exceeds tokenMaxTtl {maximum}", evidence=f"tokenTtl={ttl}, tokenMaxTtl={maximum}")
    if ttl and ttl > params["maxTokenTtlSeconds"]:
        yield Violation(f"tokenTtl {ttl} exceeds the limit of {params['maxTokenTtlSeconds']}", evidence=f"tokenTtl={ttl}")
    if maximum and maximum > params["maxTokenMaxTtlSeconds"]:
        yield Violation(f"tokenMaxTtl {maximum} exceeds the limit of {params['maxTokenMaxTtlSeconds']}",
                        evidence=f"tokenMaxTtl={maximum}")
    if period:
        yield Violation(f"tokenPeriod is {period}: periodic tokens can be renewed forever", evidence=f"tokenPeriod={period}")
