"""The kinds table: every kind of event has its row, the exercise simulators speak of every kind,
and a kind without a row is refused in French when playbooks or scenarios are loaded."""

from __future__ import annotations

import shutil
import tomllib
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.cap import CAP_NAMESPACE, CapAlert, build_cap_alert, cap_identifier, validate_cap
from crisis.exercise.callers import CallerSimulator
from crisis.exercise.errors import ScenarioError
from crisis.exercise.media import MediaSimulator
from crisis.exercise.scenario import LIBRARY, CipProfile, MediaProfile, load_scenario
from playbooks import kinds
from playbooks.kinds import KINDS, EventKind, UnknownEventKind, kind_row
from playbooks.loader import PlaybookErrors, default_library_dir, load_library

T0 = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)
COMMUNES = ("Saint-Étienne", "Saint-Chamond", "Firminy")
DURATION = 120
SEED = 3


def _toml_kinds() -> set[str]:
    """The kind of every playbook shipped in playbooks/library/."""
    found = set()
    for path in sorted(default_library_dir().glob("*.toml")):
        found.add(tomllib.loads(path.read_text(encoding="utf-8"))["kind"])
    return found


ALL_KINDS = sorted({*(k.value for k in KINDS), *_toml_kinds()})


def _media(kind: EventKind) -> MediaSimulator:
    return MediaSimulator(
        MediaProfile(base_per_hour=60),
        seed=SEED,
        t0=T0,
        kind=kind,
        duration_minutes=DURATION,
        communes=COMMUNES,
    )


def _callers(kind: EventKind) -> CallerSimulator:
    profile = CipProfile.model_validate(
        {
            "activate": True,
            "at": "T0+0",
            "number": "+33465714242",
            "agents": ["cip-1", "cip-2"],
            "callers": [{"at": "T0+0", "per_hour": 60}],
        }
    )
    return CallerSimulator(
        profile,
        seed=SEED,
        t0=T0,
        duration_minutes=DURATION,
        kind=kind,
        communes=COMMUNES,
        rumour_from_minute=0,
    )


def test_every_enum_member_and_every_shipped_playbook_has_its_row():
    """EventKind, the KINDS table and the playbook library name the same kinds."""
    assert set(KINDS) == set(EventKind)
    assert _toml_kinds() <= {k.value for k in KINDS}
    assert set(load_library().playbooks) == set(KINDS)


@pytest.mark.parametrize("value", ALL_KINDS)
def test_media_simulator_asks_questions_about_every_kind(value: str):
    """Simulated journalists ask about each kind with its own words (event, hashtag)."""
    kind = EventKind(value)
    flavour = kind_row(kind).flavour
    requests = _media(kind).requests_between(T0, T0.replace(hour=10))
    assert len(requests) > 20
    assert requests == _media(kind).requests_between(T0, T0.replace(hour=10))
    texts = " ".join(r.fact.question for r in requests)
    assert any(word in texts for word in (flavour.event, flavour.events, flavour.hashtag))


@pytest.mark.parametrize("value", ALL_KINDS)
def test_caller_simulator_calls_about_every_kind(value: str):
    """Simulated CIP callers call for each kind, and repeat its own rumour."""
    kind = EventKind(value)
    calls = _callers(kind).all_calls()
    assert len(calls) > 20
    assert calls == _callers(kind).all_calls()
    rumours = [c.fact.topic for c in calls if c.fact.topic.startswith("rumeur")]
    assert rumours
    assert all(kind_row(kind).flavour.rumour in topic for topic in rumours)
    assert all("qu'le" not in topic and "qu'l'" not in topic for topic in rumours)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_row_gives_valid_cap_categories(kind: EventKind):
    """The CAP categories of a row are CAP 1.2 ones: the alert carries them and validates."""
    categories = kind_row(kind).cap_categories
    alert = CapAlert(
        identifier=cap_identifier("42", f"crisis-1:{kind}"),
        sender="pref42@interieur.gouv.fr",
        sent=T0,
        sender_name="Préfecture de la Loire",
        headline=kind.label,
        description=kind.label,
        event_kind="sans-correspondance",  # the row, not the channel's own table, decides
        categories=categories,
    )
    document = build_cap_alert(alert)
    assert validate_cap(document) == []
    found = ET.fromstring(document).findall(f"{{{CAP_NAMESPACE}}}info/{{{CAP_NAMESPACE}}}category")
    assert tuple(c.text for c in found) == categories


def test_a_playbook_of_an_unknown_kind_is_refused_in_french(tmp_path: Path):
    """A playbook whose kind has no row is refused at load time, naming playbooks/kinds.py."""
    library = tmp_path / "library"
    library.mkdir()
    source = (default_library_dir() / "sater.toml").read_text(encoding="utf-8")
    (library / "volcan.toml").write_text(
        source.replace('kind = "sater"', 'kind = "volcan"'), encoding="utf-8"
    )
    with pytest.raises(PlaybookErrors) as caught:
        load_library(library)
    message = str(caught.value)
    assert "clé « kind »" in message
    assert "valeur inconnue « volcan »" in message
    assert "playbooks/kinds.py" in message


def test_a_kind_losing_its_row_is_refused_when_loading_not_when_simulating(
    monkeypatch: pytest.MonkeyPatch,
):
    """An EventKind member without a row: the library refuses it, the simulators say why."""
    monkeypatch.delitem(kinds.KINDS, EventKind.SATER)
    with pytest.raises(PlaybookErrors) as caught:
        load_library()
    assert "sater.toml, clé « kind » : valeur inconnue « sater »" in str(caught.value)
    with pytest.raises(UnknownEventKind, match=r"playbooks/kinds\.py"):
        _media(EventKind.SATER)
    with pytest.raises(UnknownEventKind, match=r"playbooks/kinds\.py"):
        _callers(EventKind.SATER)


def test_a_scenario_of_an_unknown_kind_is_refused_in_french(tmp_path: Path):
    """An exercise scenario whose kind has no row is refused when it is read."""
    path = tmp_path / "volcan.toml"
    shutil.copy(LIBRARY / "inondation_furan.toml", path)
    text = path.read_text(encoding="utf-8").replace('kind = "inondation"', 'kind = "volcan"')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match="valeur inconnue « volcan »"):
        load_scenario(path)
