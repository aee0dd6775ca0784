"""Start and stop the real servers of the integration tests: moto server, LocalStack and a dev-mode
Vault (OpenBao or HashiCorp Vault), each a subprocess started through the project's own scripts in
`localstack/`, listening on a free loopback port.

Every wait is bounded and every failure raises `ServerError` with the server's name, its address, the
exit code if it died, and the tail of its log (secrets redacted): a server that cannot start is an
error of the tests that need it, never a skip.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterable, Mapping

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPTS_DIR = REPO_ROOT / "localstack"

#: Bounded waits (seconds); override through the environment on very slow machines.
MOTO_START_TIMEOUT = float(os.environ.get("KEYGUARD_MOTO_START_TIMEOUT", "60"))
LOCALSTACK_START_TIMEOUT = float(os.environ.get("KEYGUARD_LOCALSTACK_START_TIMEOUT", "180"))
VAULT_START_TIMEOUT = float(os.environ.get("KEYGUARD_VAULT_START_TIMEOUT", "60"))
STOP_TIMEOUT = float(os.environ.get("KEYGUARD_SERVER_STOP_TIMEOUT", "20"))
#: The first build of the Vault server compiles a large Go program: minutes, not seconds.
VAULT_BUILD_TIMEOUT = float(os.environ.get("KEYGUARD_VAULT_BUILD_TIMEOUT", "3600"))
LOCALSTACK_SETUP_TIMEOUT = float(os.environ.get("KEYGUARD_LOCALSTACK_SETUP_TIMEOUT", "1200"))


class ServerError(RuntimeError):
    """A server could not be built, started, reached or stopped."""


def cache_dir() -> Path:
    return Path(os.environ.get("KEYGUARD_CACHE_DIR") or Path.home() / ".cache" / "keyguard")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_SECRET_LINE = re.compile(r"(?im)^(\s*(?:Root Token|Unseal Key|Recovery Key)\s*:).*$")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the given secret values and without Vault's dev-banner secret lines."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return _SECRET_LINE.sub(r"\1 <redacted>", text)


def _tail(path: Path, lines: int = 40, secrets: Iterable[str] = ()) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError as exc:
        return f"(log {path} unreadable: {exc})"
    return redact("\n".join(content), secrets)


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """(status, body) of a GET; HTTP error statuses are returned, connection failures raise OSError."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback URL)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclasses.dataclass
class ServerProcess:
    """A running server started by these tests."""

    name: str
    url: str
    process: subprocess.Popen
    log_path: Path
    secrets: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM to the server's own process group (the script's exec'd server and helpers such as
        Vault's log filter), SIGKILL if it is still there after `timeout` seconds."""
        if self.process.poll() is not None:
            return
        _signal_group(self.process, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(self.process, signal.SIGKILL)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired as exc:
                raise ServerError(f"{self.name} (pid {self.process.pid}) did not stop after SIGKILL") from exc
        # The log filter of start-vault.sh may outlive the server by a moment: reap the group.
        _signal_group(self.process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)  # the group this module created (start_new_session=True)
    except (ProcessLookupError, PermissionError):
        pass


def start_process(name: str, argv: list[str], *, url: str, log_path: Path, ready: Callable[[], bool],
                  timeout: float, env: Mapping[str, str] | None = None,
                  secrets: Iterable[str] = ()) -> ServerProcess:
    """Run `argv` in its own process group with output to `log_path`; return once `ready()` is true.

    Raises ServerError if the process exits first or is not ready within `timeout` seconds.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    secrets = tuple(s for s in secrets if s)
    with open(log_path, "ab") as log:
        try:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       env=dict(env if env is not None else os.environ),
                                       cwd=str(REPO_ROOT), start_new_session=True)
        except OSError as exc:
            raise ServerError(f"{name}: cannot run {argv[0]}: {exc}") from exc
    server = ServerProcess(name=name, url=url, process=process, log_path=log_path, secrets=secrets)
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while True:
        code = process.poll()
        if code is not None:
            raise ServerError(f"{name} exited with code {code} before it was ready at {url}; "
                              f"last lines of {log_path}:\n{_tail(log_path, secrets=secrets)}")
        try:
            if ready():
                return server
        except Exception as exc:  # noqa: BLE001 - any failure of the probe means "not ready yet"
            last_error = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            server.stop()
            raise ServerError(f"{name} was not ready at {url} within {timeout:.0f} s (last probe: "
                              f"{redact(last_error, secrets)}); last lines of {log_path}:\n"
                              f"{_tail(log_path, secrets=secrets)}")
        time.sleep(0.2)


# --- one-time preparation: the Vault binary and LocalStack's virtualenv ------------------------------

@dataclasses.dataclass(frozen=True)
class VaultBuild:
    flavor: str          # "openbao" or "vault"
    binary: Path
    plugin_dir: Path
    aws_plugin: str      # mount type of the AWS secrets engine: the plugin's name, or "" for built-in "aws"

    @property
    def aws_mount_type(self) -> str:
        return self.aws_plugin or "aws"


def _run_script(script: str, log_path: Path, timeout: float) -> str:
    """Run a `localstack/` script, its stderr to `log_path`; return the last line of its stdout."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        try:
            done = subprocess.run(["bash", str(SCRIPTS_DIR / script)], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=log, timeout=timeout, cwd=str(REPO_ROOT),
                                  env={**os.environ, "KEYGUARD_CACHE_DIR": str(cache_dir())},
                                  start_new_session=True)
        except subprocess.TimeoutExpired as exc:
            raise ServerError(f"localstack/{script} did not finish within {timeout:.0f} s; "
                              f"see {log_path}:\n{_tail(log_path)}") from exc
    if done.returncode != 0:
        raise ServerError(f"localstack/{script} failed with exit code {done.returncode}; "
                          f"last lines of {log_path}:\n{_tail(log_path)}")
    lines = done.stdout.decode(errors="replace").strip().splitlines()
    if not lines:
        raise ServerError(f"localstack/{script} printed no path")
    return lines[-1]


def build_vault(log_path: Path | None = None, timeout: float = VAULT_BUILD_TIMEOUT) -> VaultBuild:
    """Build the Vault server once (localstack/build-vault.sh), or reuse the cached binary."""
    log_path = log_path or cache_dir() / "vault" / "build.log"
    _run_script("build-vault.sh", log_path, timeout)
    env_file = cache_dir() / "vault" / "current.env"
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    build = VaultBuild(flavor=values["KEYGUARD_VAULT_FLAVOR"], binary=Path(values["KEYGUARD_VAULT_BIN"]),
                       plugin_dir=Path(values["KEYGUARD_VAULT_PLUGIN_DIR"]),
                       aws_plugin=values.get("KEYGUARD_VAULT_AWS_PLUGIN", ""))
    if not os.access(build.binary, os.X_OK):
        raise ServerError(f"build-vault.sh reported {build.binary}, which is not an executable")
    return build


def setup_localstack(log_path: Path | None = None, timeout: float = LOCALSTACK_SETUP_TIMEOUT) -> Path:
    """Create LocalStack's Python 3.13 venv once (localstack/setup-localstack.sh); its python."""
    log_path = log_path or cache_dir() / "localstack-setup.log"
    return Path(_run_script("setup-localstack.sh", log_path, timeout))


# --- the servers ----------------------------------------------------------------------------------------

def start_moto(workdir: Path, *, port: int | None = None, timeout: float = MOTO_START_TIMEOUT) -> ServerProcess:
    """moto server from this Python environment (IAM enforcement off until `enable_moto_iam_enforcement`)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        status, _ = http_get(f"{url}/moto-api/data.json")
        return status == 200

    env = {**os.environ, "KEYGUARD_PYTHON": sys.executable}
    return start_process("moto server", ["bash", str(SCRIPTS_DIR / "start-moto.sh"), str(port)], url=url,
                         log_path=workdir / f"moto-{port}.log", ready=ready, timeout=timeout, env=env)


LOCALSTACK_SERVICES = ("s3", "kms", "iam", "sts")


def start_localstack(workdir: Path, *, port: int | None = None,
                     timeout: float = LOCALSTACK_START_TIMEOUT) -> ServerProcess:
    """LocalStack on the host (its own Python 3.13 venv), state and files under `workdir`."""
    setup_localstack()
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    state = workdir / f"localstack-{port}"

    def ready() -> bool:
        status, body = http_get(f"{url}/_localstack/health")
        if status != 200:
            return False
        services = json.loads(body).get("services", {})
        return all(services.get(name) in ("available", "running") for name in LOCALSTACK_SERVICES)

    # The tests' own AWS settings must not change how LocalStack starts.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOCALSTACK_"))}
    env["SERVICES"] = ",".join(LOCALSTACK_SERVICES)
    return start_process("LocalStack", ["bash", str(SCRIPTS_DIR / "start-localstack.sh"), str(port), str(state)],
                         url=url, log_path=workdir / f"localstack-{port}.log", ready=ready, timeout=timeout,
                         env=env)


def start_vault(workdir: Path, root_token: str, *, port: int | None = None,
                timeout: float = VAULT_START_TIMEOUT) -> ServerProcess:
    """Dev-mode Vault (built or reused by build-vault.sh) with `root_token` as its root token."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        status, body = http_get(f"{url}/v1/sys/health")
        if status != 200:
            return False
        health = json.loads(body)
        return bool(health.get("initialized")) and not health.get("sealed")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
    env["VAULT_DEV_ROOT_TOKEN_ID"] = root_token
    env["KEYGUARD_CACHE_DIR"] = str(cache_dir())
    return start_process("Vault dev server", ["bash", str(SCRIPTS_DIR / "start-vault.sh"), str(port)], url=url,
                         log_path=workdir / f"vault-{port}.log", ready=ready, timeout=timeout, env=env,
                         secrets=(root_token,))


# --- emulator helpers -----------------------------------------------------------------------------------

def detect_emulator(endpoint: str, timeout: float = 5.0) -> str:
    """'moto', 'localstack' or 'unknown' for an AWS endpoint given from outside."""
    for path, kind in (("/moto-api/data.json", "moto"), ("/_localstack/health", "localstack")):
        try:
            status, _ = http_get(endpoint.rstrip("/") + path, timeout=timeout)
        except OSError:
            continue
        if status == 200:
            return kind
    return "unknown"


def set_moto_iam_enforcement(endpoint: str, enabled: bool, timeout: float = 10.0) -> None:
    """Switch moto's IAM enforcement: body `0` = from the next request on, `inf` = never."""
    request = urllib.request.Request(endpoint.rstrip("/") + "/moto-api/reset-auth",
                                     data=b"0" if enabled else b"inf", method="POST",
                                     headers={"Content-Type": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback URL)
            if response.status != 200:
                raise ServerError(f"moto at {endpoint} answered {response.status} to reset-auth")
    except (OSError, urllib.error.HTTPError) as exc:
        raise ServerError(f"could not switch moto's IAM enforcement at {endpoint}: {exc}") from exc
