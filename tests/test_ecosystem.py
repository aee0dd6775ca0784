"""The files other tools read: the pre-commit hook and the example GitHub workflow must point at
commands and report files that exist."""
from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from keyguard.reports import FILENAMES

from .conftest import REPO


def test_pre_commit_hook_runs_the_gate():
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "keyguard-audit" and hook["language"] == "python" and hook["pass_filenames"] is False
    command = shlex.split(hook["entry"])
    assert command[:2] == ["keyguard", "audit"]
    result = subprocess.run([str(Path(sys.executable).with_name("keyguard")), *command[1:]], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "PASSED" in result.stdout


def test_workflow_uploads_the_reports_the_cli_writes():
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "policy-gate.yml").read_text())
    steps = workflow["jobs"]["keyguard-audit"]["steps"]
    text = yaml.safe_dump(steps)
    run = next(s["run"] for s in steps if "keyguard audit" in s.get("run", ""))
    for fmt in ("sarif", "junit", "markdown", "html"):
        assert f"--format {fmt}" in run
        assert f"keyguard-reports/{FILENAMES[fmt]}" in text or fmt in ("html",)
    uses = {s.get("uses", "").split("@")[0] for s in steps}
    assert {"github/codeql-action/upload-sarif", "actions/upload-artifact"} <= uses
    preview = workflow["jobs"]["pulumi-preview-with-pack"]["steps"]
    assert any("pulumi preview --policy-pack ../policy_pack" in s.get("run", "") for s in preview)
