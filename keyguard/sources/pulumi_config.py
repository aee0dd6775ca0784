"""The configuration Pulumi hands a program, read straight from the project's files: the
`config:` defaults of `Pulumi.yaml`, overlaid by `Pulumi.<stack>.yaml`. Generic (any project),
so the audit never needs the audited stack's own code to know its configuration."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import UsageError


def _load(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"{path}: cannot read: {err}") from None
    except yaml.YAMLError as err:
        raise UsageError(f"{path}: not valid YAML: {str(err).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a YAML mapping at the top level")
    return data


def _key(name: str, project: str) -> str:
    """Keys without a namespace belong to the project (`bucketPrefix` -> `keyguard:bucketPrefix`)."""
    return name if ":" in name else f"{project}:{name}"


def stack_config(stack: str, stack_dir: Path) -> dict[str, Any]:
    """The flat `{"namespace:key": value}` config of `stack`: project defaults (a `default` or
    `value` in a typed declaration, or a plain value), then the stack file's values."""
    stack_dir = Path(stack_dir)
    project_file = _load(stack_dir / "Pulumi.yaml")
    project = project_file.get("name")
    if not isinstance(project, str) or not project:
        raise UsageError(f"{stack_dir / 'Pulumi.yaml'}: has no project name")
    values: dict[str, Any] = {}
    declared = project_file.get("config") or {}
    if not isinstance(declared, dict):
        raise UsageError(f"{stack_dir / 'Pulumi.yaml'}: config must be a mapping")
    for name, spec in declared.items():
        if isinstance(spec, dict):
            for field in ("value", "default"):
                if field in spec:
                    values[_key(name, project)] = spec[field]
                    break
        else:
            values[_key(name, project)] = spec
    stack_file = stack_dir / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        overrides = _load(stack_file).get("config") or {}
        if not isinstance(overrides, dict):
            raise UsageError(f"{stack_file}: config must be a mapping")
        values.update({_key(name, project): value for name, value in overrides.items()})
    return values


def project_name(stack_dir: Path) -> str:
    return _load(Path(stack_dir) / "Pulumi.yaml")["name"]
