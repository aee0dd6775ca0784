"""The stack's optional settings for deployments on emulators and beside other stacks: Vault's AWS
root keys (keyguard:vaultAwsAccessKeyId and the SECRET keyguard:vaultAwsSecretAccessKey), the KMS
alias name and the TLS-only bucket policy switch. Defaults change nothing; the secret key reaches
only the Vault backend, as a secret, and never a `keyguard audit` report."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from keyguard.sources.program import run_program
from keyguard_stack.settings import StackSettings

from .conftest import REPO

SECRET = "kg-test-secret-key/+AbCdEf0123456789"
ACCESS_KEY_ID = "AKIAKEYGUARDTESTKEY1"
BACKEND = "vault:aws/secretBackend:SecretBackend"
SIG, SECRET_SIG = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


def _stack(tmp_path: Path, **config: object) -> Path:
    """A copy of the stack whose dev config adds `config` (keys without namespace: keyguard's)."""
    target = tmp_path / "stack"
    shutil.copytree(REPO / "stack", target, ignore=shutil.ignore_patterns("__pycache__"))
    path = target / "Pulumi.dev.yaml"
    data = yaml.safe_load(path.read_text())
    data["config"].update({f"keyguard:{key}": value for key, value in config.items()})
    path.write_text(yaml.safe_dump(data))
    return target


def _by_type(resources, type_: str):
    return [r for r in resources if r.type == type_]


def test_defaults_keep_the_alias_the_bucket_policy_and_no_root_keys():
    settings = StackSettings()
    assert (settings.kms_alias_name, settings.tls_only_bucket_policy, settings.vault_aws_access_key_id) == \
        ("alias/ai-app-data", True, "")
    resources = run_program(REPO / "stack", "dev")
    [alias] = _by_type(resources, "aws:kms/alias:Alias")
    assert alias.props["name"] == "alias/ai-app-data"
    assert len(_by_type(resources, "aws:s3/bucketPolicy:BucketPolicy")) == 1
    [backend] = _by_type(resources, BACKEND)
    assert "accessKey" not in backend.props and "secretKey" not in backend.props


@pytest.mark.parametrize("raw,expected", [(False, False), ("false", False), ("FALSE", False), (True, True),
                                          ("true", True)])
def test_tls_only_bucket_policy_reads_booleans(raw, expected):
    assert StackSettings.from_config({"keyguard:tlsOnlyBucketPolicy": raw}).tls_only_bucket_policy is expected


@pytest.mark.parametrize("raw", ["no", "0", "off", 1])
def test_tls_only_bucket_policy_refuses_anything_else(raw):
    with pytest.raises(ValueError, match="keyguard:tlsOnlyBucketPolicy must be true or false"):
        StackSettings.from_config({"keyguard:tlsOnlyBucketPolicy": raw})


@pytest.mark.parametrize("alias", ["ai-app-data", "alias/aws/s3", "alias/aws/ai"])
def test_kms_alias_name_must_be_a_customer_alias(alias):
    with pytest.raises(ValueError, match="keyguard:kmsAliasName"):
        StackSettings(kms_alias_name=alias)


def test_switches_change_the_alias_and_drop_the_bucket_policy(tmp_path):
    resources = run_program(_stack(tmp_path, kmsAliasName="alias/second-stack", tlsOnlyBucketPolicy=False), "dev")
    [alias] = _by_type(resources, "aws:kms/alias:Alias")
    assert alias.props["name"] == "alias/second-stack"
    assert _by_type(resources, "aws:s3/bucketPolicy:BucketPolicy") == []
    assert len(_by_type(resources, "aws:s3/bucket:Bucket")) == 1


def test_root_keys_reach_the_backend_only(tmp_path):
    resources = run_program(_stack(tmp_path, vaultAwsAccessKeyId=ACCESS_KEY_ID, vaultAwsSecretAccessKey=SECRET), "dev")
    [backend] = _by_type(resources, BACKEND)
    # both registered as secrets (pulumi-vault marks them so; the secret key is read with get_secret)
    assert backend.props["accessKey"] == {SIG: SECRET_SIG, "value": ACCESS_KEY_ID}
    assert backend.props["secretKey"] == {SIG: SECRET_SIG, "value": SECRET}
    others = [r.urn for r in resources if r.type != BACKEND and SECRET in json.dumps(r.props, default=str)]
    assert others == []


@pytest.mark.parametrize("config", [{"vaultAwsAccessKeyId": ACCESS_KEY_ID}, {"vaultAwsSecretAccessKey": SECRET}])
def test_one_root_key_without_the_other_is_an_error(tmp_path, config):
    with pytest.raises(Exception, match="must be set together"):
        run_program(_stack(tmp_path, **config), "dev")


def test_audit_reports_never_contain_the_root_keys(tmp_path):
    stack = _stack(tmp_path, vaultAwsAccessKeyId=ACCESS_KEY_ID, vaultAwsSecretAccessKey=SECRET)
    out = tmp_path / "reports"
    formats = [arg for fmt in ("json", "sarif", "junit", "markdown", "html") for arg in ("--format", fmt)]
    done = subprocess.run([sys.executable, "-m", "keyguard", "audit", "--stack-dir", str(stack), *formats,
                           "--output", str(out)], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    written = {path.name: path.read_text() for path in out.iterdir()}
    assert json.loads(written["keyguard-report.json"])["summary"]["passed"] is True
    leaks = [name for name, text in {**written, "stdout": done.stdout, "stderr": done.stderr}.items()
             if SECRET in text]
    assert leaks == []
