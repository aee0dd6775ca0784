"""The README's policy table, generated from data/policies.json so the two cannot drift.

    python -m keyguard_policies.readme_table              # print the table
    python -m keyguard_policies.readme_table --check README.md   # exit 1 if README's table differs
    python -m keyguard_policies.readme_table --write README.md   # replace README's table
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import catalog

HEADER = ("| policy | level | severity | controls | what it enforces |", "|---|---|---|---|---|")


def _control(control: str) -> str:
    """`NIST-800-53-r5:SC-28` -> `NIST SC-28`, `CIS-AWS-v1.4.0:2.1.1` -> `CIS 2.1.1`."""
    framework, ident = control.split(":", 1)
    return f"{framework.split('-', 1)[0]} {ident}"


def row(info: catalog.PolicyInfo) -> str:
    text = info.description
    defaults = info.defaults()
    if defaults:
        text += " Parameters: " + ", ".join(f"`{k}`={v!r}" for k, v in defaults.items()) + "."
    controls = ", ".join(_control(c) for c in info.controls)
    return f"| `{info.name}` | {info.enforcement} | {info.severity} | {controls} | {text} |"


def table() -> list[str]:
    return [*HEADER, *(row(info) for info in catalog.policies().values())]


def find(lines: list[str]) -> tuple[int, int]:
    """(first, end) line indexes of the policy table in the README's lines."""
    first = lines.index(HEADER[0])
    end = first
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return first, end


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m keyguard_policies.readme_table", description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", metavar="README", type=Path, help="exit 1 if the README's policy table differs")
    group.add_argument("--write", metavar="README", type=Path, help="replace the README's policy table")
    args = parser.parse_args(argv)
    expected = table()
    path = args.check or args.write
    if path is None:
        print("\n".join(expected))
        return 0
    try:
        lines = path.read_text().split("\n")
        first, end = find(lines)
    except (OSError, ValueError) as err:
        print(f"readme_table: cannot read the policy table of {path}: {err}", file=sys.stderr)
        return 2
    if args.check:
        if lines[first:end] != expected:
            print(f"{path}: the policy table differs from data/policies.json; run "
                  f"python -m keyguard_policies.readme_table --write {path}", file=sys.stderr)
            return 1
        return 0
    path.write_text("\n".join(lines[:first] + expected + lines[end:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
