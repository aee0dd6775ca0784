"""`--format table` (the default): the terminal summary. A pass/fail banner, the counts,
findings grouped by policy (resource, message, evidence) and what to do next.

Rendered with rich into a string. With `color=False` (not a terminal, `--no-color`, or
NO_COLOR) the output is plain ASCII: status words instead of colour, ASCII borders and
markers, so it reads the same in a CI log or a file. Every value from the audit goes in as
`rich.text.Text`, never as markup, so a message containing `[brackets]` prints as it is."""
from __future__ import annotations

import io

from rich import box
from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from keyguard_policies.model import VIOLATION

from .. import __version__
from ..result import AuditResult
from . import _common as c

PER_POLICY = 10          # findings shown per policy before "... and N more"
REMEDIATIONS = 6         # policies whose remediation "what to do next" lists


class _Glyphs:
    def __init__(self, fancy: bool):
        self.passed = "✔" if fancy else "OK"
        self.failed = "✘" if fancy else "X"
        self.mandatory = "✘" if fancy else "x"
        self.advisory = "▲" if fancy else "!"
        self.unverifiable = "?"
        self.dot = "·" if fancy else "|"
        self.ellipsis = "…" if fancy else "..."
        self.arrow = "→" if fancy else "->"
        self.box = box.ROUNDED if fancy else box.ASCII


def _marker(g: _Glyphs, enforcement: str, kind: str) -> tuple[str, str]:
    if kind != VIOLATION:
        return g.unverifiable, "magenta"
    if c.level(enforcement) == "mandatory":
        return g.mandatory, "bold red"
    return g.advisory, "yellow"


def _banner(result: AuditResult, g: _Glyphs) -> Panel:
    ok = result.passed
    style = "bold green" if ok else "bold red"
    verdict = c.verdict(result)
    word, _, reason = verdict.partition(": ")
    title = Text.assemble((f"{g.passed if ok else g.failed} {word}", style), "  ", (reason, "bold"))
    src = result.source
    detail = Text.assemble(
        ("source ", "dim"), f"{src.kind} {src.path}", (f"  {g.dot}  stack ", "dim"), src.stack or "-",
        (f"  {g.dot}  gate ", "dim"), c.gate_options(result))
    lines = [title, detail]
    if result.is_live:
        lines.append(Text.assemble(*[part for k, v in c.live_source(result)
                                     for part in ((f"{k} ", "dim"), f"{v}  ")]))
    return Panel(Group(*lines), box=g.box, border_style="green" if ok else "red", padding=(0, 1),
                 title=Text(f"keyguard audit {__version__}", style="bold"), title_align="left")


def _counts(result: AuditResult, g: _Glyphs) -> Group:
    n = c.counts(result)
    grid = Table.grid(padding=(0, 3))
    for _ in range(6):
        grid.add_column(justify="left")

    def cell(label: str, value: int, style: str) -> Text:
        return Text.assemble((str(value), style if value else "bold"), (f" {label}", "dim"))

    grid.add_row(
        cell("resources", n.resources, "bold"),
        cell("policies", n.policies, "bold"),
        cell("mandatory violations", n.mandatory, "bold red"),
        cell("advisory violations", n.advisory, "bold yellow"),
        cell("unverifiable", n.unverifiable, "bold magenta"),
    )
    status = Text.assemble(("policies: ", "dim"))
    for i, (key, style) in enumerate((("pass", "green"), ("fail", "red"), ("unverifiable", "magenta"),
                                      ("not-applicable", "dim"))):
        if i:
            status.append(f" {g.dot} ", style="dim")
        status.append(f"{n.by_status.get(key, 0)} {c.STATUS_LABEL[key]}", style=style if n.by_status.get(key) else "")
    return Group(grid, status)


def _findings(result: AuditResult, g: _Glyphs) -> list:
    keys = c.blocking_keys(result)
    pairs = result.findings()
    name_width = min(30, max(len(c.short_name(f.urn)) for _, f in pairs))
    out: list = [Text(""), Text("Findings", style="bold underline")]
    for outcome, findings in c.group_by_policy(pairs):
        info = result.info(outcome.name)
        blocking = any(c.is_blocking(result, f, keys) for f in findings)
        worst = findings[0]
        mark, style = _marker(g, outcome.enforcement, worst.kind)
        header = Text.assemble(
            (f"{mark} ", style), (outcome.name, "bold"),
            (f"  {c.level(outcome.enforcement)} {g.dot} {info.severity}", "dim"),
            (f" {g.dot} {', '.join(c.control_short(x) for x in info.controls)}" if info.controls else "", "dim"))
        if blocking:
            header.append("  BLOCKING", style="bold red")
        out.append(header)
        rows = Table.grid(padding=(0, 2))
        rows.add_column(width=1, no_wrap=True)
        rows.add_column(width=name_width, overflow="fold", style="bold")
        rows.add_column(ratio=1, overflow="fold")
        for finding in findings[:PER_POLICY]:
            fmark, fstyle = _marker(g, outcome.enforcement, finding.kind)
            message = Text(finding.message)
            if finding.evidence:
                message.append("\n")
                message.append(c.truncate(finding.evidence, 160).replace("…", g.ellipsis), style="dim")
            rows.add_row(Text(fmark, style=fstyle), Text(c.short_name(finding.urn)), message)
        if len(findings) > PER_POLICY:
            rows.add_row("", Text(f"{g.ellipsis} and {len(findings) - PER_POLICY} more", style="dim"), "")
        out.append(Padding(rows, (0, 0, 0, 2)))
    return out


def _drift(result: AuditResult, g: _Glyphs) -> list:
    out: list = [Text(""), Text(f"Drift ({len(result.drift)})", style="bold underline")]
    rows = Table.grid(padding=(0, 2))
    rows.add_column(width=1, no_wrap=True)
    rows.add_column(width=min(30, max(len(c.short_name(d.urn)) for d in result.drift)), overflow="fold", style="bold")
    rows.add_column(ratio=1, overflow="fold")
    style = "bold red" if result.fail_on_drift else "yellow"
    for drift in result.drift[:PER_POLICY * 3]:
        detail = Text(f"{c.drift_property(drift)}: ", style="bold")
        detail.append(f"declared {c.value_text(drift.declared, 70)}")
        detail.append(f"\nlive     {c.value_text(drift.live, 70)}", style="dim")
        rows.add_row(Text("~", style=style), Text(c.short_name(drift.urn)), detail)
    if len(result.drift) > PER_POLICY * 3:
        rows.add_row("", Text(f"{g.ellipsis} and {len(result.drift) - PER_POLICY * 3} more", style="dim"), "")
    out.append(Padding(rows, (0, 0, 0, 2)))
    return out


def _next_steps(result: AuditResult, g: _Glyphs) -> list:
    out: list = [Text(""), Text("What to do next", style="bold underline")]
    steps: list[Text] = []
    advice = c.next_steps(result)
    for item in advice[:REMEDIATIONS]:
        steps.append(Text.assemble((item.policy, "bold"),
                                   (" (blocking)" if item.blocking else " (not blocking)", "red" if item.blocking else "yellow"),
                                   f": {item.remediation}"))
    if len(advice) > REMEDIATIONS:
        steps.append(Text(f"{len(advice) - REMEDIATIONS} more policies have findings: see the HTML report.",
                          style="dim"))
    if c.counts(result).unverifiable:
        steps.append(Text(c.UNVERIFIABLE_ADVICE.replace("`", "")))
    if result.drift:
        steps.append(Text(c.DRIFT_ADVICE.replace("`", "")))
    if not advice and not c.counts(result).unverifiable and not result.drift:
        steps.append(Text("Nothing to fix. Keep the gate in CI so it stays that way."))
    steps.append(Text.assemble("Full report with evidence, remediation and the control mapping:\n",
                               (c.rerun_command(result), "bold cyan")))
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", no_wrap=True)
    table.add_column(ratio=1)
    for i, step in enumerate(steps, 1):
        table.add_row(Text(f"{i}.", style="dim"), step)
    out.append(Padding(table, (0, 0, 0, 1)))
    return out


def render(result: AuditResult, *, color: bool = False, width: int = 100) -> str:
    g = _Glyphs(fancy=color)
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, color_system="standard" if color else None,
                      no_color=not color, highlight=False, emoji=False, markup=False, legacy_windows=False,
                      force_jupyter=False, force_interactive=False, soft_wrap=False, tab_size=4)
    parts: list = [_banner(result, g), Padding(_counts(result, g), (0, 0, 0, 1))]
    if result.findings():
        parts += _findings(result, g)
    if result.drift:
        parts += _drift(result, g)
    parts += _next_steps(result, g)
    console.print(Group(*parts))
    text = buffer.getvalue()
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
