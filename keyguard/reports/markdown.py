"""`--format markdown`: a pull-request comment. Short by design: a verdict line, one counts
table, the most severe findings (the rest collapsed in `<details>`, then only counted), and
the remediation of blocking policies, collapsed. The HTML report has everything else.

Every value from the audit is escaped for GitHub-flavoured Markdown table cells (pipes, HTML,
backticks, newlines), so a message can never break the table or inject markup."""
from __future__ import annotations

import html

from keyguard_policies.model import VIOLATION

from .. import __version__
from ..result import AuditResult
from . import _common as c

SHOWN = 10          # findings in the visible table
COLLAPSED = 30      # further findings inside <details>
MESSAGE_LIMIT = 140
ADVICE = 6          # blocking policies whose remediation is shown
LEGEND = (("🔴", "mandatory violation"), ("🟡", "advisory violation"), ("❔", "unverifiable, blocks the gate"),
          ("⚪", "unverifiable, allowed"), ("🟠", "violation, not blocking"))


def _cell(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = html.escape(c.truncate(text, limit), quote=False)
    return text.replace("|", "\\|").replace("`", "&#96;").replace("*", "\\*").replace("_", "\\_")


def _code(text: str) -> str:
    """Inline code for names: backticks removed (names never contain them), pipes escaped."""
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def _icon(result: AuditResult, outcome, finding, keys) -> str:
    if finding.kind != VIOLATION:
        return "❔" if c.is_blocking(result, finding, keys) else "⚪"
    if c.level(outcome.enforcement) == "mandatory":
        return "🔴" if c.is_blocking(result, finding, keys) else "🟠"
    return "🟡"


def _rows(result: AuditResult, pairs, keys) -> list[str]:
    rows = ["| | Policy | Resource | Finding |", "|---|---|---|---|"]
    for outcome, finding in pairs:
        rows.append(f"| {_icon(result, outcome, finding, keys)} | {_code(outcome.name)} | "
                    f"{_code(c.short_name(finding.urn))} | {_cell(finding.message)} |")
    return rows


def render(result: AuditResult) -> str:
    counts = c.counts(result)
    keys = c.blocking_keys(result)
    icon = "✅" if result.passed else "❌"
    source = result.source
    lines = [
        f"### {icon} keyguard audit {c.verdict(result).replace(':', ' —', 1)}",
        "",
        f"<sub>{_cell(source.kind, 40)} {_code(source.path)} · stack {_code(source.stack)} · "
        f"gate {_code(c.gate_options(result))} · keyguard {__version__} · {c.iso(result.generated_at)}</sub>",
        "",
        "| Resources | Policies | Mandatory violations | Advisory violations | Unverifiable | Blocking |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {counts.resources} | {counts.policies} | {counts.mandatory} | {counts.advisory} | "
        f"{counts.unverifiable} | **{counts.blocking}** |",
    ]
    if result.is_live:
        lines += ["", "<sub>live: " + " · ".join(f"{_cell(k, 40)} {_code(str(v))}"
                                                 for k, v in c.live_source(result)) + "</sub>"]
    pairs = result.findings()
    if pairs:
        lines += ["", *_rows(result, pairs[:SHOWN], keys)]
        hidden = pairs[SHOWN:SHOWN + COLLAPSED]
        if hidden:
            lines += ["", f"<details><summary>{c.plural(len(hidden), 'more finding')}</summary>", "",
                      *_rows(result, hidden, keys), "", "</details>"]
        rest = len(pairs) - SHOWN - len(hidden)
        if rest > 0:
            lines += ["", f"…and {c.plural(rest, 'more finding')} not shown."]
        shown = {_icon(result, o, f, keys) for o, f in pairs[:SHOWN + COLLAPSED]}
        legend = [f"{icon} {text}" for icon, text in LEGEND if icon in shown]
        lines += ["", f"<sub>{' · '.join(legend)}</sub>"]
        advice = [a for a in c.next_steps(result) if a.blocking]
        if advice or counts.blocking_unverifiable:
            lines += ["", "<details><summary>How to fix</summary>", ""]
            lines += [f"- {_code(a.policy)}: {_cell(a.remediation, 300)}" for a in advice[:ADVICE]]
            if len(advice) > ADVICE:
                lines.append(f"- …and {c.plural(len(advice) - ADVICE, 'more policy', 'more policies')}")
            if counts.blocking_unverifiable:
                lines.append(f"- {c.UNVERIFIABLE_ADVICE}")
            lines += ["", "</details>"]
    else:
        lines += ["", f"No findings: all {c.plural(counts.policies, 'policy', 'policies')} passed "
                      f"or had nothing to check."]
    if result.drift:
        lines += ["", f"#### Drift ({len(result.drift)}, {'blocking' if result.fail_on_drift else 'not blocking'})",
                  "", "| Resource | Property | Declared | Live |", "|---|---|---|---|"]
        lines += [f"| {_code(c.short_name(d.urn))} | {_code(c.drift_property(d))} | "
                  f"{_cell(c.value_text(d.declared), 100)} | {_cell(c.value_text(d.live), 100)} |"
                  for d in result.drift[:SHOWN + COLLAPSED]]
        if len(result.drift) > SHOWN + COLLAPSED:
            lines += ["", f"…and {c.plural(len(result.drift) - SHOWN - COLLAPSED, 'more drift finding')} not shown."]
    lines += ["", f"Full report with evidence, remediation and control mapping: "
                  f"`{c.rerun_command(result).replace('`', '')}`"]
    return "\n".join(lines) + "\n"
