"""Shared pieces of the integration fixtures and tests: the one-time preparation of the servers,
the records of the running emulator, deployment and Vault, and helpers that start dedicated servers
(the fault scenarios stop or seal their own, never the session's)."""
from __future__ import annotations

import dataclasses
import secrets
import threading
from pathlib import Path
from typing import Any, Callable

from . import clients, servers
from .stack_deploy import DeployedStack

EMULATOR_KINDS = ("moto", "localstack")
WITHOUT_IAM_ENFORCEMENT = frozenset({"localstack"})  # kinds that accept any caller: denials cannot be observed
IAM_ENFORCEMENT_REASON = ("needs IAM enforcement, which only moto provides offline: {kind} accepts "
                          "every request whatever the caller's policy, so a denial cannot be observed")


# --- one-time preparation: Vault binary and LocalStack venv, outside the tests' timeouts ------------------

PREPARED: dict[str, Any] = {}
PREPARE_LOCK = threading.Lock()


def prepare(name: str, fn: Callable[[], Any]) -> None:
    try:
        PREPARED[name] = fn()
    except Exception as exc:  # noqa: BLE001 - kept and raised by the fixture that needs it
        PREPARED[name] = exc


def prepared(name: str, fn: Callable[[], Any]) -> Any:
    with PREPARE_LOCK:
        if name not in PREPARED:
            prepare(name, fn)
    value = PREPARED[name]
    if isinstance(value, Exception):
        raise value
    return value


# --- running servers ------------------------------------------------------------------------------------

@dataclasses.dataclass
class Emulator:
    kind: str                     # "moto" or "localstack" (detected for an external endpoint)
    endpoint: str
    region: str
    server: servers.ServerProcess | None
    enforces_iam: bool = False


#: Servers that failed to start this session, by name: the other tests that need them error at once
#: with the same message instead of waiting for the same failure again.
START_FAILURES: dict[str, Exception] = {}


def start_once(name: str, start: Callable[[], Any]) -> Any:
    if name in START_FAILURES:
        raise servers.ServerError(f"{name} already failed to start in this session: {START_FAILURES[name]}")
    try:
        return start()
    except Exception as exc:
        START_FAILURES[name] = exc
        raise


def start_emulator(kind: str, workdir: Path) -> servers.ServerProcess:
    if kind == "moto":
        return servers.start_moto(workdir)
    if kind == "localstack":
        prepared("localstack", servers.setup_localstack)
        return servers.start_localstack(workdir)
    raise ValueError(kind)


@dataclasses.dataclass
class Deployment:
    """The session's stack, deployed by `pulumi up` on `emulator`, and the harness's own pieces around
    it: its administrator, Vault's root user, and a bucket that is NOT the application's."""

    emulator: Emulator
    admin: clients.AwsCredentials
    vault_root: clients.AwsCredentials
    stack: DeployedStack
    other_bucket: str
    account: str
    workspace: Any = dataclasses.field(repr=False)   # the pulumi_workspace.Workspace the stack lives in
    up_output: str = dataclasses.field(repr=False)   # what `pulumi up` printed (stdout and stderr)

    def client(self, service: str, credentials: clients.AwsCredentials | None = None) -> Any:
        return clients.aws_client(service, self.emulator.endpoint, credentials or self.admin, self.emulator.region)


BOOTSTRAP = clients.AwsCredentials("testing", "testing")


@dataclasses.dataclass(frozen=True)
class VaultBackend:
    """The deployed AWS secrets mount and the stack's role on it."""

    path: str
    role: str
    mount_type: str


@dataclasses.dataclass
class VaultServer:
    address: str
    token: str
    server: servers.ServerProcess | None
    aws_mount_type: str

    def client(self, timeout: float = clients.VAULT_TIMEOUT) -> Any:
        return clients.vault_client(self.address, self.token, timeout=timeout)

    def __repr__(self) -> str:
        return f"VaultServer(address={self.address!r}, token=<redacted>)"


def start_own_vault(build: servers.VaultBuild, workdir: Path) -> VaultServer:
    token = "kg-" + secrets.token_hex(16)
    server = servers.start_vault(workdir, token)
    return VaultServer(address=server.url, token=token, server=server, aws_mount_type=build.aws_mount_type)
