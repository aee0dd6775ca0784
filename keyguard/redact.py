"""Keeping secret values out of reports."""
from __future__ import annotations

from typing import Iterable

WINDOW = 12
WITHHELD = "[withheld: quotes a secret input]"


def scrub(text: str, resource_secrets: Iterable[str], all_secrets: Iterable[str]) -> str:
    """Any whole secret becomes `[secret]`; a text about a resource with secrets that still
    quotes WINDOW or more characters of one of them is withheld entirely."""
    if not text:
        return text
    for secret in sorted(all_secrets, key=len, reverse=True):
        if len(secret) >= 6 and secret in text:
            text = text.replace(secret, "[secret]")
    for secret in resource_secrets:
        if len(secret) >= WINDOW and any(text[i:i + WINDOW] in secret for i in range(len(text) - WINDOW + 1)):
            return WITHHELD
    return text
