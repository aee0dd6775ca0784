"""Reading keyguard's on-disk caches (the IAM index, parsed HCL) only where no one else could have
written them. A cache decides verdicts as much as the code does, and its checksums catch damage,
not tampering: so a file is read only when it and its directory belong to the current user and
neither is writable by group or others, and never through a symbolic link (what ssh asks of
`~/.ssh`). Anything else is ignored and the value recomputed, which only costs time."""
from __future__ import annotations

import os
import stat
from pathlib import Path

#: Directories keyguard creates for its caches: private to the user.
DIRECTORY_MODE = 0o700


def _private(st: os.stat_result) -> bool:
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def read_trusted(path: Path) -> bytes | None:
    """The file's bytes, or None when it is missing, a link, or could have been written by another user."""
    try:
        if not _private(os.stat(path.parent)):
            return None
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not _private(st):
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def make_directory(path: Path) -> None:
    """Create a cache directory private to the user (an existing one keeps its mode: read_trusted judges it)."""
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
