"""Times as people read them: local time with its zone, UTC for auditors, one wording everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crisis import timefmt
from crisis.journal import (
    GENESIS,
    StoredEntry,
    as_shown,
    canonical,
    chain,
    describe,
    entry_hash,
    shown,
    verify,
)
from crisis.model import Actor, Interface, StepTriggered
from playbooks.model import Action, Engagement

PARIS = ZoneInfo("Europe/Paris")
AGENT = Actor(name="Agent d'astreinte", interface=Interface.CLI)


def test_winter_time_is_utc_plus_one():
    """A COD activated at 07:45 Paris time in December is 06:45 UTC: both are stated."""
    at = datetime(2026, 12, 2, 6, 45, tzinfo=UTC)
    assert timefmt.audit(at, PARIS) == "02/12/2026 07:45:00 (heure de Paris) — 06:45:00 UTC"
    assert timefmt.local(at, PARIS) == "02/12/2026 07:45 (heure de Paris)"
    assert timefmt.offset(at, PARIS) == "UTC+01:00"


def test_summer_time_is_utc_plus_two():
    """In July, 07:45 Paris time is 05:45 UTC."""
    at = datetime(2026, 7, 15, 5, 45, tzinfo=UTC)
    assert timefmt.audit(at, PARIS) == "15/07/2026 07:45:00 (heure de Paris) — 05:45:00 UTC"
    assert timefmt.offset(at, PARIS) == "UTC+02:00"


def test_the_same_instant_reads_the_same_whatever_offset_it_was_given_with():
    """07:45+01:00 and 06:45Z are one instant, one wording (facts keep the offset typed)."""
    typed = datetime(2026, 12, 2, 7, 45, tzinfo=timezone(timedelta(hours=1)))
    assert timefmt.audit(typed, PARIS) == timefmt.audit(typed.astimezone(UTC), PARIS)


def test_spring_forward_night_skips_the_missing_hour():
    """On 29 March 2026 the clocks jump from 02:00 to 03:00: 00:59Z is 01:59, 01:00Z is 03:00."""
    before = datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    after = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert timefmt.audit(before, PARIS) == "29/03/2026 01:59:00 (heure de Paris) — 00:59:00 UTC"
    assert timefmt.audit(after, PARIS) == "29/03/2026 03:30:00 (heure de Paris) — 01:30:00 UTC"
    assert not timefmt.repeated(after, PARIS)


def test_the_hour_repeated_in_october_reads_differently_each_time():
    """On 25 October 2026 02:30 Paris time happens twice: the offset tells them apart, even in
    a table cell and without the UTC part."""
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 winter time
    assert timefmt.repeated(first, PARIS) and timefmt.repeated(second, PARIS)
    assert timefmt.local(first, PARIS) == "25/10/2026 02:30 (heure de Paris, UTC+02:00)"
    assert timefmt.local(second, PARIS) == "25/10/2026 02:30 (heure de Paris, UTC+01:00)"
    assert timefmt.clock(first, PARIS) != timefmt.clock(second, PARIS)
    assert timefmt.audit(first, PARIS).endswith("— 00:30:00 UTC")
    assert timefmt.audit(second, PARIS).endswith("— 01:30:00 UTC")
    assert not timefmt.repeated(datetime(2026, 10, 25, 2, 30, tzinfo=UTC), PARIS)  # 03:30


def test_utc_part_gives_its_date_when_it_is_another_day():
    """Just after midnight in Paris it is still the day before in UTC: the UTC part says so."""
    at = datetime(2026, 12, 1, 23, 20, tzinfo=UTC)
    assert timefmt.audit(at, PARIS) == (
        "02/12/2026 00:20:00 (heure de Paris) — 01/12/2026 23:20:00 UTC"
    )


@pytest.mark.parametrize(
    ("zone", "label"),
    [
        ("Europe/Paris", "heure de Paris"),
        ("America/Cayenne", "heure de Guyane"),
        ("Indian/Reunion", "heure de La Réunion"),
        ("Pacific/Noumea", "heure de Nouvelle-Calédonie"),
        ("Asia/Kolkata", "heure locale, UTC+05:30"),
        ("America/Bogota", "heure locale, UTC\u221205:00"),
        ("UTC", "UTC"),
    ],
)
def test_zone_labels_name_the_prefectures_zone(zone: str, label: str):
    """Metropolitan and outre-mer zones by name; any other zone by its offset; UTC as UTC."""
    assert timefmt.zone_label(ZoneInfo(zone), datetime(2026, 12, 2, tzinfo=UTC)) == label


def test_an_outre_mer_prefecture_reads_its_own_time():
    """In Cayenne (UTC−03:00), 06:45 UTC is 03:45 local time."""
    at = datetime(2026, 12, 2, 6, 45, tzinfo=UTC)
    assert timefmt.audit(at, ZoneInfo("America/Cayenne")) == (
        "02/12/2026 03:45:00 (heure de Guyane) — 06:45:00 UTC"
    )


def test_a_prefecture_on_utc_does_not_say_it_twice():
    """With the zone set to UTC, the time is written once, labelled UTC."""
    at = datetime(2026, 12, 2, 6, 45, tzinfo=UTC)
    assert timefmt.audit(at, ZoneInfo("UTC")) == "02/12/2026 06:45:00 UTC"


def _late_step(due: datetime) -> StepTriggered:
    return StepTriggered(
        step_id="alerte_astreinte",
        title="Alerter l'astreinte",
        engagement=Engagement.E47_1,
        action=Action.PAGE_ON_CALL,
        due_at=due,
        late_seconds=600,
    )


def test_journal_sentences_give_deadlines_in_local_time_and_utc():
    """A late step's deadline reads in Paris time with its UTC instant, not UTC alone."""
    fact = _late_step(datetime(2026, 7, 15, 5, 45, tzinfo=UTC))
    assert "(échéance 15/07/2026 07:45:00 (heure de Paris) — 05:45:00 UTC)" in describe(fact, PARIS)


def _sealed_by_an_older_version(at: datetime) -> tuple[list[StoredEntry], str]:
    """An entry sealed with the old wording (local time labelled UTC), its chain intact."""
    fact = _late_step(datetime(2026, 12, 2, 7, 45, tzinfo=timezone(timedelta(hours=1))))
    old_text = describe(fact, PARIS).replace(
        "02/12/2026 07:45:00 (heure de Paris) — 06:45:00 UTC", "02/12/2026 07:45:00 UTC"
    )
    data = fact.model_dump(mode="json")
    digest = entry_hash(GENESIS, canonical("C", 1, at, AGENT, data, old_text))
    return [StoredEntry(1, at, AGENT, data, old_text, GENESIS, digest)], digest


def test_an_entry_sealed_with_the_old_wording_stays_verified_and_reads_right():
    """Verification stays on the sealed text; people read the sentence worded again from the
    stored instant: 07:45 Paris time, 06:45 UTC."""
    at = datetime(2026, 12, 2, 6, 55, tzinfo=UTC)
    stored, head = _sealed_by_an_older_version(at)
    assert verify("C", stored, 1, head) == []
    [entry] = chain("C", 0, GENESIS, [(_late_step(stored[0].data["due_at"]), AGENT)], at, tz=PARIS)
    old = entry.model_copy(update={"text": stored[0].text})
    assert "07:45:00 UTC" in old.text
    assert "(échéance 02/12/2026 07:45:00 (heure de Paris) — 06:45:00 UTC)" in shown(old, PARIS)
    [again] = as_shown([old], PARIS)
    assert again.text == shown(old, PARIS) and again.hash == old.hash
