"""keyguard's offline `vault` provider (registered as vault 7.14.0): the stack's Vault resource types,
written for real with hvac to the configured Vault (a dev server), with pulumi-vault 7 property names."""
from __future__ import annotations

import os
from typing import Any

from .base import UNKNOWN, KeyguardProvider, ProviderError, ResourceType, as_int, canonical_json, run, single

VERSION = "7.14.0"
CREDENTIAL_TYPES = ("iam_user", "assumed_role", "federation_token", "session_token")


def make_client(config: dict[str, Any]) -> Any:
    import hvac  # imported here: a preview never needs it

    address = config.get("address") or os.environ.get("VAULT_ADDR")
    token = config.get("token") or os.environ.get("VAULT_TOKEN")
    if not address or not token:
        raise RuntimeError("the vault provider needs an address and a token (provider config or VAULT_ADDR/VAULT_TOKEN)")
    client = hvac.Client(url=address, token=token, namespace=config.get("namespace") or None)
    return client


def _ttl(value: Any) -> str | None:
    return None if value is None else f"{as_int(value)}s"


def _scrub(text: str, values: dict[str, Any]) -> str:
    """`text` without any of `values` (the keys sent), whatever Vault chose to echo."""
    for value in values.values():
        if isinstance(value, str) and value:
            text = text.replace(value, "<redacted>")
    return text.splitlines()[0] if text else ""


def _not_found(error: Exception) -> bool:
    import hvac.exceptions

    return isinstance(error, hvac.exceptions.InvalidPath)


class SecretBackend(ResourceType):
    token = "vault:aws/secretBackend:SecretBackend"
    inputs = frozenset({"path", "description", "region", "defaultLeaseTtlSeconds", "maxLeaseTtlSeconds",
                        "iamEndpoint", "stsEndpoint", "accessKey", "secretKey", "usernameTemplate", "local",
                        "disableRemount", "namespace", "roleArn", "identityTokenAudience", "stsRegion"})
    replace_on = frozenset({"path", "local"})
    computed = ("accessor",)
    defaults = {"path": "aws", "local": False}
    # pulumi-vault marks both secret; they go to Vault's config/root and nowhere else (never logged;
    # an error of that write is scrubbed of them, see _root)
    secrets = frozenset({"accessKey", "secretKey"})

    def _config(self, inputs):
        return {"default_lease_ttl": _ttl(inputs.get("defaultLeaseTtlSeconds")),
                "max_lease_ttl": _ttl(inputs.get("maxLeaseTtlSeconds"))}

    def _root(self, client, path, inputs):
        root = {"region": inputs.get("region"), "iam_endpoint": inputs.get("iamEndpoint"),
                "sts_endpoint": inputs.get("stsEndpoint"), "access_key": inputs.get("accessKey"),
                "secret_key": inputs.get("secretKey"), "username_template": inputs.get("usernameTemplate"),
                "role_arn": inputs.get("roleArn"), "sts_region": inputs.get("stsRegion")}
        root = {k: v for k, v in root.items() if v is not None}
        if root:
            try:
                client.write_data(f"{path}/config/root", data=root)
            except Exception as error:
                # hvac's message is Vault's answer, which does not echo the request; still, keep its
                # first line only, with every value sent replaced
                raise ProviderError(f"Vault refused {path}/config/root: {type(error).__name__}: "
                                    f"{_scrub(str(error), root)}") from None

    def create(self, client, name, inputs):
        path = inputs["path"].strip("/")
        config = {k: v for k, v in self._config(inputs).items() if v is not None}
        # A Vault build whose AWS engine is an external plugin names it here (integration servers).
        mount_type = os.environ.get("KEYGUARD_VAULT_AWS_MOUNT_TYPE") or "aws"
        client.sys.enable_secrets_engine(mount_type, path=path, description=inputs.get("description"), config=config,
                                         local=bool(inputs.get("local")))
        self._root(client, path, inputs)
        return path, self.read(client, path, inputs)

    def read(self, client, rid, state):
        mounts = client.sys.list_mounted_secrets_engines()
        mounts = mounts.get("data", mounts)
        mount = mounts.get(f"{rid}/")
        if not mount:
            return None
        config = mount.get("config", {})
        return {"path": rid, "accessor": mount.get("accessor"), "description": mount.get("description"),
                "defaultLeaseTtlSeconds": config.get("default_lease_ttl"),
                "maxLeaseTtlSeconds": config.get("max_lease_ttl")}

    def update(self, client, rid, olds, news):
        client.sys.tune_mount_configuration(path=rid, description=news.get("description"),
                                            **{k: v for k, v in self._config(news).items() if v is not None})
        self._root(client, rid, news)
        return self.read(client, rid, news) or {}

    def delete(self, client, rid, state):
        client.sys.disable_secrets_engine(path=rid)


class SecretBackendRole(ResourceType):
    token = "vault:aws/secretBackendRole:SecretBackendRole"
    inputs = frozenset({"backend", "name", "credentialType", "policyDocument", "policyArns", "roleArns",
                        "iamGroups", "iamTags", "permissionsBoundaryArn", "defaultStsTtl", "maxStsTtl",
                        "userPath", "externalId", "sessionTags", "mfaSerialNumber", "namespace"})
    required = frozenset({"backend", "name", "credentialType"})
    replace_on = frozenset({"backend", "name"})
    json_inputs = frozenset({"policyDocument"})

    def check(self, name, olds, news, seed):
        failures = super().check(name, olds, news, seed)
        kind = news.get("credentialType")
        if isinstance(kind, str) and kind not in CREDENTIAL_TYPES:
            failures.append(f"credentialType: must be one of {', '.join(CREDENTIAL_TYPES)}")
        return failures

    def _write(self, client, inputs):
        data = {"credential_type": inputs["credentialType"],
                "policy_document": canonical_json(inputs.get("policyDocument")),
                "policy_arns": inputs.get("policyArns"), "role_arns": inputs.get("roleArns"),
                "iam_groups": inputs.get("iamGroups"), "iam_tags": inputs.get("iamTags"),
                "permissions_boundary_arn": inputs.get("permissionsBoundaryArn"),
                "default_sts_ttl": as_int(inputs.get("defaultStsTtl")), "max_sts_ttl": as_int(inputs.get("maxStsTtl")),
                "user_path": inputs.get("userPath"), "external_id": inputs.get("externalId"),
                "session_tags": inputs.get("sessionTags"), "mfa_serial_number": inputs.get("mfaSerialNumber")}
        path = f"{inputs['backend'].strip('/')}/roles/{inputs['name']}"
        client.write_data(path, data={k: v for k, v in data.items() if v is not None})
        return path

    def create(self, client, name, inputs):
        path = self._write(client, inputs)
        return path, self.read(client, path, inputs) or {}

    def read(self, client, rid, state):
        try:
            data = client.read(rid)
        except Exception as error:
            if _not_found(error):
                return None
            raise
        if not data:
            return None
        data = data.get("data", {})
        kinds = data.get("credential_type") or data.get("credential_types") or []
        kind = kinds if isinstance(kinds, str) else (kinds[0] if kinds else None)
        document = data.get("policy_document") or None
        same = canonical_json(document) == canonical_json(state.get("policyDocument"))
        backend, _, role = rid.partition("/roles/")
        return {"backend": backend, "name": role, "credentialType": kind,
                "policyDocument": state.get("policyDocument") if same else document}

    def update(self, client, rid, olds, news):
        self._write(client, news)
        return self.read(client, rid, news) or {}

    def delete(self, client, rid, state):
        client.delete(rid)


class AuthBackend(ResourceType):
    token = "vault:index/authBackend:AuthBackend"
    inputs = frozenset({"type", "path", "description", "local", "tune", "disableRemount", "namespace",
                        "identityTokenKey"})
    required = frozenset({"type"})
    replace_on = frozenset({"type", "path", "local"})
    computed = ("accessor",)

    TUNE_KEYS = {"defaultLeaseTtl": "default_lease_ttl", "maxLeaseTtl": "max_lease_ttl",
                 "listingVisibility": "listing_visibility", "tokenType": "token_type",
                 "auditNonHmacRequestKeys": "audit_non_hmac_request_keys",
                 "auditNonHmacResponseKeys": "audit_non_hmac_response_keys",
                 "passthroughRequestHeaders": "passthrough_request_headers",
                 "allowedResponseHeaders": "allowed_response_headers"}

    def check(self, name, olds, news, seed):
        failures = super().check(name, olds, news, seed)
        if news.get("path") is None and isinstance(news.get("type"), str):
            news["path"] = news["type"]
        tune = single(news.get("tune"))
        if isinstance(tune, dict):
            failures += [f"tune.{k}: unknown tune property" for k in tune if k not in self.TUNE_KEYS]
        return failures

    def _tune(self, inputs):
        tune = single(inputs.get("tune")) or {}
        return {self.TUNE_KEYS[k]: v for k, v in tune.items() if k in self.TUNE_KEYS and v not in (None, "", [])}

    def create(self, client, name, inputs):
        path = inputs["path"].strip("/")
        client.sys.enable_auth_method(inputs["type"], path=path, description=inputs.get("description"),
                                      config=self._tune(inputs), local=bool(inputs.get("local")))
        return path, self.read(client, path, inputs) or {}

    def read(self, client, rid, state):
        methods = client.sys.list_auth_methods()
        methods = methods.get("data", methods)
        method = methods.get(f"{rid}/")
        if not method:
            return None
        return {"path": rid, "type": method.get("type"), "accessor": method.get("accessor")}

    def update(self, client, rid, olds, news):
        client.sys.tune_auth_method(path=rid, description=news.get("description"), **self._tune(news))
        return self.read(client, rid, news) or {}

    def delete(self, client, rid, state):
        client.sys.disable_auth_method(path=rid)


class AppRoleRole(ResourceType):
    token = "vault:appRole/authBackendRole:AuthBackendRole"
    FIELDS = {"tokenPolicies": "token_policies", "tokenTtl": "token_ttl", "tokenMaxTtl": "token_max_ttl",
              "tokenPeriod": "token_period", "bindSecretId": "bind_secret_id", "secretIdTtl": "secret_id_ttl",
              "secretIdNumUses": "secret_id_num_uses", "secretIdBoundCidrs": "secret_id_bound_cidrs",
              "tokenBoundCidrs": "token_bound_cidrs", "tokenNumUses": "token_num_uses",
              "tokenExplicitMaxTtl": "token_explicit_max_ttl", "tokenNoDefaultPolicy": "token_no_default_policy",
              "tokenType": "token_type", "roleId": "role_id", "localSecretIds": "local_secret_ids"}
    INTEGERS = {"tokenTtl", "tokenMaxTtl", "tokenPeriod", "secretIdTtl", "secretIdNumUses", "tokenNumUses",
                "tokenExplicitMaxTtl"}
    inputs = frozenset(FIELDS) | {"backend", "roleName", "namespace"}
    required = frozenset({"roleName"})
    replace_on = frozenset({"backend", "roleName", "localSecretIds"})
    computed = ("roleId",)
    defaults = {"backend": "approle", "bindSecretId": True}

    def _path(self, inputs):
        return f"auth/{inputs['backend'].strip('/')}/role/{inputs['roleName']}"

    def _write(self, client, inputs):
        data = {}
        for key, field in self.FIELDS.items():
            value = inputs.get(key)
            if value is not None:
                data[field] = as_int(value) if key in self.INTEGERS else value
        path = self._path(inputs)
        client.write_data(path, data=data)
        return path

    def create(self, client, name, inputs):
        path = self._write(client, inputs)
        return path, self.read(client, path, inputs) or {}

    def read(self, client, rid, state):
        try:
            role = client.read(rid)
            role_id = client.read(f"{rid}/role-id")
        except Exception as error:
            if _not_found(error):
                return None
            raise
        if not role:
            return None
        return {"roleId": (role_id or {}).get("data", {}).get("role_id")}

    def update(self, client, rid, olds, news):
        self._write(client, news)
        return self.read(client, rid, news) or {}

    def delete(self, client, rid, state):
        client.delete(rid)


class Policy(ResourceType):
    token = "vault:index/policy:Policy"
    inputs = frozenset({"name", "policy", "namespace"})
    required = frozenset({"name", "policy"})
    replace_on = frozenset({"name"})

    def create(self, client, name, inputs):
        client.sys.create_or_update_policy(name=inputs["name"], policy=inputs["policy"])
        return inputs["name"], {}

    def read(self, client, rid, state):
        try:
            policy = client.sys.read_policy(name=rid)
        except Exception as error:
            if _not_found(error):
                return None
            raise
        rules = (policy or {}).get("data", policy or {}).get("rules")
        if rules is None:
            return None
        return {"name": rid, "policy": state.get("policy") if rules == state.get("policy") else rules}

    def update(self, client, rid, olds, news):
        client.sys.create_or_update_policy(name=rid, policy=news["policy"])
        return {}

    def delete(self, client, rid, state):
        client.sys.delete_policy(name=rid)


TYPES = (SecretBackend(), SecretBackendRole(), AuthBackend(), AppRoleRole(), Policy())


class VaultProvider(KeyguardProvider):
    def make_client(self, config):
        return make_client(config)


def main() -> None:
    run(VaultProvider("vault", TYPES), VERSION)


if __name__ == "__main__":
    main()


__all__ = ["VaultProvider", "TYPES", "UNKNOWN", "main"]
