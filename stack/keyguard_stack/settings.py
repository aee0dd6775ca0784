"""Stack settings: one dataclass built from the flat Pulumi config, read through pulumi.Config in
the program and from `Pulumi.yaml` + `Pulumi.<stack>.yaml` by the audit's generic parser
(keyguard.sources.pulumi_config) in the tests and integration tests, so every consumer sees the
same values."""
from __future__ import annotations

import dataclasses
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

    def __post_init__(self) -> None:
        if self.credential_type not in CREDENTIAL_TYPES:
            raise ValueError(f"keyguard:credentialType must be one of {', '.join(CREDENTIAL_TYPES)}, "
                             f"not {self.credential_type!r}")
        if self.default_lease_ttl_seconds > self.max_lease_ttl_seconds:
            raise ValueError("keyguard:defaultLeaseTtlSeconds must not exceed keyguard:maxLeaseTtlSeconds")

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
                kwargs[name] = int(raw) if types[name] == "int" else str(raw)
        return cls(**kwargs)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)
