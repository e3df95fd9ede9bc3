"""The live stream's generator: an event when the main courante's head moves, a keep-alive
when idle, the end when the client leaves or the crisis is unknown; and the head read."""

from __future__ import annotations

from datetime import timedelta

from crisis.bootstrap import App
from crisis.clock import FakeClock
from crisis.model import Actor, Interface
from crisis.web import live
from tests.integration.helpers import activate, journal


async def _collect(heads: list[int | None], polls: int) -> list[str]:
    """Run the stream over a scripted head, the client leaving after `polls` polls."""
    seen = iter(heads)
    calls = {"n": 0}

    async def disconnected() -> bool:
        calls["n"] += 1
        return calls["n"] > polls

    async def no_wait(_seconds: float) -> None:
        return None

    return [
        chunk async for chunk in live.sse_stream(lambda: next(seen), disconnected, sleep=no_wait)
    ]


async def test_events_only_when_the_head_moves_and_stop_on_disconnect() -> None:
    chunks = await _collect([3, 3, 5, 5], polls=4)
    assert chunks[0].startswith("retry: ")
    assert chunks[1:] == ["id: 3\ndata: 3\n\n", "id: 5\ndata: 5\n\n"]


async def test_keepalive_when_idle_and_end_for_an_unknown_crisis() -> None:
    idle = await _collect([7] * (live.KEEPALIVE_POLLS + 1), polls=live.KEEPALIVE_POLLS + 1)
    assert idle[1:] == ["id: 7\ndata: 7\n\n", ": attente\n\n"]
    gone = await _collect([None], polls=5)
    assert gone[1:] == ["event: fin\ndata: inconnu\n\n"]


def test_journal_head_follows_the_main_courante(app: App, clock: FakeClock) -> None:
    crisis_id = activate(app, clock.now() - timedelta(minutes=1)).crisis.id
    head = live.journal_head(app.store, crisis_id)
    assert head == journal(app, crisis_id)[-1].seq
    app.orchestrator.note(crisis_id, "point de situation", Actor(name="A", interface=Interface.CLI))
    assert live.journal_head(app.store, crisis_id) == (head or 0) + 1
    assert live.journal_head(app.store, "inconnu") is None
