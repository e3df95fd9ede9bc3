"""Exercise scenarios: the shipped flood exercise loads, and every mistake in a file is reported
in French with the file, the location and the reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.base import ChannelName
from channels.exercise import AllowList
from contacts.cog import load_extract
from contacts.demo import demo_directory
from contacts.geography import load_communes
from crisis.exercise.participants import participant_addresses
from crisis.exercise.scenario import (
    LIBRARY,
    Scenario,
    ScenarioError,
    format_offset,
    load_scenario,
    parse_offset,
)
from playbooks.model import EventKind

FURAN = LIBRARY / "inondation_furan.toml"

MINIMAL = """
title = "Exercice test"
kind = "inondation"
area = "42218 42207"
synergi_ref = "EX-1"
duration = 60
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, text))
    return caught.value


def test_the_shipped_flood_exercise_loads_against_the_demo_directory_and_the_loire():
    """inondation_furan.toml: 90 minutes, 6+ injects incl. the dam rumour, CIP at T0+25."""
    directory = demo_directory(load_communes())
    scenario = load_scenario(
        FURAN, geography=load_extract(), known_contacts={c.id for c in directory.contacts}
    )
    assert scenario.kind == EventKind.INONDATION
    assert scenario.duration == 90
    assert len(scenario.injects) >= 6
    assert any(i.rumour and "barrage aurait cédé" in i.text for i in scenario.injects)
    assert scenario.cip.activate and scenario.cip.at == 25
    assert scenario.cip.number is not None and scenario.cip.number.startswith("+33")
    assert scenario.media.enabled and scenario.media.base_per_hour > 0
    assert len(scenario.resolve(load_extract()).codes) == 53  # Saint-Étienne Métropole


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("T0", 0), ("T0+12", 12), ("T0+1h05", 65), ("T0+1h", 60), ("t0 + 2h30", 150), (7, 7)],
)
def test_offsets_are_read_in_minutes(text: str | int, minutes: int):
    """ "T0+12" and "T0+1h05" are minutes after T0; format_offset writes them back."""
    assert parse_offset(text) == minutes
    assert parse_offset(format_offset(minutes)) == minutes


def test_injects_get_ids_and_are_kept_in_time_order(tmp_path: Path):
    """Unsorted injects are sorted by time; ids given where the file leaves them out."""
    scenario = load_scenario(
        write(
            tmp_path,
            MINIMAL
            + """
[[injects]]
at = "T0+40"
text = "deuxième"
[[injects]]
at = "T0+10"
text = "premier"
[[injects]]
id = "rumeur-barrage"
at = "T0+50"
text = "un barrage aurait cédé"
rumour = true
""",
        )
    )
    assert [(i.id, i.at) for i in scenario.injects] == [
        ("inj-01", 10),
        ("inj-02", 40),
        ("rumeur-barrage", 50),
    ]
    assert [i.id for i in scenario.rumours] == ["rumeur-barrage"]
    t0 = datetime(2026, 3, 12, 8, tzinfo=UTC)
    assert scenario.inject_time(scenario.injects[1], t0) == datetime(2026, 3, 12, 8, 40, tzinfo=UTC)
    assert scenario.t0_at(t0) == t0  # "now" by default


def test_bad_inject_time_names_the_inject_and_the_key(tmp_path: Path):
    """A time that is not "T0+..." is reported at injects[2].at, with the expected forms."""
    injects = "".join(
        f'\n[[injects]]\nat = "{at}"\ntext = "inject"\n' for at in ("T0+5", "T0+10", "midi")
    )
    error = error_of(tmp_path, MINIMAL + injects)
    assert error.location == "injects[2].at"
    assert "« midi »" in error.reason and "T0+1h05" in error.reason
    assert str(error).startswith(f"scénario {tmp_path / 'scenario.toml'}, injects[2].at : ")


def test_inject_after_the_end_of_the_exercise_is_refused(tmp_path: Path):
    """An inject at T0+1h10 in a 60-minute exercise is after the end: error at its location."""
    error = error_of(
        tmp_path,
        MINIMAL
        + '\n[[injects]]\nat = "T0+5"\ntext = "a"\n[[injects]]\nat = "T0+1h10"\ntext = "b"\n',
    )
    assert error.location == "injects[1].at"
    assert "après la fin de l'exercice" in error.reason and "T0+1h10" in error.reason


def test_unknown_event_kind_lists_the_known_ones(tmp_path: Path):
    """kind = "seisme" is not an event kind: the error says which are."""
    error = error_of(tmp_path, MINIMAL.replace('"inondation"', '"seisme"'))
    assert error.location == "kind"
    assert "« seisme »" in error.reason and "inondation" in error.reason


def test_unknown_key_is_reported_with_a_suggestion(tmp_path: Path):
    """A typo in a nested table is located and a close key suggested."""
    error = error_of(tmp_path, MINIMAL + "\n[media]\nbase_per_huor = 5\n")
    assert error.location == "media.base_per_huor"
    assert "clé inconnue" in error.reason and "base_per_hour" in error.reason


def test_unknown_top_level_key_is_reported(tmp_path: Path):
    """extra="forbid": a stray key is an error, not a silent default."""
    error = error_of(tmp_path, MINIMAL + 'auteur = "moi"\n')
    assert error.location == "auteur"
    assert "clé inconnue" in error.reason


def test_missing_key_and_bad_area(tmp_path: Path):
    """Missing synergi_ref and an unreadable area are both reported in French."""
    error = error_of(tmp_path, MINIMAL.replace('synergi_ref = "EX-1"\n', ""))
    assert (error.location, error.reason) == ("synergi_ref", "clé obligatoire manquante")
    error = error_of(tmp_path, MINIMAL.replace('"42218 42207"', '"commune:42218"'))
    assert error.location == "area" and "non reconnu" in error.reason


def test_unknown_commune_is_reported_when_a_geography_is_given(tmp_path: Path):
    """The area resolves against the Loire: 99999 is no commune."""
    path = write(tmp_path, MINIMAL.replace("42218 42207", "42218 99999"))
    load_scenario(path)  # syntax is fine
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, geography=load_extract())
    assert caught.value.location == "area" and "99999" in caught.value.reason


def test_unknown_participant_is_located(tmp_path: Path):
    """Participants must be directory ids when the directory is given."""
    path = write(tmp_path, MINIMAL + '\n[participants]\ncontacts = ["cell-dircab", "inconnu-7"]\n')
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, known_contacts={"cell-dircab"})
    assert caught.value.location == "participants.contacts[1]"
    assert "inconnu-7" in caught.value.reason


def test_extra_addresses_are_normalised_and_bad_ones_located(tmp_path: Path):
    """Phones become E.164, e-mails lower case; a bad number is located without echoing it."""
    scenario = load_scenario(
        write(
            tmp_path,
            MINIMAL
            + '\n[participants]\nphones = ["06 39 98 12 34"]\nemails = ["COD@Prefecture.example"]\n',
        )
    )
    assert scenario.participants.phones == ("+33639981234",)
    assert scenario.participants.emails == ("cod@prefecture.example",)
    error = error_of(tmp_path, MINIMAL + '\n[participants]\nphones = ["+33639981234", "06 39"]\n')
    assert error.location == "participants.phones[1]"
    assert "06 39" not in error.reason


def test_cip_activation_needs_time_number_and_agents(tmp_path: Path):
    """activate = true without a time is an error at cip.at; the time must be in the exercise."""
    error = error_of(tmp_path, MINIMAL + '\n[cip]\nactivate = true\nnumber = "+33465714242"\n')
    assert error.location == "cip.at"
    error = error_of(
        tmp_path,
        MINIMAL
        + '\n[cip]\nactivate = true\nat = "T0+2h"\nnumber = "+33465714242"\nagents = ["cip-1"]\n',
    )
    assert error.location == "cip.at" and "après la fin" in error.reason


def test_out_of_range_numbers_and_naive_t0(tmp_path: Path):
    """speed above 60, a duration below 60 and a T0 without time zone are refused."""
    error = error_of(tmp_path, MINIMAL + "speed = 120\n")
    assert error.location == "speed" and "≤ 60" in error.reason
    error = error_of(tmp_path, MINIMAL.replace("duration = 60", "duration = 20"))
    assert error.location == "duration" and "≥ 60" in error.reason
    error = error_of(tmp_path, MINIMAL + "t0 = 2026-03-12T09:00:00\n")
    assert error.location == "t0" and "fuseau" in error.reason


def test_toml_syntax_error_and_missing_file(tmp_path: Path):
    """Broken TOML and an absent file are ScenarioErrors too."""
    assert "syntaxe TOML" in error_of(tmp_path, 'title = "x\n').reason
    with pytest.raises(ScenarioError, match="introuvable"):
        load_scenario(tmp_path / "absent.toml")


def test_scenario_is_frozen():
    """A loaded scenario cannot be changed by the runner."""
    scenario = Scenario.model_validate(
        {"title": "t", "kind": "inondation", "area": "42218", "synergi_ref": "x"}
    )
    with pytest.raises(ValueError):
        scenario.seed = 3  # type: ignore[misc]


def test_participant_addresses_gather_the_directory_and_the_extras():
    """Participants' and CIP agents' numbers and e-mails, plus the extras and exercise accounts,
    make an allow-list that lets them through and nobody else."""
    directory = demo_directory(load_communes())
    scenario = load_scenario(FURAN)
    addresses = participant_addresses(scenario, directory.contacts)
    by_id = {c.id: c for c in directory.contacts}
    assert set(addresses.contact_ids) == set(scenario.participants.contacts) | set(
        scenario.cip.agents
    )
    allow = AllowList.of(phones=addresses.phones, emails=addresses.emails, public=addresses.public)
    dircab = by_id["cell-dircab"]
    assert dircab.mobile and dircab.email
    assert allow.allows(ChannelName.SMS, dircab.mobile)
    assert allow.allows(ChannelName.EMAIL, dircab.email)
    assert allow.allows(ChannelName.EMAIL, "exercice-cod@prefecture-loire.example")
    assert allow.allows(ChannelName.X, "@Pref42_Exercice")
    outsider = by_id["maire-42005"]  # Andrézieux-Bouthéon: in the area, not a participant
    assert outsider.mobile and not allow.allows(ChannelName.VOICE, outsider.mobile)
    assert not allow.allows(ChannelName.WEBSITE, "website")


@pytest.mark.parametrize("value", ["5", '"demain"', '"2026-03-12T09:00:00+01:00"'])
def test_t0_is_a_toml_datetime_or_now(tmp_path: Path, value: str):
    """A number, a word or a quoted date is not a T0 (a TOML datetime has no quotes)."""
    error = error_of(tmp_path, MINIMAL + f"t0 = {value}\n")
    assert error.location == "t0" and '"now"' in error.reason


def test_t0_with_time_zone_is_kept(tmp_path: Path):
    """A fixed T0 replays the exercise at the same time."""
    scenario = load_scenario(write(tmp_path, MINIMAL + "t0 = 2026-03-12T09:00:00+01:00\n"))
    assert scenario.t0_at(datetime(2030, 1, 1, tzinfo=UTC)) == datetime(2026, 3, 12, 8, tzinfo=UTC)
