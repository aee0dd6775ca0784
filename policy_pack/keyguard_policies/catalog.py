"""The policy catalog (data/policies.json) and compliance controls (data/controls.json), and the
policy configuration file shared with `pulumi preview --policy-pack-config` (SPEC: Policy
configuration). Validation here is strict: unknown names, parameters or wrong types are errors."""
from __future__ import annotations

import dataclasses
import functools
import json
from importlib import resources as _resources
from typing import Any, Mapping

from .frozen import freeze, thaw
from .values import json_type

LEVELS = ("advisory", "mandatory", "remediate", "disabled")


class ConfigError(ValueError):
    """A policy configuration that cannot be used; the message is one line for the user."""


@dataclasses.dataclass(frozen=True)
class PolicyInfo:
    name: str
    kind: str                       # "resource" or "stack"
    enforcement: str                # default level
    severity: str
    description: str
    controls: tuple[str, ...]
    remediation: str
    url: str
    tags: tuple[str, ...]
    config_schema: Mapping[str, Any]  # JSON Schema properties, each with a default

    def defaults(self) -> dict[str, Any]:
        return {k: thaw(v["default"]) for k, v in self.config_schema.items()}  # the caller's own copy


def _data(name: str) -> Any:
    return json.loads(_resources.files(__package__).joinpath("data").joinpath(name).read_text())


@functools.lru_cache(maxsize=1)
def policies() -> dict[str, PolicyInfo]:
    out = {}
    for p in _data("policies.json")["policies"]:
        out[p["name"]] = PolicyInfo(
            name=p["name"], kind=p["kind"], enforcement=p["enforcement"], severity=p["severity"],
            description=p["description"], controls=tuple(p["controls"]), remediation=p["remediation"],
            url=p["url"], tags=tuple(p["tags"]), config_schema=freeze(p["config"]))
    return out


@functools.lru_cache(maxsize=1)
def controls() -> dict[str, Any]:
    return freeze(_data("controls.json"))


@dataclasses.dataclass(frozen=True)
class PolicySettings:
    enforcement: str
    params: Mapping[str, Any]


def resolve(config: Mapping[str, Any] | None) -> dict[str, PolicySettings]:
    """Merge a policy-pack config (the `--policy-pack-config` shape) over the catalog defaults."""
    config = dict(config or {})
    if not isinstance(config, dict):
        raise ConfigError("policy configuration must be a JSON object")
    catalog = policies()
    default_level = None
    if "all" in config:
        default_level = _level(config.pop("all"), "all")
    resolved = {}
    for name, info in catalog.items():
        resolved[name] = PolicySettings(default_level or info.enforcement, info.defaults())
    for name, value in config.items():
        if name not in catalog:
            raise ConfigError(f"unknown policy {name!r} in policy configuration")
        info = catalog[name]
        if isinstance(value, str):
            resolved[name] = PolicySettings(_level(value, name), info.defaults())
            continue
        if not isinstance(value, dict):
            raise ConfigError(f"{name}: expected an enforcement level or an object, got {json_type(value)}")
        level = resolved[name].enforcement
        params = info.defaults()
        for key, param in value.items():
            if key == "enforcementLevel":
                level = _level(param, name)
            elif key not in info.config_schema:
                known = ", ".join(sorted(info.config_schema)) or "none"
                raise ConfigError(f"{name}: unknown parameter {key!r} (parameters: {known})")
            else:
                params[key] = _checked(param, info.config_schema[key], f"{name}.{key}")
        resolved[name] = PolicySettings(level, params)
    return resolved


def _level(value: Any, where: str) -> str:
    if value not in LEVELS:
        raise ConfigError(f"{where}: enforcement level must be one of {', '.join(LEVELS)}, got {value!r}")
    return value


def _checked(value: Any, schema: Mapping[str, Any], where: str) -> Any:
    """Validate one parameter against its schema. Integers may arrive as floats (gRPC structs)."""
    kind = schema["type"]
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise ConfigError(f"{where}: expected an integer, got {json_type(value)} {value!r}")
        value = int(value)
        if "minimum" in schema and value < schema["minimum"]:
            raise ConfigError(f"{where}: {value} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise ConfigError(f"{where}: {value} is above the maximum {schema['maximum']}")
        return value
    if kind == "array":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected an array of strings, got {json_type(value)}")
        allowed = schema.get("items", {}).get("enum")
        for v in value:
            if allowed and v not in allowed:
                raise ConfigError(f"{where}: {v!r} is not one of {', '.join(allowed)}")
        return list(value)
    raise AssertionError(f"unsupported schema type {kind}")
