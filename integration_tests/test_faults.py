"""Scenario: faults give a clear error within bounded time, never a hang: Vault unreachable (nothing
listening, or a listener that never answers), Vault sealed, and the AWS emulator stopped under a stack
`pulumi up` deployed on it."""
from __future__ import annotations

import socket
import time

import pytest

from . import clients, servers, stack_deploy
from .harness import BOOTSTRAP, EMULATOR_KINDS, start_emulator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

FAST = 10.0  # seconds: connection refused, sealed
VAULT_CLIENT_TIMEOUT = 3


def test_vault_unreachable_gives_a_clear_error_fast(settings):
    address = f"http://127.0.0.1:{servers.free_port()}"  # nothing listens there
    client = clients.vault_client(address, "kg-not-a-real-token", timeout=VAULT_CLIENT_TIMEOUT)
    started = time.monotonic()
    with pytest.raises(clients.KeyguardRuntimeError, match="unreachable") as caught:
        clients.issue_credentials(client, settings.vault_backend_path, settings.vault_role_name)
    assert time.monotonic() - started < FAST
    assert address in str(caught.value)


def test_vault_that_never_answers_times_out(settings):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # accepts connections (kernel backlog) but never reads or answers
        address = f"http://127.0.0.1:{silent.getsockname()[1]}"
        client = clients.vault_client(address, "kg-not-a-real-token", timeout=VAULT_CLIENT_TIMEOUT)
        started = time.monotonic()
        with pytest.raises(clients.KeyguardRuntimeError, match="unreachable"):
            clients.issue_credentials(client, settings.vault_backend_path, settings.vault_role_name)
        assert time.monotonic() - started < VAULT_CLIENT_TIMEOUT * 2 + 5


def test_sealed_vault_gives_a_clear_error_fast(sealed_vault, settings):
    client = sealed_vault.client(timeout=VAULT_CLIENT_TIMEOUT)
    started = time.monotonic()
    with pytest.raises(clients.KeyguardRuntimeError, match="sealed") as caught:
        clients.issue_credentials(client, settings.vault_backend_path, settings.vault_role_name)
    assert time.monotonic() - started < FAST
    assert sealed_vault.address in str(caught.value)
    assert sealed_vault.token not in str(caught.value)


def test_emulator_stopped_mid_run_gives_a_clear_error(emulator, vault, vault_server, pulumi_toolchain, settings,
                                                      tmp_path):
    """The stack deployed by `pulumi up` on a dedicated emulator of the same kind as the session's (for an
    external endpoint, which these tests must not stop, a moto server stands in), with Vault mounts of
    its own in the session's Vault; then the emulator goes away."""
    kind = emulator.kind if emulator.server is not None and emulator.kind in EMULATOR_KINDS else "moto"
    server = start_emulator(kind, tmp_path)
    endpoint, region = server.url, settings.region
    names = stack_deploy.StackNames.prefixed(clients.unique_name(f"{settings.vault_backend_path}-fault"))
    ws = None
    try:
        # no IAM enforcement on this emulator: the bootstrap keys deploy and serve as Vault's root keys
        ws = stack_deploy.workspace(tmp_path / "stack", pulumi_toolchain, endpoint=endpoint, region=region,
                                    credentials=BOOTSTRAP, vault_address=vault_server.address,
                                    vault_token=vault_server.token, vault_mount_type=vault_server.aws_mount_type,
                                    vault_root=BOOTSTRAP, names=names, tls_only_bucket_policy=kind != "moto")
        stack_deploy.up(ws)
        deployed = stack_deploy.DeployedStack.from_export(stack_deploy.export(ws))
        issued = clients.issue_credentials(vault, deployed.backend_path, deployed.role)  # works mid-run...
        app = clients.aws_client("s3", endpoint, issued.credentials, region)
        app.put_object(Bucket=deployed.bucket, Key="before.txt", Body=b"ok")

        server.stop()                                                   # ...then the emulator goes away
        assert not server.running

        started = time.monotonic()
        with pytest.raises(clients.KeyguardRuntimeError, match="unreachable") as caught:
            clients.call_aws(endpoint, "s3:PutObject", app.put_object, Bucket=deployed.bucket,
                             Key="after.txt", Body=b"lost")
        assert time.monotonic() - started < 30
        assert endpoint in str(caught.value)

        started = time.monotonic()
        with pytest.raises(clients.KeyguardRuntimeError, match="could not issue credentials") as caught:
            clients.issue_credentials(vault, deployed.backend_path, deployed.role)
        assert time.monotonic() - started < 60
        assert vault_server.token not in str(caught.value)
    finally:
        server.stop()
        # The stack cannot be destroyed without its emulator: remove its Vault objects from the
        # session's Vault (forcing out the leases, whose IAM users died with the emulator).
        for cleanup in (lambda: vault.sys.revoke_force(names.backend_path),
                        lambda: vault.sys.disable_secrets_engine(names.backend_path),
                        lambda: vault.sys.disable_auth_method(names.approle_path),
                        lambda: vault.sys.delete_policy(names.acl_policy)):
            try:
                cleanup()
            except Exception:  # noqa: BLE001 - best effort; a part may not exist if the deployment failed early
                pass
        if ws is not None:
            ws.cleanup()
