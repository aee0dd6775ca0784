"""Scenario: the Vault root token and the AWS secret keys (issued, Vault's root, the harness's admin)
never appear in what the tests capture (log records, stdout/stderr) nor in the servers' log files."""
from __future__ import annotations

import logging

import pytest

from . import design, servers

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def test_secrets_never_reach_logs(caplog, capsys, vault, vault_server, vault_backend, deployment, settings):
    caplog.set_level(logging.DEBUG)  # boto3, botocore, urllib3, hvac: everything they would log
    issued = design.issue_credentials(vault, vault_backend.path, vault_backend.role)
    try:
        app = deployment.client("s3", issued.credentials)
        app.put_object(Bucket=deployment.design.bucket, Key="secrets-check.txt", Body=b"x")
        app.get_object(Bucket=deployment.design.bucket, Key="secrets-check.txt")["Body"].read()
        vault.sys.renew_lease(lease_id=issued.lease_id, increment=60)
        print(repr(issued), repr(deployment.vault_root), repr(vault_server))  # what a user's debug print shows
        logging.getLogger("keyguard.integration").info("issued %r", issued)
        # An error with the token in hand: its message must not carry the token either.
        unreachable = design.vault_client(f"http://127.0.0.1:{servers.free_port()}", vault_server.token, timeout=2)
        with pytest.raises(design.KeyguardRuntimeError) as caught:
            design.issue_credentials(unreachable, vault_backend.path, vault_backend.role)
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
    places = {"log records": caplog.text, "stdout": captured.out, "stderr": captured.err}
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
