"""The numéro unique's calls in progress and how each one ends, without HTTP: the track of a
caller's call, the line's state (queue length, agents in a call) and the one CipCallEnded
fact a finished call becomes. Callers' numbers are compared here, never kept nor logged."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from channels.twilio_hotline import CallRoute, HotlineSettings
from contacts.model import Role
from crisis.model import CipCallEnded, CipCallOutcome, Crisis

__all__ = [
    "BRIDGED",
    "ENDED",
    "TO_VOICEMAIL",
    "CallTrack",
    "CipLineState",
    "agent_id",
    "agents_on_duty",
    "ended_fact",
    "number_param",
    "queue_name",
]

ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
BRIDGED = frozenset({"bridged", "bridging-in-process"})
TO_VOICEMAIL = frozenset({"leave", "queue-full", "error", "system-error"})
_QUEUE_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def queue_name(hotline: HotlineSettings, crisis_id: str) -> str:
    """The crisis's Twilio queue: `{queue_name}-{crisis id}` (64 characters at most)."""
    return _QUEUE_UNSAFE.sub("-", f"{hotline.queue_name}-{crisis_id}")[:64]


def number_param(params: Mapping[str, str], name: str) -> float | None:
    """A non-negative number Twilio posted (QueueTime, CallDuration...), None when absent."""
    try:
        value = float(params.get(name, ""))
    except ValueError:
        return None
    return value if value >= 0 else None


@dataclass
class CallTrack:
    """One caller's call on the numéro unique, from the greeting to its status callback."""

    crisis_id: str
    started_at: datetime
    route: CallRoute
    in_queue: bool = False
    queue_time_s: float | None = None  # Twilio's QueueTime (seconds) once out of the queue
    queue_result: str = ""
    connected_at: datetime | None = None
    agent_id: str | None = None
    message: bool = False  # a voicemail was recorded

    def outcome(self) -> CipCallOutcome:
        """How the call ended, for the CIP figures."""
        if self.message:
            return "message"
        if self.connected_at is not None or self.queue_result in BRIDGED:
            return "repondu"
        if self.route == CallRoute.OVERFLOW or self.queue_result in TO_VOICEMAIL:
            return "debordement"
        if self.route == CallRoute.OUT_OF_HOURS:
            return "hors_horaires"
        return "abandonne"

    def left_queue(self, result: str, params: Mapping[str, str]) -> None:
        """The caller left the queue with Twilio's QueueResult (and QueueTime, if posted)."""
        self.in_queue = False
        self.queue_result = result
        self._waited(params)

    def connected(self, now: datetime, params: Mapping[str, str]) -> None:
        """An agent took the caller at `now` (Twilio's QueueTime kept, if posted)."""
        self.in_queue = False
        self.connected_at = now
        self._waited(params)

    @classmethod
    def rebuilt(cls, crisis_id: str, now: datetime, params: Mapping[str, str]) -> CallTrack:
        """A call this process never saw (restart): its route is unknown, so only its status
        decides the outcome; it started CallDuration seconds ago."""
        duration = number_param(params, "CallDuration") or 0.0
        return cls(
            crisis_id=crisis_id,
            started_at=now - timedelta(seconds=duration),
            route=CallRoute.ENQUEUE,
        )

    def _waited(self, params: Mapping[str, str]) -> None:
        waited = number_param(params, "QueueTime")
        if waited is not None:
            self.queue_time_s = waited


class CipLineState:
    """The numéro unique's calls in progress, in memory (lost on restart: a call then ends
    with what its status callback alone says). Keyed by CallSid."""

    def __init__(self, remember: int = 10_000, stale_after_s: float = 4 * 3600) -> None:
        self.calls: dict[str, CallTrack] = {}
        self.agent_calls: dict[str, tuple[str, str | None]] = {}  # sid -> (crisis, agent id)
        self._journaled: set[str] = set()
        self._order: deque[str] = deque()
        self._remember = remember
        self._stale_after = timedelta(seconds=stale_after_s)

    def prune(self, now: datetime) -> None:
        """Forget calls whose end never came (no status callback configured, lost request):
        they would otherwise fill the queue forever."""
        stale = [sid for sid, c in self.calls.items() if now - c.started_at > self._stale_after]
        for sid in stale:
            del self.calls[sid]
        while len(self.agent_calls) > self._remember:
            del self.agent_calls[next(iter(self.agent_calls))]

    def queue_length(self, crisis_id: str) -> int:
        """Callers waiting in the crisis's queue."""
        return sum(1 for c in self.calls.values() if c.crisis_id == crisis_id and c.in_queue)

    def busy(self, crisis_id: str) -> set[str]:
        """Agents of the crisis now talking to a caller."""
        return {
            c.agent_id
            for c in self.calls.values()
            if c.crisis_id == crisis_id and c.agent_id is not None and c.connected_at is not None
        }

    def was_journaled(self, call_sid: str) -> bool:
        """Whether this call's CipCallEnded was already recorded by this process."""
        return call_sid in self._journaled

    def journaled(self, call_sid: str) -> None:
        """The call's fact is in the journal: forget the call, remember its sid (bounded)."""
        self.calls.pop(call_sid, None)
        if call_sid in self._journaled:
            return
        self._journaled.add(call_sid)
        self._order.append(call_sid)
        while len(self._order) > self._remember:
            self._journaled.discard(self._order.popleft())


def _talked(track: CallTrack, waited: float, duration: float | None, now: datetime) -> float:
    """Seconds spent talking to an agent: the call's duration minus what came before."""
    if track.connected_at is not None:
        if duration is None:
            return (now - track.connected_at).total_seconds()
        return duration - (track.connected_at - track.started_at).total_seconds()
    return 0.0 if duration is None else duration - waited


def ended_fact(
    call_sid: str, track: CallTrack, params: Mapping[str, str], now: datetime
) -> CipCallEnded:
    """The one fact a finished call becomes: outcome, wait and talk times, the agent."""
    outcome = track.outcome()
    waited = track.queue_time_s
    if waited is None:
        waited = number_param(params, "QueueTime") or 0.0
    talked = 0.0
    if outcome == "repondu":
        talked = _talked(track, waited, number_param(params, "CallDuration"), now)
    return CipCallEnded(
        call_id=call_sid,
        outcome=outcome,
        started_at=track.started_at,
        waited_seconds=max(0.0, waited),
        talked_seconds=max(0.0, talked),
        agent_id=track.agent_id,
    )


def agents_on_duty(crisis: Crisis) -> Collection[str]:
    """The CIP agents on duty: the crisis roster's AGENT_CIP contacts."""
    return {c.id for c in crisis.roster if c.role == Role.AGENT_CIP}


def agent_id(crisis: Crisis, numbers: Collection[str]) -> str | None:
    """The roster's CIP agent one of these numbers belongs to (compared, never logged)."""
    wanted = {n for n in numbers if n}
    for contact in crisis.roster:
        if contact.role == Role.AGENT_CIP and {contact.mobile, contact.landline} & wanted:
            return contact.id
    return None
