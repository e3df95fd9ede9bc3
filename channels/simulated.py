"""Simulated channels shipped with the product: record what would have been sent, and play
acknowledgements, latencies and failures. Used by the demo, exercises and tests."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from channels.base import (
    AcknowledgementReport,
    ChannelName,
    DeliveryReport,
    InboundSink,
    OutgoingMessage,
    Receipt,
    TimeSource,
)
from channels.errors import DeliveryFailed


@dataclass(frozen=True)
class Simulation:
    """How the simulated recipients behave. Draws are deterministic per (seed, recipient)."""

    latency: float = 0.2  # seconds the provider takes to accept a message
    ack_rate: float = 0.0  # share of recipients who confirm reception when asked
    ack_delay: tuple[float, float] = (60.0, 600.0)  # seconds after the send
    failure_rate: float = 0.0  # share of sends refused for good
    never_ack: frozenset[str] = frozenset()  # contact ids who never confirm (demo realism)
    seed: int = 1


def _draw(seed: int, *parts: str) -> float:
    digest = hashlib.sha256(":".join((str(seed), *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class SentRecord:
    """What a simulated provider accepted."""

    idempotency_key: str
    provider_id: str
    contact_id: str
    body: str


class SimulatedChannel:
    """A channel that records instead of sending; optionally durable (a JSON-lines log).

    The durable log is the simulated provider's own memory: it survives a crash of the
    orchestrator, so a restart can look a message up instead of sending it twice.
    """

    def __init__(
        self,
        name: ChannelName,
        clock: TimeSource,
        *,
        simulation: Simulation | None = None,
        log_path: Path | None = None,
        inbound: InboundSink | None = None,
    ) -> None:
        self.name = name
        self.clock = clock
        self.simulation = simulation or Simulation()
        self.log_path = log_path
        self.inbound = inbound
        self.sent: list[SentRecord] = []
        self._by_key: dict[str, SentRecord] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        if log_path is not None and log_path.exists():
            for line in log_path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    record = SentRecord(**json.loads(line))
                    self._by_key[record.idempotency_key] = record

    async def send(self, message: OutgoingMessage) -> Receipt:
        """Accept the message after the simulated latency, or refuse it."""
        sim = self.simulation
        if sim.latency:
            await self.clock.sleep(sim.latency)
        contact = message.recipient.contact_id
        if sim.failure_rate and _draw(sim.seed, "fail", contact, self.name) < sim.failure_rate:
            raise DeliveryFailed(
                "numéro ou compte refusé par l'opérateur (simulation)", retryable=False
            )
        digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:16]
        provider_id = f"SIM-{self.name.value}-{digest}"
        record = SentRecord(message.idempotency_key, provider_id, contact, message.body)
        self._remember(record)
        if self.inbound is not None:
            self._later(self._report(message, provider_id))
        return Receipt(provider_id=provider_id, status="sent")

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        """Find a message by its idempotency key in the provider's memory."""
        record = self._by_key.get(message.idempotency_key)
        return None if record is None else Receipt(provider_id=record.provider_id)

    def _remember(self, record: SentRecord) -> None:
        self.sent.append(record)
        self._by_key[record.idempotency_key] = record
        if self.log_path is not None:
            with self.log_path.open("a", encoding="utf-8") as log:
                log.write(json.dumps(record.__dict__, ensure_ascii=False) + "\n")
                log.flush()

    def _later(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _report(self, message: OutgoingMessage, provider_id: str) -> None:
        assert self.inbound is not None
        sim = self.simulation
        contact = message.recipient.contact_id
        await self.clock.sleep(min(5.0, sim.latency * 5))
        await self.inbound(
            DeliveryReport(
                channel=self.name,
                provider_id=provider_id,
                idempotency_key=message.idempotency_key,
                delivered=True,
            )
        )
        if not message.ask_acknowledgement or contact in sim.never_ack:
            return
        if _draw(sim.seed, "ack", contact) >= sim.ack_rate:
            return
        low, high = sim.ack_delay
        await self.clock.sleep(low + (high - low) * _draw(sim.seed, "delay", contact, self.name))
        await self.inbound(
            AcknowledgementReport(
                channel=self.name,
                provider_id=provider_id,
                idempotency_key=message.idempotency_key,
                eta_minutes=int(15 + 30 * _draw(sim.seed, "eta", contact)),
            )
        )
