"""The press queue projected from the main courante (crisis.press)."""

from __future__ import annotations

from datetime import timedelta

from crisis import press
from crisis.model import MediaRequestAnswered, MediaRequestAssigned, MediaRequestReceived
from tests.unit.journal_builder import JournalBuilder, t


def _request(rid: str) -> MediaRequestReceived:
    return MediaRequestReceived(
        request_id=rid,
        kind="appel",
        outlet="Le Progrès",
        journalist="Camille Fictive",
        topic="routes",
        question="Les routes sont-elles coupées ?",
        simulated=True,
    )


def test_requests_come_in_the_order_received_with_their_assignments_and_first_answer():
    """Each request keeps every assignment in order and only its first answer."""
    b = JournalBuilder()
    b.add(_request("P-001"), t(1))
    b.add(_request("P-002"), t(3))
    b.add(MediaRequestAssigned(request_id="P-001", assignee="cell-com-1"), t(4))
    b.add(MediaRequestAssigned(request_id="P-001", assignee="cell-com-2"), t(5))
    b.add(MediaRequestAnswered(request_id="P-001", answer="Oui, la D12."), t(7))
    b.add(MediaRequestAnswered(request_id="P-001", answer="Encore"), t(9))
    first, second = press.queue(b.entries)
    assert [first.request_id, second.request_id] == ["P-001", "P-002"]
    assert (first.first_assignee, first.assignee) == ("cell-com-1", "cell-com-2")
    assert first.answered and first.answer_text == "Oui, la D12."
    assert first.time_to_answer() == timedelta(minutes=6)
    assert first.waiting(t(30)) == timedelta(minutes=6)
    assert not second.answered and second.assignee == "" and second.answer_text is None
    assert second.waiting(t(30)) == timedelta(minutes=27)


def test_find_gives_one_request_or_none():
    """find() names a request by its id, None for an id the journal does not hold."""
    b = JournalBuilder()
    b.add(_request("P-001"), t(1))
    found = press.find(b.entries, "P-001")
    assert found is not None and found.received_at == t(1)
    assert press.find(b.entries, "P-404") is None
