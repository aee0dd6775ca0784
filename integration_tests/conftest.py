"""Fixtures of the integration suite: real servers, started once per session.

- `emulator` is parametrized over the AWS emulators: ["moto", "localstack"] (KEYGUARD_EMULATORS=moto
  picks one), or ["external"] when AWS_ENDPOINT_URL names one that runs already (docker-compose).
- `vault_server` is a dev-mode Vault per emulator, or the one at VAULT_ADDR (with VAULT_TOKEN).
- The one-time preparation (building Vault, LocalStack's venv) runs right after collection, outside
  any test's timeout; a failure there becomes an ERROR of every test that needs that server.

A server that cannot start is an error, never a skip. The only skips are the scenarios that need IAM
enforcement, which only moto provides offline: on LocalStack they say so.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from keyguard.sources.pulumi_config import stack_config
from keyguard_stack.settings import StackSettings  # importable through __init__.py

from . import design, harness, pulumi_cli, servers
from .harness import (BOOTSTRAP, EMULATOR_KINDS, IAM_ENFORCEMENT_REASON, Deployment, Emulator, VaultServer,
                      start_emulator, start_own_vault)

HERE = Path(__file__).resolve().parent


def emulator_params() -> list[str]:
    if os.environ.get("AWS_ENDPOINT_URL"):
        return ["external"]
    wanted = [kind.strip() for kind in os.environ.get("KEYGUARD_EMULATORS", ",".join(EMULATOR_KINDS)).split(",")
              if kind.strip()]
    unknown = sorted(set(wanted) - set(EMULATOR_KINDS))
    if unknown or not wanted:
        raise pytest.UsageError(f"KEYGUARD_EMULATORS must list some of {', '.join(EMULATOR_KINDS)}, "
                                f"not {os.environ.get('KEYGUARD_EMULATORS')!r}")
    return wanted


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: needs the AWS emulator and Vault servers")
    config.addinivalue_line("markers", "iam_enforcement: needs an AWS emulator that enforces IAM (moto only)")


# --- one-time preparation, outside the tests' timeouts ---------------------------------------------------

def pytest_collection_finish(session: pytest.Session) -> None:
    items = [item for item in session.items if HERE in Path(str(item.path)).resolve().parents]
    if not items:
        return
    names = set().union(*(set(getattr(item, "fixturenames", ())) for item in items))
    params = {getattr(item, "callspec", None) and item.callspec.params.get("emulator") for item in items}
    jobs: dict[str, Callable[[], Any]] = {}
    if "vault_build" in names or ("vault_server" in names and not os.environ.get("VAULT_ADDR")):
        jobs["vault"] = servers.build_vault
    if "localstack" in params:
        jobs["localstack"] = servers.setup_localstack
    if "pulumi_toolchain" in names:  # the real Pulumi CLI, language host and providers (toolchain/build.sh)
        jobs["pulumi"] = pulumi_cli.prepare_toolchain
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and jobs:
        reporter.write_line(f"keyguard integration: preparing {', '.join(jobs)} (reused from {servers.cache_dir()} "
                            f"when built; the first build of Vault from Go modules takes several minutes)")
    started = time.monotonic()
    threads = [threading.Thread(target=harness.prepare, args=(name, job), daemon=True) for name, job in jobs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if reporter is not None and jobs:
        states = ", ".join(f"{name}: {'FAILED' if isinstance(harness.PREPARED[name], Exception) else 'ready'}"
                           for name in jobs)
        reporter.write_line(f"keyguard integration: {states} ({time.monotonic() - started:.0f} s)")


@pytest.fixture(scope="session")
def vault_build() -> servers.VaultBuild:
    return harness.prepared("vault", servers.build_vault)


@pytest.fixture(scope="session")
def pulumi_toolchain() -> dict[str, str]:
    """The offline Pulumi toolchain (built cold in the one-time preparation; a failure is an error)."""
    return harness.prepared("pulumi", pulumi_cli.prepare_toolchain)


@pytest.fixture(scope="session")
def settings() -> StackSettings:
    """The stack's own configuration (Pulumi.yaml defaults + Pulumi.dev.yaml)."""
    return StackSettings.from_config(stack_config("dev", HERE.parent / "stack"))


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Logs and state of the servers this session starts."""
    return tmp_path_factory.mktemp("servers")


# --- the AWS emulator -----------------------------------------------------------------------------------

@pytest.fixture(scope="session", params=emulator_params())
def emulator(request: pytest.FixtureRequest, settings: StackSettings, session_dir: Path) -> Iterator[Emulator]:
    if request.param == "external":
        endpoint = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
        yield Emulator(kind=servers.detect_emulator(endpoint), endpoint=endpoint, region=settings.region,
                       server=None)
        return
    server = harness.start_once(request.param, lambda: start_emulator(request.param, session_dir))
    try:
        yield Emulator(kind=request.param, endpoint=server.url, region=settings.region, server=server)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def deployment(emulator: Emulator, settings: StackSettings) -> Iterator[Deployment]:
    """The design provisioned on the emulator from the stack's values, plus a bucket that is NOT the
    application's. On moto, IAM enforcement is switched on once everything is set up."""
    endpoint = emulator.endpoint
    if emulator.kind == "moto":
        servers.set_moto_iam_enforcement(endpoint, False)
    admin = design.create_iam_user_with_keys(endpoint, BOOTSTRAP, emulator.region,
                                             design.unique_name("keyguard-admin"), design.ADMIN_DOCUMENT)
    vault_root = design.create_iam_user_with_keys(endpoint, admin, emulator.region,
                                                  design.unique_name("vault-root"), design.VAULT_ROOT_DOCUMENT)
    # The TLS-only bucket policy is left out on moto: moto ignores its aws:SecureTransport condition
    # and would deny every object request (see design.provision_design).
    provisioned = design.provision_design(endpoint, admin, settings, apply_bucket_policy=emulator.kind != "moto")
    other_bucket = design.unique_name("other-data")
    s3 = design.aws_client("s3", endpoint, admin, emulator.region)
    s3.create_bucket(Bucket=other_bucket)
    s3.put_object(Bucket=other_bucket, Key="not-for-the-app.txt", Body=b"someone else's data")
    account = design.aws_client("sts", endpoint, admin, emulator.region).get_caller_identity()["Account"]
    if emulator.kind == "moto":
        servers.set_moto_iam_enforcement(endpoint, True)
        emulator.enforces_iam = True
    try:
        yield Deployment(emulator=emulator, admin=admin, vault_root=vault_root, design=provisioned,
                         other_bucket=other_bucket, account=account)
    finally:
        if emulator.kind == "moto" and emulator.server is None:
            servers.set_moto_iam_enforcement(endpoint, False)  # leave an external moto as we found it


@pytest.fixture
def iam_enforced(deployment: Deployment) -> Deployment:
    """The deployment, on an emulator that enforces IAM; skips (with the reason) elsewhere."""
    if not deployment.emulator.enforces_iam:
        pytest.skip(IAM_ENFORCEMENT_REASON.format(kind=deployment.emulator.kind))
    return deployment


# --- Vault ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def vault_server(request: pytest.FixtureRequest, emulator: Emulator, session_dir: Path) -> Iterator[VaultServer]:
    """A dev-mode Vault for this emulator (or the one at VAULT_ADDR)."""
    if os.environ.get("VAULT_ADDR"):
        token = os.environ.get("VAULT_TOKEN")
        if not token:
            raise servers.ServerError("VAULT_ADDR is set but VAULT_TOKEN is not: the tests need a token that may "
                                      "mount secrets engines")
        yield VaultServer(address=os.environ["VAULT_ADDR"].rstrip("/"), token=token, server=None,
                          aws_mount_type=os.environ.get("KEYGUARD_VAULT_AWS_MOUNT_TYPE", "aws"))
        return
    build = request.getfixturevalue("vault_build")
    vault = harness.start_once(f"Vault for {emulator.kind}", lambda: start_own_vault(build, session_dir))
    try:
        yield vault
    finally:
        assert vault.server is not None
        vault.server.stop()


@pytest.fixture(scope="session")
def vault(vault_server: VaultServer) -> Any:
    """An hvac client with the root token and bounded timeouts."""
    return vault_server.client()


@pytest.fixture(scope="session")
def vault_backend(vault: Any, vault_server: VaultServer, deployment: Deployment,
                  settings: StackSettings) -> Iterator[design.VaultBackend]:
    """The stack's AWS secrets mount and role, configured in Vault through hvac."""
    path = settings.vault_backend_path
    if vault_server.server is None:  # a shared Vault: a mount of our own, removed afterwards
        path = design.unique_name(f"{path}-{deployment.emulator.kind}")
    backend = design.configure_vault(vault, settings, deployment.design, deployment.vault_root,
                                     deployment.emulator.endpoint, path=path,
                                     mount_type=vault_server.aws_mount_type)
    try:
        yield backend
    finally:
        if vault_server.server is None:
            vault.sys.disable_secrets_engine(path)  # revokes its leases: Vault deletes the IAM users


@pytest.fixture
def issued(vault: Any, vault_backend: design.VaultBackend) -> Iterator[design.IssuedCredentials]:
    """Credentials of the stack's role, revoked after the test."""
    credentials = design.issue_credentials(vault, vault_backend.path, vault_backend.role)
    try:
        yield credentials
    finally:
        try:
            vault.sys.revoke_lease(credentials.lease_id)
        except Exception:  # noqa: BLE001 - already revoked or expired by the test
            pass
