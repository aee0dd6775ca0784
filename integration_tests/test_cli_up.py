"""`pulumi up --policy-pack policy_pack` deploys the real program (stack/) to the AWS emulator and a dev
Vault through keyguard's offline providers (the session's deployment, conftest.py, on moto and on
LocalStack), then:

- a preview of the deployed stack judges the IAM documents with known values (no "can't be known");
- the seed's role document is blocked by iam-action-resource-match on update, and nothing changes;
- kms-key-rotation-enabled at `remediate` turns rotation on during `up` (state and emulator);
- `keyguard audit --state` on `pulumi stack export` reports the same policy x resource violations
  as the CLI, for the compliant stack and a violating one.

The violating and remediated stacks are deployed beside the session's on the same emulator and Vault,
with names of their own (mounts, ACL policy, KMS alias), and destroyed afterwards. Both emulators
answer these tests alike; the only LocalStack difference is the TLS-only bucket policy, which the
session's stack carries on LocalStack and not on moto (see conftest.deployment)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from . import clients, stack_deploy
from .pulumi_cli import CANNOT_BE_KNOWN, Workspace, output_of, replace_in, use_seed_document, verdicts, write_config

pytestmark = pytest.mark.integration


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


@pytest.fixture
def deployed(deployment) -> tuple[Workspace, str]:
    """The session's stack and what its `pulumi up --policy-pack` printed."""
    return deployment.workspace, deployment.up_output


@pytest.fixture(scope="module")
def deployed_preview(deployment) -> subprocess.CompletedProcess:
    """`pulumi preview --policy-pack` of the session's stack as deployed (one run for the tests that read it)."""
    return deployment.workspace.preview()


@pytest.fixture
def beside(deployment, vault_server, pulumi_toolchain, tmp_path_factory) -> Iterator[Any]:
    """Another copy of the stack to deploy beside the session's (names of its own), destroyed after."""
    made: list[Workspace] = []

    def make(prefix: str) -> Workspace:
        ws = stack_deploy.workspace(
            tmp_path_factory.mktemp(prefix), pulumi_toolchain, endpoint=deployment.emulator.endpoint,
            region=deployment.emulator.region, credentials=deployment.admin, vault_address=vault_server.address,
            vault_token=vault_server.token, vault_mount_type=vault_server.aws_mount_type,
            vault_root=deployment.vault_root, names=stack_deploy.StackNames.prefixed(clients.unique_name(prefix)),
            tls_only_bucket_policy=deployment.emulator.kind != "moto")
        made.append(ws)
        return ws

    yield make
    for ws in made:
        destroyed = ws.run("destroy", "--yes", timeout=stack_deploy.UP_TIMEOUT)
        ws.cleanup()
        assert destroyed.returncode == 0, output_of(destroyed)


def test_up_deploys_the_program_to_the_emulator_and_vault(deployed, deployment, vault):
    ws, up = deployed
    assert "keyguard@v" in up
    state = export(ws)
    [key] = resources(state, "aws:kms/key:Key")
    [bucket] = resources(state, "aws:s3/bucket:Bucket")
    [role] = resources(state, "vault:aws/secretBackendRole:SecretBackendRole")
    [backend] = resources(state, "vault:aws/secretBackend:SecretBackend")
    # real ids and ARNs, the same the emulator reports
    kms, s3 = deployment.client("kms"), deployment.client("s3")
    meta = kms.describe_key(KeyId=key["id"])["KeyMetadata"]
    assert key["outputs"]["arn"] == meta["Arn"]
    assert kms.get_key_rotation_status(KeyId=key["id"])["KeyRotationEnabled"] is True
    s3.head_bucket(Bucket=bucket["id"])
    assert bucket["outputs"]["arn"] == f"arn:aws:s3:::{bucket['id']}"
    rules = s3.get_bucket_encryption(Bucket=bucket["id"])["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": meta["Arn"]}
    data = vault.read(role["id"])["data"]
    document = json.loads(data["policy_document"])
    granted = {r for s in document["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str)
                                                          else s["Resource"])}
    assert meta["Arn"] in granted and f"arn:aws:s3:::{bucket['id']}" in granted
    mount = vault.sys.read_mount_configuration(backend["id"])
    assert mount["data"]["default_lease_ttl"] == 3600 and mount["data"]["max_lease_ttl"] == 14400


def test_preview_of_the_deployed_stack_judges_the_iam_documents_with_known_values(deployed_preview):
    proc = deployed_preview
    out = output_of(proc)
    assert proc.returncode == 0, out
    assert CANNOT_BE_KNOWN not in out
    assert verdicts(out) == set()


def test_the_seed_role_document_is_blocked_on_update(deployed, vault):
    ws, _ = deployed
    [role] = resources(export(ws), "vault:aws/secretBackendRole:SecretBackendRole")
    before = vault.read(role["id"])["data"]["policy_document"]
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
    assert vault.read(role["id"])["data"]["policy_document"] == before
    # the session's stack is as it was: the restored program has nothing to change
    unchanged = ws.preview(None, "--expect-no-changes")
    assert unchanged.returncode == 0, output_of(unchanged)


def test_parity_with_the_audit_on_the_compliant_stack(deployed, deployed_preview, tmp_path):
    ws, _ = deployed
    assert deployed_preview.returncode == 0, output_of(deployed_preview)
    cli = verdicts(output_of(deployed_preview))
    assert cli == set()
    assert audit_violations(ws, tmp_path) == cli


def test_parity_with_the_audit_on_a_violating_stack(beside, tmp_path):
    """Deployed with every policy advisory; the CLI's advisory lines and the audit of the export agree."""
    ws = beside("cli-violating")
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


def test_remediation_turns_key_rotation_on_during_up(beside, deployment, tmp_path):
    ws = beside("cli-remediate")
    replace_in(ws.dir / "keyguard_stack" / "program.py", "enable_key_rotation=True,", "enable_key_rotation=False,")
    config = write_config(tmp_path, "remediate", {"kms-key-rotation-enabled": {"enforcementLevel": "remediate"}})
    up = ws.up(config)
    assert up.returncode == 0, output_of(up)
    [key] = resources(export(ws), "aws:kms/key:Key")
    assert key["inputs"]["enableKeyRotation"] is True
    assert key["outputs"]["enableKeyRotation"] is True
    assert deployment.client("kms").get_key_rotation_status(KeyId=key["id"])["KeyRotationEnabled"] is True
