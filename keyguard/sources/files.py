"""`--state` (a `pulumi stack export`, deployment version 3) and `--preview` (`pulumi preview
--json`) as lists of resources. Anything else is a usage error naming what is wrong."""
from __future__ import annotations

import orjson
from pathlib import Path
from typing import Any, Callable, Iterable

from keyguard_policies.model import Resource

from ..errors import UsageError
from .wire import MASKED_SECRET, SIG_KEY, plain, stack_of

SKIPPED_TYPES = ("pulumi:pulumi:Stack",)
DELETE_OPS = frozenset({"delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace"})


def read_json(path: Path) -> Any:
    return _parse(_read(path), path)


def _read(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a file") from None
    except OSError as err:
        raise UsageError(f"{path}: cannot read ({err.strerror})") from None


def _parse(text: bytes, path: Path) -> Any:
    """orjson (already installed with policy_sentry) parses large exports 2-3 times faster than json."""
    try:
        return orjson.loads(text)
    except ValueError as err:
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{path}: not UTF-8 text") from None
        msg = getattr(err, "msg", str(err))
        raise UsageError(f"{path}: invalid JSON ({msg} at line {getattr(err, 'lineno', '?')} "
                         f"column {getattr(err, 'colno', '?')})") from None


def _audited(type_: str) -> bool:
    return type_ not in SKIPPED_TYPES and not type_.startswith("pulumi:providers:")


class _Defect(Exception):
    """What is wrong with one entry; `_resources` prefixes where it is (the place is spelled out
    only for a defect: a large export has many entries)."""


def _resource(entry: dict, props_key: str, secrets: dict[str, set[str]] | None) -> Resource:
    """`secrets` collects, per URN, the plaintext of every secret the entry carries; None when the
    file holds no secret at all (then values are used as parsed, a large saving on big files)."""
    urn, type_ = entry.get("urn"), entry.get("type")
    if not isinstance(urn, str) or not isinstance(type_, str):
        raise _Defect(" has no urn or type")
    props = entry.get(props_key) or {}
    outputs = entry.get("outputs") or {}
    if not isinstance(props, dict) or not isinstance(outputs, dict):
        raise _Defect(f": {props_key} and outputs must be objects")
    deps = entry.get("dependencies") or []
    prop_deps = entry.get("propertyDependencies") or {}
    if not isinstance(deps, list) or not isinstance(prop_deps, dict):
        raise _Defect(": dependencies must be a list and propertyDependencies an object")
    if secrets is not None:
        found: set[str] = set()
        outputs = plain(outputs, found)
        props = plain(props, found)
        if found:
            secrets.setdefault(urn, set()).update(found)
    if entry.get("id") and "id" not in outputs:
        outputs = {**outputs, "id": entry["id"]}
    # property dependencies stay lists as parsed: Resource.depends_on returns tuples
    return Resource(urn, type_, props, outputs, tuple(deps), prop_deps)


def load_state(path: Path, secrets: dict[str, set[str]],
               tick: Callable[[int], None] | None = None) -> tuple[list[Resource], str]:
    raw = _read(path)
    data = _parse(raw, path)
    secrets = secrets if _may_hold_secrets(raw) else None
    deployment = data.get("deployment") if isinstance(data, dict) else None
    if not isinstance(deployment, dict) or "version" not in data:
        raise UsageError(f"{path}: not a Pulumi state export (expected `pulumi stack export` output with "
                         "\"version\" and \"deployment\")")
    if data["version"] != 3:
        raise UsageError(f"{path}: state export deployment version {data['version']!r} is not supported (need 3)")
    entries = deployment.get("resources") or []
    if not isinstance(entries, list):
        raise UsageError(f"{path}: deployment.resources is not a list")
    # a resource pending deletion (`delete: true`) is on its way out: not audited
    return _resources(path, entries, "deployment.resources", lambda e: None if e.get("delete") else e,
                      secrets, tick)


def load_preview(path: Path, secrets: dict[str, set[str]],
                 tick: Callable[[int], None] | None = None) -> tuple[list[Resource], str]:
    raw = _read(path)
    data = _parse(raw, path)
    secrets = secrets if _may_hold_secrets(raw) else None
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, list):
        raise UsageError(f"{path}: not a `pulumi preview --json` output (no \"steps\" list)")

    def new_state(step: dict) -> dict | None:
        if step.get("op") in DELETE_OPS:
            return None
        if not isinstance(step.get("newState"), dict):
            raise _Defect(f" ({step.get('op')}) has no newState")
        return step["newState"]

    return _resources(path, steps, "steps", new_state, secrets, tick)


def _may_hold_secrets(raw: bytes) -> bool:
    """Secrets appear as Pulumi's secret signature or, in preview JSON, as "[secret]"."""
    return SIG_KEY.encode() in raw or MASKED_SECRET.encode() in raw


def _resources(path: Path, items: list, label: str, select: Callable[[dict], dict | None],
               secrets: dict[str, set[str]] | None, tick) -> tuple[list[Resource], str]:
    """The audited resources among `items` (what `select` picks from each), and the stack name."""
    resources, stack, i = [], "", 0
    try:
        for i, item in enumerate(_ticking(items, tick)):
            if not isinstance(item, dict):
                raise _Defect(" is not an object")
            if not stack:
                stack = stack_of(str(item.get("urn", "")))
            entry = select(item)
            if entry is not None and _audited(str(entry.get("type", ""))):
                resources.append(_resource(entry, "inputs", secrets))
    except _Defect as defect:
        raise UsageError(f"{path}: {label}[{i}]{defect}") from None
    return resources, stack


def _ticking(items: list, tick: Callable[[int], None] | None) -> Iterable:
    if tick is None:
        yield from items
        return
    for i, item in enumerate(items):
        if i % 1000 == 0:
            tick(i)
        yield item
    tick(len(items))
