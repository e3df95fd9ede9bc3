"""A line of the main courante: any fact, when, by whom, chained to the previous line."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from crisis.model.cell_facts import CellFact
from crisis.model.crisis import Actor
from crisis.model.facts import PlanFact
from crisis.model.frozen import Frozen

# Every fact the journal holds: a new one joins the union of its module (PlanFact, CellFact).
Fact = Annotated[PlanFact | CellFact, Field(discriminator="type")]


class JournalEntry(Frozen):
    """One line of the main courante: a fact, when, by whom, chained to the previous line."""

    crisis_id: str
    seq: int
    at: datetime
    actor: Actor
    fact: Fact
    text: str  # French, for people; never a phone number or an e-mail address
    prev_hash: str
    hash: str
