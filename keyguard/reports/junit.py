"""`--format junit`: JUnit XML, so CI test reporters show the gate.

Layout: one `<testsuite>` per enabled policy (name = policy name, with its enforcement,
severity, status and controls as `<properties>`), and in it one `<testcase>` per resource the
policy judged (`classname` = policy, `name` = resource and type). A stack policy that reports a
finding on a resource outside its subjects still gets a case for it. A policy that judged no
resource is an empty suite (tests="0") with status `not-applicable`.

The verdict of a case mirrors the gate exactly (`AuditResult.blocking()`), so a red test in CI
always means a red gate and vice versa:

* a finding that blocks the gate makes the case a `<failure>` (type = `mandatory` or
  `advisory` for a violation, `unverifiable` for a check that could not be made; message = the
  finding, or the first one and a count): a mandatory violation (unless
  `--fail-on never`), an advisory violation only with `--fail-on advisory`, and a mandatory
  check that is unverifiable unless `--allow-unverifiable`;
* a violation that does not block (advisory under the default `--fail-on mandatory`, or any
  under `--fail-on never`) leaves the case passing, with the finding as a note in
  `<system-out>`: reporters show it without turning the build red, which is what "advisory"
  means;
* an unverifiable check that does not block is `<skipped>`: the check was not made, and
  reporting it as passed would be false.

Every case's `<system-out>` starts with `resource: <URN>`; every finding of the case is listed
in the failure body or in `<system-out>`, with its evidence. `errors` is always 0: a rule that raises is a violation (fail closed), not an error.
The attributes (tests/failures/skipped) are computed from the cases themselves, and the output
validates against the Jenkins/Surefire `junit-10.xsd`."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from keyguard_policies.model import VIOLATION, Finding

from ..result import AuditResult
from . import _common as c

# XML 1.0 forbids most control characters, even escaped.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _describe(outcome, finding: Finding) -> str:
    lines = [f"[{c.finding_label(outcome.enforcement, finding)}] {finding.message}"]
    if finding.evidence:
        lines.append(f"  evidence: {finding.evidence}")
    return "\n".join(lines)


def _case_name(urn: str, type_: str) -> str:
    return f"{c.short_name(urn)} ({c.short_type(type_)})" if urn else "(stack)"


def _suite(result: AuditResult, outcome, keys, timestamp: str) -> ET.Element:
    info = result.info(outcome.name)
    suite = ET.Element("testsuite", name=outcome.name)
    props = ET.SubElement(suite, "properties")
    for name, value in (("description", info.description), ("enforcement", c.level(outcome.enforcement)),
                        ("severity", info.severity), ("status", outcome.status),
                        ("controls", " ".join(info.controls)), ("documentation", info.url)):
        ET.SubElement(props, "property", name=name, value=_x(value))

    by_urn: dict[str, list[Finding]] = {urn: [] for urn in outcome.subjects}
    types: dict[str, str] = {}
    for finding in outcome.findings:
        by_urn.setdefault(finding.urn, []).append(finding)
        types.setdefault(finding.urn, finding.resource_type)
    names: dict[str, int] = {}
    tests = failures = skipped = 0
    for urn, findings in by_urn.items():
        type_ = types.get(urn) or (urn.split("::")[-2].split("$")[-1] if urn.count("::") >= 3 else "")
        name = _case_name(urn, type_)
        names[name] = names.get(name, 0) + 1
        if names[name] > 1:              # same name and type under different parents: be exact
            name = f"{name} {urn}"
        case = ET.SubElement(suite, "testcase", name=_x(name), classname=outcome.name, time="0")
        tests += 1
        blocking = [f for f in findings if c.is_blocking(result, f, keys)]
        rest = [f for f in findings if f not in blocking]
        if blocking:
            failures += 1
            first = blocking[0]
            message = first.message if len(blocking) == 1 else f"{first.message} (and {len(blocking) - 1} more)"
            kind = c.level(outcome.enforcement) if first.kind == VIOLATION else "unverifiable"
            failure = ET.SubElement(case, "failure", type=kind, message=_x(message))
            advice = []
            if any(f.kind == VIOLATION for f in findings):
                advice.append(f"remediation: {info.remediation}")
            if any(f.kind != VIOLATION for f in findings):
                advice.append(c.UNVERIFIABLE_ADVICE.replace('`', ''))
            failure.text = _x("\n".join([*(_describe(outcome, f) for f in findings), *advice]) + "\n")
        elif any(f.kind != VIOLATION for f in rest):
            skipped += 1
            first = next(f for f in rest if f.kind != VIOLATION)
            ET.SubElement(case, "skipped", message=_x(f"not verified: {first.message}"))
        notes = [] if blocking else [_describe(outcome, f) for f in rest]
        if notes:
            notes.append(f"not blocking the gate: {c.gate_description(result)}")
        ET.SubElement(case, "system-out").text = _x("\n".join([f"resource: {urn}", *notes]) + "\n")
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    suite.set("time", "0")
    suite.set("timestamp", timestamp)
    return suite


def _drift_suite(result: AuditResult, timestamp: str) -> ET.Element:
    """Live audits: a `keyguard-live` suite whose properties name what was read (endpoint, region,
    account, Vault address; never a token), with one case per drift finding: a failure only
    with --fail-on-drift, else a passing case with the drift in `<system-out>`."""
    suite = ET.Element("testsuite", name="keyguard-live")
    props = ET.SubElement(suite, "properties")
    for name, value in c.live_source(result):
        ET.SubElement(props, "property", name=name, value=_x(str(value)))
    failures = 0
    for drift in result.drift:
        case = ET.SubElement(suite, "testcase", name=_x(f"{_case_name(drift.urn, drift.resource_type)} "
                                                         f"{c.drift_property(drift)}"),
                             classname="drift", time="0")
        text = _x(f"resource: {drift.urn}\n[drift] {drift.message}\ndeclared: {c.value_text(drift.declared)}\n"
                  f"live: {c.value_text(drift.live)}\n")
        if result.fail_on_drift:
            failures += 1
            ET.SubElement(case, "failure", type="drift", message=_x(drift.message)).text = text
        else:
            text += "not blocking the gate: drift blocks only with --fail-on-drift\n"
        ET.SubElement(case, "system-out").text = text
    for name, value in (("tests", len(result.drift)), ("failures", failures), ("errors", 0), ("skipped", 0),
                        ("time", "0"), ("timestamp", timestamp)):
        suite.set(name, str(value))
    return suite


def build(result: AuditResult) -> ET.Element:
    keys = c.blocking_keys(result)
    timestamp = result.generated_at.isoformat()
    root = ET.Element("testsuites", name=f"keyguard audit ({result.source.kind} {result.source.stack})".strip())
    total = failed = 0
    for outcome in result.outcomes:
        suite = _suite(result, outcome, keys, timestamp)
        root.append(suite)
        total += int(suite.get("tests"))
        failed += int(suite.get("failures"))
    if result.is_live:
        suite = _drift_suite(result, timestamp)
        root.append(suite)
        total += int(suite.get("tests"))
        failed += int(suite.get("failures"))
    root.set("tests", str(total))
    root.set("failures", str(failed))
    root.set("errors", "0")
    root.set("time", "0")
    return root


def render(result: AuditResult) -> str:
    root = build(result)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
