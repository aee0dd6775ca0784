"""Lease TTLs bound how long Vault-issued credentials and tokens live. An unset or zero TTL silently
inherits Vault's system default of 768 hours. Secrets mounts carry them as seconds; an auth mount
(`vault:index/authBackend:AuthBackend`) carries them in its `tune` block as durations ("1h")."""
from ..values import Malformed, as_duration, as_int, json_type, known
from . import Violation

NAME = "vault-mount-ttl-bounds"
AUTH_BACKEND = "vault:index/authBackend:AuthBackend"
SUPPORTED_RESOURCES = ("vault:aws/secretBackend:SecretBackend", "vault:index/mount:Mount", AUTH_BACKEND)


def _ttls(resource):
    """((name, seconds) of the default TTL, (name, seconds) of the max TTL)."""
    if resource.type != AUTH_BACKEND:
        return (("defaultLeaseTtlSeconds", as_int(resource.props.get("defaultLeaseTtlSeconds"), "defaultLeaseTtlSeconds")),
                ("maxLeaseTtlSeconds", as_int(resource.props.get("maxLeaseTtlSeconds"), "maxLeaseTtlSeconds")))
    tune = known(resource.props.get("tune"), "tune")
    if isinstance(tune, list):  # state files of providers that kept the block as a one-item list
        if len(tune) > 1:
            raise Malformed(f"tune has {len(tune)} blocks; Vault takes one")
        tune = tune[0] if tune else None
    if tune is not None and not isinstance(tune, dict):
        raise Malformed(f"tune is a JSON {json_type(tune)}, not an object")
    tune = tune or {}
    return (("tune.defaultLeaseTtl", as_duration(tune.get("defaultLeaseTtl"), "tune.defaultLeaseTtl")),
            ("tune.maxLeaseTtl", as_duration(tune.get("maxLeaseTtl"), "tune.maxLeaseTtl")))


def check(resource, params):
    (default_name, default), (max_name, maximum) = _ttls(resource)
    for name, value in ((default_name, default), (max_name, maximum)):
        if value is not None and value < 0:
            raise Malformed(f"{name} is {value}, a negative duration")
        if not value:
            yield Violation(f"{name} is {'0' if value == 0 else 'not set'}: the mount inherits Vault's system "
                            "default of 768 h", evidence=f"{name}={value}")
    if default and maximum and default > maximum:
        yield Violation(f"{default_name} {default} exceeds {max_name} {maximum}",
                        evidence=f"{default_name}={default}, {max_name}={maximum}")
    if default and default > params["maxDefaultLeaseTtlSeconds"]:
        yield Violation(f"{default_name} {default} exceeds the limit of {params['maxDefaultLeaseTtlSeconds']}",
                        evidence=f"{default_name}={default}")
    if maximum and maximum > params["maxLeaseTtlSeconds"]:
        yield Violation(f"{max_name} {maximum} exceeds the limit of {params['maxLeaseTtlSeconds']}",
                        evidence=f"{max_name}={maximum}")
