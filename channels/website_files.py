"""Files of the website channel: atomic writes, file-system errors in French, and state.json."""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError

from channels.errors import DeliveryFailed
from channels.files import read_or_none, write_atomic
from channels.website_cms import BY_HAND
from channels.website_pages import WebsiteState

__all__ = ["StateFile", "fs_failure", "write_public", "writing_in"]

_CAUSES = {
    errno.EACCES: "droits insuffisants",
    errno.EPERM: "droits insuffisants",
    errno.ENOSPC: "disque plein",
    errno.EDQUOT: "quota disque atteint",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.ENOENT: "répertoire introuvable",
}


def fs_failure(directory: Path, exc: OSError, *, ambiguous: bool = False) -> DeliveryFailed:
    """A write that failed for good: the reason names the folder (never a message's content)."""
    cause = _CAUSES.get(exc.errno or 0, exc.strerror or "erreur d'écriture")
    return DeliveryFailed(
        f"site internet : écriture impossible dans le répertoire {directory} ({cause}) ; "
        f"la page d'alerte n'est pas à jour, {BY_HAND}",
        retryable=False,
        ambiguous=ambiguous,
    )


@contextmanager
def writing_in(directory: Path) -> Iterator[None]:
    """Turn OSError raised inside into the French DeliveryFailed naming `directory`."""
    try:
        yield
    except OSError as exc:
        raise fs_failure(directory, exc) from exc


def write_public(path: Path, data: bytes) -> None:
    """Replace `path` in one step (write_atomic), readable by the web server."""
    write_atomic(path, data, mode=0o644)


class StateFile:
    """state.json, or memory when no folder is configured (then lost on restart).

    `load` returns a copy: a failed publication leaves the stored state as it was.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory = WebsiteState()

    async def load(self, *, ambiguous: bool) -> WebsiteState:
        """The stored state; DeliveryFailed when it cannot be read (ambiguous for lookups)."""
        if self.path is None:
            return self._memory.model_copy(deep=True)
        try:
            text = await asyncio.to_thread(read_or_none, self.path)
        except OSError as exc:
            raise fs_failure(self.path.parent, exc, ambiguous=ambiguous) from exc
        if text is None:
            return WebsiteState()
        try:
            return WebsiteState.model_validate_json(text)
        except ValidationError:
            raise DeliveryFailed(
                f"site internet : le fichier d'état {self.path} est illisible ; {BY_HAND}",
                retryable=False,
                ambiguous=ambiguous,
            ) from None

    async def save(self, state: WebsiteState) -> None:
        """Store the state (atomically); DeliveryFailed naming the folder when it cannot."""
        if self.path is None:
            self._memory = state.model_copy(deep=True)
            return
        data = state.model_dump_json(indent=1).encode("utf-8")
        with writing_in(self.path.parent):
            await asyncio.to_thread(write_public, self.path, data)
