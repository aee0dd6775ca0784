"""Each competitor in its own virtualenv, created by the benchmark from pinned requirements
(bench/requirements/<tool>.txt) under a cache directory outside the repository:
`$KEYGUARD_BENCH_CACHE`, else `$XDG_CACHE_HOME/keyguard/bench-venvs`, else
`~/.cache/keyguard/bench-venvs`. A venv's directory name carries a hash of its requirements and
the Python version, so changing a pin builds a new one; a `.installed` stamp marks a complete one."""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent / "requirements"
TOOLS = ("parliament", "cloudsplaining")


def cache_dir() -> Path:
    if os.environ.get("KEYGUARD_BENCH_CACHE"):
        return Path(os.environ["KEYGUARD_BENCH_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "keyguard" / "bench-venvs"


def venv_path(tool: str) -> Path:
    requirements = (REQUIREMENTS / f"{tool}.txt").read_bytes()
    tag = hashlib.sha256(requirements + sys.version.encode()).hexdigest()[:12]
    return cache_dir() / f"{tool}-py{sys.version_info.major}{sys.version_info.minor}-{tag}"


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure(tool: str, log=print) -> tuple[Path, float]:
    """The venv's python, creating the venv if needed; and the seconds spent creating it (0 if cached)."""
    venv = venv_path(tool)
    stamp = venv / ".installed"
    if stamp.is_file():
        return python_of(venv), 0.0
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time (a test and a full run may overlap)
        if stamp.is_file():
            return python_of(venv), 0.0
        started = time.perf_counter()
        log(f"creating the {tool} virtualenv at {venv} ...")
        if venv.exists():
            shutil.rmtree(venv)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, text=True)
            subprocess.run([str(python_of(venv)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                            "-r", str(REQUIREMENTS / f"{tool}.txt")], check=True, capture_output=True, text=True)
        except subprocess.CalledProcessError as err:
            shutil.rmtree(venv, ignore_errors=True)
            raise RuntimeError(f"could not create the {tool} virtualenv: {err.cmd[-1]}: "
                               f"{(err.stderr or err.stdout or '').strip()[-1500:]}") from None
        stamp.write_text(" ".join(sys.argv) + "\n")
        return python_of(venv), time.perf_counter() - started
