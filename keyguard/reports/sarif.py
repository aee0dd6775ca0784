"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One rule per enabled policy (help text and remediation, documentation link, severity,
controls, and the `security-severity` number code scanning ranks alerts by); one result per
finding with the resource URN as a logical location and a physical location: the line that
declares the resource in the stack program when it was found (`AuditResult.stack_files`), so
code scanning annotates that line, otherwise line 1 of the audited input (the state or preview
file, or the program's `__main__.py`), because code scanning rejects a whole file in which any
result has no physical location.

Levels: `error` for a mandatory violation, `warning` for an advisory one, `note` for a check
that could not be made (unverifiable). Whether a result blocks the gate is in its properties
(`blocking`), because a SARIF level alone cannot say "unverifiable but blocking"."""
from __future__ import annotations

import hashlib
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from keyguard_policies.model import VIOLATION, Finding

from .. import __version__
from ..result import AuditResult
from .json_text import indented
from . import _common as c

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"


def _rule_name(policy: str) -> str:
    """SARIF `name`: a PascalCase identifier (`iam-no-wildcard-actions` -> `IamNoWildcardActions`)."""
    return "".join(part[:1].upper() + part[1:] for part in policy.split("-"))


def _help(result: AuditResult, name: str) -> tuple[str, str]:
    info = result.info(name)
    controls_text = ", ".join(f"{c.control_short(x)} ({c.control_title(x)})" for x in info.controls)
    text = (f"{info.description}\n\nRemediation: {info.remediation}\n\n"
            f"Controls: {controls_text or 'none'}\nDocumentation: {info.url}")
    controls_md = "\n".join(f"- **{c.framework_name(c.split_control(x)[0])} {c.split_control(x)[1]}**: "
                            f"{c.control_title(x)}" for x in info.controls)
    markdown = (f"{info.description}\n\n## Remediation\n\n{info.remediation}\n\n"
                f"## Compliance controls\n\n{controls_md or 'None.'}\n\n"
                f"Severity: {info.severity}. [Documentation]({info.url})")
    return text, markdown


def _rule(result: AuditResult, outcome) -> dict[str, Any]:
    info = result.info(outcome.name)
    enforcement = c.level(outcome.enforcement)
    text, markdown = _help(result, outcome.name)
    return {
        "id": outcome.name,
        "name": _rule_name(outcome.name),
        "shortDescription": {"text": info.description},
        "fullDescription": {"text": f"{info.description} Enforcement: {enforcement}; severity: {info.severity}."},
        "help": {"text": text, "markdown": markdown},
        "helpUri": info.url,
        "defaultConfiguration": {"level": "error" if enforcement == "mandatory" else "warning"},
        "properties": {
            "tags": ["security", "compliance", *info.tags, *info.controls],
            "precision": "very-high",
            "problem.severity": "error" if enforcement == "mandatory" else "warning",
            "security-severity": c.SECURITY_SEVERITY[info.severity],
            "severity": info.severity,
            "enforcement": enforcement,
            "controls": list(info.controls),
            "status": outcome.status,
        },
    }


def _result_level(enforcement: str, finding: Finding) -> str:
    if finding.kind != VIOLATION:
        return "note"
    return "error" if c.level(enforcement) == "mandatory" else "warning"


def _artifact_location(path: str) -> dict[str, Any]:
    """A repository-relative path under %SRCROOT%, or a file URI for an absolute one."""
    if PurePosixPath(path).is_absolute():
        return {"uri": PurePosixPath(path).as_uri()}
    if PureWindowsPath(path).is_absolute():
        return {"uri": PureWindowsPath(path).as_uri()}
    return {"uri": PurePosixPath(path.replace("\\", "/")).as_posix(), "uriBaseId": SRCROOT}


def _declaration(where: str) -> dict[str, Any] | None:
    """`stack/keyguard_stack/program.py:42` -> a physical location (None if unparsable)."""
    path, _, line = where.rpartition(":")
    if not path or not line.isdigit() or int(line) < 1:
        return None
    return {"artifactLocation": _artifact_location(path), "region": {"startLine": int(line)}}


def _input_location(result: AuditResult) -> dict[str, Any] | None:
    """Where a finding whose declaration was not found comes from: the audited state or preview
    file, or the program's entry point. GitHub code scanning rejects a whole SARIF file if any
    result lacks a physical location, so every result gets one."""
    path = result.source.path
    if not path:
        return None
    if result.source.kind == "program":
        path = path.rstrip("/\\") + "/__main__.py"
    return {"artifactLocation": _artifact_location(path), "region": {"startLine": 1}}


def _fingerprint(finding: Finding) -> str:
    data = "\x1f".join((finding.policy, finding.urn, finding.kind, finding.message))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _result(result: AuditResult, outcome, finding: Finding, rule_index: int, blocking: bool) -> dict[str, Any]:
    name = c.short_name(finding.urn)
    location: dict[str, Any] = {}
    where = result.stack_files.get(finding.urn)
    physical = _declaration(where) if where else None
    label = f"{name} ({c.short_type(finding.resource_type)})"
    if physical is None:
        physical = _input_location(result)
        label += ": declaration not found; location is the audited input"
    if physical:
        location["physicalLocation"] = physical
    location["logicalLocations"] = [{
        "name": name, "fullyQualifiedName": finding.urn or "(stack)", "kind": "resource"}]
    location["message"] = {"text": label}
    properties: dict[str, Any] = {
        "kind": finding.kind,
        "enforcement": c.level(outcome.enforcement),
        "severity": result.info(outcome.name).severity,
        "blocking": blocking,
        "resourceType": finding.resource_type,
        "controls": list(result.info(outcome.name).controls),
    }
    if finding.evidence:
        properties["evidence"] = finding.evidence
    prefix = "" if finding.kind == VIOLATION else "[unverifiable] "
    return {
        "ruleId": outcome.name,
        "ruleIndex": rule_index,
        "level": _result_level(outcome.enforcement, finding),
        "message": {"text": f"{prefix}{name}: {finding.message}"},
        "locations": [location],
        "partialFingerprints": {"keyguardFinding/v1": _fingerprint(finding)},
        "properties": properties,
    }


DRIFT_RULE = {
    "id": "keyguard-drift", "name": "LiveDrift",
    "shortDescription": {"text": "The deployed configuration differs from the state export."},
    "fullDescription": {"text": "keyguard audit --live found a judged property whose live value differs from "
                                "the export's input, or a resource of the export that no longer exists."},
    "help": {"text": c.DRIFT_ADVICE},
    "defaultConfiguration": {"level": "warning"},
    "properties": {"tags": ["drift"]},
}


def _drift_result(result: AuditResult, drift, rule_index: int) -> dict[str, Any]:
    name = c.short_name(drift.urn)
    location: dict[str, Any] = {"logicalLocations": [{"name": name, "fullyQualifiedName": drift.urn,
                                                      "kind": "resource"}],
                                "message": {"text": f"{name} ({c.short_type(drift.resource_type)})"}}
    physical = _input_location(result)
    if physical:
        location["physicalLocation"] = physical
    data = "\x1f".join(("drift", drift.urn, str(drift.property)))
    return {
        "ruleId": DRIFT_RULE["id"], "ruleIndex": rule_index,
        "level": "error" if result.fail_on_drift else "warning",
        "message": {"text": f"[drift] {name}: {drift.message}"},
        "locations": [location],
        "partialFingerprints": {"keyguardFinding/v1": hashlib.sha256(data.encode("utf-8")).hexdigest()},
        "properties": {"kind": "drift", "blocking": result.fail_on_drift, "resourceType": drift.resource_type,
                       "property": drift.property, "declared": drift.declared, "live": drift.live},
    }


def build(result: AuditResult) -> dict[str, Any]:
    """The SARIF log as a dict (rendered by `render`)."""
    rule_index = {o.name: i for i, o in enumerate(result.outcomes)}
    keys = c.blocking_keys(result)
    counts = c.counts(result)
    when = c.iso(result.generated_at)
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "keyguard",
            "version": __version__,
            "semanticVersion": __version__,
            "rules": [_rule(result, o) for o in result.outcomes],
        }},
        "automationDetails": {"id": f"keyguard/{result.source.stack or 'stack'}/"},
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "The root of the repository."}}},
        "columnKind": "utf16CodeUnits",
        "invocations": [{
            "executionSuccessful": True,
            "startTimeUtc": when,
            "endTimeUtc": when,
            "exitCode": 0 if result.passed else 1,
            "properties": {"failOn": result.fail_on, "allowUnverifiable": result.allow_unverifiable,
                           "configPath": result.config_path},
        }],
        "results": [_result(result, o, f, rule_index[o.name], c.is_blocking(result, f, keys))
                    for o, f in result.findings()],
        "properties": {
            "source": result.source.to_json(),
            "summary": {"resources": counts.resources, "policies": counts.policies,
                        "violations": {"mandatory": counts.mandatory, "advisory": counts.advisory},
                        "unverifiable": counts.unverifiable, "passed": result.passed,
                        **({"drift": len(result.drift)} if result.is_live else {})},
        },
    }
    if result.drift:
        run["tool"]["driver"]["rules"].append(DRIFT_RULE)
        run["results"] += [_drift_result(result, d, len(run["tool"]["driver"]["rules"]) - 1) for d in result.drift]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(result: AuditResult) -> str:
    return indented(build(result)) + "\n"
