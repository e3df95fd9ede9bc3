"""Folders the product creates for itself (demonstration, exercises) and may empty again.

The product deletes only what it created and marked as its own. A folder it creates gets a
marker file (MARKER) saying what created it; emptying a folder is refused unless that marker is
there, and a folder that is, or contains, the configured data folder (`data_dir`) or the
configured database's folder is refused outright, marker or not. Nothing is ever deleted
before the checks pass: a refusal leaves the folder as it was.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from crisis.settings import Settings
from crisis.store.urls import sqlite_file

__all__ = ["MARKER", "FolderRefused", "check_dir", "claim_new", "fresh_dir", "protected_dirs"]

MARKER = ".crisis-owned"
_MARKER_TEXT = (
    "Dossier créé par l'orchestrateur de crise ({by}).\n"
    "Il est vidé et réutilisé à la prochaine exécution : n'y gardez rien d'autre.\n"
)


class FolderRefused(ValueError):
    """A folder the product will not use or empty (French reason; nothing was deleted)."""


def protected_dirs(settings: Settings) -> dict[str, Path]:
    """The folders of the configured data, with what they are (French): never emptied."""
    protected = {"le dossier de données de la configuration (data_dir)": settings.data_dir}
    database = sqlite_file(settings.database.url)
    if database is not None:
        protected["le dossier de la base de données configurée"] = database.parent
    return protected


def _check_protected(path: Path, what: str, protected: Mapping[str, Path]) -> None:
    here = path.resolve()
    for label, folder in protected.items():
        there = folder.resolve()
        if there == here or there.is_relative_to(here):
            relation = "est" if there == here else "contient"
            raise FolderRefused(
                f"{what} {path} refusé : il {relation} {label} ({folder}) ; "
                "rien n'a été supprimé. Indiquez avec --data-dir un dossier à part, "
                "vide ou qui n'existe pas encore."
            )


def _mark(path: Path, by: str) -> None:
    (path / MARKER).write_text(_MARKER_TEXT.format(by=by), encoding="utf-8")


def _owned(path: Path) -> bool:
    marker = path / MARKER
    return marker.is_file() and not marker.is_symlink()


def check_dir(
    path: Path,
    *,
    what: str,
    protected: Mapping[str, Path] | None = None,
    keep: Sequence[Path] = (),
) -> None:
    """Whether `fresh_dir` may use `path`, checked without touching anything: FolderRefused
    (French) for a file, a folder holding things without the marker (`keep` aside), or a
    folder that is or contains one of `protected`."""
    _check_protected(path, what, protected or {})
    if not path.exists():
        return
    if not path.is_dir():
        raise FolderRefused(
            f"{what} {path} refusé : ce n'est pas un dossier ; rien n'a été supprimé."
        )
    if _owned(path) or not _others(path, keep):
        return
    raise FolderRefused(
        f"{what} {path} refusé : il n'est pas vide et n'a pas été créé par l'orchestrateur "
        f"(pas de fichier {MARKER}) ; rien n'a été supprimé. Indiquez avec --data-dir un "
        "dossier vide ou qui n'existe pas encore."
    )


def _others(path: Path, keep: Sequence[Path]) -> list[Path]:
    """What `path` holds, but its marker and `keep`."""
    kept = {k.resolve() for k in keep}
    return [c for c in path.iterdir() if c.name != MARKER and c.resolve() not in kept]


def fresh_dir(
    path: Path,
    *,
    what: str,
    by: str,
    protected: Mapping[str, Path] | None = None,
    keep: Sequence[Path] = (),
) -> Path:
    """An empty folder at `path` that the product owns, returned.

    Missing or empty: created and marked. Marked (a previous run's): emptied, the marker kept.
    Anything else: FolderRefused, as `check_dir` says, and nothing deleted. `keep`: files left
    in place and not counted (the database's lock file, taken before the folder is emptied).
    `what`: the folder's name for people ("dossier de l'exercice"); `by`: what creates it.
    """
    check_dir(path, what=what, protected=protected, keep=keep)
    path.mkdir(parents=True, exist_ok=True)
    if not _owned(path):  # empty (or holding only `keep`): ours from now on
        _mark(path, by)
        return path
    for child in _others(path, keep):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:  # a file, or a link: the link goes, never what it points to
            child.unlink()
    return path


def claim_new(path: Path, *, by: str) -> Path:
    """Create the folder `path` (its parents too) and mark it as the product's own;
    FileExistsError when it already exists (a new folder is never an old one reused)."""
    path.mkdir(parents=True)
    _mark(path, by)
    return path
