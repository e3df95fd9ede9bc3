"""Folders the product empties: only those it created and marked, never the configured data."""

from __future__ import annotations

from pathlib import Path

import pytest

from crisis.owned_dir import MARKER, FolderRefused, check_dir, fresh_dir, protected_dirs
from crisis.settings import DatabaseSettings, Settings

WHAT = "dossier de l'exercice"


def test_a_missing_folder_is_created_and_marked(tmp_path: Path):
    """A folder that does not exist yet is created with the marker saying what made it."""
    folder = fresh_dir(tmp_path / "a" / "b", what=WHAT, by="crisis exercise run")
    assert folder.is_dir() and [p.name for p in folder.iterdir()] == [MARKER]
    assert "crisis exercise run" in (folder / MARKER).read_text(encoding="utf-8")


def test_a_folder_holding_someone_elses_files_is_refused_and_kept(tmp_path: Path):
    """A non-empty folder without the marker is refused in French; nothing in it is touched."""
    (tmp_path / "autre.db").write_text("précieux", encoding="utf-8")
    (tmp_path / "sous").mkdir()
    with pytest.raises(FolderRefused, match="n'a pas été créé par l'orchestrateur") as refused:
        fresh_dir(tmp_path, what=WHAT, by="test")
    assert "rien n'a été supprimé" in str(refused.value) and str(tmp_path) in str(refused.value)
    assert (tmp_path / "autre.db").read_text(encoding="utf-8") == "précieux"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["autre.db", "sous"]


def test_a_marked_folder_is_emptied_but_links_are_not_followed(tmp_path: Path):
    """A previous run's folder is emptied (marker kept); a link inside goes, not its target."""
    outside = tmp_path / "dehors"
    outside.mkdir()
    (outside / "garder.txt").write_text("x", encoding="utf-8")
    folder = fresh_dir(tmp_path / "ex", what=WHAT, by="test")
    (folder / "crisis.db").write_text("ancien", encoding="utf-8")
    (folder / "rapports").mkdir()
    (folder / "rapports" / "REX.md").write_text("ancien", encoding="utf-8")
    (folder / "lien").symlink_to(outside, target_is_directory=True)
    fresh_dir(folder, what=WHAT, by="test")
    assert [p.name for p in folder.iterdir()] == [MARKER]
    assert (outside / "garder.txt").exists()


def test_files_to_keep_are_neither_deleted_nor_counted(tmp_path: Path):
    """The database's lock file, made before the emptying, stays and does not make the new
    folder "someone else's"."""
    folder = tmp_path / "ex"
    folder.mkdir()
    lock = folder / "crisis.db.service.lock"
    lock.write_text("", encoding="utf-8")
    fresh_dir(folder, what=WHAT, by="test", keep=[lock])
    (folder / "crisis.db").write_text("ancien", encoding="utf-8")
    fresh_dir(folder, what=WHAT, by="test", keep=[lock])
    assert sorted(p.name for p in folder.iterdir()) == sorted([MARKER, lock.name])


@pytest.mark.parametrize("where", ["data_dir", "database", "parent"])
def test_the_configured_data_is_never_a_folder_to_empty(tmp_path: Path, where: str):
    """A folder that is, or contains, data_dir or the database's folder is refused, even
    when it carries the marker."""
    data = tmp_path / "srv" / "var"
    settings = Settings(
        data_dir=data,
        database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'srv' / 'base' / 'crisis.db'}"),
    )
    target = {
        "data_dir": data,
        "database": tmp_path / "srv" / "base",
        "parent": tmp_path / "srv",
    }[where]
    target.mkdir(parents=True, exist_ok=True)
    (target / MARKER).write_text("", encoding="utf-8")
    (target / "garder").write_text("x", encoding="utf-8")
    with pytest.raises(FolderRefused, match="configur") as refused:
        fresh_dir(target, what=WHAT, by="test", protected=protected_dirs(settings))
    assert "rien n'a été supprimé" in str(refused.value)
    assert (target / "garder").exists()


def test_a_folder_inside_the_data_dir_is_allowed(tmp_path: Path):
    """The default exercise folder (var/exercice) lies inside the default data_dir (var)."""
    settings = Settings(data_dir=tmp_path / "var")
    folder = fresh_dir(
        tmp_path / "var" / "exercice", what=WHAT, by="test", protected=protected_dirs(settings)
    )
    assert (folder / MARKER).is_file()


def test_check_dir_touches_nothing(tmp_path: Path):
    """The check made before the lock creates nothing, even for a folder it accepts."""
    check_dir(tmp_path / "nouveau", what=WHAT)
    assert not (tmp_path / "nouveau").exists()
    (tmp_path / "fichier").write_text("x", encoding="utf-8")
    with pytest.raises(FolderRefused, match="ce n'est pas un dossier"):
        check_dir(tmp_path / "fichier", what=WHAT)
