"""`keyguard audit` judges the program under `--stack-dir` and nothing else: not a copy of the stack
package installed in the environment (a pre-commit hook's venv, `pip install .`), not one imported
earlier in the process. The program's config comes from the audit's own Pulumi config parser."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from keyguard.errors import UsageError
from keyguard.sources.program import run_program
from keyguard.sources.pulumi_config import stack_config

from .conftest import REPO

COMPLIANT = '"sse_algorithm": "aws:kms",'
AES256 = '"sse_algorithm": "AES256",'


def _stack_copy(target: Path, aes256: bool) -> Path:
    shutil.copytree(REPO / "stack", target, ignore=shutil.ignore_patterns("__pycache__", "Pulumi.*.yaml.bak"))
    program = target / "keyguard_stack" / "program.py"
    text = program.read_text()
    assert COMPLIANT in text and '"kms_master_key_id": key.arn,' in text
    if aes256:
        text = text.replace(COMPLIANT, AES256).replace('"kms_master_key_id": key.arn,', "")
    program.write_text(text)
    return target


def _installed(site: Path, aes256: bool) -> Path:
    """A directory on the path holding a keyguard_stack that differs from the audited one, as a
    non-editable install would."""
    _stack_copy(site / "_stack", aes256)
    shutil.move(site / "_stack" / "keyguard_stack", site / "keyguard_stack")
    shutil.rmtree(site / "_stack")
    return site


def _audit(tmp_path: Path, stack_dir: Path, site: Path) -> tuple[int, dict]:
    env = dict(os.environ, PYTHONPATH=str(site))
    which = subprocess.run([sys.executable, "-c", "import keyguard_stack; print(keyguard_stack.__file__)"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert Path(which.stdout.strip()).parent == site / "keyguard_stack"  # the installed copy is what imports find
    run = subprocess.run([sys.executable, "-m", "keyguard", "audit", "--stack-dir", str(stack_dir),
                          "--format", "json"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode in (0, 1), run.stderr
    return run.returncode, json.loads(run.stdout)


def test_working_tree_with_aes256_fails_although_the_installed_copy_is_compliant(tmp_path):
    site = _installed(tmp_path / "site", aes256=False)
    stack_dir = _stack_copy(tmp_path / "work" / "stack", aes256=True)
    code, report = _audit(tmp_path, stack_dir, site)
    assert code == 1
    flagged = {(f["policy"], f["resource_type"]) for f in report["findings"] if f["kind"] == "violation"}
    assert ("s3-bucket-sse-kms-cmk", "aws:s3/bucketServerSideEncryptionConfiguration:"
                                     "BucketServerSideEncryptionConfiguration") in flagged


def test_compliant_working_tree_passes_although_the_installed_copy_uses_aes256(tmp_path):
    site = _installed(tmp_path / "site", aes256=True)
    stack_dir = _stack_copy(tmp_path / "work" / "stack", aes256=False)
    code, report = _audit(tmp_path, stack_dir, site)
    assert code == 0 and report["summary"]["violations"]["mandatory"] == 0


def _sse(resources) -> str:
    [encryption] = [r for r in resources if "ServerSideEncryption" in r.type]
    return encryption.props["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"]


def test_each_run_in_one_process_judges_its_own_directory(tmp_path):
    """The stack package is already imported here (tests import it); runs of two directories, one
    after the other and back, each see their own files, and the imported package is left as it was."""
    import keyguard_stack
    before = sys.modules["keyguard_stack"]
    bad = _stack_copy(tmp_path / "bad" / "stack", aes256=True)
    good = _stack_copy(tmp_path / "good" / "stack", aes256=False)
    assert _sse(run_program(bad)) == "AES256"
    assert _sse(run_program(good)) == "aws:kms"
    assert _sse(run_program(bad)) == "AES256"
    assert sys.modules["keyguard_stack"] is before is keyguard_stack
    assert str(bad) not in sys.path and str(good) not in sys.path


def test_config_is_read_by_the_audit_for_any_project(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text(
        "name: other\nruntime: python\nconfig:\n  size:\n    type: integer\n    default: 3\n"
        "  aws:region: eu-west-1\n  label:\n    value: plain\n")
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  other:size: 5\n  flag: true\n")
    assert stack_config("prod", tmp_path) == {"other:size": 5, "aws:region": "eu-west-1", "other:label": "plain",
                                              "other:flag": True}
    assert stack_config("dev", tmp_path) == {"other:size": 3, "aws:region": "eu-west-1", "other:label": "plain"}


@pytest.mark.parametrize("project, message", [("name: [unclosed\n", "not valid YAML"), ("- a list\n", "YAML mapping"),
                                              ("runtime: python\n", "no project name"),
                                              ("name: x\nconfig: [1]\n", "config must be a mapping")])
def test_bad_pulumi_yaml_is_a_usage_error(tmp_path, project, message):
    (tmp_path / "Pulumi.yaml").write_text(project)
    with pytest.raises(UsageError, match=message):
        stack_config("dev", tmp_path)


def test_the_built_in_stack_config():
    config = stack_config("dev", REPO / "stack")
    assert config["aws:region"] == "us-east-1" and config["keyguard:vaultBackendPath"] == "aws-ai-app"
    assert config["keyguard:awsEndpoint"] == ""  # a project default the stack file does not set
