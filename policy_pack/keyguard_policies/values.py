"""Plain-value helpers shared by every rule: unknown values (not known during preview, or an
encrypted secret) and the exception that turns a check into an `unverifiable` finding."""
from __future__ import annotations

import re
from typing import Any

# The sentinels Pulumi puts on the wire for values not known during preview (pulumi-policy's
# proxy.py, and `pulumi preview --json`), plus our own for a secret a state export keeps encrypted.
UNKNOWN_SENTINELS = frozenset({
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string (and any value in preview JSON)
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
    "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
    "e48ece36-62e2-4504-bad9-02848725956a",  # archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
})
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
ENCRYPTED_SECRET = "keyguard:encrypted-secret"
# A live value `keyguard audit --live` could not read (access denied, not found, timeout, not exposed).
UNREADABLE = "keyguard:unreadable-live-value"
_UNRESOLVED = UNKNOWN_SENTINELS | {ENCRYPTED_SECRET, UNREADABLE}


class Unverifiable(Exception):
    """Raised by a rule that needs a value it cannot see; the engine reports it as `unverifiable`."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


class Malformed(Exception):
    """Raised for input a rule cannot interpret; the engine reports a violation naming the defect."""


_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages about malformed input (the read-only
    copies of cached values are dict and list subclasses: objects and arrays too)."""
    found = _JSON_TYPES.get(type(value))
    if found is not None:
        return found
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return "string" if isinstance(value, str) else "number"


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in _UNRESOLVED


def contains_unknown(value: Any) -> bool:
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return is_unknown(value)


def describe_unknown(value: Any, path: str) -> str:
    if value == ENCRYPTED_SECRET:
        return f"{path} is a secret the source keeps encrypted"
    if value == UNREADABLE:
        return f"{path} could not be read from the deployed resource"
    return f"{path} is not known until the resources it depends on exist"


def known(value: Any, path: str) -> Any:
    """`value` unless it is unknown, in which case the check is unverifiable."""
    if is_unknown(value):
        raise Unverifiable(describe_unknown(value, path))
    return value


def as_list(value: Any) -> list:
    """Pulumi and IAM both allow one value where a list is meant."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def as_int(value: Any, path: str) -> int | None:
    """Integers arrive as floats from gRPC structs; strings from some state exports."""
    value = known(value, path)
    if value is None:
        return None
    if isinstance(value, bool):
        raise Malformed(f"{path} is a boolean, not a number")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not value.is_integer():
            raise Malformed(f"{path} is {value}, not a whole number")
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise Malformed(f"{path} is {value!r}, not a number") from None
    raise Malformed(f"{path} is a {type(value).__name__}, not a number")


def as_bool(value: Any, path: str) -> bool | None:
    value = known(value, path)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise Malformed(f"{path} is {value!r}, not a boolean")


def as_str(value: Any, path: str) -> str | None:
    value = known(value, path)
    if value is None or isinstance(value, str):
        return value
    raise Malformed(f"{path} is a {type(value).__name__}, not a string")


def as_seconds(value: Any, path: str) -> int | None:
    """A TTL in whole seconds: what `as_int` accepts, never negative."""
    seconds = as_int(value, path)
    if seconds is not None and seconds < 0:
        raise Malformed(f"{path} is {seconds}, a negative duration")
    return seconds


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(?:(\d+)([smhd]))+")
_DURATION_PART = re.compile(r"(\d+)([smhd])")


def as_duration(value: Any, path: str) -> int | None:
    """A Vault duration ("3600", "3600s", "90m", "1h30m", "2d", or a number of seconds) in whole
    seconds; negative, fractional or unreadable durations are malformed (fail closed). An empty
    string is unset."""
    value = known(value, path)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.strip().lstrip("-").isdigit():
        return as_seconds(value.strip() if isinstance(value, str) else value, path)
    text = value.strip()
    if not _DURATION.fullmatch(text):
        raise Malformed(f"{path} is {value!r}, not a duration in whole seconds, minutes, hours or days "
                        "(\"3600s\", \"1h\"; negative and fractional durations are refused)")
    return sum(int(n) * _DURATION_UNITS[unit] for n, unit in _DURATION_PART.findall(text))
