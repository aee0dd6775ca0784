"""Report formats of `keyguard audit` (SPEC: `--format`). Each module has
`render(result: AuditResult) -> str`; `table` also takes `color` and `width`. All of them
render the same `AuditResult`, so the formats never disagree about the gate."""
from __future__ import annotations

from . import html_report, json_report, junit, markdown, sarif, table

FORMATS = {
    "table": table.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "junit": junit.render,
    "markdown": markdown.render,
    "html": html_report.render,
}

# Where `--output DIR` writes each format; the table only goes to the terminal.
FILENAMES = {
    "json": "keyguard-report.json",
    "sarif": "keyguard-report.sarif",
    "junit": "keyguard-report.junit.xml",
    "markdown": "keyguard-report.md",
    "html": "keyguard-report.html",
}

__all__ = ["FORMATS", "FILENAMES"]
