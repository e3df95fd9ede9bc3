"""`crisis contacts check`: communes nobody could be called in, duplicates, fixed lines, quorum."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from contacts.check import check_directory, quorum_shortfall
from contacts.demo import demo_directory
from contacts.geography import load_communes
from contacts.model import Role

COMMUNES = [c for c in load_communes() if c.code_insee in {"42218", "42187", "42147"}]


def test_demo_directory_has_no_error():
    """The shipped demo directory reaches every commune and has both people on call."""
    findings = check_directory(demo_directory(COMMUNES))
    assert [f for f in findings if f.severity == "erreur"] == []


def test_commune_without_phone_is_an_error_and_problems_are_named_by_id():
    """A commune whose officials have no phone, a shared mobile and a fixed line as mobile are found."""
    directory = demo_directory(COMMUNES)
    maire = next(c for c in directory.contacts if c.id == "maire-42218")
    changed = []
    edits = {
        "adjoint1-42218": {"mobile": maire.mobile},  # shares the maire's mobile
        "adjoint2-42218": {"mobile": "+33465710042"},  # a fiction fixed line in the mobile field
    }
    for contact in directory.contacts:
        if contact.commune == "42187":
            edits[contact.id] = {"mobile": None, "landline": None}
        changed.append(contact.model_copy(update=edits.get(contact.id, {})))
    directory = directory.model_copy(update={"contacts": tuple(changed)})
    findings = check_directory(directory)
    codes = [f.code for f in findings]
    assert codes[0] == "commune_injoignable" and findings[0].commune == "42187"
    assert "mobile_fixe" in codes and "doublon_mobile" in codes
    text = " ".join(f.message for f in findings)
    assert "Roanne" in text and "+33" not in text  # contacts by id, never by number


def test_quorum_counts_only_trained_reachable_members():
    """Untrained recall agents do not make up a playbook's quorum."""
    directory = demo_directory(COMMUNES)
    trained = sum(1 for c in directory.with_role(Role.AGENT_RAPPEL) if c.trained)
    assert quorum_shortfall(directory, {Role.AGENT_RAPPEL: trained}, label="inondation") == []
    short = quorum_shortfall(directory, {Role.AGENT_RAPPEL: trained + 1}, label="inondation")
    assert short and "formé" in short[0].message


def test_cli_contacts_check_exits_zero_on_the_demo_directory(tmp_path: Path):
    """The command lists findings per severity and exits 0 when there is no error."""
    config = tmp_path / "c.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n[database]\nurl = "sqlite:///{tmp_path / "c.db"}"\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "crisis", "contacts", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Annuaire" in result.stdout and "320 communes" in result.stdout
