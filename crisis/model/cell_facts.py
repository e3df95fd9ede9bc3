"""Facts of the cell's work: CIAV and CIP, injects, the press, the REX, orders and closure."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from crisis.model.authority import Authority
from crisis.model.frozen import Frozen
from crisis.model.verdict import Verdict


class CiavNumberSet(Frozen):
    """The cabinet recorded the CIAV number given by the ministry."""

    type: Literal["CiavNumberSet"] = "CiavNumberSet"
    number: str


class CipActivated(Frozen):
    """T0 CIP: the préfet ordered the CIP and its numéro unique."""

    type: Literal["CipActivated"] = "CipActivated"
    number: str
    authority: Authority | None = None  # of who ordered it (préfet's delegation)


class CipClosed(Frozen):
    """The préfet ordered the CIP closed: its number goes back to its usual configuration."""

    type: Literal["CipClosed"] = "CipClosed"
    authority: Authority | None = None


CipCallOutcome = Literal["repondu", "abandonne", "message", "debordement", "hors_horaires"]


class CipCallEnded(Frozen):
    """One call to the numéro unique, once it ended (answered, abandoned, voicemail...)."""

    type: Literal["CipCallEnded"] = "CipCallEnded"
    call_id: str  # provider id (Twilio CallSid) or the simulator's id; never the caller's number
    outcome: CipCallOutcome
    started_at: datetime
    waited_seconds: float = Field(ge=0)  # in the queue, before an agent or the hang-up
    talked_seconds: float = Field(default=0, ge=0)
    agent_id: str | None = None  # contact id of the CIP agent who answered
    topic: str = ""  # exercise callers: what they asked about (French)


class InjectPlayed(Frozen):
    """Exercise: a scenario inject reached the cell ("T0+12: la RD 1082 est coupée")."""

    type: Literal["InjectPlayed"] = "InjectPlayed"
    inject_id: str
    text: str
    rumour: bool = False  # a rumour to deny: the media simulator makes a "buzz" of it


MediaRequestKind = Literal["appel", "courriel", "mention", "question", "interview"]


class MediaRequestReceived(Frozen):
    """A journalist's request reached the press office (real, or simulated in an exercise)."""

    type: Literal["MediaRequestReceived"] = "MediaRequestReceived"
    request_id: str
    kind: MediaRequestKind
    outlet: str
    journalist: str  # name as the outlet gave it (fictional in exercises); no phone, no e-mail
    topic: str  # victimes, evacuations, routes, ecoles, rumeur, mesures, retour_normale...
    question: str  # French
    simulated: bool = False


class MediaRequestAssigned(Frozen):
    """The press office gave a request to somebody of the cell."""

    type: Literal["MediaRequestAssigned"] = "MediaRequestAssigned"
    request_id: str
    assignee: str


class MediaRequestAnswered(Frozen):
    """A request got its first answer (the actor is who answered)."""

    type: Literal["MediaRequestAnswered"] = "MediaRequestAnswered"
    request_id: str
    answer: str = ""


class CorrectiveAction(Frozen):
    """One "action corrective" decided in the REX."""

    title: str = Field(min_length=1)
    owner: str = ""
    due: date | None = None
    done: bool = False


class LessonsRecorded(Frozen):
    """The REX's "enseignements et actions correctives", as last edited (the latest one wins)."""

    type: Literal["LessonsRecorded"] = "LessonsRecorded"
    text: str
    actions: tuple[CorrectiveAction, ...] = ()


class WarningRaised(Frozen):
    """Something the on-call agent must know (fan-out too slow, channel down...)."""

    type: Literal["WarningRaised"] = "WarningRaised"
    code: str
    message: str


class ComplianceCheckpoint(Frozen):
    """T0+30 / T0+45 warnings, and the T0+60 verdict."""

    type: Literal["ComplianceCheckpoint"] = "ComplianceCheckpoint"
    minutes: int
    final: bool
    verdicts: tuple[Verdict, ...]


class NoteAdded(Frozen):
    """A free note in the main courante."""

    type: Literal["NoteAdded"] = "NoteAdded"
    text: str


class ActivationConfirmed(Frozen):
    """The préfet or directeur de cabinet confirmed an activation the rules would refuse:
    another event under a SYNERGI reference already recorded, or a T0 further back than the
    limit."""

    type: Literal["ActivationConfirmed"] = "ActivationConfirmed"
    rule: Literal["autre_evenement", "t0_ancien"]
    reason: str
    authority: Authority
    related_crisis: str | None = None  # the event already recorded under that reference


class T0Rectified(Frozen):
    """A wrong T0 corrected by the préfet or directeur de cabinet: compliance and reports count
    from `t0` from then on, and show `previous` too."""

    type: Literal["T0Rectified"] = "T0Rectified"
    previous: datetime
    t0: datetime
    reason: str
    authority: Authority


class CrisisClosed(Frozen):
    """The crisis (or exercise) is closed: queued sends stop."""

    type: Literal["CrisisClosed"] = "CrisisClosed"
    reason: str = ""


# These facts in the journal's union (`crisis.model.entry.Fact`), in the order they are declared.
CellFact = (
    CiavNumberSet
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
    | CrisisClosed
)
