"""Where each resource is declared in the program's source, so SARIF can point code scanning at
the line: the first string literal equal to the resource's logical name."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable


def declarations(urns: Iterable[str], program_dir: Path, repo_root: Path) -> dict[str, str]:
    names = {urn: urn.rsplit("::", 1)[-1] for urn in urns}
    wanted = set(names.values())
    found: dict[str, str] = {}
    program_dir, repo_root = Path(program_dir).resolve(), Path(repo_root).resolve()
    literal = re.compile(r"""["']([^"'\\]+)["']""")
    for path in sorted(program_dir.rglob("*.py")):
        if any(part in (".venv", "venv", "__pycache__") for part in path.parts):
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        try:
            shown = path.relative_to(repo_root).as_posix()
        except ValueError:
            shown = path.as_posix()
        for number, line in enumerate(lines, 1):
            for match in literal.finditer(line):
                name = match.group(1)
                if name in wanted and name not in found:
                    found[name] = f"{shown}:{number}"
    return {urn: found[name] for urn, name in names.items() if name in found}
