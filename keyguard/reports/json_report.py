"""`--format json`: the SPEC's JSON report (`AuditResult.to_json()`), pretty-printed with a stable
field order so two runs can be diffed line by line."""
from __future__ import annotations

from ..result import AuditResult
from .json_text import indented


def render(result: AuditResult) -> str:
    return indented(result.to_json()) + "\n"
