"""`pulumi up --policy-pack policy_pack` deploys the real program (stack/) to the AWS emulator (moto)
and a dev Vault through keyguard's offline providers, then:

- a preview of the deployed stack judges the IAM documents with known values (no "can't be known");
- the seed's role document is blocked by iam-action-resource-match on update, and nothing changes;
- kms-key-rotation-enabled at `remediate` turns rotation on during `up` (state and emulator);
- `keyguard audit --state` on `pulumi stack export` reports the same policy x resource violations
  as the CLI, for the compliant stack and a violating one.

These tests start their own moto and Vault (module scope): the session's emulator switches IAM
enforcement on for the runtime scenarios."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest

from . import pulumi_cli, servers
from .harness import VaultServer, start_own_vault
from .pulumi_cli import (CANNOT_BE_KNOWN, STACK, Workspace, output_of, replace_in, use_seed_document, verdicts,
                         write_config)

pytestmark = pytest.mark.integration
REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.ServerProcess]:
    server = servers.start_moto(tmp_path_factory.mktemp("cli-moto"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.ServerProcess]:
    """A moto of the test's own: each deployed stack registers the program's fixed KMS alias name."""
    server = servers.start_moto(tmp_path_factory.mktemp("cli-own-moto"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def cli_vault(vault_build: servers.VaultBuild, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VaultServer]:
    vault = start_own_vault(vault_build, tmp_path_factory.mktemp("cli-vault"))
    try:
        yield vault
    finally:
        assert vault.server is not None
        vault.server.stop()


def aws(moto: servers.ServerProcess, service: str) -> Any:
    return boto3.client(service, endpoint_url=moto.url, region_name=REGION, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def workspace(root: Path, toolchain: dict[str, str], moto: servers.ServerProcess, vault: VaultServer,
              backend_path: str) -> Workspace:
    """A copy of the stack configured for the emulator and the dev Vault, with Vault mounts and an ACL
    policy name of its own (the tests share one Vault; its auth mounts and policies are global)."""
    ws = Workspace(STACK, root=root, tool_env=toolchain, env={
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
        "VAULT_TOKEN": vault.token, "KEYGUARD_VAULT_AWS_MOUNT_TYPE": vault.aws_mount_type})
    ws.set_config({"keyguard:awsEndpoint": moto.url, "keyguard:vaultAddress": vault.address,
                   "keyguard:vaultBackendPath": backend_path, "keyguard:approlePath": f"{backend_path}-approle",
                   "keyguard:vaultPolicyName": f"{backend_path}-creds"})
    return ws


def export(ws: Workspace) -> dict[str, Any]:
    return json.loads(ws.run("stack", "export", check=True).stdout)


def resources(state: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r for r in state["deployment"]["resources"] if r["type"] == type_]


def audit_violations(ws: Workspace, tmp_path: Path, config: Path | None = None) -> set[tuple[str, str]]:
    """(policy, resource name) of the violations `keyguard audit --state` finds in the stack's export."""
    state = tmp_path / "state.json"
    state.write_text(ws.run("stack", "export", check=True).stdout)
    cmd = [sys.executable, "-m", "keyguard", "audit", "--state", str(state), "--format", "json"]
    if config is not None:
        cmd += ["--config", str(config)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    return {(f["policy"], f["urn"].split("::")[-1]) for f in report["findings"] if f["kind"] == "violation"}


@pytest.fixture(scope="module")
def deployed(pulumi_toolchain: dict[str, str], moto: servers.ServerProcess, cli_vault: VaultServer,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, subprocess.CompletedProcess]]:
    with workspace(tmp_path_factory.mktemp("cli-up"), pulumi_toolchain, moto, cli_vault, "aws-cli-up") as ws:
        yield ws, ws.up()


def test_up_deploys_the_program_to_the_emulator_and_vault(deployed, moto, cli_vault):
    ws, proc = deployed
    assert proc.returncode == 0, output_of(proc)
    assert "keyguard@v" in output_of(proc)
    state = export(ws)
    [key] = resources(state, "aws:kms/key:Key")
    [bucket] = resources(state, "aws:s3/bucket:Bucket")
    [role] = resources(state, "vault:aws/secretBackendRole:SecretBackendRole")
    # real ids and ARNs, the same the emulator reports
    meta = aws(moto, "kms").describe_key(KeyId=key["id"])["KeyMetadata"]
    assert key["outputs"]["arn"] == meta["Arn"]
    assert aws(moto, "kms").get_key_rotation_status(KeyId=key["id"])["KeyRotationEnabled"] is True
    aws(moto, "s3").head_bucket(Bucket=bucket["id"])
    assert bucket["outputs"]["arn"] == f"arn:aws:s3:::{bucket['id']}"
    rules = aws(moto, "s3").get_bucket_encryption(Bucket=bucket["id"])["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": meta["Arn"]}
    data = cli_vault.client().read(role["id"])["data"]
    document = json.loads(data["policy_document"])
    granted = {r for s in document["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str)
                                                          else s["Resource"])}
    assert meta["Arn"] in granted and f"arn:aws:s3:::{bucket['id']}" in granted
    mount = cli_vault.client().sys.read_mount_configuration("aws-cli-up")
    assert mount["data"]["default_lease_ttl"] == 3600 and mount["data"]["max_lease_ttl"] == 14400


def test_preview_of_the_deployed_stack_judges_the_iam_documents_with_known_values(deployed):
    ws, up = deployed
    assert up.returncode == 0, output_of(up)
    proc = ws.preview()
    out = output_of(proc)
    assert proc.returncode == 0, out
    assert CANNOT_BE_KNOWN not in out
    assert verdicts(out) == set()


def test_the_seed_role_document_is_blocked_on_update(deployed, cli_vault):
    ws, up = deployed
    assert up.returncode == 0, output_of(up)
    [role] = resources(export(ws), "vault:aws/secretBackendRole:SecretBackendRole")
    before = cli_vault.client().read(role["id"])["data"]["policy_document"]
    documents = ws.dir / "keyguard_stack" / "documents.py"
    original = documents.read_text()
    use_seed_document(ws)
    try:
        preview = ws.preview()
        assert preview.returncode == 1, output_of(preview)
        # the program gives the same document to the role and to the IAM boundary policy
        assert {("iam-action-resource-match", "ai-app-role"), ("iam-action-resource-match", "vault-user-boundary")} \
            <= verdicts(output_of(preview), "mandatory"), output_of(preview)
        assert CANNOT_BE_KNOWN not in output_of(preview)
        update = ws.up()
        assert update.returncode != 0, output_of(update)
        # the engine stops at the first blocked step (the boundary policy is updated before the role)
        assert "iam-action-resource-match" in {p for p, _ in verdicts(output_of(update), "mandatory")}
    finally:
        documents.write_text(original)
    assert cli_vault.client().read(role["id"])["data"]["policy_document"] == before


def test_parity_with_the_audit_on_the_compliant_stack(deployed, tmp_path):
    ws, up = deployed
    assert up.returncode == 0, output_of(up)
    cli = verdicts(output_of(ws.preview()))
    assert cli == set()
    assert audit_violations(ws, tmp_path) == cli


def test_parity_with_the_audit_on_a_violating_stack(pulumi_toolchain, own_moto, cli_vault, tmp_path_factory,
                                                    tmp_path):
    """Deployed with every policy advisory; the CLI's advisory lines and the audit of the export agree."""
    with workspace(tmp_path_factory.mktemp("cli-violating"), pulumi_toolchain, own_moto, cli_vault,
                   "aws-cli-violating") as ws:
        program = ws.dir / "keyguard_stack" / "program.py"
        replace_in(program, "enable_key_rotation=True,", "enable_key_rotation=False,")
        replace_in(program, '"sse_algorithm": "aws:kms",\n                "kms_master_key_id": key.arn,',
                   '"sse_algorithm": "AES256",')
        ws.set_config({"keyguard:defaultLeaseTtlSeconds": 7200})
        advisory = write_config(tmp_path, "advisory", {"all": "advisory"})
        up = ws.up(advisory)
        assert up.returncode == 0, output_of(up)
        preview = ws.preview(advisory)
        assert preview.returncode == 0, output_of(preview)
        cli = verdicts(output_of(preview), "advisory")
        assert {("kms-key-rotation-enabled", "ai-app-kms-key"), ("s3-bucket-sse-kms-cmk", "ai-app-data-encryption"),
                ("vault-mount-ttl-bounds", "ai-app-backend")} <= cli, output_of(preview)
        assert audit_violations(ws, tmp_path, advisory) == cli


def test_remediation_turns_key_rotation_on_during_up(pulumi_toolchain, own_moto, cli_vault, tmp_path_factory,
                                                     tmp_path):
    with workspace(tmp_path_factory.mktemp("cli-remediate"), pulumi_toolchain, own_moto, cli_vault,
                   "aws-cli-remediate") as ws:
        replace_in(ws.dir / "keyguard_stack" / "program.py", "enable_key_rotation=True,", "enable_key_rotation=False,")
        config = write_config(tmp_path, "remediate", {"kms-key-rotation-enabled": {"enforcementLevel": "remediate"}})
        up = ws.up(config)
        assert up.returncode == 0, output_of(up)
        [key] = resources(export(ws), "aws:kms/key:Key")
        assert key["inputs"]["enableKeyRotation"] is True
        assert key["outputs"]["enableKeyRotation"] is True
        assert aws(own_moto, "kms").get_key_rotation_status(KeyId=key["id"])["KeyRotationEnabled"] is True
