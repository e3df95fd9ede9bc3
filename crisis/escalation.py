"""Escalation chains, pure: who to call next until someone is reached ("appeler jusqu'à joindre").

A step with an `escalation` table does not call everybody at once. Its audience is cut into
chains (`groups`):

- `notify_officials`: one chain per commune, maire → adjoints in order → secrétariat de mairie,
  one person at a time; the chain is reached when anyone of the commune acknowledges;
- `page_on_call`: one chain per on-call role, holder → deputies (roster order), one at a time;
- `recall_cell`: one chain for the whole recall list, everybody at once, then again the unreached;
  it is reached when the playbook's quorum of *trained* members has acknowledged.

After an unanswered call (left the provider, no acknowledgement), and once `wait` has passed,
the next person is called; after the last, the first again, until everyone has had
`max_attempts` calls or the window (`until`, from T0) closes. Then the chain ends "non joint",
with every attempt, as a journal fact.

This module only answers "who now, and when to look again": the engine turns the answer into
messages and facts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contacts.model import Contact, Role
from crisis.model import OutboxState
from playbooks.model import Action, Escalation

IN_FLIGHT = frozenset({OutboxState.PENDING, OutboxState.SENDING})
POLL = timedelta(seconds=30)  # look again while a call is still with the provider


@dataclass(frozen=True)
class Attempt:
    """One call already made (or queued) in a chain: an outbox row of the step's voice channel."""

    step_id: str
    contact_id: str
    attempt: int
    state: OutboxState
    at: datetime  # last change of the row: queued, left, answered or failed


@dataclass(frozen=True)
class Group:
    """One chain: the people to call in order, and what counts as reached."""

    key: str
    chain: tuple[Contact, ...]
    parallel: bool = False
    commune: str | None = None


@dataclass
class Next:
    """What to do for one step now."""

    calls: list[tuple[Contact, int]] = field(default_factory=list)  # (person, attempt number)
    ended: list[tuple[Group, str, tuple[Attempt, ...]]] = field(default_factory=list)
    wake_at: datetime | None = None

    def wake(self, when: datetime) -> None:
        """Ask to be woken at `when` (the earliest asked wins)."""
        if self.wake_at is None or when < self.wake_at:
            self.wake_at = when


def groups(action: Action, contacts: Sequence[Contact]) -> list[Group]:
    """Cut a step's audience (already filtered to those who can be called) into chains.

    `contacts` come in `resolve_audience` order: per commune maire, adjoints by rank, then
    secrétariat; on-call roles by rank (holder, then deputies). Chains keep that order.
    """
    if action == Action.NOTIFY_OFFICIALS:
        by_commune: dict[str, list[Contact]] = {}
        for contact in contacts:
            if contact.commune is not None:
                by_commune.setdefault(contact.commune, []).append(contact)
        return [
            Group(key=f"commune:{code}", commune=code, chain=tuple(members))
            for code, members in by_commune.items()
        ]
    if action == Action.PAGE_ON_CALL:
        by_role: dict[Role, list[Contact]] = {}
        for contact in contacts:
            by_role.setdefault(contact.role, []).append(contact)
        return [Group(key=f"role:{role.value}", chain=tuple(m)) for role, m in by_role.items()]
    return [Group(key="cellule", chain=tuple(contacts), parallel=True)]


def reached(
    group: Group,
    acknowledged: Mapping[str, str | None],
    quorum: Mapping[Role, int],
    trained: Mapping[str, bool],
) -> bool:
    """Whether the chain has been reached and must stop."""
    if group.commune is not None:
        return group.commune in {c for c in acknowledged.values() if c}
    acked = [c for c in group.chain if c.id in acknowledged]
    if not group.parallel:
        return bool(acked)
    needed = {role: n for role, n in quorum.items() if n > 0}
    if not needed:
        return len(acked) == len(group.chain)
    return all(
        sum(1 for c in acked if c.role == role and trained.get(c.id, c.trained)) >= n
        for role, n in needed.items()
    )


def first_calls(group: Group) -> list[tuple[Contact, int]]:
    """The calls made when the step triggers."""
    if not group.chain:
        return []
    return [(c, 1) for c in group.chain] if group.parallel else [(group.chain[0], 1)]


def next_calls(
    group: Group,
    attempts: Sequence[Attempt],
    acknowledged: Mapping[str, str | None],
    policy: Escalation,
    window_end: datetime,
    now: datetime,
    into: Next,
) -> None:
    """Decide the chain's next calls (or its end) into `into`. The chain is not reached."""
    if not attempts:
        return  # not started: the step's trigger makes the first calls
    if any(a.state in IN_FLIGHT for a in attempts):
        into.wake(now + POLL)
        return
    last = max(a.at for a in attempts)
    due = last + policy.wait
    if now >= window_end:
        into.ended.append((group, "fenêtre d'appel close", _ordered(attempts)))
        return
    if now < due:
        into.wake(min(due, window_end))
        return
    counts: dict[str, int] = {}
    for a in attempts:
        counts[a.contact_id] = max(counts.get(a.contact_id, 0), a.attempt)
    callable_ = [
        c
        for c in group.chain
        if counts.get(c.id, 0) < policy.max_attempts and c.id not in acknowledged
    ]
    if not callable_:
        into.ended.append(
            (group, f"{policy.max_attempts} appel(s) par personne sans réponse", _ordered(attempts))
        )
        return
    if group.parallel:
        into.calls.extend((c, counts.get(c.id, 0) + 1) for c in callable_)
        return
    latest = max(attempts, key=lambda a: (a.at, a.attempt))
    ids = [c.id for c in group.chain]
    start = ids.index(latest.contact_id) + 1 if latest.contact_id in ids else 0
    ring = [group.chain[(start + i) % len(ids)] for i in range(len(ids))]
    person = next(c for c in ring if c in callable_)
    into.calls.append((person, counts.get(person.id, 0) + 1))


def _ordered(attempts: Sequence[Attempt]) -> tuple[Attempt, ...]:
    return tuple(sorted(attempts, key=lambda a: (a.at, a.attempt, a.contact_id)))
