"""Results of costly, deterministic parses kept on disk between processes, keyed by everything the
result depends on (the input, the parsing code, the parser library's installed files). HCL is the
case: python-hcl2 costs about 0.25 s to import and set up before its first parse, in every process
that meets a Vault ACL policy, for texts that rarely change between runs.

Each entry is one file named by the SHA-256 of its key, holding a checksum of its payload: a
damaged entry is recomputed, never trusted; writes are atomic; an unwritable cache directory only
means computing every time. Values are what `marshal` stores (plain data)."""
from __future__ import annotations

import hashlib
import marshal
import os
from pathlib import Path
from typing import Any, Callable

from .cache_trust import make_directory, read_trusted

MAGIC = b"KGPARSE1"
LIMIT = 512  # entries per kind


def _directory(kind: str) -> Path:
    base = Path(os.environ.get("KEYGUARD_CACHE_DIR") or Path.home() / ".cache" / "keyguard")
    return base / f"parsed-{kind}"


def _entry(kind: str, key: bytes) -> Path:
    return _directory(kind) / (hashlib.sha256(key).hexdigest() + ".bin")


def read(kind: str, key: bytes) -> tuple[bool, Any]:
    """(True, value) for a whole entry, (False, None) for a missing or damaged one."""
    blob = read_trusted(_entry(kind, key))
    if blob is None:
        return False, None
    if len(blob) < len(MAGIC) + 32 or not blob.startswith(MAGIC):
        return False, None
    digest, payload = blob[len(MAGIC):len(MAGIC) + 32], blob[len(MAGIC) + 32:]
    if hashlib.sha256(payload).digest() != digest:
        return False, None
    try:
        return True, marshal.loads(payload)
    except Exception:  # noqa: BLE001 - cannot happen with a matching checksum; recompute if it does
        return False, None


def write(kind: str, key: bytes, value: Any) -> None:
    """Store `value`; silent when it cannot be stored (not plain data, or no writable directory)."""
    try:
        payload = marshal.dumps(value)
    except ValueError:
        return
    path = _entry(kind, key)
    try:
        import tempfile
        make_directory(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        _trim(path.parent)
    except OSError:
        pass


def _trim(directory: Path) -> None:
    """Keep at most LIMIT entries (the oldest go first): texts that changed leave old entries."""
    entries = [e for e in os.scandir(directory) if e.name.endswith(".bin")]
    if len(entries) <= LIMIT:
        return
    entries.sort(key=lambda e: e.stat().st_mtime_ns)
    for entry in entries[:len(entries) - LIMIT // 2]:
        try:
            os.unlink(entry.path)
        except OSError:
            pass


def cached(kind: str, key: bytes, compute: Callable[[], Any]) -> Any:
    found, value = read(kind, key)
    if found:
        return value
    value = compute()
    write(kind, key, value)
    return value
