"""The files other tools read: the pre-commit hook and the GitHub workflow must point at commands
and report files that exist, and the workflow's jobs are replayed here as a runner would run them
(tests/github_workflow.py): commands, conditions for pull requests from forks, the gate's verdict."""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from keyguard.analyzer_client import PackProcess, merged_config
from keyguard.reports import FILENAMES
from keyguard_policies import catalog
from keyguard_policies.model import Resource

from . import github_workflow
from .conftest import REPO

WORKFLOW = REPO / ".github" / "workflows" / "policy-gate.yml"
SAME_REPO_PR = {"event_name": "pull_request", "repository": "acme/infra",
                "event": {"pull_request": {"head": {"repo": {"full_name": "acme/infra"}}}}}
FORK_PR = {"event_name": "pull_request", "repository": "acme/infra",
           "event": {"pull_request": {"head": {"repo": {"full_name": "someone/infra"}}}}}
DISPATCH = {"event_name": "workflow_dispatch", "repository": "acme/infra", "event": {}}
# Actions whose step needs a token that may write (read-only on pull requests from forks).
WRITES = {"github/codeql-action/upload-sarif", "mikepenz/action-junit-report", "marocchino/sticky-pull-request-comment"}
FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"


def jobs():
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]


def gate_index(steps):
    [index] = [i for i, s in enumerate(steps) if "keyguard audit" in s.get("run", "")]
    return index


@pytest.fixture
def workspace(tmp_path):
    """A runner's checkout of this repository, with the project's installed .venv in place (so
    `make venv` finds it up to date instead of installing into a directory the test deletes)."""
    workspace = github_workflow.checkout(REPO, tmp_path / "workspace")
    (workspace / ".venv").symlink_to(REPO / ".venv", target_is_directory=True)
    fresh = subprocess.run(["make", "-q", "venv"], cwd=workspace, capture_output=True)
    assert fresh.returncode == 0, "the project's .venv is older than requirements.lock: run `make venv` first"
    return workspace


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
    assert any("pulumi preview --non-interactive --policy-pack ../policy_pack" in s.get("run", "") for s in preview)


@pytest.mark.parametrize("violating", [False, True], ids=["compliant", "violating"])
def test_audit_job_replayed(workspace, violating):
    """The audit job's commands on a runner: the gate's exit code is the job's verdict, the reports
    are written either way, and a fork's read-only token only skips the steps that need to write."""
    if violating:  # the mount's max lease TTL above the 86,400 s bound: vault-mount-ttl-bounds
        config = workspace / "stack" / "Pulumi.dev.yaml"
        config.write_text(re.sub(r"maxLeaseTtlSeconds: \d+", "maxLeaseTtlSeconds: 999999", config.read_text()))
    job = jobs()["keyguard-audit"]
    result = github_workflow.run_job(job, workspace, FORK_PR)
    gate = result.step("keyguard audit")
    assert gate.returncode == (1 if violating else 0), gate.stdout + gate.stderr
    assert result.succeeded is not violating
    reports = workspace / "keyguard-reports"
    for fmt in ("sarif", "junit", "markdown", "html"):
        assert (reports / FILENAMES[fmt]).stat().st_size > 0, fmt
    markdown = (reports / FILENAMES["markdown"]).read_text()
    assert ("vault-mount-ttl-bounds" in markdown) is violating
    sarif = json.loads((reports / FILENAMES["sarif"]).read_text())
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == ({"vault-mount-ttl-bounds"} if violating else set())
    summary = result.step("Summary on the run page")
    assert summary.ran and summary.returncode == 0 and github_workflow.step_summary(workspace) == markdown
    assert result.step("Keep the reports").ran
    for write in ("SARIF", "JUnit", "Comment"):
        assert not result.step(write).ran, f"{write} must not run with a fork's read-only token"
    # the same reports, under the other events: every upload runs where the token may write
    uploads = {"steps": [s for s in job["steps"][gate_index(job["steps"]) + 1:] if "uses" in s]}
    for github, comment in ((SAME_REPO_PR, True), (DISPATCH, False)):
        others = github_workflow.run_job(uploads, workspace, github)
        assert [s.ran for s in others.steps] == [True, True, True, comment], github["event_name"]


def test_audit_job_verdict_is_the_gates_alone():
    """Only the gate (and the set-up before it) can fail the job: everything after it runs even
    when the gate fails, and never changes the verdict; steps that write are skipped for forks."""
    steps = jobs()["keyguard-audit"]["steps"]
    gate = gate_index(steps)
    assert "if" not in steps[gate] and not steps[gate].get("continue-on-error")
    after = steps[gate + 1:]
    assert {s.get("uses", "").split("@")[0] for s in after} >= WRITES | {"actions/upload-artifact"}
    for step in after:
        assert step.get("continue-on-error") is True, step
        assert str(step["if"]).startswith("${{ !cancelled() &&"), step
        if step.get("uses", "").split("@")[0] in WRITES:
            assert FORK_GUARD in step["if"], step


def test_every_action_is_pinned_to_a_commit():
    """Every `uses:` names a full 40-hex commit SHA with the release it is in a comment; the SARIF
    upload is codeql-action v4 (v3 is deprecated)."""
    lines = [line for line in WORKFLOW.read_text().splitlines() if re.match(r"\s*(- )?uses:", line)]
    assert len(lines) == sum(1 for job in jobs().values() for s in job["steps"] if "uses" in s) >= 8
    for line in lines:
        assert re.fullmatch(r"\s*(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), line
    [sarif] = [line for line in lines if "upload-sarif" in line]
    assert int(re.search(r"# v(\d+)", sarif).group(1)) >= 4


PULUMI_STAND_IN = """#!{python}
# Stand-in for the Pulumi CLI in the workflow replay (the real one is not installable here): it
# records its arguments and, for `preview`, starts the policy pack as the CLI does, with the pack's
# own virtualenv (policy_pack/venv, which the CLI never creates) and `python -u -m pulumi.policy`.
import json, os, sys
from pathlib import Path
args = sys.argv[1:]
with open(os.environ["PULUMI_STAND_IN_LOG"], "a") as log:
    log.write(json.dumps({{"cwd": os.getcwd(), "args": args}}) + "\\n")
if args[:1] == ["preview"]:
    pack = Path(args[args.index("--policy-pack") + 1]).resolve()
    python = pack / "venv" / "bin" / "python"
    if not python.exists():
        sys.exit(f"error: could not load policy pack {{pack}}: {{python}} does not exist")
    from keyguard.analyzer_client import PackProcess
    with PackProcess(pack, python=str(python)) as process:
        info = process.info()
    print(f"Policy packs run: {{info.name}} ({{len(info.policies)}} policies)")
"""


def pulumi_tools(tmp_path):
    """What setup-python and pulumi/actions put on PATH: python (3.11) and a `pulumi`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(PULUMI_STAND_IN.format(python=sys.executable))
    pulumi.chmod(0o755)
    return bin_dir


def test_preview_job_skipped_without_credentials(workspace):
    result = github_workflow.run_job(jobs()["pulumi-preview-with-pack"], workspace, FORK_PR)
    assert [s.ran for s in result.steps] == [False] * len(result.steps) and result.succeeded


def test_preview_job_replayed_creates_the_pack_venv_first(workspace, tmp_path, monkeypatch):
    """The preview job as a runner with the secrets runs it: the pack's virtualenv is created from
    policy_pack/requirements.txt alone before `pulumi preview` loads the pack from it. Without that
    step (the workflow before), the preview cannot load the pack."""
    log = tmp_path / "pulumi.log"
    monkeypatch.setenv("PULUMI_STAND_IN_LOG", str(log))
    job = jobs()["pulumi-preview-with-pack"]
    secrets = {"PULUMI_ACCESS_TOKEN": "pul-test"}
    [venv_step] = [i for i, s in enumerate(job["steps"]) if "policy_pack/venv" in s.get("run", "")]
    [preview_step] = [i for i, s in enumerate(job["steps"]) if "pulumi preview" in s.get("run", "")]
    assert venv_step < preview_step

    without = dict(job, steps=[s for i, s in enumerate(job["steps"]) if i != venv_step])
    before = github_workflow.run_job(without, workspace, SAME_REPO_PR, secrets=secrets, path=[pulumi_tools(tmp_path)])
    preview = before.step("pulumi preview")
    assert preview.returncode != 0 and "policy_pack/venv/bin/python does not exist" in preview.stderr
    assert not before.succeeded

    result = github_workflow.run_job(job, workspace, SAME_REPO_PR, secrets=secrets, path=[tmp_path / "bin"])
    venv = result.step("Create the policy pack's virtualenv")
    assert venv.returncode == 0, venv.stderr[-2000:]
    preview = result.step("pulumi preview")
    assert preview.returncode == 0, preview.stderr[-2000:]
    assert f"Policy packs run: keyguard ({len(catalog.policies())} policies)" in preview.stdout
    assert result.succeeded
    calls = [json.loads(line) for line in log.read_text().splitlines()][-2:]
    assert [c["args"] for c in calls] == [["stack", "select", "dev", "--create"],
                                         ["preview", "--non-interactive", "--policy-pack", "../policy_pack"]]
    assert {Path(c["cwd"]) for c in calls} == {workspace / "stack"}
    # the environment built from policy_pack/requirements.txt alone runs the rules, catalog included
    with PackProcess(workspace / "policy_pack", python=str(workspace / "policy_pack" / "venv" / "bin" / "python")) as pack:
        pack.configure(merged_config())
        wide = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
        response = pack.analyze(Resource("urn:pulumi:dev::keyguard::aws:iam/policy:Policy::wide",
                                         "aws:iam/policy:Policy", {"policy": wide}))
    assert {"iam-no-wildcard-actions", "iam-no-privilege-escalation"} <= {d.policyName for d in response.diagnostics}


def _commands(script: str) -> list[str]:
    """Shell commands of a script: continuation lines joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", script)
    lines = (re.sub(r"\s+#\s.*$", "", line).strip() for line in joined.splitlines())
    return [" ".join(line.split()) for line in lines if line and not line.startswith("#")]


def test_readme_shows_the_commands_ci_runs():
    """Every command of every `run:` step (with its working directory) is in the README's CI section."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## In CI"):]
    section = section[:section.index("\n## ")] if "\n## " in section else section
    shown = {c for block in re.findall(r"```sh\n(.*?)```", section, re.S) for c in _commands(block)}
    for job in jobs().values():
        for step in job["steps"]:
            if "run" in step:
                expected = _commands(step["run"])
                if "working-directory" in step:
                    expected.insert(0, f"cd {step['working-directory']}")
                assert set(expected) <= shown, set(expected) - shown
    assert "upload-sarif` v4" in section and "fork" in section
    dependabot = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text())
    assert {"package-ecosystem": "github-actions", "directory": "/"}.items() <= dependabot["updates"][0].items()


def test_pre_commit_usage_names_no_tag_that_does_not_exist():
    """The `rev:` a user is told to write is a commit SHA (or a placeholder saying so), or a tag
    this repository really has."""
    tags = set(subprocess.run(["git", "tag"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split())
    texts = {".pre-commit-hooks.yaml": (REPO / ".pre-commit-hooks.yaml").read_text(),
             "README.md": (REPO / "README.md").read_text()}
    revs = [(name, m.group(1).strip()) for name, text in texts.items()
            for m in re.finditer(r"^\s*#?\s*rev:\s*(.*?)\s*(?:#.*)?$", text, re.M)]
    assert {name for name, _ in revs} == set(texts)
    for name, rev in revs:
        assert (re.fullmatch(r"[0-9a-f]{40}", rev) or rev in tags
                or re.fullmatch(r"<[^>]*commit SHA>", rev)), f"{name}: rev {rev!r} names no commit or existing tag"
    [hook] = yaml.safe_load(texts[".pre-commit-hooks.yaml"])
    assert f"- id: {hook['id']}" in texts["README.md"]
