"""Reading the T0 typed by the on-call agent."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from crisis.cli import AmbiguousT0, parse_t0

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 1, 25, tzinfo=UTC)  # 02:25 in Paris


def test_hour_alone_is_today_in_local_time():
    """ "02:10" typed at 02:25 is 02:10 Paris time today, 01:10 UTC."""
    assert parse_t0("02:10", PARIS, NOW) == datetime(2026, 11, 23, 1, 10, tzinfo=UTC)


def test_hour_later_than_now_is_yesterday():
    """ "23:50" typed at 02:25 is yesterday evening: a COD activation is never in the future."""
    assert parse_t0("23:50", PARIS, NOW) == datetime(2026, 11, 22, 22, 50, tzinfo=UTC)


def test_full_date_without_zone_is_local_and_with_zone_is_kept():
    """A date without offset is local time; an explicit offset is respected."""
    assert parse_t0("2026-11-23 02:10", PARIS, NOW) == datetime(2026, 11, 23, 1, 10, tzinfo=UTC)
    assert parse_t0("2026-11-23T01:10:00+00:00", PARIS, NOW) == datetime(
        2026, 11, 23, 1, 10, tzinfo=UTC
    )


@pytest.mark.parametrize("text", ["2h10", "25:00", "hier soir", ""])
def test_unreadable_t0_gets_a_french_error(text):
    """An unreadable T0 is refused with examples of what is expected."""
    with pytest.raises(ValueError, match="illisible"):
        parse_t0(text, PARIS, NOW)


def test_bare_time_more_than_twelve_hours_back_asks_for_the_date():
    """ "03:05" typed at 02:25 (a typo 40 minutes ahead) would be yesterday: refused, with why."""
    with pytest.raises(AmbiguousT0, match="date complète") as refused:
        parse_t0("03:05", PARIS, NOW)
    assert "dimanche 22/11/2026 03:05" in str(refused.value)
    assert "il y a 23 h 20 min" in str(refused.value)


def test_bare_time_less_than_twelve_hours_back_across_midnight_is_yesterday():
    """ "23:50" at 02:25 is last night, under 12 hours back: taken without a date."""
    assert parse_t0("23:50", PARIS, NOW) == datetime(2026, 11, 22, 22, 50, tzinfo=UTC)


def test_french_date_form_is_read_in_local_time():
    """ "23/11/2026 02:10" is 02:10 Paris time (01:10 UTC in winter)."""
    assert parse_t0("23/11/2026 02:10", PARIS, NOW) == datetime(2026, 11, 23, 1, 10, tzinfo=UTC)
