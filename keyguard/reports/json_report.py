"""`--format json`: the SPEC's JSON report (`AuditResult.to_json()`), pretty-printed with a stable
field order so two runs can be diffed line by line."""
from __future__ import annotations

import json

from ..result import AuditResult


def render(result: AuditResult) -> str:
    return json.dumps(result.to_json(), indent=2) + "\n"
