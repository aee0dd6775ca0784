"""Stack settings: one dataclass built from the flat Pulumi config, read through pulumi.Config in
the program and from `Pulumi.yaml` + `Pulumi.<stack>.yaml` by the audit's generic parser
(keyguard.sources.pulumi_config) in the tests and integration tests, so every consumer sees the
same values."""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Mapping

NAMESPACE = "keyguard"
CREDENTIAL_TYPES = ("iam_user", "federation_token")


@dataclasses.dataclass(frozen=True)
class StackSettings:
    region: str = "us-east-1"
    bucket_prefix: str = "ai-app-data"
    key_deletion_window_days: int = 30
    key_rotation_period_days: int = 365
    vault_backend_path: str = "aws-ai-app"
    vault_role_name: str = "ai-app"
    credential_type: str = "iam_user"
    default_lease_ttl_seconds: int = 3600
    max_lease_ttl_seconds: int = 14400
    aws_endpoint: str = ""
    vault_address: str = ""
    # The KMS alias of the key (an account holds one alias of a name: two stacks on one account need two).
    kms_alias_name: str = "alias/ai-app-data"
    # The access key id of the IAM user whose keys Vault's AWS engine uses (config/root); its secret
    # key is the secret config keyguard:vaultAwsSecretAccessKey, read by the program only, never here.
    vault_aws_access_key_id: str = ""
    # Only for an emulator that cannot evaluate aws:SecureTransport (moto): see Pulumi.yaml.
    tls_only_bucket_policy: bool = True
    # The application's way into Vault: an AppRole auth mount, its role, and the ACL policy its tokens carry.
    approle_path: str = "approle"
    approle_default_lease_ttl_seconds: int = 3600
    approle_max_lease_ttl_seconds: int = 14400
    approle_role_name: str = "ai-app"
    vault_policy_name: str = "ai-app-aws-creds"
    token_ttl_seconds: int = 3600
    token_max_ttl_seconds: int = 14400
    secret_id_ttl_seconds: int = 3600
    secret_id_num_uses: int = 1
    secret_id_bound_cidrs: tuple[str, ...] = ()
    token_bound_cidrs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.credential_type not in CREDENTIAL_TYPES:
            raise ValueError(f"keyguard:credentialType must be one of {', '.join(CREDENTIAL_TYPES)}, "
                             f"not {self.credential_type!r}")
        if self.default_lease_ttl_seconds > self.max_lease_ttl_seconds:
            raise ValueError("keyguard:defaultLeaseTtlSeconds must not exceed keyguard:maxLeaseTtlSeconds")
        if self.approle_default_lease_ttl_seconds > self.approle_max_lease_ttl_seconds:
            raise ValueError("keyguard:approleDefaultLeaseTtlSeconds must not exceed keyguard:approleMaxLeaseTtlSeconds")
        if self.token_ttl_seconds > self.token_max_ttl_seconds:
            raise ValueError("keyguard:tokenTtlSeconds must not exceed keyguard:tokenMaxTtlSeconds")
        if not self.kms_alias_name.startswith("alias/") or self.kms_alias_name.startswith("alias/aws/"):
            raise ValueError(f"keyguard:kmsAliasName must start with 'alias/' and not name an AWS-managed "
                             f"alias (alias/aws/...), not {self.kms_alias_name!r}")
        for name in ("token_ttl_seconds", "token_max_ttl_seconds", "secret_id_ttl_seconds", "secret_id_num_uses",
                     "approle_default_lease_ttl_seconds", "approle_max_lease_ttl_seconds"):
            if getattr(self, name) <= 0:  # 0 means "inherit" or "unlimited" in Vault: never a safe setting
                raise ValueError(f"keyguard:{_camel(name)} must be positive, not {getattr(self, name)}")

    @classmethod
    def config_keys(cls) -> dict[str, str]:
        """Field name -> Pulumi config key (`aws:region`, `keyguard:bucketPrefix`, ...)."""
        return {field.name: "aws:region" if field.name == "region" else f"{NAMESPACE}:{_camel(field.name)}"
                for field in dataclasses.fields(cls)}

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> "StackSettings":
        """Build from a flat `{"keyguard:camelName": value, "aws:region": ...}` mapping; unset keys
        keep their defaults."""
        kwargs: dict[str, Any] = {}
        types = {field.name: field.type for field in dataclasses.fields(cls)}
        for name, key in cls.config_keys().items():
            if values.get(key) not in (None, ""):
                raw = values[key]
                if types[name] == "int":
                    kwargs[name] = int(raw)
                elif types[name] == "bool":
                    kwargs[name] = _boolean(raw, key)
                elif types[name].startswith("tuple"):
                    kwargs[name] = _string_list(raw, key)
                else:
                    kwargs[name] = str(raw)
        return cls(**kwargs)


def _boolean(raw: Any, key: str) -> bool:
    """A boolean setting: a YAML boolean (stack files) or "true"/"false" (what pulumi.Config hands the program)."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise ValueError(f"{key} must be true or false, not {raw!r}")


def _string_list(raw: Any, key: str) -> tuple[str, ...]:
    """A list setting: a YAML list (stack files) or its JSON text (what pulumi.Config hands the program)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ValueError(f"{key} must be a list of strings, not {raw!r}") from None
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ValueError(f"{key} must be a list of strings, not {raw!r}")
    return tuple(raw)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)
