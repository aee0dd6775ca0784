"""Scenario: faults give a clear error within bounded time, never a hang: Vault unreachable (nothing
listening, or a listener that never answers), Vault sealed, and the AWS emulator stopped mid-run."""
from __future__ import annotations

import socket
import time

import pytest

from . import design, servers
from .harness import BOOTSTRAP, EMULATOR_KINDS, start_emulator, start_own_vault

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

FAST = 10.0  # seconds: connection refused, sealed
VAULT_CLIENT_TIMEOUT = 3


def test_vault_unreachable_gives_a_clear_error_fast(settings):
    address = f"http://127.0.0.1:{servers.free_port()}"  # nothing listens there
    client = design.vault_client(address, "kg-not-a-real-token", timeout=VAULT_CLIENT_TIMEOUT)
    started = time.monotonic()
    with pytest.raises(design.KeyguardRuntimeError, match="unreachable") as caught:
        design.issue_credentials(client, settings.vault_backend_path, settings.vault_role_name)
    assert time.monotonic() - started < FAST
    assert address in str(caught.value)


def test_vault_that_never_answers_times_out(settings):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts connections (kernel backlog) but never reads or answers
        address = f"http://127.0.0.1:{silent.getsockname()[1]}"
        client = design.vault_client(address, "kg-not-a-real-token", timeout=VAULT_CLIENT_TIMEOUT)
        started = time.monotonic()
        with pytest.raises(design.KeyguardRuntimeError, match="unreachable"):
            design.issue_credentials(client, settings.vault_backend_path, settings.vault_role_name)
        assert time.monotonic() - started < VAULT_CLIENT_TIMEOUT * 2 + 5


def test_sealed_vault_gives_a_clear_error_fast(vault_build, tmp_path, settings):
    vault = start_own_vault(vault_build, tmp_path)  # a Vault of its own: this one gets sealed
    try:
        client = vault.client(timeout=VAULT_CLIENT_TIMEOUT)
        client.sys.seal()
        assert client.sys.is_sealed() is True
        started = time.monotonic()
        with pytest.raises(design.KeyguardRuntimeError, match="sealed") as caught:
            design.issue_credentials(client, settings.vault_backend_path, settings.vault_role_name)
        assert time.monotonic() - started < FAST
        assert vault.address in str(caught.value)
        assert vault.token not in str(caught.value)
    finally:
        assert vault.server is not None
        vault.server.stop()


def test_emulator_stopped_mid_run_gives_a_clear_error(emulator, vault, vault_server, settings, tmp_path):
    """A dedicated emulator of the same kind as the session's (for an external endpoint, which these
    tests must not stop, a moto server stands in)."""
    kind = emulator.kind if emulator.server is not None and emulator.kind in EMULATOR_KINDS else "moto"
    server = start_emulator(kind, tmp_path)
    endpoint, region = server.url, settings.region
    path = design.unique_name(f"{settings.vault_backend_path}-fault")
    try:
        provisioned = design.provision_design(endpoint, BOOTSTRAP, settings, apply_bucket_policy=kind != "moto")
        design.configure_vault(vault, settings, provisioned, BOOTSTRAP, endpoint, path=path,
                               mount_type=vault_server.aws_mount_type, max_retries=1)
        issued = design.issue_credentials(vault, path, settings.vault_role_name)  # works mid-run...
        app = design.aws_client("s3", endpoint, issued.credentials, region)
        app.put_object(Bucket=provisioned.bucket, Key="before.txt", Body=b"ok")

        server.stop()                                                   # ...then the emulator goes away
        assert not server.running

        started = time.monotonic()
        with pytest.raises(design.KeyguardRuntimeError, match="unreachable") as caught:
            design.call_aws(endpoint, "s3:PutObject", app.put_object, Bucket=provisioned.bucket,
                            Key="after.txt", Body=b"lost")
        assert time.monotonic() - started < 30
        assert endpoint in str(caught.value)

        started = time.monotonic()
        with pytest.raises(design.KeyguardRuntimeError, match="could not issue credentials") as caught:
            design.issue_credentials(vault, path, settings.vault_role_name)
        assert time.monotonic() - started < 60
        assert vault_server.token not in str(caught.value)
    finally:
        server.stop()
        try:  # the IAM users died with the emulator: drop their leases without calling it
            vault.sys.revoke_force(path)
            vault.sys.disable_secrets_engine(path)
        except Exception:  # noqa: BLE001 - best effort; the mount may not exist if setup failed early
            pass
