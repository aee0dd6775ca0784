"""Pulumi's serialized property values (state exports, preview JSON) as plain values: secrets
decrypted only when the export carries their plaintext (and remembered for redaction), every
other secret left as an unknown the rules report as unverifiable."""
from __future__ import annotations

import json
from typing import Any

from keyguard_policies.values import ENCRYPTED_SECRET

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
MASKED_SECRET = "[secret]"   # how `pulumi preview --json` prints a secret


def plain(value: Any, secrets: set[str]) -> Any:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return _secret(value, secrets)
        return {k: plain(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, secrets) for v in value]
    if value == MASKED_SECRET:
        return ENCRYPTED_SECRET
    return value


def _secret(value: dict, secrets: set[str]) -> Any:
    if "plaintext" in value:
        try:
            decrypted = json.loads(value["plaintext"])
        except (TypeError, ValueError):
            decrypted = value["plaintext"]
    elif "value" in value:
        decrypted = value["value"]
    else:
        return ENCRYPTED_SECRET
    decrypted = plain(decrypted, secrets)
    _remember(decrypted, secrets)
    return decrypted


def _remember(value: Any, secrets: set[str]) -> None:
    if isinstance(value, str) and value:
        secrets.add(value)
    elif isinstance(value, dict):
        for v in value.values():
            _remember(v, secrets)
    elif isinstance(value, list):
        for v in value:
            _remember(v, secrets)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        secrets.add(str(value))


def stack_of(urn: str) -> str:
    """`urn:pulumi:<stack>::<project>::<type>::<name>` -> stack."""
    return urn.split("::", 1)[0].removeprefix("urn:pulumi:") if urn.startswith("urn:pulumi:") else ""
