"""The crisis itself: mode, actors, exercise allow-list, drafts and its steps' progress."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import Field, field_validator

from channels.base import ChannelName
from contacts.model import Contact
from crisis import inputs
from crisis.model.frozen import Frozen
from playbooks.model import EventKind, MessageTemplate, Plan, Section


class Mode(StrEnum):
    """Real event or exercise."""

    REEL = "reel"
    EXERCICE = "exercice"


class Interface(StrEnum):
    """Where an action came from (journaled with the person)."""

    CLI = "cli"
    WEB = "web"
    API = "api"
    SYSTEM = "systeme"
    PROVIDER = "fournisseur"  # callbacks from Twilio etc.


class Actor(Frozen):
    """Who did something, and through which interface: never an entry without an author."""

    name: str
    interface: Interface

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        return inputs.actor_name(value, max_len=inputs.ACTOR_RECORD_MAX)


SYSTEM = Actor(name="orchestrateur", interface=Interface.SYSTEM)


class ExerciseAllowList(Frozen):
    """Who an exercise may really reach: participants (directory ids, their numbers and
    addresses at T0), extra numbers and addresses, the exercise's public accounts. Everyone
    else gets the simulator."""

    contacts: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    public: dict[ChannelName, tuple[str, ...]] = Field(default_factory=dict)


class Crisis(Frozen):
    """An événement majeur (or an exercise): T0, area and the plan frozen at T0."""

    id: str
    kind: EventKind
    mode: Mode
    t0: datetime  # COD activation as recorded in SYNERGI (may be earlier than recorded_at)
    synergi_ref: str
    communes: tuple[str, ...]  # codes INSEE concerned
    commune_names: dict[str, str]  # code INSEE -> nom, as resolved at T0
    recorded_by: Actor
    recorded_at: datetime
    idempotency_key: str
    plan: Plan
    roster: tuple[Contact, ...]  # directory snapshot at T0: who the audiences resolve to
    closed_at: datetime | None = None
    ciav_number: str | None = None
    t0_cip: datetime | None = None
    cip_number: str | None = None  # the numéro unique while the CIP is active
    participants: ExerciseAllowList | None = None  # exercise only: who real sends may reach
    # step id -> the message as a comms officer wrote it on the dashboard: what is approved and
    # sent instead of the playbook's template (crisis.engine.template_for)
    drafts: dict[str, MessageTemplate] = Field(default_factory=dict)


class DraftTexts(Frozen):
    """A message as a comms officer writes it before approval: Jinja sources with the same
    placeholders as a playbook's template (crisis.engine.message_context)."""

    subject: str
    short: str  # SMS, X, app notification
    voice: str  # read by the automate d'appels
    intro: str = ""
    sections: dict[Section, str] = Field(default_factory=dict)
    closing: str = ""

    @classmethod
    def of(cls, template: MessageTemplate) -> DraftTexts:
        """The texts of a template (what the drafting form starts from)."""
        return cls(
            subject=template.subject,
            short=template.short,
            voice=template.voice,
            intro=template.intro,
            sections=dict(template.sections),
            closing=template.closing,
        )

    def template(self, name: str) -> MessageTemplate:
        """These texts as a message template named `name`."""
        return MessageTemplate(name=name, **self.model_dump())


# the due time of a step that waits for an order (the CIP's announcement): never reached until
# the order gives the real one; no alarm is armed for it
NOT_YET = datetime(9999, 1, 1, tzinfo=UTC)


class StepStatus(StrEnum):
    """Where a planned step stands."""

    PLANNED = "planned"
    HELD = "held"
    APPROVAL = "approval"
    DONE = "done"


class StepState(Frozen):
    """A planned step's progress (a row per step and crisis)."""

    step_id: str
    due_at: datetime
    status: StepStatus = StepStatus.PLANNED
    hold_reason: str = ""
    held_since: datetime | None = None
    drafted_by: str = ""
    approved_by: str = ""
    triggered_at: datetime | None = None
