"""A Vault ACL policy is what a token may do. The grants that make a token an administrator are
few and recognisable: every path (`*`, `+`), a whole mount (`sys/*`, `s*`, `<mount>/*`), `sudo`,
writes to Vault's own configuration (`sys/`, `auth/`, `identity/`) or to a secrets engine's
`config/` and `roles/`, and `allowed_parameters` that let the caller pick any key or any
`policies` (minting tokens with other policies). Area checks ignore case (Vault's paths do not, so
this only over-reports) and account for `+` segments and globs that reach those areas."""
from ..model import Stack
from ..values import is_unknown
from ..vault_acl import AWS_BACKEND_TYPE, MOUNT_TYPE, POLICY_TYPE, WRITE, overlaps, rules_of
from . import Violation, judge_each, unverified

NAME = "vault-acl-policy-least-privilege"
SUPPORTED_RESOURCES = (POLICY_TYPE,)
#: The exact lease paths Vault's own `default` policy lets every token update.
DEFAULT_LEASE_PATHS = frozenset({"sys/leases/renew", "sys/leases/lookup", "sys/renew"})
SYSTEM_AREAS = ("sys/*", "auth/*", "identity/*")
ENGINE_AREAS = ("+/config/*", "+/roles/*")


def check_stack(stack: Stack, params):
    areas, unknown_mounts = _areas(stack)
    yield from judge_each(stack.of_type(POLICY_TYPE), lambda resource: _judge(resource, areas, unknown_mounts))


def _areas(stack: Stack) -> tuple[tuple[str, ...], bool]:
    """Vault's own areas, the config/ and roles/ of any one-segment mount, and those of this stack's
    secrets mounts (which may be nested, `team/aws`)."""
    areas, unknown = list(SYSTEM_AREAS + ENGINE_AREAS), False
    for mount in stack.of_type(AWS_BACKEND_TYPE, MOUNT_TYPE):
        path = mount.get("path")
        if is_unknown(path):
            unknown = True
        elif isinstance(path, str) and path.strip("/"):
            areas += [f"{path.strip('/').lower()}/config/*", f"{path.strip('/').lower()}/roles/*"]
    return tuple(dict.fromkeys(areas)), unknown


def _judge(resource, areas, unknown_mounts):
    found = False
    for rule in rules_of(resource):
        if not rule.grants:
            continue
        for message in _defects(rule, areas):
            found = True
            yield Violation(f'path "{rule.path}" {message}', evidence=rule.evidence())
    if unknown_mounts and not found and any(rule.grants and rule.capabilities & WRITE for rule in rules_of(resource)):
        yield unverified("it grants writes, and the paths of this stack's secrets mounts are not known yet")


def _defects(rule, areas):
    path = rule.path.lower()
    if path in ("*", "+") or (rule.glob and "/" not in path[:-1].rstrip("/")):
        yield f"covers {'every path' if path in ('*', '+') else 'a whole mount'} ({', '.join(sorted(rule.capabilities))})"
    if "sudo" in rule.capabilities:
        yield "grants sudo (root-protected endpoints)"
    writes = sorted(rule.capabilities & WRITE)
    if writes and not (not rule.wildcard and path in DEFAULT_LEASE_PATHS):
        reached = [area[:-1] for area in areas if overlaps(path, area)]
        if reached:
            yield f"grants {'/'.join(writes)} on {', '.join(reached)} (Vault's or an engine's configuration)"
    allowed = rule.allowed_parameters or {}
    if "*" in allowed:
        yield 'has allowed_parameters "*": the caller may send any parameter'
    if "policies" in allowed and _any_value(allowed["policies"]):
        yield "has allowed_parameters policies accepting any value: the caller picks the policies of what it creates"


def _any_value(values) -> bool:
    """Vault reads an empty list as "any value", and `*` (alone or repeated) as a glob for any value."""
    return values == [] or any(isinstance(v, str) and v.strip("*") == "" for v in values)
