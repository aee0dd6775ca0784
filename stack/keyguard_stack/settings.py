"""Stack settings: one dataclass read either from Pulumi config (in the program) or straight from
`Pulumi.yaml` + `Pulumi.<stack>.yaml` (in tests, the audit's mock run and the integration tests), so
every consumer sees the same values."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping

import yaml

STACK_DIR = Path(__file__).resolve().parent.parent
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


def stack_config(stack: str = "dev", stack_dir: Path = STACK_DIR) -> dict[str, Any]:
    """The flat config Pulumi would hand the program: project defaults overlaid by the stack file."""
    project = yaml.safe_load((stack_dir / "Pulumi.yaml").read_text())
    values: dict[str, Any] = {}
    for name, spec in (project.get("config") or {}).items():
        key = name if ":" in name else f"{project['name']}:{name}"
        if isinstance(spec, dict) and "default" in spec:
            values[key] = spec["default"]
    stack_file = stack_dir / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        values.update((yaml.safe_load(stack_file.read_text()) or {}).get("config") or {})
    return values


def load_settings(stack: str = "dev", stack_dir: Path = STACK_DIR) -> StackSettings:
    return StackSettings.from_config(stack_config(stack, stack_dir))
