"""State files of the channels: atomic replacement, and reading a file that may not exist yet."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["read_or_none", "write_atomic"]


def write_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace `path` in one step: readers see the old file or the new one, never half of it.
    `mode`: the file's permissions when others must read it (mkstemp creates 0600)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_or_none(path: Path) -> str | None:
    """The file's text (UTF-8), or None when it does not exist."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
