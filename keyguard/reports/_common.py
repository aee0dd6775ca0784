"""What every report format says the same way: the gate verdict, counts, resource names, the
control catalog and the "what to do next" advice. Formats only decide how to show it, so a
terminal summary, a PR comment and an auditor's HTML file can never disagree."""
from __future__ import annotations

import dataclasses
import json
import shlex
from typing import Any, Iterable

from keyguard_policies import catalog
from keyguard_policies.model import UNVERIFIABLE, VIOLATION, Finding

from ..result import AuditResult

# GitHub code scanning reads `security-severity` (a number as a string): > 9.0 critical,
# 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
STATUS_LABEL = {"pass": "pass", "fail": "fail", "unverifiable": "unverifiable", "not-applicable": "n/a"}
DEFAULT_REPORT_DIR = "keyguard-report"


def level(enforcement: str) -> str:
    """Effective enforcement of a policy that ran: `remediate` reports as mandatory (as in the
    JSON report and as pulumi-policy reports a violation that remains)."""
    return "mandatory" if enforcement == "remediate" else enforcement


def short_name(urn: str) -> str:
    """A resource's logical name, the last URN segment (`...::ai-app-role` -> `ai-app-role`)."""
    return urn.rsplit("::", 1)[-1] if urn else "(stack)"


def short_type(type_: str) -> str:
    """The type token as `pulumi preview` shows it: `aws:kms/key:Key` -> `aws:kms:Key`."""
    parts = type_.split(":")
    if len(parts) == 3:
        return f"{parts[0]}:{parts[1].split('/')[0]}:{parts[2]}"
    return type_ or "-"


def finding_label(enforcement: str, finding: Finding) -> str:
    """`mandatory violation`, `advisory violation`, `unverifiable (mandatory)`..."""
    if finding.kind == VIOLATION:
        return f"{level(enforcement)} violation"
    return f"unverifiable ({level(enforcement)})"


@dataclasses.dataclass(frozen=True)
class Counts:
    resources: int
    policies: int
    mandatory: int
    advisory: int
    unverifiable: int
    blocking: int
    blocking_violations: int
    blocking_unverifiable: int
    by_status: dict[str, int]


def counts(result: AuditResult) -> Counts:
    blocking = result.blocking()
    by_status = {status: 0 for status in STATUS_LABEL}
    for outcome in result.outcomes:
        by_status[outcome.status] = by_status.get(outcome.status, 0) + 1
    return Counts(
        resources=result.resource_count, policies=len(result.outcomes),
        mandatory=result.violations("mandatory"), advisory=result.violations("advisory"),
        unverifiable=result.unverifiable(), blocking=len(blocking),
        blocking_violations=sum(1 for _, f in blocking if f.kind == VIOLATION),
        blocking_unverifiable=sum(1 for _, f in blocking if f.kind == UNVERIFIABLE),
        by_status=by_status)


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def verdict(result: AuditResult) -> str:
    """One sentence: PASSED/FAILED and why."""
    c = counts(result)
    if not result.passed:
        parts = []
        if c.blocking_violations:
            parts.append(plural(c.blocking_violations, "violation"))
        if c.blocking_unverifiable:
            parts.append(plural(c.blocking_unverifiable, "unverifiable mandatory check"))
        if result.blocking_drift():
            parts.append(plural(len(result.blocking_drift()), "drift finding"))
        return f"FAILED: {' and '.join(parts)} block the gate"
    if result.fail_on == "never":
        return "PASSED: gate disabled (--fail-on never)"
    notes = []
    if c.mandatory + c.advisory:
        notes.append(plural(c.mandatory + c.advisory, "non-blocking violation"))
    if c.unverifiable:
        notes.append(plural(c.unverifiable, "unverifiable check") + " allowed")
    if result.drift:
        notes.append(plural(len(result.drift), "non-blocking drift finding"))
    return "PASSED: nothing blocks the gate" + (f" ({', '.join(notes)})" if notes else "")


def gate_description(result: AuditResult) -> str:
    """How the gate was configured, in words."""
    fail_on = {"mandatory": "mandatory violations fail the gate",
               "advisory": "mandatory and advisory violations fail the gate",
               "never": "no finding fails the gate"}[result.fail_on]
    if result.fail_on == "never":
        return fail_on
    unverifiable = ("unverifiable mandatory checks are allowed" if result.allow_unverifiable
                    else "unverifiable mandatory checks fail the gate")
    return f"{fail_on}; {unverifiable}"


def gate_options(result: AuditResult) -> str:
    """The gate as the options that set it: `--fail-on mandatory --allow-unverifiable`."""
    return (f"--fail-on {result.fail_on}" + (" --allow-unverifiable" if result.allow_unverifiable else "")
            + (" --fail-on-drift" if result.fail_on_drift else ""))


def blocking_keys(result: AuditResult) -> set[tuple[str, str, str, str]]:
    """Identity of each blocking finding: (policy, urn, kind, message)."""
    return {(f.policy, f.urn, f.kind, f.message) for _, f in result.blocking()}


def is_blocking(result: AuditResult, finding: Finding, keys: set | None = None) -> bool:
    keys = blocking_keys(result) if keys is None else keys
    return (finding.policy, finding.urn, finding.kind, finding.message) in keys


def rerun_command(result: AuditResult, fmt: str = "html", output: str = DEFAULT_REPORT_DIR) -> str:
    """The `keyguard audit` command that reproduces this run with another report format."""
    args = ["keyguard", "audit"]
    if result.source.kind in ("state", "preview"):
        args += [f"--{result.source.kind}", result.source.path]
    if result.is_live:
        args += ["--live"] + (["--state", result.source.path] if result.source.path else [])
        if result.fail_on_drift:
            args.append("--fail-on-drift")
    if result.config_path:
        args += ["--config", result.config_path]
    if result.fail_on != "mandatory":
        args += ["--fail-on", result.fail_on]
    if result.allow_unverifiable:
        args.append("--allow-unverifiable")
    args += ["--format", fmt, "--output", output]
    return shlex.join(args)


@dataclasses.dataclass(frozen=True)
class Advice:
    policy: str
    blocking: bool
    remediation: str


def next_steps(result: AuditResult) -> list[Advice]:
    """Remediation of every policy with violations, the ones that block the gate first.
    (Unverifiable checks are not fixed by the policy's remediation: see UNVERIFIABLE_ADVICE.)"""
    keys = blocking_keys(result)
    seen: dict[str, bool] = {}
    for outcome, finding in result.findings():
        if finding.kind != VIOLATION:
            continue
        seen[outcome.name] = seen.get(outcome.name, False) or is_blocking(result, finding, keys)
    ordered = sorted(seen.items(), key=lambda kv: not kv[1])
    return [Advice(name, block, result.info(name).remediation) for name, block in ordered]


UNVERIFIABLE_ADVICE = ("Unverifiable checks need values that are unknown until resources exist: "
                       "audit the program itself (the default source resolves computed values) or a "
                       "`pulumi stack export` after the update, or accept them with --allow-unverifiable.")


# --- controls ---------------------------------------------------------------------------------
def split_control(control: str) -> tuple[str, str]:
    """`NIST-800-53-r5:SC-28` -> (`NIST-800-53-r5`, `SC-28`)."""
    framework, _, ident = control.partition(":")
    return framework, ident


def framework_name(framework: str) -> str:
    info = catalog.controls()["frameworks"].get(framework)
    return f"{info['name']} {info['version']}" if info else framework


def framework_short(framework: str) -> str:
    """`NIST 800-53 r5`, `CIS AWS v1.4.0`: a compact prefix for tables."""
    return {"NIST-800-53-r5": "NIST", "CIS-AWS-v1.4.0": "CIS"}.get(framework, framework)


def control_title(control: str) -> str:
    return catalog.controls()["controls"].get(control, "")


def control_short(control: str) -> str:
    framework, ident = split_control(control)
    return f"{framework_short(framework)} {ident}"


@dataclasses.dataclass(frozen=True)
class ControlRow:
    control: str               # full id, e.g. NIST-800-53-r5:SC-28
    framework: str
    ident: str
    title: str
    policies: list[tuple[str, str]]    # (policy name, status or "disabled")
    status: str                # fail | unverifiable | pass | not-assessed


def control_mapping(result: AuditResult) -> list[ControlRow]:
    """Every control in controls.json with the policies supporting it (including disabled ones,
    so an auditor sees what was switched off) and a roll-up status."""
    statuses = {o.name: o.status for o in result.outcomes}
    rows = []
    for control, title in catalog.controls()["controls"].items():
        framework, ident = split_control(control)
        policies = [(name, statuses.get(name, "disabled"))
                    for name, info in catalog.policies().items() if control in info.controls]
        found = {status for _, status in policies}
        if "fail" in found:
            status = "fail"
        elif "unverifiable" in found:
            status = "unverifiable"
        elif "pass" in found:
            status = "pass"
        else:
            status = "not-assessed"
        rows.append(ControlRow(control, framework, ident, title, policies, status))
    return rows


# --- configuration ------------------------------------------------------------------------------
def effective_settings(result: AuditResult) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(policy, effective enforcement, default enforcement, params) for every catalog policy."""
    out = []
    for name, info in catalog.policies().items():
        setting = result.settings.get(name)
        enforcement = setting.enforcement if setting else "disabled"
        params = dict(setting.params) if setting else {}
        out.append((name, enforcement, info.enforcement, params))
    return out


def format_param(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def iso(dt) -> str:
    """`2025-01-31T12:00:00Z` for a UTC datetime."""
    text = dt.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def group_by_policy(pairs: Iterable) -> list[tuple[Any, list[Finding]]]:
    """Findings grouped by policy, groups in order of their first (most severe) finding."""
    groups: dict[str, tuple[Any, list[Finding]]] = {}
    for outcome, finding in pairs:
        groups.setdefault(outcome.name, (outcome, []))[1].append(finding)
    return list(groups.values())


# --- live audits ----------------------------------------------------------------------------------
def live_source(result: AuditResult) -> list[tuple[str, str]]:
    """What a live audit read: AWS endpoint, region and account, and the Vault address (never a
    token or key). Empty for other sources."""
    if not result.is_live:
        return []
    aws = result.source.aws or {}
    vault = result.source.vault or {}
    return [("AWS endpoint", aws.get("endpoint") or "AWS default endpoints"),
            ("AWS region", aws.get("region") or "-"), ("AWS account", aws.get("account") or "unknown"),
            ("Vault address", vault.get("address") or "not configured (VAULT_ADDR unset)"),
            ("state export", result.source.path or "none: every resource discovered")]


def live_line(result: AuditResult) -> str:
    return " | ".join(f"{k} {v}" for k, v in live_source(result))


def value_text(value: Any, limit: int | None = None) -> str:
    """A drift value for display: documents as indented JSON, anything else as JSON or text."""
    if isinstance(value, (dict, list)):
        text = json.dumps(value, indent=2, sort_keys=True)
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value)
    return truncate(text, limit) if limit else text


def drift_property(drift) -> str:
    return drift.property or "(resource)"


DRIFT_ADVICE = ("Drift: the deployed configuration differs from the export. Bring it back with `pulumi up` "
                "(or see it with `pulumi refresh`), or declare the change in the program; --fail-on-drift "
                "makes drift block the gate.")
