"""Scenario: the Vault root token and the AWS secret keys (issued, Vault's root, the harness's admin)
never appear in what the tests capture (log records, stdout/stderr) nor in the servers' log files; Vault's
root keys, which reach the deployed stack as config (the secret one a Pulumi secret), stay encrypted in
the stack's files and state, never appear in what `pulumi up` printed, and never in a `keyguard audit`
report, even of an export with its secrets in plaintext."""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
from pathlib import Path
from unittest import mock

import pytest

from keyguard.cli import main

from . import clients, servers, stack_deploy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def test_secrets_never_reach_logs(caplog, capsys, vault, vault_server, vault_backend, deployment, settings):
    caplog.set_level(logging.DEBUG)  # boto3, botocore, urllib3, hvac: everything they would log
    issued = clients.issue_credentials(vault, vault_backend.path, vault_backend.role)
    try:
        app = deployment.client("s3", issued.credentials)
        app.put_object(Bucket=deployment.stack.bucket, Key="secrets-check.txt", Body=b"x")
        app.get_object(Bucket=deployment.stack.bucket, Key="secrets-check.txt")["Body"].read()
        vault.sys.renew_lease(lease_id=issued.lease_id, increment=60)
        print(repr(issued), repr(deployment.vault_root), repr(vault_server))  # what a user's debug print shows
        logging.getLogger("keyguard.integration").info("issued %r", issued)
        # An error with the token in hand: its message must not carry the token either.
        unreachable = clients.vault_client(f"http://127.0.0.1:{servers.free_port()}", vault_server.token, timeout=2)
        with pytest.raises(clients.KeyguardRuntimeError) as caught:
            clients.issue_credentials(unreachable, vault_backend.path, vault_backend.role)
        print(caught.value)
    finally:
        vault.sys.revoke_lease(lease_id=issued.lease_id)

    secrets = {
        "Vault root token": vault_server.token,
        "issued secret key": issued.credentials.secret_access_key,
        "Vault's AWS root secret key": deployment.vault_root.secret_access_key,
        "harness admin secret key": deployment.admin.secret_access_key,
    }
    captured = capsys.readouterr()
    places = {"log records": caplog.text, "stdout": captured.out, "stderr": captured.err,
              "pulumi up output": deployment.up_output}
    assert "lease_id" in captured.out and caplog.records  # the capture did see the flow
    if vault_server.server is not None:
        vault_log = vault_server.server.log_text()
        assert "Root Token: <redacted>" in vault_log  # the dev banner was there, and redacted
        places["Vault server log"] = vault_log
    if deployment.emulator.server is not None:
        emulator_log = deployment.emulator.server.log_text()
        assert emulator_log.strip()
        places[f"{deployment.emulator.kind} log"] = emulator_log
    leaks = [f"{name} in {place}" for name, secret in secrets.items() for place, text in places.items()
             if secret and secret in text]
    assert not leaks, leaks


def test_server_errors_redact_secrets():
    text = "Root Token: hvs.abc\nUnseal Key: xyz=\nother line with tok-123"
    cleaned = servers.redact(text, secrets=["tok-123"])
    assert "hvs.abc" not in cleaned and "xyz=" not in cleaned and "tok-123" not in cleaned
    assert "Root Token: <redacted>" in cleaned


def _files_containing(root: Path, secret: str) -> list[str]:
    return [str(path) for path in root.rglob("*") if path.is_file() and secret.encode() in path.read_bytes()]


def test_vault_root_keys_stay_secret_in_the_stack(deployment, vault, vault_backend):
    secret = deployment.vault_root.secret_access_key
    ws = deployment.workspace
    # Vault has them (they work: the engine issues credentials) and shows only the key id
    root = vault.read(f"{vault_backend.path}/config/root")["data"]
    assert root["access_key"] == deployment.vault_root.access_key_id and "secret_key" not in root
    # the CLI keeps the secret encrypted in the stack's config file and its state, and never prints it
    assert "secure:" in (ws.dir / f"Pulumi.{ws.stack_name}.yaml").read_text()
    assert _files_containing(ws.root, secret) == []
    assert secret not in deployment.up_output
    [backend] = [r for r in stack_deploy.export(ws)["deployment"]["resources"]
                 if r["type"] == "vault:aws/secretBackend:SecretBackend"]
    for props in (backend["inputs"], backend["outputs"]):
        for key in ("accessKey", "secretKey"):   # both secrets, as pulumi-vault marks them
            assert set(props[key]) == {stack_deploy.SECRET_SIG, "ciphertext"}, (key, props[key])
    plaintext = stack_deploy.export(ws, show_secrets=True)
    [backend] = [r for r in plaintext["deployment"]["resources"] if r["type"] == "vault:aws/secretBackend:SecretBackend"]
    assert json.loads(backend["inputs"]["secretKey"]["plaintext"]) == secret   # the export below does carry it


def _audit(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["audit", *args])
    return code, out.getvalue(), err.getvalue()


def test_audit_reports_never_contain_the_vault_root_keys(deployment, vault_server, tmp_path):
    """`keyguard audit --state` of the deployed stack's export WITH its secrets in plaintext, in every
    format, and `--live` against the servers (which read Vault's config/root): the root keys of Vault's
    engine appear in no report, file or message."""
    keys = {"Vault root secret key": deployment.vault_root.secret_access_key,
            "Vault root access key id": deployment.vault_root.access_key_id}
    export = tmp_path / "export.json"
    export.write_text(json.dumps(stack_deploy.export(deployment.workspace, show_secrets=True)))
    assert keys["Vault root secret key"] in export.read_text()
    formats = [arg for fmt in ("table", "json", "sarif", "junit", "markdown", "html") for arg in ("--format", fmt)]
    env = {"AWS_ENDPOINT_URL": deployment.emulator.endpoint, "AWS_REGION": deployment.emulator.region,
           "AWS_DEFAULT_REGION": deployment.emulator.region, "AWS_ACCESS_KEY_ID": deployment.admin.access_key_id,
           "AWS_SECRET_ACCESS_KEY": deployment.admin.secret_access_key, "VAULT_ADDR": vault_server.address,
           "VAULT_TOKEN": vault_server.token}
    outputs: dict[str, str] = {}
    for name, extra in {"state": [], "live": ["--live"]}.items():
        out_dir = tmp_path / name
        code, out, err = _audit(["--state", str(export), *extra, "--no-color", *formats, "--output", str(out_dir),
                                 "--fail-on", "never"], env)
        assert code == 0, err
        written = sorted(out_dir.iterdir())
        assert {path.suffix for path in written} >= {".json", ".sarif", ".xml", ".md", ".html"}
        report = json.loads((out_dir / "keyguard-report.json").read_text())
        assert report["summary"]["resources"] > 0 and any(p["status"] == "pass" for p in report["policies"])
        outputs.update({f"{name}: {path.name}": path.read_text() for path in written})
        outputs.update({f"{name}: stdout": out, f"{name}: stderr": err})
    code, out, err = _audit(["--state", str(export), "--format", "json", "--fail-on", "never"], env)
    assert code == 0 and json.loads(out)["source"]["kind"] == "state"
    outputs.update({"stdout json": out, "stderr json": err})
    leaks = [f"{what} in {where}" for what, key in keys.items() for where, text in outputs.items() if key in text]
    assert not leaks, leaks
