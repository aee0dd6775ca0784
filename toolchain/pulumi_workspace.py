"""Run the real Pulumi CLI on a copy of a stack, with keyguard's offline toolchain.

`make preview` and the CLI tests both go through `Workspace`: it builds or reuses the toolchain
(toolchain/build.sh), creates the policy pack's virtualenv when missing (the CLI does not), copies the
stack directory (the CLI rewrites Pulumi.<stack>.yaml on `stack init`, so the original is never
touched), points the copy's virtualenv at the original's, and runs `pulumi` with a local file backend
and a private PULUMI_HOME.

    python toolchain/pulumi_workspace.py preview [--stack DIR] [--config FILE] [--stack-name NAME] [-- ARGS]

exits with the CLI's own exit code (2 on a set-up error, with one line on stderr).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

REPO = Path(__file__).resolve().parent.parent
PACK = REPO / "policy_pack"
PASSPHRASE = "keyguard-local-backend"  # encrypts config secrets of throw-away local stacks only


class SetupError(Exception):
    """The toolchain or an environment could not be prepared."""


def toolchain_env() -> dict[str, str]:
    """Build or reuse the toolchain; returns KEYGUARD_PULUMI_BIN and PULUMI_HOME."""
    proc = subprocess.run(["bash", str(REPO / "toolchain" / "build.sh")], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SetupError(f"toolchain build failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    values = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    return {"KEYGUARD_PULUMI_BIN": values["KEYGUARD_PULUMI_BIN"], "PULUMI_HOME": values["PULUMI_HOME"]}


def ensure_pack_venv(pack: Path = PACK, python: str | None = None) -> Path:
    """Create `<pack>/venv` from `<pack>/requirements.txt` when missing or stale (the CLI does not)."""
    venv = pack / "venv"
    requirements = (pack / "requirements.txt").read_bytes()
    digest = hashlib.sha256(requirements).hexdigest()
    stamp = venv / ".keyguard-requirements"
    if (venv / "bin" / "python").exists() and stamp.exists() and stamp.read_text() == digest:
        compile_pack(pack, venv)
        return venv
    python = python or os.environ.get("KEYGUARD_PACK_PYTHON") or shutil.which("python3.11") or sys.executable
    print(f"keyguard: creating {venv} from {pack / 'requirements.txt'}", file=sys.stderr)
    steps = [[python, "-m", "venv", "--clear", str(venv)],
             [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
              "-r", str(pack / "requirements.txt")]]
    for step in steps:
        proc = subprocess.run(step, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SetupError(f"{' '.join(step[:3])} failed:\n{proc.stderr[-3000:]}")
    stamp.write_text(digest)
    compile_pack(pack, venv)
    return venv


def compile_pack(pack: Path = PACK, venv: Path | None = None) -> None:
    """Byte-compile the pack's own modules with its python, as pip does for site-packages: the
    CLI starts the pack once per preview, and where PYTHONDONTWRITEBYTECODE is set (CI images,
    this toolchain's users) every start would otherwise compile them again. Only stale files are
    rewritten; a failure here only costs start-up time."""
    from keyguard.analyzer_client import compile_pack as compile_with  # one implementation, shared with the bench
    compile_with(pack, str((venv or pack / "venv") / "bin" / "python"))


def copy_stack(stack: Path, dest: Path) -> Path:
    """Copy the stack directory and make its `virtualenv` option absolute (the copy lives elsewhere)."""
    shutil.copytree(stack, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "venv", ".venv"))
    project_file = dest / "Pulumi.yaml"
    project = yaml.safe_load(project_file.read_text())
    runtime = project.get("runtime")
    options = runtime.get("options", {}) if isinstance(runtime, dict) else {}
    if options.get("virtualenv"):
        venv = Path(options["virtualenv"])
        options["virtualenv"] = str(venv if venv.is_absolute() else (stack.resolve() / venv).resolve())
        if not (Path(options["virtualenv"]) / "bin" / "python").exists():
            raise SetupError(f"the stack's virtualenv {options['virtualenv']} is missing: run 'make venv'")
        project_file.write_text(yaml.safe_dump(project, sort_keys=False))
    return dest


class Workspace:
    """A copy of a stack with its own local backend, ready for `pulumi` commands."""

    def __init__(self, stack: Path, root: Path | None = None, stack_name: str = "dev",
                 env: Mapping[str, str] | None = None, tool_env: Mapping[str, str] | None = None) -> None:
        self.source = Path(stack).resolve()
        if not (self.source / "Pulumi.yaml").is_file():
            raise SetupError(f"{stack} has no Pulumi.yaml")
        self._tmp = None if root else tempfile.TemporaryDirectory(prefix="keyguard-pulumi-")
        self.root = Path(root or self._tmp.name)
        self.root.mkdir(parents=True, exist_ok=True)
        self.stack_name = stack_name
        tools = dict(tool_env or toolchain_env())
        ensure_pack_venv()
        self.dir = copy_stack(self.source, self.root / "stack")
        backend = self.root / "backend"
        backend.mkdir(exist_ok=True)
        self.env = {**os.environ,
                    "PATH": f"{tools['KEYGUARD_PULUMI_BIN']}{os.pathsep}{os.environ.get('PATH', '')}",
                    "PULUMI_HOME": tools["PULUMI_HOME"],
                    "PULUMI_BACKEND_URL": backend.as_uri(),
                    "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
                    "PULUMI_SKIP_UPDATE_CHECK": "true",
                    "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
                    "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
                    "PULUMI_SKIP_CONFIRMATIONS": "true",
                    "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
                    **dict(env or {})}
        self.pulumi_bin = str(Path(tools["KEYGUARD_PULUMI_BIN"]) / "pulumi")
        proc = self.run("stack", "init", stack_name, check=False)
        if proc.returncode != 0 and "already exists" not in proc.stdout + proc.stderr:
            raise SetupError(f"pulumi stack init failed:\n{proc.stdout}{proc.stderr}")

    def run(self, *args: str, check: bool = False, timeout: float | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run([self.pulumi_bin, *args, "--non-interactive"] if args[0] in ("preview", "up", "destroy", "refresh")
                              else [self.pulumi_bin, *args], cwd=self.dir, env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise SetupError(f"pulumi {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def set_config(self, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            self.run("config", "set", "--path" if "[" in key else "--plaintext", key, str(value), check=True)

    def policy_args(self, config: Path | None = None, pack: Path = PACK) -> list[str]:
        args = ["--policy-pack", str(pack)]
        if config is not None:
            args += ["--policy-pack-config", str(Path(config).resolve())]
        return args

    def preview(self, config: Path | None = None, *extra: str, policy: bool = True) -> subprocess.CompletedProcess:
        return self.run("preview", *(self.policy_args(config) if policy else []), *extra)

    def up(self, config: Path | None = None, *extra: str, policy: bool = True) -> subprocess.CompletedProcess:
        return self.run("up", "--yes", "--skip-preview", *(self.policy_args(config) if policy else []), *extra)

    def cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> "Workspace":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="toolchain/pulumi_workspace.py",
                                     description="Run the real `pulumi preview --policy-pack policy_pack` offline.")
    parser.add_argument("command", choices=["preview"])
    parser.add_argument("--stack", default=str(REPO / "stack"), help="stack directory (default: stack/)")
    parser.add_argument("--config", default=None, help="policy pack config file (--policy-pack-config)")
    parser.add_argument("--stack-name", default="dev")
    parser.add_argument("extra", nargs="*", help="more arguments for pulumi (after --)")
    args = parser.parse_args(argv)
    if args.config and not Path(args.config).is_file():
        print(f"keyguard preview: config file {args.config} not found", file=sys.stderr)
        return 2
    try:
        with Workspace(Path(args.stack), stack_name=args.stack_name) as ws:
            cmd = [ws.pulumi_bin, "preview", "--non-interactive", *ws.policy_args(Path(args.config) if args.config else None),
                   *args.extra]
            print(f"keyguard preview: {' '.join(cmd[1:])} (stack copy in {ws.dir})", file=sys.stderr)
            return subprocess.run(cmd, cwd=ws.dir, env=ws.env).returncode
    except SetupError as error:
        print(f"keyguard preview: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
