"""Report formats of `keyguard audit` (SPEC: `--format`). Each module has
`render(result: AuditResult) -> str`; `table` also takes `color` and `width`. All of them
render the same `AuditResult`, so the formats never disagree about the gate."""
from __future__ import annotations

import importlib
from typing import Callable, Iterator, Mapping

_MODULES = {"table": "table", "json": "json_report", "sarif": "sarif", "junit": "junit",
            "markdown": "markdown", "html": "html_report"}


class _Renderers(Mapping[str, Callable[..., str]]):
    """Format name -> render function, each module imported only when its format is asked for
    (the table pulls in rich; a JSON-only CI run need not pay for it)."""

    def __getitem__(self, name: str) -> Callable[..., str]:
        return importlib.import_module(f"{__name__}.{_MODULES[name]}").render

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


FORMATS: Mapping[str, Callable[..., str]] = _Renderers()

# Where `--output DIR` writes each format; the table only goes to the terminal.
FILENAMES = {
    "json": "keyguard-report.json",
    "sarif": "keyguard-report.sarif",
    "junit": "keyguard-report.junit.xml",
    "markdown": "keyguard-report.md",
    "html": "keyguard-report.html",
}

__all__ = ["FORMATS", "FILENAMES"]
