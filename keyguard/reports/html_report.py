"""`--format html`: the compliance audit report an auditor opens and prints.

One self-contained file: inline CSS (with a print stylesheet), no scripts, no fonts, images
or styles fetched from anywhere; the only URLs are links to each policy's documentation.
Sections: summary (verdict, counts), policies (status of every catalog policy, disabled ones
included), findings (grouped by policy, each with resource, declaration, evidence and
remediation), control mapping (NIST SP 800-53 Rev. 5 and CIS AWS Foundations Benchmark
v1.4.0 controls to the policies that support them and their status), configuration (effective
enforcement and parameters) and source (input, stack, tool version, time).

Every value from the audit is passed through `html.escape`; links are emitted only for
http(s) URLs."""
from __future__ import annotations

import html
import json

from keyguard_policies import catalog
from keyguard_policies.model import VIOLATION

from .. import __version__
from ..result import AuditResult
from . import _common as c


def e(value) -> str:
    return html.escape(str(value), quote=True)


def _href(url: str) -> str | None:
    return e(url) if url.startswith(("https://", "http://")) else None


def _link(url: str, text: str) -> str:
    href = _href(url)
    return f'<a href="{href}" rel="noopener noreferrer">{e(text)}</a>' if href else e(text)


STATUS_TEXT = {"pass": "Pass", "fail": "Fail", "unverifiable": "Unverifiable", "not-applicable": "Not applicable",
               "disabled": "Disabled", "not-assessed": "Not assessed"}


def _badge(status: str, text: str | None = None) -> str:
    return f'<span class="badge s-{e(status)}">{e(text or STATUS_TEXT.get(status, status))}</span>'


def _pretty_evidence(evidence: str) -> str:
    """Pretty-print evidence that is a JSON statement or document; anything else as it is."""
    text = evidence.strip()
    if text[:1] in "{[":
        try:
            return json.dumps(json.loads(text), indent=2, sort_keys=False)
        except ValueError:
            pass
    return evidence


CSS = """
:root {
  --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --accent: #0b3d6b;
  --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #b42318; --fail-bg: #ffebe9;
  --warn: #8a5a00; --warn-bg: #fff4d1; --unv: #6e40c9; --unv-bg: #f0e9ff;
  --na: #59636e; --na-bg: #eef1f4;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #eef1f5;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 12.5px; }
a { color: #0969da; text-decoration: none; } a:hover { text-decoration: underline; }
.page { max-width: 1120px; margin: 0 auto; background: #fff; min-height: 100vh;
  box-shadow: 0 0 0 1px var(--line), 0 8px 24px rgba(31,35,40,.06); }
.masthead { background: var(--accent); color: #fff; padding: 28px 40px 24px; }
.masthead .brand { font-size: 12px; letter-spacing: .12em; text-transform: uppercase; opacity: .85; }
.masthead h1 { margin: 6px 0 14px; font-size: 26px; font-weight: 650; line-height: 1.25; }
.masthead dl { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 10px 24px; margin: 0; }
.masthead dt { font-size: 11px; text-transform: uppercase; letter-spacing: .08em; opacity: .7; }
.masthead dd { margin: 2px 0 0; font-weight: 560; overflow-wrap: anywhere; }
main { padding: 8px 40px 40px; }
section { margin-top: 32px; }
h2 { font-size: 19px; margin: 0 0 4px; padding-bottom: 6px; border-bottom: 2px solid var(--ink); }
h2 .count { color: var(--muted); font-weight: 400; font-size: 15px; }
.lede { color: var(--muted); margin: 6px 0 14px; }
h3 { font-size: 15px; margin: 0; }
.banner { display: flex; align-items: center; gap: 18px; border-radius: 10px; padding: 18px 22px; margin-top: 28px;
  border: 1px solid; }
.banner.pass { background: var(--pass-bg); border-color: #aceebb; color: #0f5323; }
.banner.fail { background: var(--fail-bg); border-color: #ffcecb; color: #82071e; }
.banner .mark { flex: none; width: 46px; height: 46px; border-radius: 50%; display: grid; place-items: center;
  font-size: 24px; font-weight: 700; color: #fff; }
.banner.pass .mark { background: var(--pass); } .banner.fail .mark { background: var(--fail); }
.banner .verdict { font-size: 20px; font-weight: 700; }
.banner .why { margin-top: 2px; color: var(--ink); font-weight: 550; }
.banner .gate { margin-top: 2px; color: var(--muted); font-size: 12.5px; }
.cards { display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 12px; margin-top: 16px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; background: #fff; }
.card .n { font-size: 26px; font-weight: 700; line-height: 1.1; font-variant-numeric: tabular-nums; }
.card .l { color: var(--muted); font-size: 12px; }
.card.bad .n { color: var(--fail); } .card.warn .n { color: var(--warn); } .card.unv .n { color: var(--unv); }
.statusbar { display: flex; height: 10px; border-radius: 5px; overflow: hidden; margin: 14px 0 6px;
  background: var(--na-bg); }
.statusbar span { display: block; }
.statusbar .b-pass { background: var(--pass); } .statusbar .b-fail { background: var(--fail); }
.statusbar .b-unverifiable { background: var(--unv); } .statusbar .b-not-applicable { background: #afb8c1; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; color: var(--muted); font-size: 12.5px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px;
  vertical-align: -1px; }
nav.toc { margin-top: 18px; font-size: 13px; color: var(--muted); }
nav.toc a { margin-right: 14px; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th { text-align: left; font-size: 11.5px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted);
  font-weight: 600; border-bottom: 1px solid var(--line); padding: 8px 10px; background: var(--soft); }
td { border-bottom: 1px solid #eaeef2; padding: 9px 10px; vertical-align: top; }
tr:last-child td { border-bottom: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th.num { text-align: right; }
.desc { color: var(--muted); font-size: 12.5px; margin-top: 2px; }
.tablewrap { border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
.drift td.side { width: 38%; }
.drift pre { margin: 0; white-space: pre-wrap; word-break: break-word; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 11.5px; font-weight: 600;
  white-space: nowrap; border: 1px solid transparent; line-height: 1.6; }
.s-pass { background: var(--pass-bg); color: var(--pass); border-color: #aceebb; }
.s-fail, .s-mandatory { background: var(--fail-bg); color: var(--fail); border-color: #ffcecb; }
.s-advisory { background: var(--warn-bg); color: var(--warn); border-color: #f5d48a; }
.s-unverifiable { background: var(--unv-bg); color: var(--unv); border-color: #d8c8fb; }
.s-not-applicable, .s-not-assessed, .s-disabled, .s-neutral { background: var(--na-bg); color: var(--na);
  border-color: #d1d9e0; }
.s-blocking { background: var(--fail); color: #fff; }
.e-mandatory { background: #fff; color: var(--ink); border-color: #8c959f; }
.e-advisory { background: #fff; color: var(--muted); border-color: var(--line); font-weight: 500; }
.e-disabled { background: var(--na-bg); color: var(--na); border-color: var(--line); font-weight: 500;
  text-decoration: line-through; }
.s-nonblocking { background: #fff; color: var(--muted); border-color: var(--line); }
.sev { display: inline-block; font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: .05em; }
.sev-critical { color: #82071e; } .sev-high { color: var(--fail); } .sev-medium { color: var(--warn); }
.sev-low { color: var(--muted); }
.enf { font-size: 12.5px; } .enf.changed::after { content: " *"; color: var(--warn); font-weight: 700; }
.chips { display: flex; flex-wrap: wrap; gap: 4px; }
.chip { font-size: 11.5px; border: 1px solid var(--line); border-radius: 4px; padding: 0 6px; background: var(--soft);
  white-space: nowrap; }
.policy-group { margin-top: 22px; }
.policy-group .head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 12px; margin-bottom: 8px; }
.policy-group .head h3 code { font-size: 14.5px; }
.finding { border: 1px solid var(--line); border-left: 4px solid var(--na); border-radius: 8px; padding: 14px 18px;
  margin: 10px 0; background: #fff; break-inside: avoid; page-break-inside: avoid; }
.finding.k-mandatory { border-left-color: var(--fail); } .finding.k-advisory { border-left-color: #d4a72c; }
.finding.k-unverifiable { border-left-color: var(--unv); }
.finding .top { display: flex; flex-wrap: wrap; gap: 6px 8px; align-items: center; }
.finding .top h4 { margin: 0 8px 0 0; font-size: 14.5px; }
.finding .msg { margin: 8px 0 10px; font-size: 14px; }
.kv { display: grid; grid-template-columns: 120px minmax(0, 1fr); gap: 3px 14px; margin: 0; font-size: 12.5px; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; overflow-wrap: anywhere; }
.label { font-size: 11px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 600;
  margin: 12px 0 4px; }
pre { margin: 0; background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
  white-space: pre-wrap; overflow-wrap: anywhere; max-height: 28em; overflow: auto; }
.policy-group .head .count { color: var(--muted); font-size: 12.5px; }
.pdesc { margin: 0 0 8px; font-size: 13px; }
.policybox { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 4px 24px;
  background: #f1f8ff; border: 1px solid #c8e1ff; border-radius: 8px; padding: 2px 16px 12px; margin-bottom: 10px; }
.policybox p { margin: 0; }
.policybox .doc { margin-top: 6px; font-size: 12.5px; }
ul.ctl { margin: 0; padding: 0; list-style: none; font-size: 12.5px; }
ul.ctl li { margin: 2px 0; }
.none { padding: 18px; border: 1px dashed var(--line); border-radius: 8px; color: var(--muted); text-align: center; }
.fw { margin-top: 18px; }
.fw h3 { margin-bottom: 8px; }
.fw h3 small { color: var(--muted); font-weight: 400; }
.ctl-id { font-weight: 650; white-space: nowrap; }
.sp { margin: 1px 0; white-space: nowrap; }
.sp .badge { min-width: 96px; text-align: center; margin-right: 4px; }
.kv.wide { grid-template-columns: 170px minmax(0, 1fr); }
td code.pname { white-space: nowrap; }
.params { margin: 0; padding: 0; list-style: none; }
.params li { white-space: normal; overflow-wrap: anywhere; }
.note { color: var(--muted); font-size: 12.5px; margin: 8px 0 0; }
footer { border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; padding: 14px 40px 24px; }
@media screen and (max-width: 820px) {
  .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .masthead dl { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  main, .masthead, footer { padding-left: 18px; padding-right: 18px; }
}
@page { size: A4; margin: 14mm 12mm 16mm; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { background: #fff; font-size: 10.5pt; }
  .page { box-shadow: none; max-width: none; }
  .masthead { padding: 16px 20px; }
  main { padding: 0 4px; } footer { padding: 10px 4px; }
  nav.toc { display: none; }
  section { break-before: auto; }
  #findings, #controls, #configuration { break-before: page; }
  h2, h3, .ghead { break-after: avoid; page-break-after: avoid; }
  .ghead { break-inside: avoid; page-break-inside: avoid; }
  tr, .card, .finding { break-inside: avoid; page-break-inside: avoid; }
  pre { max-height: none; overflow: visible; }
  .tablewrap { overflow: visible; }
  table { font-size: 8.5pt; }
  th { font-size: 7.5pt; padding: 5px 6px; } td { padding: 5px 6px; }
  code, pre { font-size: 8.5pt; }
  .desc { font-size: 8pt; }
  .badge { font-size: 7.5pt; padding: 0 6px; }
  .sp .badge { min-width: 78px; }
  .chip { font-size: 7.5pt; }
  .cards { gap: 8px; } .card { padding: 8px 10px; } .card .n { font-size: 18pt; }
  .banner { padding: 12px 16px; margin-top: 16px; }
  a { color: inherit; }
  .policybox .doc a::after { content: " (" attr(href) ")"; color: var(--muted); font-size: 9pt; }
  thead { display: table-header-group; }
}
"""


def _masthead(result: AuditResult) -> str:
    src = result.source
    items = [("Stack", src.stack or "-"), ("Source", f"{src.kind}: {src.path}"),
             *[(k, v) for k, v in c.live_source(result) if k in ("AWS endpoint", "AWS account", "Vault address")],
             ("Generated (UTC)", result.generated_at.strftime("%Y-%m-%d %H:%M:%S")),
             ("Tool", f"keyguard {__version__}")]
    meta = "".join(f"<div><dt>{e(k)}</dt><dd>{e(v)}</dd></div>" for k, v in items)
    return (f'<header class="masthead"><div class="brand">keyguard &middot; compliance audit report</div>'
            f"<h1>Encryption-key storage for AI applications on AWS with HashiCorp Vault</h1>"
            f"<dl>{meta}</dl></header>")


def _summary(result: AuditResult) -> str:
    n = c.counts(result)
    ok = result.passed
    word, _, why = c.verdict(result).partition(": ")
    banner = (f'<div class="banner {"pass" if ok else "fail"}" role="status">'
              f'<div class="mark" aria-hidden="true">{"&#10003;" if ok else "&#10007;"}</div>'
              f'<div><div class="verdict">Gate {e(word)}</div><div class="why">{e(why[:1].upper() + why[1:])}.</div>'
              f'<div class="gate">Gate: {e(c.gate_description(result))}.</div></div></div>')
    cards = [("Resources audited", n.resources, ""), ("Policies evaluated", n.policies, ""),
             ("Mandatory violations", n.mandatory, "bad" if n.mandatory else ""),
             ("Advisory violations", n.advisory, "warn" if n.advisory else ""),
             ("Unverifiable checks", n.unverifiable, "unv" if n.unverifiable else "")]
    total = max(1, n.policies)
    bar = "".join(f'<span class="b-{s}" style="width:{100 * n.by_status.get(s, 0) / total:.3f}%"></span>'
                  for s in ("pass", "fail", "unverifiable", "not-applicable") if n.by_status.get(s))
    colors = {"pass": "var(--pass)", "fail": "var(--fail)", "unverifiable": "var(--unv)", "not-applicable": "#afb8c1"}
    legend = "".join(f'<span><i style="background:{colors[s]}"></i>{n.by_status.get(s, 0)} '
                     f'{e(STATUS_TEXT[s].lower())}</span>' for s in ("pass", "fail", "unverifiable", "not-applicable"))
    src = result.source
    lede = (f"keyguard evaluated {c.plural(n.policies, 'enabled policy', 'enabled policies')} against "
            f"{c.plural(n.resources, 'resource')} of stack {src.stack or '-'} ({src.kind} {src.path}).")
    if result.is_live:
        cards.append(("Drift findings", len(result.drift), "warn" if result.drift else ""))
    cards_html = "".join(f'<div class="card {cls}"><div class="n">{v}</div><div class="l">{e(label)}</div></div>'
                         for label, v, cls in cards)
    toc = ('<nav class="toc" aria-label="Contents"><a href="#policies">Policies</a><a href="#findings">Findings</a>'
           + ('<a href="#drift">Drift</a>' if result.is_live else '')
           + '<a href="#controls">Control mapping</a><a href="#configuration">Configuration</a>'
           '<a href="#source">Source</a></nav>')
    return (f'<section id="summary" aria-label="Summary">{banner}<p class="lede">{e(lede)}</p>'
            f'<div class="cards">{cards_html}</div>'
            f'<div class="statusbar" aria-hidden="true">{bar}</div><div class="legend">Policies: {legend}</div>'
            f"{toc}</section>")


def _controls_chips(controls) -> str:
    return '<div class="chips">' + "".join(
        f'<span class="chip" title="{e(c.control_title(x))}">{e(c.control_short(x))}</span>' for x in controls) + "</div>"


def _policies(result: AuditResult) -> str:
    outcomes = {o.name: o for o in result.outcomes}
    findings_per = {o.name: len(o.findings) for o in result.outcomes}
    rows = []
    for name, info in catalog.policies().items():
        outcome = outcomes.get(name)
        enforcement = c.level(outcome.enforcement) if outcome else "disabled"
        status = outcome.status if outcome else "disabled"
        checked = len(outcome.subjects) if outcome else 0
        count = findings_per.get(name, 0)
        policy = (f'<a href="#p-{e(name)}"><code>{e(name)}</code></a>' if count else f"<code>{e(name)}</code>")
        rows.append(
            f"<tr><td>{policy}<div class=\"desc\">{e(info.description)}</div></td>"
            f'<td><span class="badge e-{e(enforcement)}">{e(enforcement)}</span></td>'
            f'<td><span class="sev sev-{e(info.severity)}">{e(info.severity)}</span></td>'
            f"<td>{_controls_chips(info.controls)}</td>"
            f'<td class="num">{checked if outcome else "-"}</td><td class="num">{count if outcome else "-"}</td>'
            f"<td>{_badge(status)}</td></tr>")
    head = ('<thead><tr><th style="width:40%">Policy</th><th>Enforcement</th><th>Severity</th>'
            '<th style="width:19%">Controls</th><th class="num">Resources</th><th class="num">Findings</th>'
            "<th>Status</th></tr></thead>")
    return (f'<section id="policies"><h2>Policies <span class="count">({len(catalog.policies())})</span></h2>'
            f'<p class="lede">Every policy of the catalog, with the enforcement level in effect for this run. '
            f"Resources: how many resources the policy judged.</p>"
            f'<div class="tablewrap"><table>{head}<tbody>{"".join(rows)}</tbody></table></div></section>')


def _finding(result: AuditResult, outcome, finding, blocking: bool) -> str:
    enforcement = c.level(outcome.enforcement)
    kind_class = f"k-{enforcement}" if finding.kind == VIOLATION else "k-unverifiable"
    kind_badge = (_badge(enforcement, f"{enforcement.capitalize()} violation") if finding.kind == VIOLATION
                  else _badge("unverifiable", f"Unverifiable ({enforcement})"))
    gate = _badge("blocking", "Blocks the gate") if blocking else _badge("nonblocking", "Does not block the gate")
    facts = [("Resource", f"<code>{e(finding.urn or '(stack)')}</code>"),
             ("Type", f"<code>{e(finding.resource_type or '-')}</code>")]
    where = result.stack_files.get(finding.urn)
    if where:
        facts.append(("Declared at", f"<code>{e(where)}</code>"))
    kv = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    if finding.evidence:
        extra = f'<div class="label">Evidence</div><pre>{e(_pretty_evidence(finding.evidence))}</pre>'
    elif finding.kind != VIOLATION:
        extra = f'<p class="note">{e(c.UNVERIFIABLE_ADVICE.replace("`", ""))}</p>'
    else:
        extra = ""
    return (f'<article class="finding {kind_class}"><div class="top"><h4><code>{e(c.short_name(finding.urn))}</code>'
            f"</h4>{kind_badge} {gate}</div>"
            f'<p class="msg">{e(finding.message)}</p><dl class="kv">{kv}</dl>{extra}</article>')


def _policy_box(result: AuditResult, outcome) -> str:
    """What a policy requires, how to fix it and what it supports: once per group."""
    info = result.info(outcome.name)
    controls = "".join(f"<li><strong>{e(c.control_short(x))}</strong> {e(c.control_title(x))}</li>"
                       for x in info.controls)
    doc = f'<div class="doc">{_link(info.url, "Documentation")}</div>' if info.url else ""
    return (f'<div class="policybox"><div><div class="label">Remediation</div><p>{e(info.remediation)}</p>{doc}</div>'
            f'<div><div class="label">Controls</div><ul class="ctl">{controls or "<li>none</li>"}</ul></div></div>')


def _findings(result: AuditResult) -> str:
    pairs = result.findings()
    keys = c.blocking_keys(result)
    if not pairs:
        body = '<div class="none">No findings: every enabled policy passed or had nothing to check.</div>'
    else:
        groups = []
        for outcome, findings in c.group_by_policy(pairs):
            info = result.info(outcome.name)
            cards = "".join(_finding(result, outcome, f, c.is_blocking(result, f, keys)) for f in findings)
            groups.append(
                f'<div class="policy-group" id="p-{e(outcome.name)}"><div class="ghead"><div class="head">'
                f"<h3><code>{e(outcome.name)}</code></h3>{_badge(outcome.status)}"
                f'<span class="badge e-{e(c.level(outcome.enforcement))}">{e(c.level(outcome.enforcement))}</span>'
                f'<span class="sev sev-{e(info.severity)}">{e(info.severity)}</span>'
                f'<span class="count">{e(c.plural(len(findings), "finding"))}</span></div>'
                f'<p class="desc pdesc">{e(info.description)}</p>{_policy_box(result, outcome)}</div>{cards}</div>')
        body = "".join(groups)
    return (f'<section id="findings"><h2>Findings <span class="count">({len(pairs)})</span></h2>'
            f'<p class="lede">Grouped by policy, most severe first. A violation is a resource that breaks the policy; '
            f"an unverifiable check needed a value that is not known yet, and fails closed.</p>{body}</section>")


def _enforcement_note(result: AuditResult, name: str) -> str:
    setting = result.settings.get(name)
    enforcement = c.level(setting.enforcement) if setting else "disabled"
    return "" if enforcement == "mandatory" else f' <span class="desc">({e(enforcement)})</span>'


def _controls(result: AuditResult) -> str:
    rows_by_fw: dict[str, list[str]] = {}
    for row in c.control_mapping(result):
        policies = "".join(
            f'<div class="sp">{_badge(status, STATUS_TEXT.get(status, status))} <code>{e(name)}</code>'
            f'{_enforcement_note(result, name)}</div>'
            for name, status in row.policies) or '<span class="desc">no policy</span>'
        rows_by_fw.setdefault(row.framework, []).append(
            f'<tr><td class="ctl-id">{e(row.ident)}</td><td>{e(row.title)}</td>'
            f"<td>{policies}</td><td>{_badge(row.status)}</td></tr>")
    frameworks = catalog.controls()["frameworks"]
    blocks = []
    for fw, rows in rows_by_fw.items():
        info = frameworks.get(fw, {})
        title = f"{info.get('name', fw)} {info.get('version', '')}".strip()
        link = f' <small>{_link(info["url"], "reference")}</small>' if info.get("url") else ""
        blocks.append(
            f'<div class="fw"><h3>{e(title)}{link}</h3><div class="tablewrap"><table>'
            f'<thead><tr><th style="width:9%">Control</th><th style="width:38%">Title</th>'
            f'<th>Supporting policies</th><th style="width:13%">Status</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div></div>')
    return (f'<section id="controls"><h2>Control mapping</h2>'
            f'<p class="lede">Each control the policy catalog supports, the policies that provide evidence for it and '
            f"their status in this run. A control fails when any supporting policy fails. The policies support these "
            f"controls; they do not by themselves demonstrate full compliance with them.</p>"
            f'{"".join(blocks)}</section>')


def _configuration(result: AuditResult) -> str:
    rows = []
    changed_any = False
    for name, enforcement, default, params in c.effective_settings(result):
        changed = enforcement != default
        changed_any |= changed
        values = "".join(f"<li><code>{e(k)}</code> = <code>{e(c.format_param(v))}</code></li>"
                         for k, v in params.items()) or '<li class="desc">no parameters</li>'
        rows.append(f'<tr><td><code class="pname">{e(name)}</code></td>'
                    f'<td><span class="enf{" changed" if changed else ""}">{e(enforcement)}</span></td>'
                    f'<td><span class="desc">{e(default)}</span></td><td><ul class="params">{values}</ul></td></tr>')
    config = (f"<code>{e(result.config_path)}</code>" if result.config_path
              else "none (catalog defaults)")
    facts = [("Policy configuration", config), ("Fail on", f"<code>{e(result.fail_on)}</code>"),
             ("Allow unverifiable", "yes" if result.allow_unverifiable else "no"),
             ("Gate", e(c.gate_description(result)))]
    kv = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    note = ('<p class="note">* enforcement changed from the catalog default by the configuration.</p>'
            if changed_any else "")
    return (f'<section id="configuration"><h2>Configuration</h2>'
            f'<p class="lede">The settings this run used: the gate options and, for every policy, the enforcement '
            f"level in effect and its parameters.</p>"
            f'<dl class="kv wide" style="margin-bottom:14px">{kv}</dl>'
            f'<div class="tablewrap"><table><thead><tr><th>Policy</th><th>Enforcement</th><th>Default</th>'
            f'<th>Parameters</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>{note}</section>')


def _drift(result: AuditResult) -> str:
    """Live audits: every drift finding with the declared and the live value side by side."""
    if not result.is_live:
        return ""
    if not result.drift:
        body = '<p class="lede">No drift: every judged property read from the live system matches the export.</p>'
    else:
        rows = "".join(
            f'<tr><td><code>{e(c.short_name(d.urn))}</code><div class="desc">{e(c.short_type(d.resource_type))}</div></td>'
            f'<td><code>{e(c.drift_property(d))}</code></td>'
            f'<td class="side"><pre>{e(c.value_text(d.declared))}</pre></td>'
            f'<td class="side"><pre>{e(c.value_text(d.live))}</pre></td></tr>' for d in result.drift)
        blocking = "block the gate (--fail-on-drift)" if result.fail_on_drift else "do not block the gate (no --fail-on-drift)"
        body = (f'<p class="lede">{e(c.plural(len(result.drift), "drift finding"))}: the live value differs from the '
                f'export\'s input; they {e(blocking)}.</p><div class="tablewrap drift"><table><thead><tr><th>Resource</th>'
                f'<th>Property</th><th>Declared (export)</th><th>Live (deployed)</th></tr></thead>'
                f'<tbody>{rows}</tbody></table></div>')
    return f'<section id="drift"><h2>Drift</h2>{body}</section>'


def _source(result: AuditResult) -> str:
    src = result.source
    kinds = {"program": "the Pulumi program, run under Pulumi's mocks with computed values resolved",
             "state": "a pulumi stack export (resource inputs)",
             "preview": "a pulumi preview --json output (planned resource inputs)",
             "live": "the deployed configuration, read from AWS and Vault (read-only)"}
    facts = [("Input", f"{e(src.kind)} &mdash; {e(kinds.get(src.kind, src.kind))}"),
             ("Path", f"<code>{e(src.path)}</code>"), ("Stack", f"<code>{e(src.stack or '-')}</code>"),
             ("Resources", e(result.resource_count)), ("Tool", f"keyguard {e(__version__)}"),
             ("Generated", f"{e(c.iso(result.generated_at))} (UTC)"),
             ("Reproduce", f"<code>{e(c.rerun_command(result))}</code>")]
    facts[3:3] = [(e(k), f"<code>{e(v)}</code>") for k, v in c.live_source(result)]
    kv = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    return f'<section id="source"><h2>Source</h2><dl class="kv wide" style="margin-top:12px">{kv}</dl></section>'


def render(result: AuditResult) -> str:
    word = "PASSED" if result.passed else "FAILED"
    title = f"keyguard audit: {result.source.stack or result.source.path} ({word})"
    body = "".join((_masthead(result), "<main>", _summary(result), _policies(result), _findings(result), _drift(result),
                    _controls(result), _configuration(result), _source(result), "</main>"))
    footer = (f"<footer>Generated by keyguard {e(__version__)} on {e(c.iso(result.generated_at))}. "
              f"Machine-readable results of the same run: <code>--format json</code>, <code>sarif</code>, "
              f"<code>junit</code>.</footer>")
    return ("<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="keyguard {e(__version__)}">'
            f"<title>{e(title)}</title><style>{CSS}</style></head>"
            f'<body><div class="page">{body}{footer}</div></body></html>\n')
