"""The crisis and what happens to it: facts (past, journaled) and intents (to do, in the outbox)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from channels.base import ChannelName
from contacts.model import Contact, Role
from crisis import inputs
from playbooks.model import Action, Engagement, EventKind, MessageTemplate, Plan, Section


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


class Authority(StrEnum):
    """What a person may order (their account's authority), lowest first."""

    AGENT = "agent"
    SOUS_PREFET = "sous_prefet"
    DIRECTEUR_CABINET = "directeur_cabinet"
    PREFET = "prefet"

    @property
    def rank(self) -> int:
        """Order of authority: higher may order more."""
        return list(Authority).index(self)

    @property
    def label(self) -> str:
        """French label."""
        return AUTHORITY_LABELS[self]


AUTHORITY_LABELS = {
    Authority.AGENT: "agent",
    Authority.SOUS_PREFET: "sous-préfet",
    Authority.DIRECTEUR_CABINET: "directeur de cabinet",
    Authority.PREFET: "préfet",
}
CIP_AUTHORITY = Authority.DIRECTEUR_CABINET  # the préfet's delegation: dircab or above (50)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(_Frozen):
    """Who did something, and through which interface: never an entry without an author."""

    name: str
    interface: Interface

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        return inputs.actor_name(value, max_len=inputs.ACTOR_RECORD_MAX)


SYSTEM = Actor(name="orchestrateur", interface=Interface.SYSTEM)


class ExerciseAllowList(_Frozen):
    """Who an exercise may really reach: participants (directory ids, their numbers and
    addresses at T0), extra numbers and addresses, the exercise's public accounts. Everyone
    else gets the simulator."""

    contacts: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    public: dict[ChannelName, tuple[str, ...]] = Field(default_factory=dict)


class Crisis(_Frozen):
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


class DraftTexts(_Frozen):
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


# --- facts: past tense, frozen, stored in the main courante -------------------------------


class RecipientRef(_Frozen):
    """A recipient as the journal names it: by contact id, never by number or address."""

    outbox_key: str
    contact_id: str
    role: Role | None = None
    commune: str | None = None
    attempt: int = 1  # escalation: the n-th call to this person in this step


class PlannedStepRef(_Frozen):
    """A planned step as recorded at T0."""

    step_id: str
    title: str
    engagement: Engagement
    action: Action
    due_at: datetime
    channels: tuple[ChannelName, ...]
    escalates: bool = False  # calls again until reached: done only when the chain ends


class CodActivated(_Frozen):
    """T0: the COD activation recorded, with everything the compliance check needs."""

    type: Literal["CodActivated"] = "CodActivated"
    crisis_id: str
    kind: EventKind
    mode: Mode
    t0: datetime
    synergi_ref: str
    communes: tuple[str, ...]
    commune_names: dict[str, str] = Field(default_factory=dict)  # code INSEE -> nom, at T0
    area: str = ""  # the area as the agent gave it (codes, arr:, epci:, dep), resolved above
    playbook_title: str
    playbook_version: int
    playbook_digest: str
    applicable_sections: tuple[Section, ...]
    quorum: dict[Role, int]
    steps: tuple[PlannedStepRef, ...]


class StepTriggered(_Frozen):
    """A step started: its messages are queued (or it has nothing to send)."""

    type: Literal["StepTriggered"] = "StepTriggered"
    step_id: str
    title: str
    engagement: Engagement
    action: Action
    due_at: datetime
    late_seconds: float = 0.0  # > 0: the step ran late (e.g. after a restart); never silent
    held_seconds: float = 0.0  # time spent waiting for an approval, a dependency or a number


class MessagesQueued(_Frozen):
    """Messages of a step written to the outbox for one channel."""

    type: Literal["MessagesQueued"] = "MessagesQueued"
    step_id: str
    engagement: Engagement
    channel: ChannelName
    message_version: int
    sections: tuple[Section, ...]  # content sections the message covers (48.5)
    recipients: tuple[RecipientRef, ...]
    escalation: bool = False  # the next calls of a chain, not the step's first sends


class ChainEnded(_Frozen):
    """An escalation chain stopped without reaching anybody: "non joint", with every attempt."""

    type: Literal["ChainEnded"] = "ChainEnded"
    step_id: str
    engagement: Engagement
    group: str  # "commune:42218", "role:agent_astreinte", "cellule"
    commune: str | None = None
    label: str = ""  # French: "commune de Montbrison", "agent d'astreinte", "cellule"
    reason: str
    attempts: tuple[RecipientRef, ...]  # every call made, in order


class StepHeld(_Frozen):
    """A step is due but waits (approval, dependency, CIAV number)."""

    type: Literal["StepHeld"] = "StepHeld"
    step_id: str
    reason: str


class StepSkipped(_Frozen):
    """A step fell due when its purpose was already achieved (the reminder to propose the CIP
    once the préfet ordered it): done without acting, journaled « sans objet », never missed."""

    type: Literal["StepSkipped"] = "StepSkipped"
    step_id: str
    title: str
    engagement: Engagement
    action: Action
    due_at: datetime
    reason: str  # French: "la CIP est déjà activée sur ordre du préfet"
    since: datetime | None = None  # when the purpose was achieved (T0 CIP)


class ApprovalRequested(_Frozen):
    """A message awaits a human approval (four-eyes)."""

    type: Literal["ApprovalRequested"] = "ApprovalRequested"
    step_id: str
    drafted_by: str


class MessageDrafted(_Frozen):
    """Someone wrote (or rewrote) a message awaiting approval: its sources, kept so that the
    audit and the REX show what was approved. Public texts only, no personal data."""

    type: Literal["MessageDrafted"] = "MessageDrafted"
    step_id: str
    drafted_by: str
    texts: DraftTexts


class MessageApproved(_Frozen):
    """A message was approved by someone other than its drafter."""

    type: Literal["MessageApproved"] = "MessageApproved"
    step_id: str
    approved_by: str


class ApprovalRefused(_Frozen):
    """An approval was refused (for instance the drafter approving their own message)."""

    type: Literal["ApprovalRefused"] = "ApprovalRefused"
    step_id: str
    by: str
    reason: str


AttemptOutcome = Literal[
    "sent", "retry", "failed", "unknown", "reconciled", "expired", "cancelled", "manual"
]


class DeliveryAttempted(_Frozen):
    """One attempt to send one message, and its outcome."""

    type: Literal["DeliveryAttempted"] = "DeliveryAttempted"
    outbox_key: str
    step_id: str
    engagement: Engagement
    channel: ChannelName
    contact_id: str
    commune: str | None = None
    role: Role | None = None
    attempt: int
    outcome: AttemptOutcome
    provider_id: str | None = None
    reason: str = ""

    @classmethod
    def of(
        cls,
        message: SendMessage,
        *,
        attempt: int,
        outcome: AttemptOutcome,
        provider_id: str | None = None,
        reason: str = "",
    ) -> DeliveryAttempted:
        """The attempt fact for an outbox message (recipient named by id only)."""
        return cls(
            outbox_key=message.idempotency_key,
            step_id=message.step_id,
            engagement=message.engagement,
            channel=message.channel,
            contact_id=message.contact_id,
            commune=message.commune,
            role=message.role,
            attempt=attempt,
            outcome=outcome,
            provider_id=provider_id,
            reason=reason,
        )


class DeliveryReported(_Frozen):
    """A provider's receipt for a message sent earlier."""

    type: Literal["DeliveryReported"] = "DeliveryReported"
    outbox_key: str
    channel: ChannelName
    contact_id: str
    delivered: bool
    provider_id: str
    reason: str = ""


class AcknowledgementReceived(_Frozen):
    """Someone confirmed reception (pressed 1, answered, clicked)."""

    type: Literal["AcknowledgementReceived"] = "AcknowledgementReceived"
    contact_id: str
    role: Role | None
    commune: str | None
    trained: bool
    channel: ChannelName | None
    outbox_key: str | None
    step_id: str | None
    eta_minutes: int | None = None


class CiavNumberSet(_Frozen):
    """The cabinet recorded the CIAV number given by the ministry."""

    type: Literal["CiavNumberSet"] = "CiavNumberSet"
    number: str


class CipActivated(_Frozen):
    """T0 CIP: the préfet ordered the CIP and its numéro unique."""

    type: Literal["CipActivated"] = "CipActivated"
    number: str
    authority: Authority | None = None  # of who ordered it (préfet's delegation)


class CipClosed(_Frozen):
    """The préfet ordered the CIP closed: its number goes back to its usual configuration."""

    type: Literal["CipClosed"] = "CipClosed"
    authority: Authority | None = None


CipCallOutcome = Literal["repondu", "abandonne", "message", "debordement", "hors_horaires"]


class CipCallEnded(_Frozen):
    """One call to the numéro unique, once it ended (answered, abandoned, voicemail...)."""

    type: Literal["CipCallEnded"] = "CipCallEnded"
    call_id: str  # provider id (Twilio CallSid) or the simulator's id; never the caller's number
    outcome: CipCallOutcome
    started_at: datetime
    waited_seconds: float = Field(ge=0)  # in the queue, before an agent or the hang-up
    talked_seconds: float = Field(default=0, ge=0)
    agent_id: str | None = None  # contact id of the CIP agent who answered
    topic: str = ""  # exercise callers: what they asked about (French)


class InjectPlayed(_Frozen):
    """Exercise: a scenario inject reached the cell ("T0+12: la RD 1082 est coupée")."""

    type: Literal["InjectPlayed"] = "InjectPlayed"
    inject_id: str
    text: str
    rumour: bool = False  # a rumour to deny: the media simulator makes a "buzz" of it


MediaRequestKind = Literal["appel", "courriel", "mention", "question", "interview"]


class MediaRequestReceived(_Frozen):
    """A journalist's request reached the press office (real, or simulated in an exercise)."""

    type: Literal["MediaRequestReceived"] = "MediaRequestReceived"
    request_id: str
    kind: MediaRequestKind
    outlet: str
    journalist: str  # name as the outlet gave it (fictional in exercises); no phone, no e-mail
    topic: str  # victimes, evacuations, routes, ecoles, rumeur, mesures, retour_normale...
    question: str  # French
    simulated: bool = False


class MediaRequestAssigned(_Frozen):
    """The press office gave a request to somebody of the cell."""

    type: Literal["MediaRequestAssigned"] = "MediaRequestAssigned"
    request_id: str
    assignee: str


class MediaRequestAnswered(_Frozen):
    """A request got its first answer (the actor is who answered)."""

    type: Literal["MediaRequestAnswered"] = "MediaRequestAnswered"
    request_id: str
    answer: str = ""


class CorrectiveAction(_Frozen):
    """One "action corrective" decided in the REX."""

    title: str = Field(min_length=1)
    owner: str = ""
    due: date | None = None
    done: bool = False


class LessonsRecorded(_Frozen):
    """The REX's "enseignements et actions correctives", as last edited (the latest one wins)."""

    type: Literal["LessonsRecorded"] = "LessonsRecorded"
    text: str
    actions: tuple[CorrectiveAction, ...] = ()


class WarningRaised(_Frozen):
    """Something the on-call agent must know (fan-out too slow, channel down...)."""

    type: Literal["WarningRaised"] = "WarningRaised"
    code: str
    message: str


class EngagementStatus(StrEnum):
    """State of an engagement, during the hour and at its end."""

    MET = "met"
    LATE = "late"
    MISSED = "missed"
    NOT_APPLICABLE = "not_applicable"
    PENDING = "pending"
    AT_RISK = "at_risk"

    @property
    def label(self) -> str:
        """French label."""
        return STATUS_LABELS[self]


STATUS_LABELS = {
    EngagementStatus.MET: "fait",
    EngagementStatus.LATE: "en retard",
    EngagementStatus.MISSED: "manqué",
    EngagementStatus.NOT_APPLICABLE: "sans objet",
    EngagementStatus.PENDING: "en cours",
    EngagementStatus.AT_RISK: "à risque",
}


class Verdict(_Frozen):
    """One engagement judged from the journal, with the entries that prove it."""

    engagement: str
    status: EngagementStatus
    at: datetime | None = None  # when it was met (or the last proof's time)
    delay_seconds: float | None = None  # from T0 (or T0 CIP)
    evidence: tuple[int, ...] = ()  # journal sequence numbers
    detail: str = ""  # French


class ComplianceCheckpoint(_Frozen):
    """T0+30 / T0+45 warnings, and the T0+60 verdict."""

    type: Literal["ComplianceCheckpoint"] = "ComplianceCheckpoint"
    minutes: int
    final: bool
    verdicts: tuple[Verdict, ...]


class NoteAdded(_Frozen):
    """A free note in the main courante."""

    type: Literal["NoteAdded"] = "NoteAdded"
    text: str


class ActivationConfirmed(_Frozen):
    """The préfet or directeur de cabinet confirmed an activation the rules would refuse:
    another event under a SYNERGI reference already recorded, or a T0 further back than the
    limit."""

    type: Literal["ActivationConfirmed"] = "ActivationConfirmed"
    rule: Literal["autre_evenement", "t0_ancien"]
    reason: str
    authority: Authority
    related_crisis: str | None = None  # the event already recorded under that reference


class T0Rectified(_Frozen):
    """A wrong T0 corrected by the préfet or directeur de cabinet: compliance and reports count
    from `t0` from then on, and show `previous` too."""

    type: Literal["T0Rectified"] = "T0Rectified"
    previous: datetime
    t0: datetime
    reason: str
    authority: Authority


class CrisisClosed(_Frozen):
    """The crisis (or exercise) is closed: queued sends stop."""

    type: Literal["CrisisClosed"] = "CrisisClosed"
    reason: str = ""


Fact = Annotated[
    CodActivated
    | StepTriggered
    | MessagesQueued
    | ChainEnded
    | StepHeld
    | StepSkipped
    | ApprovalRequested
    | MessageDrafted
    | MessageApproved
    | ApprovalRefused
    | DeliveryAttempted
    | DeliveryReported
    | AcknowledgementReceived
    | CiavNumberSet
    | CipActivated
    | CipClosed
    | CipCallEnded
    | InjectPlayed
    | MediaRequestReceived
    | MediaRequestAssigned
    | MediaRequestAnswered
    | LessonsRecorded
    | WarningRaised
    | ComplianceCheckpoint
    | NoteAdded
    | ActivationConfirmed
    | T0Rectified
    | CrisisClosed,
    Field(discriminator="type"),
]


class JournalEntry(_Frozen):
    """One line of the main courante: a fact, when, by whom, chained to the previous line."""

    crisis_id: str
    seq: int
    at: datetime
    actor: Actor
    fact: Fact
    text: str  # French, for people; never a phone number or an e-mail address
    prev_hash: str
    hash: str


# --- intents: imperative, stored in the outbox -------------------------------------------


class SendMessage(_Frozen):
    """Send one message to one recipient on one channel (one outbox row)."""

    idempotency_key: str
    crisis_id: str
    step_id: str
    engagement: Engagement
    channel: ChannelName
    contact_id: str
    address: str
    display_name: str = ""
    role: Role | None = None
    commune: str | None = None
    subject: str = ""
    body: str
    html: str | None = None
    valid_until: datetime | None = None
    ask_acknowledgement: bool = False
    exercise: bool = False  # framed "EXERCICE" and kept to the participants by bootstrap's channels
    message_version: int = 1


class CancelPending(_Frozen):
    """Stop queued sends that no longer make sense (commune reached, contact acknowledged)."""

    reason: str
    commune: str | None = None
    engagement: Engagement | None = None
    contact_id: str | None = None


Intent = SendMessage | CancelPending


class OutboxState(StrEnum):
    """Where an outbox row stands."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNKNOWN = "unknown"  # ambiguous: reconcile with the provider before any resend
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class OutboxItem(_Frozen):
    """An outbox row as the dispatcher handles it."""

    id: int
    message: SendMessage
    state: OutboxState
    attempts: int
    provider_id: str | None = None


# the due time of a step that waits for an order (the CIP's announcement): never reached until
# the order gives the real one; no alarm is armed for it
NOT_YET = datetime(9999, 1, 1, tzinfo=UTC)


class StepStatus(StrEnum):
    """Where a planned step stands."""

    PLANNED = "planned"
    HELD = "held"
    APPROVAL = "approval"
    DONE = "done"


class StepState(_Frozen):
    """A planned step's progress (a row per step and crisis)."""

    step_id: str
    due_at: datetime
    status: StepStatus = StepStatus.PLANNED
    hold_reason: str = ""
    held_since: datetime | None = None
    drafted_by: str = ""
    approved_by: str = ""
    triggered_at: datetime | None = None


class OutboxUpdate(_Frozen):
    """The result of one attempt as written back to its outbox row."""

    outbox_id: int
    state: OutboxState
    reason: str = ""
    provider_id: str | None = None
    retry_at: datetime | None = None  # next attempt, when the row goes back to pending
