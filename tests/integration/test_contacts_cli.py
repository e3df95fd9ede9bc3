"""`crisis contacts import|export|erase|list|seed-demo` on the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from contacts.demo import demo_directory
from contacts.geography import load_communes
from contacts.model import Directory
from crisis.bootstrap import build
from crisis.cli import app
from crisis.cli import contacts as cli_contacts
from crisis.cli.common import load
from crisis.clock import FakeClock
from crisis.journal import verify
from crisis.model import Actor, Interface, OutboxState
from crisis.store import Store
from crisis.store.repository import ERASED
from tests.integration.helpers import activate, advance

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
COMMUNES = [c for c in load_communes() if c.code_insee in {"42218", "42187"}]
FULL_NUMBER = re.compile(r"\+33\s?\d(?:[\s.]?\d{2}){4}")  # any complete French number
runner = CliRunner()


def csv_bytes(*lines: str) -> bytes:
    return "\r\n".join(lines).encode("utf-8") + b"\r\n"


def write_config(tmp: Path, database_url: str, source: str = "database") -> Path:
    config = tmp / "c.toml"
    config.write_text(
        f'data_dir = "{tmp}"\n[database]\nurl = "{database_url}"\n'
        f'[directory]\nsource = "{source}"\n',
        encoding="utf-8",
    )
    return config


@pytest.fixture
def seeded(store: Store) -> Directory:
    directory = demo_directory(COMMUNES, now=NOW)
    with store.transaction() as tx:
        tx.replace_directory(directory)
    return directory


def stored(store: Store) -> Directory:
    with store.transaction() as tx:
        return tx.load_directory()


def invoke(config: Path, *args: str) -> Result:
    return runner.invoke(app, ["contacts", *args, "--config", str(config)])


def test_import_with_a_rejected_line_changes_nothing_and_exits_1(
    store: Store, seeded: Directory, database_url: str, tmp_path: Path
) -> None:
    """One bad line: the report names it, nothing is stored, the exit code is 1."""
    config = write_config(tmp_path, database_url)
    file = tmp_path / "formations.csv"
    file.write_bytes(
        csv_bytes(
            "Identifiant;Type;Date;Durée;Avec activation CIP",
            "cip-3;exercice;15/09/2026;1;oui",
            "cip-3;exercice;31/09/2026;1;oui",
        )
    )
    result = invoke(config, "import", "formations", str(file))
    assert result.exit_code == 1, result.output
    assert "rejeté" in result.output and "31/09/2026" in result.output
    assert "Rien n'a été enregistré" in result.output
    assert stored(store) == seeded


def test_keep_valid_applies_the_valid_lines(
    store: Store, seeded: Directory, database_url: str, tmp_path: Path
) -> None:
    """With --keep-valid, the valid lines are stored and the rejected ones left out; a
    rejected line still exits 1, in a dry run too."""
    config = write_config(tmp_path, database_url)
    file = tmp_path / "astreintes.csv"
    file.write_bytes(
        csv_bytes(
            "Rôle;Début;Fin;Titulaire;Suppléant",
            "CIP;10/12/2026 08:00;11/12/2026 08:00;cip-1;",
            "CIP;10/12/2026 08:00;11/12/2026 08:00;cip-99;",
        )
    )
    dry = invoke(config, "import", "astreintes", str(file), "--keep-valid", "--dry-run")
    assert dry.exit_code == 1 and "rien n'a été enregistré" in dry.output
    assert stored(store) == seeded
    result = invoke(config, "import", "astreintes", str(file), "--keep-valid")
    assert result.exit_code == 1, result.output
    assert "1 ligne rejetée ignorée" in result.output
    [new] = set(stored(store).rosters) - set(seeded.rosters)
    assert new.contact_id == "cip-1"
    assert new.starts == datetime(2026, 12, 10, 7, 0, tzinfo=UTC)  # 08:00 in Paris


def test_import_is_refused_when_the_directory_changed_meanwhile(
    store: Store,
    seeded: Directory,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An erasure between reading and writing makes the import stop: its report is stale."""
    config = write_config(tmp_path, database_url)
    file = tmp_path / "formations.csv"
    file.write_bytes(csv_bytes("Identifiant;Type;Date", "cip-1;recyclage;01/10/2026"))
    original = cli_contacts.run_import

    def import_while_someone_erases(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = original(*args, **kwargs)
        with store.transaction() as tx:
            tx.erase_contact("cip-4")
        return result

    monkeypatch.setattr(cli_contacts, "run_import", import_while_someone_erases)
    result = invoke(config, "import", "formations", str(file))
    assert result.exit_code == 1
    assert "modifié pendant l'import" in result.output
    after = stored(store)
    assert after.contact("cip-4") is None  # the erasure stands
    assert len(after.training) == len(seeded.training) - 3  # cip-4's, and no new record


def test_import_needs_the_database_source(database_url: str, tmp_path: Path) -> None:
    """With the demo directory configured, an import is refused with a French hint (exit 2)."""
    config = write_config(tmp_path, database_url, source="demo")
    file = tmp_path / "f.csv"
    file.write_bytes(csv_bytes("Identifiant;Type;Date", "cip-1;recyclage;01/10/2026"))
    result = invoke(config, "import", "formations", str(file))
    assert result.exit_code == 2
    assert 'source = "database"' in result.output


def test_export_one_contact_as_json_with_training_and_rosters(
    store: Store, seeded: Directory, database_url: str, tmp_path: Path
) -> None:
    """The access-request export holds the contact, its training and its roster lines."""
    config = write_config(tmp_path, database_url)
    out = tmp_path / "acces.json"
    result = invoke(config, "export", "cip-1", "--output", str(out))
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert "RGPD" in document["objet"]
    [person] = document["contacts"]
    assert person["contact"]["id"] == "cip-1"
    assert person["contact"]["mobile"] == seeded.contact("cip-1").mobile  # type: ignore[union-attr]
    assert {f["kind"] for f in person["formations"]} == {
        "formation_initiale",
        "recyclage",
        "exercice",
    }
    assert person["astreintes"] and all(a["qualite"] == "titulaire" for a in person["astreintes"])
    assert "communes" not in document
    missing = invoke(config, "export", "nobody", "--output", str(tmp_path / "x.json"))
    assert missing.exit_code == 1


def test_erase_removes_the_contact_and_says_the_journal_keeps_ids(
    store: Store, seeded: Directory, database_url: str, tmp_path: Path
) -> None:
    """erase --yes removes the contact with its records and slots, and prints the journal note."""
    config = write_config(tmp_path, database_url)
    refused = invoke(config, "erase", "cip-2")  # no terminal to confirm: --yes is required
    assert refused.exit_code == 2
    assert stored(store).contact("cip-2") is not None
    result = invoke(config, "erase", "cip-2", "--yes")
    assert result.exit_code == 0, result.output
    assert "main courante" in result.output and "identifiant" in result.output
    after = stored(store)
    assert after.contact("cip-2") is None
    assert not any(r.contact_id == "cip-2" for r in after.training)
    assert not any(s.contact_id == "cip-2" for s in after.rosters)
    again = invoke(config, "erase", "cip-2", "--yes")
    assert again.exit_code == 1 and "aucun contact" in again.output


def test_list_masks_numbers_and_filters(
    store: Store, seeded: Directory, database_url: str, tmp_path: Path
) -> None:
    """The list shows masked numbers only, filtered by commune or role."""
    config = write_config(tmp_path, database_url)
    result = invoke(config, "list", "--commune", "42218")
    assert result.exit_code == 0, result.output
    assert "maire-42218" in result.output and "adjoint2-42218" in result.output
    assert "maire-42187" not in result.output
    assert "•• •• ••" in result.output
    assert not FULL_NUMBER.search(result.output)
    for contact in seeded.contacts:
        for number in (contact.mobile, contact.landline):
            assert number is None or number not in result.output
    cip = invoke(config, "list", "--role", "agent_cip")
    assert "cip-4" in cip.output and "maire-42218" not in cip.output
    assert "4 contacts" in cip.output


def test_seed_demo_refuses_to_overwrite_without_force(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    """seed-demo writes the demo directory with training and rosters, and never overwrites silently."""
    config = write_config(tmp_path, database_url)
    first = invoke(config, "seed-demo")
    assert first.exit_code == 0, first.output
    directory = stored(store)
    assert len(directory.communes) == 320 and directory.training and directory.rosters
    second = invoke(config, "seed-demo")
    assert second.exit_code == 1 and "--force" in second.output
    assert invoke(config, "seed-demo", "--force").exit_code == 0
    check = invoke(config, "check")
    assert check.exit_code == 0, check.output
    assert "320 communes" in check.output and "cip-2" in check.output


async def test_erase_scrubs_closed_crises_and_waits_for_open_ones(
    store: Store, seeded: Directory, database_url: str, tmp_path: Path
) -> None:
    """A contact alerted in an open event is not erased (nothing changes); once the event is
    closed, erasure also removes their name and addresses from its frozen roster and outbox,
    while the journal (ids only) still verifies."""
    config = write_config(tmp_path, database_url)
    clock = FakeClock(NOW)
    crisis_app = build(load(config), clock=clock)
    try:
        crisis_id = activate(crisis_app, NOW, communes=("42218", "42187")).crisis.id
        await advance(crisis_app, clock, 12)
        with crisis_app.store.transaction() as tx:
            assert any(c.id == "maire-42218" for c in tx.crisis(crisis_id).roster)

        refused = invoke(config, "erase", "maire-42218", "--yes")
        assert refused.exit_code == 1, refused.output
        assert "en cours" in refused.output and "Rien n'a été effacé" in refused.output
        assert stored(store).contact("maire-42218") is not None

        crisis_app.orchestrator.close(crisis_id, Actor(name="dircab", interface=Interface.CLI))
        result = invoke(config, "erase", "maire-42218", "--yes")
        assert result.exit_code == 0, result.output
        assert crisis_id in result.output
        with crisis_app.store.transaction() as tx:
            frozen = next(c for c in tx.crisis(crisis_id).roster if c.id == "maire-42218")
            rows = [
                r
                for r in tx.in_states(OutboxState)
                if r.message.crisis_id == crisis_id and r.message.contact_id == "maire-42218"
            ]
            stored_journal, head_seq, head_hash = tx.stored_journal(crisis_id)
        assert frozen.name == ERASED
        assert (frozen.mobile, frozen.landline, frozen.email) == (None, None, None)
        assert rows and all(r.message.address == ERASED for r in rows)
        assert verify(crisis_id, stored_journal, head_seq, head_hash) == []
        assert stored(store).contact("maire-42218") is None
    finally:
        crisis_app.close()
