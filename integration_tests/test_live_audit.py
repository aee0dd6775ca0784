"""Scenario: `keyguard audit --live` on the stack `pulumi up` deployed (the session's), with the export
the CLI wrote (`pulumi stack export`). A live audit of that export passes with no drift; each
out-of-band change is flagged by the right policy and as drift, while `--state` on the same export
still passes; every change is put back before the test ends. Faults never pass."""
from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import time
from pathlib import Path
from typing import Any, Iterator
from unittest import mock

import pytest

from keyguard.cli import main
from keyguard_policies import catalog

from . import clients, servers, stack_deploy
from .harness import Deployment

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

FAULT_BOUND = 30.0     # seconds: a dead or sealed server must not hold the audit longer
ACL_RULE = "vault-acl-policy-least-privilege"   # approle's rule; judged here once it exists
ACL = "ai-app-acl-policy"                       # the program's resource names
BACKEND, ROLE, KEY = "ai-app-backend", "ai-app-role", "ai-app-kms-key"


class Live:
    """The deployed stack, its export, and the environment a live audit reads (the harness's
    administrator's keys: on moto IAM enforcement is on)."""

    def __init__(self, deployment: Deployment, export: Path, vault_address: str, vault_token: str):
        self.deployment, self.stack, self.export = deployment, deployment.stack, export
        self.endpoint, self.kind = deployment.emulator.endpoint, deployment.emulator.kind
        self.region, self.account = deployment.emulator.region, deployment.account
        self.vault_address, self.vault_token = vault_address, vault_token
        declared = json.loads(export.read_text())["deployment"]["resources"]
        [acl] = [r for r in declared if r["type"] == "vault:index/policy:Policy"]
        self.acl_text = acl["inputs"]["policy"]

    def env(self, **changes: str | None) -> dict[str, str | None]:
        admin = self.deployment.admin
        env: dict[str, str | None] = {
            "AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": admin.access_key_id, "AWS_SECRET_ACCESS_KEY": admin.secret_access_key,
            "AWS_SESSION_TOKEN": None, "AWS_PROFILE": None, "VAULT_ADDR": self.vault_address,
            "VAULT_TOKEN": self.vault_token, "VAULT_NAMESPACE": None, "KEYGUARD_LIVE_WORKERS": "4"}
        env.update(changes)
        return env

    def client(self, service: str) -> Any:
        return self.deployment.client(service)


@contextlib.contextmanager
def _environment(env: dict[str, str | None]) -> Iterator[None]:
    with mock.patch.dict(os.environ):
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield


def audit(env: dict[str, str | None], *args: str) -> tuple[int, dict | None, str]:
    """`keyguard audit ... --format json` in-process: exit code, the report (None if none), stderr."""
    out, err = io.StringIO(), io.StringIO()
    with _environment(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["audit", *args, "--format", "json"])
    return code, (json.loads(out.getvalue()) if out.getvalue().strip() else None), err.getvalue()


def findings(report: dict, kind: str) -> set[tuple[str | None, str]]:
    return {(f["policy"], f["urn"].rsplit("::", 1)[-1]) for f in report["findings"] if f["kind"] == kind}


def drifted(report: dict) -> set[tuple[str, str | None]]:
    return {(f["urn"].rsplit("::", 1)[-1], f["property"]) for f in report["findings"] if f["kind"] == "drift"}


@pytest.fixture(scope="module")
def live(deployment, vault_server, tmp_path_factory) -> Live:
    export = tmp_path_factory.mktemp(f"live-{deployment.emulator.kind}") / "export.json"
    export.write_text(json.dumps(stack_deploy.export(deployment.workspace)))
    return Live(deployment, export, vault_server.address, vault_server.token)


def test_live_audit_of_the_deployed_stack_passes_without_drift(live: Live):
    code, report, err = audit(live.env(), "--live", "--state", str(live.export))
    assert (code, err) == (0, "")
    assert report["summary"]["passed"] is True
    assert report["summary"]["drift"] == 0 and drifted(report) == set()
    assert findings(report, "violation") == set()
    mandatory_unverifiable = {f["policy"] for f in report["findings"]
                              if f["kind"] == "unverifiable" and f["enforcement"] == "mandatory"}
    assert mandatory_unverifiable == set()
    # the one advisory check KMS cannot answer: the deletion window is not exposed while the key is live
    assert findings(report, "unverifiable") == {("kms-key-deletion-window", KEY)}
    [window] = [f for f in report["findings"] if f["kind"] == "unverifiable"]
    assert "not exposed" in window["message"]
    source = report["source"]
    assert source["kind"] == "live" and source["stack"] == "dev"
    assert source["aws"] == {"region": live.region, "account": live.account, "endpoint": live.endpoint}
    assert source["vault"] == {"address": live.vault_address}
    text = json.dumps(report)
    assert live.vault_token not in text
    judged = {p["name"]: p["status"] for p in report["policies"]}
    assert judged["kms-key-rotation-enabled"] == judged["s3-bucket-sse-kms-cmk"] == "pass"
    assert judged["vault-mount-ttl-bounds"] == judged["iam-no-wildcard-actions"] == "pass"


def test_declared_state_alone_passes(live: Live):
    code, report, _ = audit(live.env(), "--state", str(live.export))
    assert code == 0 and report["summary"]["passed"] is True


@contextlib.contextmanager
def _rotation_disabled(live: Live, vault) -> Iterator[None]:
    kms = live.client("kms")
    kms.disable_key_rotation(KeyId=live.stack.key_id)
    try:
        yield
    finally:
        kms.enable_key_rotation(KeyId=live.stack.key_id, RotationPeriodInDays=365)


@contextlib.contextmanager
def _bucket_aes256(live: Live, vault) -> Iterator[None]:
    s3 = live.client("s3")
    s3.put_bucket_encryption(Bucket=live.stack.bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    try:
        yield
    finally:
        s3.put_bucket_encryption(Bucket=live.stack.bucket, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": live.stack.key_arn},
            "BucketKeyEnabled": True}]})


@contextlib.contextmanager
def _mount_max_ttl_up(live: Live, vault) -> Iterator[None]:
    vault.sys.tune_mount_configuration(live.stack.backend_path, max_lease_ttl="768h")
    try:
        yield
    finally:
        vault.sys.tune_mount_configuration(live.stack.backend_path, max_lease_ttl="14400s")


@contextlib.contextmanager
def _role_widened(live: Live, vault) -> Iterator[None]:
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    clients.write_role(vault, live.stack.backend_path, live.stack.role, "iam_user", wide,
                       permissions_boundary_arn=live.stack.boundary_policy_arn)
    try:
        yield
    finally:
        clients.write_role(vault, live.stack.backend_path, live.stack.role, "iam_user", live.stack.role_document,
                           permissions_boundary_arn=live.stack.boundary_policy_arn)


@contextlib.contextmanager
def _acl_widened(live: Live, vault) -> Iterator[None]:
    vault.sys.create_or_update_policy(live.stack.acl_policy,
                                      live.acl_text + 'path "sys/*" {\n  capabilities = ["sudo", "update"]\n}\n')
    try:
        yield
    finally:
        vault.sys.create_or_update_policy(live.stack.acl_policy, live.acl_text)


CHANGES = {
    # change: (context, policy that must flag it, resource it flags, drifted resource and property)
    "rotation-disabled": (_rotation_disabled, "kms-key-rotation-enabled", "ai-app-kms-key",
                          ("ai-app-kms-key", "enableKeyRotation")),
    "bucket-aes256": (_bucket_aes256, "s3-bucket-sse-kms-cmk", "ai-app-data-encryption",
                      ("ai-app-data-encryption", "rules")),
    "mount-max-ttl-up": (_mount_max_ttl_up, "vault-mount-ttl-bounds", "ai-app-backend",
                         ("ai-app-backend", "maxLeaseTtlSeconds")),
    "role-widened": (_role_widened, "iam-no-wildcard-actions", "ai-app-role", ("ai-app-role", "policyDocument")),
    "acl-widened": (_acl_widened, ACL_RULE, ACL, (ACL, "policy")),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_out_of_band_change_is_flagged_live_and_as_drift(live: Live, vault, change: str):
    context, policy, resource, drift = CHANGES[change]
    with context(live, vault):
        code, report, err = audit(live.env(), "--live", "--state", str(live.export))
        gated, gated_report, _ = audit(live.env(), "--live", "--state", str(live.export), "--allow-unverifiable",
                                       "--fail-on-drift", "--fail-on", "never")
        declared_code, declared, _ = audit(live.env(), "--state", str(live.export))
    assert drift in drifted(report)
    [entry] = [f for f in report["findings"] if f["kind"] == "drift" and (f["urn"].rsplit("::", 1)[-1],
                                                                             f["property"]) == drift]
    assert entry["policy"] is None and entry["declared"] != entry["live"]
    if policy in catalog.policies():
        assert (policy, resource) in findings(report, "violation")
        assert code == 1 and report["summary"]["passed"] is False
    assert gated == 1 and gated_report["summary"]["passed"] is False   # drift alone blocks with --fail-on-drift
    assert (declared_code, declared["summary"]["passed"]) == (0, True)
    assert drifted(declared) == set()
    assert live.vault_token not in json.dumps(report)
    # put back: the next audit is clean again
    code, report, _ = audit(live.env(), "--live", "--state", str(live.export))
    assert (code, drifted(report)) == (0, set())


def test_drift_alone_does_not_block_without_fail_on_drift(live: Live, vault):
    vault.sys.tune_mount_configuration(live.stack.backend_path, max_lease_ttl="7200s")   # tighter: still compliant
    try:
        code, report, _ = audit(live.env(), "--live", "--state", str(live.export))
        blocked, _, _ = audit(live.env(), "--live", "--state", str(live.export), "--fail-on-drift")
    finally:
        vault.sys.tune_mount_configuration(live.stack.backend_path, max_lease_ttl="14400s")
    assert drifted(report) == {("ai-app-backend", "maxLeaseTtlSeconds")}
    [entry] = [f for f in report["findings"] if f["kind"] == "drift"]
    assert (entry["declared"], entry["live"], entry["enforcement"]) == (14400.0, 7200, "advisory")
    assert (code, blocked) == (0, 1)


def test_resource_deleted_out_of_band_is_drift_and_unverifiable(live: Live, vault, tmp_path):
    """An extra ACL policy in the export that is not in Vault: gone, its checks unverifiable."""
    export = json.loads(live.export.read_text())
    ghost = json.loads(json.dumps([r for r in export["deployment"]["resources"]
                                   if r["type"] == "vault:index/policy:Policy"][0]))
    ghost["urn"] = ghost["urn"].replace(ACL, "deleted-policy")
    ghost["inputs"]["name"] = ghost["outputs"]["name"] = ghost["id"] = clients.unique_name("never-created")
    export["deployment"]["resources"].append(ghost)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    code, report, _ = audit(live.env(), "--live", "--state", str(path))
    assert ("deleted-policy", None) in drifted(report)
    if ACL_RULE in catalog.policies():
        assert (ACL_RULE, "deleted-policy") in findings(report, "unverifiable")
        assert code == 1


def test_discovery_finds_the_deployed_stack_and_judges_it(live: Live):
    import contextlib as _c

    from keyguard.sources import live as live_source

    class Quiet:
        def task(self, *args, **kwargs):
            return _c.nullcontext(lambda n=None: None)

    with _environment(live.env()):
        discovered = live_source.run(None, 4, Quiet())
    names = {(r.type.split(":")[-1], r.name) for r in discovered.resources}
    stack = live.stack
    assert {("Key", stack.key_id), ("Alias", stack.alias), ("Bucket", stack.bucket),
            ("BucketServerSideEncryptionConfiguration", f"{stack.bucket}-encryption"),
            ("Policy", stack.boundary_policy_arn.rsplit("/", 1)[-1]),
            ("SecretBackend", stack.backend_path), ("SecretBackendRole", f"{stack.backend_path}/{stack.role}"),
            ("AuthBackend", stack.approle_mount), ("AuthBackendRole", f"{stack.approle_mount}/{stack.approle_role}"),
            ("Policy", stack.acl_policy)} <= names
    assert not {n for t, n in names if t == "Policy" and n in ("root", "default")}
    assert not {n for t, n in names if t == "BucketPublicAccessBlock"}   # judged by no policy: not read
    assert discovered.gaps == [] and discovered.drift == []
    assert discovered.aws["endpoint"] == live.endpoint and discovered.vault == {"address": live.vault_address}

    code, report, err = audit(live.env(), "--live")
    assert err == "" and report["source"]["kind"] == "live" and report["source"]["path"] == ""
    assert ("kms-key-deletion-window", live.stack.key_id) in findings(report, "unverifiable")
    ours = {stack.key_id, stack.bucket, f"{stack.bucket}-encryption", f"{stack.backend_path}/{stack.role}",
            stack.backend_path, stack.acl_policy, f"{stack.approle_mount}/{stack.approle_role}"}
    assert {(p, n) for p, n in findings(report, "violation") if n in ours} == set()
    assert report["summary"]["drift"] == 0   # nothing declared: nothing to drift from


# --- faults: never a pass ---------------------------------------------------------------------------------

def _only(export: Path, tmp_path: Path, prefix: str) -> Path:
    data = json.loads(export.read_text())
    data["deployment"]["resources"] = [r for r in data["deployment"]["resources"] if r["type"].startswith(prefix)]
    path = tmp_path / f"only-{prefix.rstrip(':')}.json"
    path.write_text(json.dumps(data))
    return path


def test_vault_down_with_only_vault_resources_is_a_clear_error(live: Live, tmp_path):
    address = f"http://127.0.0.1:{servers.free_port()}"   # nothing listens there
    started = time.monotonic()
    code, report, err = audit(live.env(VAULT_ADDR=address), "--live", "--state",
                              str(_only(live.export, tmp_path, "vault:")))
    assert time.monotonic() - started < FAULT_BOUND
    assert (code, report) == (2, None)
    assert err.count("\n") == 1 and "live audit read nothing" in err and address in err
    assert "Traceback" not in err and live.vault_token not in err


def test_vault_that_never_answers_makes_vault_checks_unverifiable(live: Live):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        address = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        code, report, _ = audit(live.env(VAULT_ADDR=address, KEYGUARD_LIVE_READ_TIMEOUT="1",
                                         KEYGUARD_LIVE_MAX_ATTEMPTS="1"), "--live", "--state", str(live.export))
    assert time.monotonic() - started < FAULT_BOUND
    assert code == 1 and report["summary"]["passed"] is False
    unverifiable = findings(report, "unverifiable")
    assert {("vault-mount-ttl-bounds", "ai-app-backend"), ("vault-role-credential-type", "ai-app-role")} <= unverifiable
    assert ("kms-key-rotation-enabled", "ai-app-kms-key") not in unverifiable   # AWS was still read
    messages = [f["message"] for f in report["findings"] if f["urn"].endswith("::ai-app-backend")]
    assert any("timeout" in m or "unreachable" in m for m in messages)


def test_sealed_vault_never_passes(live: Live, sealed_vault, tmp_path):
    sealed = sealed_vault
    started = time.monotonic()
    code, report, _ = audit(live.env(VAULT_ADDR=sealed.address, VAULT_TOKEN=sealed.token),
                            "--live", "--state", str(live.export))
    only, none, err = audit(live.env(VAULT_ADDR=sealed.address, VAULT_TOKEN=sealed.token),
                            "--live", "--state", str(_only(live.export, tmp_path, "vault:")))
    assert time.monotonic() - started < FAULT_BOUND
    assert code == 1 and ("vault-mount-ttl-bounds", "ai-app-backend") in findings(report, "unverifiable")
    assert any("sealed" in f["message"] for f in report["findings"] if f["kind"] == "unverifiable")
    assert (only, none) == (2, None) and "sealed" in err and sealed.token not in err


def test_emulator_gone_never_passes(live: Live, tmp_path):
    endpoint = f"http://127.0.0.1:{servers.free_port()}"
    started = time.monotonic()
    code, report, _ = audit(live.env(AWS_ENDPOINT_URL=endpoint), "--live", "--state", str(live.export))
    only, none, err = audit(live.env(AWS_ENDPOINT_URL=endpoint), "--live", "--state",
                            str(_only(live.export, tmp_path, "aws:")))
    discovered, nothing, discovery_err = audit(live.env(AWS_ENDPOINT_URL=endpoint, VAULT_ADDR=None), "--live")
    assert time.monotonic() - started < FAULT_BOUND * 3
    assert code == 1 and ("kms-key-rotation-enabled", "ai-app-kms-key") in findings(report, "unverifiable")
    assert ("s3-bucket-sse-kms-cmk", "ai-app-data") in findings(report, "unverifiable")
    assert (only, none) == (2, None) and endpoint in err and err.count("\n") == 1
    assert (discovered, nothing) == (2, None) and endpoint in discovery_err


# --- the shipped read-only permissions (IAM enforcement: moto only) --------------------------------------

def _reader_token(vault, live: Live) -> str:
    from keyguard.permissions import render
    name = clients.unique_name("keyguard-live-audit")
    vault.sys.create_or_update_policy(name, render("vault", {"AwsMount": live.stack.backend_path,
                                                             "AppRoleMount": live.stack.approle_mount}))
    return vault.auth.token.create(policies=[name], ttl="10m", no_default_policy=True)["auth"]["client_token"]


def _reader_keys(live: Live, drop: str | None = None) -> clients.AwsCredentials:
    from keyguard.permissions import render
    document = json.loads(render("aws", {
        "Region": live.region, "Account": live.account, "KeyId": live.stack.key_id,
        "Bucket": live.stack.bucket, "PolicyName": live.stack.boundary_policy_arn.rsplit("/", 1)[-1]}))
    if drop:
        document["Statement"] = [s for s in document["Statement"] if not s["Action"][0].startswith(drop + ":")]
    return clients.create_iam_user_with_keys(live.endpoint, live.deployment.admin, live.region,
                                             clients.unique_name("keyguard-auditor"), as_moto_evaluates(document))


def as_moto_evaluates(document: dict) -> dict:
    """The same read-only actions, in the form moto 5.2.5's IAM enforcement can grant them. moto
    authorizes KMS and IAM calls against the resource "*" (core/responses.py `call_action`: only
    IAM role actions, SQS and STS determine a resource), so a statement scoped to the key or policy
    ARN never matches there: those statements get Resource "*" (the same actions, no others). Its
    S3 ACTION_MAP has no entry for `?encryption` and spells `?publicAccessBlock` as
    `public_access_block`, so GetBucketEncryption and GetPublicAccessBlock are checked as
    `s3:ListBucket`: the bucket statement gets that action too. On AWS the shipped document works
    as it is; keyguard's own policies judge it as it is (tests/test_live.py)."""
    out = json.loads(json.dumps(document))
    for statement in out["Statement"]:
        if statement["Action"][0].split(":")[0] in ("kms", "iam"):
            statement["Resource"] = "*"
        if "s3:GetEncryptionConfiguration" in statement["Action"]:
            statement["Action"] = [*statement["Action"], "s3:ListBucket"]
    return out


@pytest.mark.iam_enforcement
def test_shipped_read_only_permissions_are_enough_and_missing_ones_are_unverifiable(live: Live, iam_enforced, vault):
    token = _reader_token(vault, live)
    full, without_kms = _reader_keys(live), _reader_keys(live, drop="kms")
    env = {"AWS_ACCESS_KEY_ID": full.access_key_id, "AWS_SECRET_ACCESS_KEY": full.secret_access_key,
           "VAULT_TOKEN": token}
    code, report, err = audit(live.env(**env), "--live", "--state", str(live.export))
    env.update(AWS_ACCESS_KEY_ID=without_kms.access_key_id, AWS_SECRET_ACCESS_KEY=without_kms.secret_access_key)
    denied, denied_report, _ = audit(live.env(**env), "--live", "--state", str(live.export))
    assert (code, err) == (0, ""), json.dumps(report["findings"], indent=1)
    assert drifted(report) == set()
    assert findings(report, "unverifiable") == {("kms-key-deletion-window", KEY)}
    assert denied == 1 and denied_report["summary"]["passed"] is False
    unverifiable = findings(denied_report, "unverifiable")
    assert {("kms-key-rotation-enabled", "ai-app-kms-key"), ("kms-key-policy-no-public-principal", "ai-app-kms-key"),
            ("kms-key-symmetric-for-sse", "ai-app-kms-key")} <= unverifiable
    assert any("access denied" in f["message"] for f in denied_report["findings"] if f["kind"] == "unverifiable")
    assert findings(denied_report, "violation") == set()
