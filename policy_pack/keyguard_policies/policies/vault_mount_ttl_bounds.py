"""Lease TTLs bound how long Vault-issued credentials live. An unset or zero TTL silently
inherits Vault's system default of 768 hours."""
from ..values import as_duration
from . import Violation

NAME = "vault-mount-ttl-bounds"
SUPPORTED_RESOURCES = ("vault:aws/secretBackend:SecretBackend", "vault:index/mount:Mount")


def check(resource, params):
    default = as_duration(resource.props.get("defaultLeaseTtlSeconds"), "defaultLeaseTtlSeconds")
    maximum = as_duration(resource.props.get("maxLeaseTtlSeconds"), "maxLeaseTtlSeconds")
    for name, value in (("defaultLeaseTtlSeconds", default), ("maxLeaseTtlSeconds", maximum)):
        if not value:
            yield Violation(f"{name} is {'0' if value == 0 else 'not set'}: the mount inherits Vault's system "
                            "default of 768 h", evidence=f"{name}={value}")
    if default and maximum and default > maximum:
        yield Violation(f"defaultLeaseTtlSeconds {default} exceeds maxLeaseTtlSeconds {maximum}",
                        evidence=f"defaultLeaseTtlSeconds={default}, maxLeaseTtlSeconds={maximum}")
    if default and default > params["maxDefaultLeaseTtlSeconds"]:
        yield Violation(f"defaultLeaseTtlSeconds {default} exceeds the limit of {params['maxDefaultLeaseTtlSeconds']}",
                        evidence=f"defaultLeaseTtlSeconds={default}")
    if maximum and maximum > params["maxLeaseTtlSeconds"]:
        yield Violation(f"maxLeaseTtlSeconds {maximum} exceeds the limit of {params['maxLeaseTtlSeconds']}",
                        evidence=f"maxLeaseTtlSeconds={maximum}")
