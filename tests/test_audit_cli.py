"""`keyguard audit` end to end through the installed console script: sources, gate, exit codes,
bad input and secrets (SPEC: `keyguard audit`)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from keyguard_policies import catalog

from .conftest import REPO
from .fixtures.make_fixtures import VAULT_ACCESS_KEY, VAULT_SECRET_KEY

FIXTURES = REPO / "tests" / "fixtures"
KEYGUARD = str(Path(sys.executable).with_name("keyguard"))
ALL_FORMATS = ["json", "sarif", "junit", "markdown", "html"]
LEAST_PRIVILEGE = {"iam-no-wildcard-actions", "iam-no-wildcard-resources", "iam-no-not-action-not-resource",
                   "iam-known-actions", "iam-action-resource-match", "iam-no-privilege-escalation"}


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::keyguard::{type_}::{name}"


ROLE = urn("vault:aws/secretBackendRole:SecretBackendRole", "ai-app-role")
BOUNDARY = urn("aws:iam/policy:Policy", "vault-user-boundary")
BACKEND = urn("vault:aws/secretBackend:SecretBackend", "ai-app-backend")
KEY = urn("aws:kms/key:Key", "ai-app-kms-key")
BUCKET = urn("aws:s3/bucket:Bucket", "ai-app-data")
ENCRYPTION = urn("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                 "ai-app-data-encryption")
BUCKET_POLICY = urn("aws:s3/bucketPolicy:BucketPolicy", "ai-app-data-tls-only")


def keyguard(*args: str, cwd: Path = REPO, timeout: float = 180) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KEYGUARD_DEBUG"}
    return subprocess.run([KEYGUARD, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def report(*args: str) -> tuple[int, dict]:
    result = keyguard("audit", "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def findings(data: dict) -> set[tuple[str, str, str]]:
    return {(f["policy"], f["kind"], f["urn"]) for f in data["findings"]}


def test_built_in_stack_passes():
    code, data = report()
    assert code == 0
    assert data["summary"] == {"resources": 13, "policies": len(catalog.policies()), "violations": {"mandatory": 0, "advisory": 0},
                               "unverifiable": 0, "passed": True}
    assert data["findings"] == []
    assert data["source"]["kind"] == "program" and data["source"]["stack"] == "dev"
    assert {p["status"] for p in data["policies"]} <= {"pass", "not-applicable"}


def test_default_table_output_passes():
    result = keyguard("audit", "--no-color")
    assert result.returncode == 0, result.stderr
    assert "PASS" in result.stdout.upper() and result.stderr == ""


def test_state_with_violations_fails_with_expected_findings():
    code, data = report("--state", str(FIXTURES / "state-violations.json"))
    assert code == 1
    assert findings(data) == {
        ("s3-bucket-sse-kms-cmk", "violation", ENCRYPTION),
        ("kms-key-rotation-enabled", "violation", KEY),
        ("iam-action-resource-match", "violation", ROLE),
        ("vault-mount-ttl-bounds", "violation", BACKEND),
        *{(p, "unverifiable", BOUNDARY) for p in LEAST_PRIVILEGE | {"iam-resources-scoped-to-stack"}},
    }
    assert data["source"] == {"kind": "state", "path": "tests/fixtures/state-violations.json", "stack": "dev"}
    assert data["summary"]["passed"] is False
    assert data["summary"]["violations"]["mandatory"] == 1 + 1 + 2 + 2  # two each for the seed doc and the TTLs
    messages = [f["message"] for f in data["findings"] if f["policy"] == "iam-action-resource-match"]
    assert any("s3:ListBucket" in m for m in messages) and any(":key/" in m for m in messages)


def test_compliant_state_passes():
    code, data = report("--state", str(FIXTURES / "state-compliant.json"))
    assert code == 0 and data["findings"] == [] and data["summary"]["resources"] == 13


def test_preview_with_unknown_values_fails_closed_and_passes_when_allowed():
    code, data = report("--preview", str(FIXTURES / "preview-unknown.json"))
    assert code == 1
    assert data["summary"]["violations"] == {"mandatory": 0, "advisory": 0}
    assert data["summary"]["unverifiable"] == len(data["findings"]) > 0
    assert {f["kind"] for f in data["findings"]} == {"unverifiable"}
    assert {(p, "unverifiable", ROLE) for p in LEAST_PRIVILEGE} <= findings(data)
    assert ("s3-bucket-sse-kms-cmk", "unverifiable", BUCKET) in findings(data)
    code, data = report("--preview", str(FIXTURES / "preview-unknown.json"), "--allow-unverifiable")
    assert code == 0 and data["summary"]["passed"] is True


def test_fail_on_levels(tmp_path):
    state = str(FIXTURES / "state-violations.json")
    assert report("--state", state, "--fail-on", "never")[0] == 0
    config = tmp_path / "advisory.json"
    config.write_text(json.dumps({"all": "advisory"}))
    code, data = report("--state", state, "--config", str(config))
    assert code == 0 and data["summary"]["violations"]["mandatory"] == 0
    assert data["summary"]["violations"]["advisory"] == 6
    assert report("--state", state, "--config", str(config), "--fail-on", "advisory")[0] == 1


def test_config_disables_and_parametrises(tmp_path):
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"kms-key-rotation-enabled": "disabled",
                                  "vault-mount-ttl-bounds": {"maxLeaseTtlSeconds": 200000},
                                  "s3-bucket-sse-kms-cmk": {"enforcementLevel": "advisory"}}))
    code, data = report("--state", str(FIXTURES / "state-violations.json"), "--config", str(config))
    policies = {p["name"]: p for p in data["policies"]}
    assert "kms-key-rotation-enabled" not in policies
    assert data["summary"]["policies"] == len(catalog.policies()) - 1
    assert [f["message"] for f in data["findings"] if f["policy"] == "vault-mount-ttl-bounds"] == [
        "defaultLeaseTtlSeconds is 0: the mount inherits Vault's system default of 768 h"]
    assert policies["s3-bucket-sse-kms-cmk"]["enforcement"] == "advisory"


@pytest.mark.parametrize("args, message", [
    (["--state", "tests/fixtures/nope.json"], "no such file"),
    (["--preview", "tests"], "is a directory"),
    (["--state", "tests/fixtures/preview-unknown.json"], "not a Pulumi state export"),
    (["--preview", "tests/fixtures/state-compliant.json"], "not a `pulumi preview --json` output"),
    (["--format", "pdf"], "unknown format 'pdf'"),
    (["--format", "json", "--format", "sarif"], "give --output DIR"),
    (["--fail-on", "sometimes"], "invalid choice"),
    (["--bogus"], "unrecognized arguments"),
    (["--state", "a.json", "--preview", "b.json"], "not allowed with argument"),
    (["--stack-dir", "tests"], "not a Pulumi Python program"),
])
def test_usage_errors(args, message):
    result = keyguard("audit", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("keyguard: error:") and message in lines[0], result.stderr


@pytest.mark.parametrize("content, message", [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "not a Pulumi state export"),
    ('{"version": 2, "deployment": {"resources": []}}', "version 2 is not supported"),
    ('{"version": 3, "deployment": {"resources": [{"type": "aws:kms/key:Key"}]}}', "has no urn"),
    ("\udcff", "not UTF-8"),
])
def test_bad_state_files_leave_no_report(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content.encode("utf-8", "surrogateescape"))
    out = tmp_path / "reports"
    result = keyguard("audit", "--state", str(bad), "--output", str(out), *sum([["--format", f] for f in ALL_FORMATS], []))
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize("config, message", [
    ({"no-such-policy": "disabled"}, "unknown policy 'no-such-policy'"),
    ({"vault-mount-ttl-bounds": {"maxTtl": 5}}, "unknown parameter 'maxTtl'"),
    ({"vault-mount-ttl-bounds": {"maxLeaseTtlSeconds": "lots"}}, "expected an integer"),
    ({"all": "sometimes"}, "enforcement level must be one of"),
    ({"vault-role-credential-type": {"allowedCredentialTypes": "iam_user"}}, "expected an array"),
    ([], "must be a JSON object"),
])
def test_bad_config_is_a_usage_error(tmp_path, config, message):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = keyguard("audit", "--config", str(path), "--format", "json")
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_secrets_never_reach_any_report(tmp_path):
    for fixture in ("state-compliant.json", "state-violations.json"):
        out = tmp_path / fixture
        result = keyguard("audit", "--state", str(FIXTURES / fixture), "--output", str(out),
                          *sum([["--format", f] for f in ["table", *ALL_FORMATS]], []))
        assert result.returncode in (0, 1), result.stderr
        written = sorted(p.name for p in out.iterdir())
        assert written == sorted(["keyguard-report.json", "keyguard-report.sarif", "keyguard-report.junit.xml",
                                  "keyguard-report.md", "keyguard-report.html"])
        texts = [result.stdout, result.stderr] + [p.read_text() for p in out.iterdir()]
        for secret in (VAULT_ACCESS_KEY, VAULT_SECRET_KEY):
            assert all(secret not in text for text in texts), f"{secret[:4]}... leaked from {fixture}"


def test_secret_quoted_in_a_finding_is_withheld(tmp_path):
    """A policy document that is itself a secret still gets judged, but its text is not shown."""
    from keyguard.testing import secret
    state = json.loads((FIXTURES / "state-compliant.json").read_text())
    wide = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "SecretSidValue0001", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    for entry in state["deployment"]["resources"]:
        if entry["urn"] == BOUNDARY:
            entry["inputs"]["policy"] = secret(wide)
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    result = keyguard("audit", "--state", str(path), "--format", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert ("iam-no-wildcard-actions", "violation", BOUNDARY) in findings(data)
    assert "SecretSidValue0001" not in result.stdout


def test_reports_written_atomically_with_all_formats(tmp_path):
    out = tmp_path / "nested" / "reports"
    result = keyguard("audit", "--state", str(FIXTURES / "state-violations.json"), "--output", str(out),
                      *sum([["--format", f] for f in ALL_FORMATS], []))
    assert result.returncode == 1
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
    assert all(p.stat().st_mode & 0o044 for p in out.iterdir())  # readable by others, unlike mkstemp's 0600
    data = json.loads((out / "keyguard-report.json").read_text())
    assert data["summary"]["passed"] is False


def test_policies_command_lists_the_catalog():
    result = keyguard("policies")
    assert result.returncode == 0 and len(result.stdout.strip().splitlines()) == len(catalog.policies())


def test_progress_on_a_terminal_and_silence_otherwise(tmp_path):
    """Progress goes to stderr only when it is a terminal; piped output stays clean."""
    import pty

    from keyguard.sources.program import run_program
    from keyguard.testing import replicate, state_export
    resources = [r for r in run_program(REPO / "stack", "dev") if not r.type.startswith("pulumi:providers:")]
    path = tmp_path / "large.json"
    path.write_text(json.dumps(state_export(replicate(resources, 300))))
    master, slave = pty.openpty()
    process = subprocess.Popen([KEYGUARD, "audit", "--state", str(path), "--format", "json"],
                               stdout=subprocess.PIPE, stderr=slave, cwd=REPO)
    os.close(slave)
    stdout = process.stdout.read()
    process.wait(timeout=120)
    terminal = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        terminal += chunk
    os.close(master)
    assert process.returncode == 0
    assert json.loads(stdout)["summary"]["resources"] == len(resources) * 300
    assert b"reading large.json" in terminal and b"checking policies" in terminal
    piped = keyguard("audit", "--state", str(path), "--format", "json")
    assert piped.returncode == 0 and piped.stderr == ""
