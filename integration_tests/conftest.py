"""Fixtures of the integration suite: real servers, started once per session.

- `emulator` is parametrized over the AWS emulators: ["moto", "localstack"] (KEYGUARD_EMULATORS=moto
  picks one), or ["external"] when AWS_ENDPOINT_URL names one that runs already (docker-compose).
- `vault_server` is a dev-mode Vault per emulator, or the one at VAULT_ADDR (with VAULT_TOKEN).
- `deployment` is the real program, `stack/`, deployed once per emulator by the real CLI
  (`pulumi up --policy-pack policy_pack`, stack_deploy.py) on that emulator and Vault; the runtime
  scenarios read its names and ARNs from `pulumi stack export`.
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

from . import clients, harness, pulumi_cli, servers, stack_deploy
from .harness import (BOOTSTRAP, EMULATOR_KINDS, IAM_ENFORCEMENT_REASON, WITHOUT_IAM_ENFORCEMENT, Deployment,
                      Emulator, VaultBackend, VaultServer, start_emulator, start_own_vault)

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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that needs IAM enforcement (the `iam_enforced` fixture) is not collected for LocalStack,
    which accepts every request whatever the caller's policy: the test does not apply there, and a
    skip per such test would bury a real skip among expected ones. They are reported as deselected.
    (An external emulator is only known at run time: there the fixture still skips, with the reason.)"""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        kind = callspec.params.get("emulator") if callspec is not None else None
        needs = "iam_enforced" in getattr(item, "fixturenames", ())
        (dropped if needs and kind in WITHOUT_IAM_ENFORCEMENT else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


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
def deployment(emulator: Emulator, vault_server: VaultServer, pulumi_toolchain: dict[str, str],
               session_dir: Path) -> Iterator[Deployment]:
    """`stack/` deployed by `pulumi up --policy-pack policy_pack` on the emulator and the session's
    Vault, plus what the harness adds around it: its administrator, Vault's root IAM user (created
    with the bootstrap credentials; its keys reach Vault as stack config, the secret one as a Pulumi
    secret) and a bucket that is NOT the application's. On moto, IAM enforcement is switched on once
    everything is deployed."""
    endpoint, region = emulator.endpoint, emulator.region
    if emulator.kind == "moto":
        servers.set_moto_iam_enforcement(endpoint, False)
    admin = clients.create_iam_user_with_keys(endpoint, BOOTSTRAP, region, clients.unique_name("keyguard-admin"),
                                              clients.ADMIN_DOCUMENT)
    vault_root = clients.create_iam_user_with_keys(endpoint, admin, region, clients.unique_name("vault-root"),
                                                   clients.VAULT_ROOT_DOCUMENT)
    # Servers of the session's own take the stack's own names; servers given from outside get names of
    # this run's own (Vault mounts and policies are global, a KMS alias name is unique per account).
    external = emulator.server is None or vault_server.server is None
    names = (stack_deploy.StackNames.prefixed(clients.unique_name(f"aws-ai-app-{emulator.kind}")) if external
             else stack_deploy.StackNames())
    # moto 5.2.5 cannot evaluate the TLS-only bucket policy's aws:SecureTransport condition: it applies
    # the Deny to every object request, TLS or not, whoever asks (moto/iam/policy_conditions.py treats an
    # operator it does not know, here Bool, as matching; s3/responses.py checks the bucket policy on every
    # object request). On moto the stack is therefore deployed with keyguard:tlsOnlyBucketPolicy=false,
    # the stack's documented switch for such an emulator, and the export says so (no BucketPolicy);
    # LocalStack, which stores bucket policies without evaluating them, gets the policy.
    ws = stack_deploy.workspace(session_dir / f"stack-{emulator.kind}", pulumi_toolchain, endpoint=endpoint,
                                region=region, credentials=admin, vault_address=vault_server.address,
                                vault_token=vault_server.token, vault_mount_type=vault_server.aws_mount_type,
                                vault_root=vault_root, names=names, tls_only_bucket_policy=emulator.kind != "moto")
    try:
        up = stack_deploy.up(ws)
        stack = stack_deploy.DeployedStack.from_export(stack_deploy.export(ws))
        other_bucket = clients.unique_name("other-data")
        s3 = clients.aws_client("s3", endpoint, admin, region)
        s3.create_bucket(Bucket=other_bucket)
        s3.put_object(Bucket=other_bucket, Key="not-for-the-app.txt", Body=b"someone else's data")
        account = clients.aws_client("sts", endpoint, admin, region).get_caller_identity()["Account"]
        if emulator.kind == "moto":
            servers.set_moto_iam_enforcement(endpoint, True)
            emulator.enforces_iam = True
        yield Deployment(emulator=emulator, admin=admin, vault_root=vault_root, stack=stack,
                         other_bucket=other_bucket, account=account, workspace=ws,
                         up_output=pulumi_cli.output_of(up))
    finally:
        if emulator.kind == "moto" and emulator.server is None:
            servers.set_moto_iam_enforcement(endpoint, False)  # leave an external moto as we found it
        if external:  # servers of our own die with the session; others get the stack destroyed
            ws.run("destroy", "--yes", timeout=stack_deploy.UP_TIMEOUT)
        ws.cleanup()


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
def vault_backend(deployment: Deployment, vault_server: VaultServer) -> VaultBackend:
    """The deployed stack's AWS secrets mount and role."""
    return VaultBackend(path=deployment.stack.backend_path, role=deployment.stack.role,
                        mount_type=vault_server.aws_mount_type)


@pytest.fixture(scope="module")
def own_vault(vault_build: servers.VaultBuild, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VaultServer]:
    """A dev Vault of the module's own (no emulator behind it), stopped after the module."""
    vault = start_own_vault(vault_build, tmp_path_factory.mktemp("own-vault"))
    try:
        yield vault
    finally:
        assert vault.server is not None
        vault.server.stop()


@pytest.fixture
def sealed_vault(vault_build: servers.VaultBuild, tmp_path: Path) -> Iterator[VaultServer]:
    """A dev Vault of the test's own, sealed (the session's Vault is never sealed)."""
    vault = start_own_vault(vault_build, tmp_path)
    try:
        client = vault.client(timeout=3)
        client.sys.seal()
        assert client.sys.is_sealed() is True
        yield vault
    finally:
        assert vault.server is not None
        vault.server.stop()


@pytest.fixture
def issued(vault: Any, vault_backend: VaultBackend) -> Iterator[clients.IssuedCredentials]:
    """Credentials of the deployed stack's role, revoked after the test."""
    credentials = clients.issue_credentials(vault, vault_backend.path, vault_backend.role)
    try:
        yield credentials
    finally:
        try:
            vault.sys.revoke_lease(credentials.lease_id)
        except Exception:  # noqa: BLE001 - already revoked or expired by the test
            pass
