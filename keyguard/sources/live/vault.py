"""Vault as the policies read it, through reads only (never a write, never `<mount>/creds`):
secrets-mount TTLs (`sys/mounts`, whose config keeps 0 for an unset TTL, as the export does),
AWS secrets-engine roles (`<mount>/roles/<name>`), ACL policies (`sys/policies/acl/<name>`),
AppRole auth mounts (`sys/auth`) and their roles (`auth/<path>/role/<name>`). Property names are
pulumi-vault 7's camelCase ones."""
from __future__ import annotations

from typing import Any, Callable, Iterator

from keyguard_policies.model import Resource

from .clients import Unreadable, Vault
from .reading import Reading

SECRET_BACKEND = "vault:aws/secretBackend:SecretBackend"
MOUNT = "vault:index/mount:Mount"
ROLE = "vault:aws/secretBackendRole:SecretBackendRole"
AUTH_BACKEND = "vault:index/authBackend:AuthBackend"
APPROLE_ROLE = "vault:appRole/authBackendRole:AuthBackendRole"
ACL_POLICY = "vault:index/policy:Policy"
AWS_MOUNT_TYPES = ("aws",)
BUILTIN_POLICIES = ("root", "default")
_ROLE_FIELDS = (("credential_type", "credentialType"), ("policy_document", "policyDocument"),
                ("policy_arns", "policyArns"), ("iam_groups", "iamGroups"), ("role_arns", "roleArns"),
                ("permissions_boundary_arn", "permissionsBoundaryArn"), ("default_sts_ttl", "defaultStsTtl"),
                ("max_sts_ttl", "maxStsTtl"), ("user_path", "userPath"))
_APPROLE_FIELDS = (("token_policies", "tokenPolicies"), ("token_ttl", "tokenTtl"), ("token_max_ttl", "tokenMaxTtl"),
                   ("token_period", "tokenPeriod"), ("bind_secret_id", "bindSecretId"),
                   ("secret_id_ttl", "secretIdTtl"), ("secret_id_num_uses", "secretIdNumUses"),
                   ("secret_id_bound_cidrs", "secretIdBoundCidrs"), ("token_bound_cidrs", "tokenBoundCidrs"))


def _text(resource: Resource, *names: str) -> str | None:
    for name in names:
        for source in (resource.props, resource.outputs):
            value = source.get(name)
            if isinstance(value, str) and value:
                return value
    return None


def _mount_entry(vault: Vault, listing: str, path: str) -> dict:
    """`path`'s entry in sys/mounts or sys/auth (one cached read for all of them)."""
    mounts = vault.cached(listing)
    entry = mounts.get(path.strip("/") + "/")
    if not isinstance(entry, dict):
        raise Unreadable(f"not found ({listing} has no mount {path.strip('/')})", "missing")
    return entry


def read_mount_path(vault: Vault, type_: str, path: str) -> Reading:
    reading = Reading(type_)

    def ttls() -> dict:
        entry = _mount_entry(vault, "sys/mounts", path)
        config = entry.get("config") or {}
        return {"path": path, "type": entry.get("type"),
                "defaultLeaseTtlSeconds": int(config.get("default_lease_ttl") or 0),
                "maxLeaseTtlSeconds": int(config.get("max_lease_ttl") or 0)}

    reading.fill(("defaultLeaseTtlSeconds", "maxLeaseTtlSeconds", "type"), ttls, missing_is_gone=True)
    reading.props["path"] = path
    reading.outputs.update(path=path, id=path)
    return reading


def read_mount(vault: Vault, declared: Resource) -> Reading:
    path = _text(declared, "path", "id") or ("aws" if declared.type == SECRET_BACKEND else None)
    if not path:
        return Reading.unidentified(declared.type, "the export has no path for this mount")
    return read_mount_path(vault, declared.type, path)


def read_role_at(vault: Vault, backend: str, name: str) -> Reading:
    reading = Reading(ROLE)

    def role() -> dict:
        data = vault.read(f"{backend}/roles/{name}") or {}
        values = {prop: data.get(field) for field, prop in _ROLE_FIELDS if field in data}
        if "credentialType" not in values and data.get("credential_types"):  # older engines: a list
            values["credentialType"] = ",".join(data["credential_types"])
        for prop in ("policyDocument", "permissionsBoundaryArn", "userPath"):
            if values.get(prop) == "":
                values[prop] = None
        return values

    names = [prop for _, prop in _ROLE_FIELDS]
    reading.fill(names, role, missing_is_gone=True)
    reading.props.update(backend=backend, name=name)
    reading.outputs.update(name=name, id=f"{backend}/roles/{name}")
    return reading


def read_role(vault: Vault, declared: Resource) -> Reading:
    backend, name = _text(declared, "backend"), _text(declared, "name")
    ident = declared.outputs.get("id")
    if (not backend or not name) and isinstance(ident, str) and "/roles/" in ident:
        backend, name = ident.rsplit("/roles/", 1)
    if not backend or not name:
        return Reading.unidentified(ROLE, "the export names no backend and role")
    return read_role_at(vault, backend, name)


def read_auth_path(vault: Vault, path: str) -> Reading:
    reading = Reading(AUTH_BACKEND)

    def tune() -> dict:
        entry = _mount_entry(vault, "sys/auth", path)
        config = entry.get("config") or {}
        return {"type": entry.get("type"), "tune": {
            "defaultLeaseTtl": f"{int(config.get('default_lease_ttl') or 0)}s",
            "maxLeaseTtl": f"{int(config.get('max_lease_ttl') or 0)}s"}}

    reading.fill(("type", "tune"), tune, missing_is_gone=True)
    reading.props["path"] = path
    reading.outputs.update(path=path, id=path)
    return reading


def read_auth(vault: Vault, declared: Resource) -> Reading:
    path = _text(declared, "path", "id") or _text(declared, "type")
    if not path:
        return Reading.unidentified(AUTH_BACKEND, "the export has no path for this auth mount")
    return read_auth_path(vault, path)


def read_approle_at(vault: Vault, backend: str, name: str) -> Reading:
    reading = Reading(APPROLE_ROLE)

    def role() -> dict:
        data = vault.read(f"auth/{backend}/role/{name}") or {}
        return {prop: data.get(field) for field, prop in _APPROLE_FIELDS if field in data}

    reading.fill([prop for _, prop in _APPROLE_FIELDS], role, missing_is_gone=True)
    reading.props.update(backend=backend, roleName=name)
    reading.outputs.update(id=f"auth/{backend}/role/{name}")
    return reading


def read_approle(vault: Vault, declared: Resource) -> Reading:
    backend = (_text(declared, "backend") or "approle").strip("/")
    name = _text(declared, "roleName")
    ident = declared.outputs.get("id")
    if not name and isinstance(ident, str) and "/role/" in ident:
        backend, name = ident.removeprefix("auth/").rsplit("/role/", 1)
    if not name:
        return Reading.unidentified(APPROLE_ROLE, "the export names no AppRole role")
    return read_approle_at(vault, backend, name)


def read_acl_name(vault: Vault, name: str) -> Reading:
    reading = Reading(ACL_POLICY)
    reading.fill(("policy",), lambda: {"policy": (vault.read(f"sys/policies/acl/{name}") or {}).get("policy")},
                 missing_is_gone=True)
    reading.props["name"] = name
    reading.outputs.update(name=name, id=name)
    return reading


def read_acl(vault: Vault, declared: Resource) -> Reading:
    name = _text(declared, "name", "id")
    if not name:
        return Reading.unidentified(ACL_POLICY, "the export has no name for this ACL policy")
    return read_acl_name(vault, name)


READERS: dict[str, Callable[[Vault, Resource], Reading]] = {
    SECRET_BACKEND: read_mount, MOUNT: read_mount, ROLE: read_role, AUTH_BACKEND: read_auth,
    APPROLE_ROLE: read_approle, ACL_POLICY: read_acl}


def is_aws_engine(entry: dict) -> bool:
    """The built-in engine is `aws`; a plugin build (OpenBao's) names its plugin, which says aws."""
    kind = str(entry.get("type") or "")
    return kind in AWS_MOUNT_TYPES or ("aws" in kind and "secret" in kind)


def discover(vault: Vault, gaps: list | None = None) -> Iterator[tuple[str, Callable[[], list[tuple[str, Any]]]]]:
    """Every AWS secrets mount with its roles, every ACL policy except Vault's built-in `root`
    (no rules) and `default` (attached to every token by Vault itself), and every AppRole
    mount with its roles the token can list. A listing the token may not make is recorded in
    `gaps` (the kinds it hides and why) and the others go on."""
    gaps = gaps if gaps is not None else []

    def listed(path: str, types: tuple[str, ...], what: str) -> list[str]:
        try:
            return vault.list(path)
        except Unreadable as err:
            gaps.append((types, f"{what} could not be listed: {err.reason}"))
            return []

    for path, entry in sorted(vault.cached("sys/mounts").items()):
        if not isinstance(entry, dict) or not is_aws_engine(entry):
            continue
        mount = path.strip("/")
        yield mount, lambda mount=mount: [(mount, read_mount_path(vault, SECRET_BACKEND, mount))]
        for role in listed(f"{mount}/roles", (ROLE,), f"the roles of Vault mount {mount}"):
            yield f"{mount}/{role}", lambda mount=mount, role=role: [
                (f"{mount}/{role}", read_role_at(vault, mount, role))]
    for name in listed("sys/policies/acl", (ACL_POLICY,), "Vault ACL policies"):
        if name in BUILTIN_POLICIES:
            continue
        yield name, lambda name=name: [(name, read_acl_name(vault, name))]
    try:
        auth_mounts = vault.cached("sys/auth")
    except Unreadable as err:
        gaps.append(((AUTH_BACKEND, APPROLE_ROLE), f"Vault auth mounts could not be listed: {err.reason}"))
        return
    for path, entry in sorted(auth_mounts.items()):
        if not isinstance(entry, dict) or entry.get("type") != "approle":
            continue
        mount = path.strip("/")
        yield mount, lambda mount=mount: [(mount, read_auth_path(vault, mount))]
        for role in listed(f"auth/{mount}/role", (APPROLE_ROLE,), f"the roles of AppRole mount {mount}"):
            yield f"{mount}/{role}", lambda mount=mount, role=role: [
                (f"{mount}/{role}", read_approle_at(vault, mount, role))]
