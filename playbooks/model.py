"""Playbook and message-template models: validated data, frozen once loaded."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from channels.base import ChannelName

# Audience moved to contacts.audience (ends the contacts <-> playbooks cycle); re-exported here.
from contacts.audience import AUDIENCE_ROLES, Audience
from contacts.labelled import LabelledEnum
from contacts.model import Role
from playbooks.kinds import EventKind, KnownEventKind, kind_row

__all__ = [  # EventKind lives in playbooks.kinds; re-exported so that its import path stays
    "AUDIENCE_ROLES",
    "ESCALATING_ACTIONS",
    "MESSAGE_ACTIONS",
    "Action",
    "Approval",
    "Audience",
    "Engagement",
    "Escalation",
    "EventKind",
    "MessageTemplate",
    "Plan",
    "PlannedStep",
    "Playbook",
    "Section",
    "Step",
]


class Engagement(StrEnum):
    """Module 7 engagements a step serves (the one-hour check judges them)."""

    E47_1 = "47.1"
    E47_2 = "47.2"
    E48_1 = "48.1"
    E48_2 = "48.2"
    E48_3 = "48.3"
    E48_4 = "48.4"
    E50_1 = "50.1"
    CIAV = "CIAV"


class Action(StrEnum):
    """What a step does."""

    PAGE_ON_CALL = "page_on_call"  # directeur de cabinet / sous-préfet and agent d'astreinte
    RECALL_CELL = "recall_cell"  # liste de rappel
    NOTIFY_OFFICIALS = "notify_officials"  # maires, adjoints, secrétariats
    ALERT_PRESS_POOL = "alert_press_pool"  # vivier presse
    PRESS_RELEASE = "press_release"  # communiqué / point presse to the media directory
    PUBLISH = "publish"  # website, social networks, mobile app
    ACTIVATE_CIP = "activate_cip"  # reminder: the préfet decides on the CIP
    RELAY_CIAV = "relay_ciav"  # publish the CIAV number (attentat)
    ANNOUNCE_CIP = "announce_cip"  # the CIP's numéro unique, once the préfet ordered it (50.1)


class Approval(StrEnum):
    """Whether a human must approve the message before it leaves (four-eyes)."""

    NONE = "none"  # internal alert to the cell or officials: leaves at once
    REQUIRED = "required"  # approved by someone other than the drafter
    PRE_APPROVED = "pre_approved"  # template approved beforehand by the cabinet


class Section(LabelledEnum):
    """Content sections of a public message (engagement 48.5)."""

    CONSEILS_COMPORTEMENT = "conseils_comportement", "Conseils de comportement"
    EVOLUTION = "evolution", "Évolution de l'événement"
    PREVENTION = "prevention", "Prévention"
    PROTECTION_EVACUATION = "protection_evacuation", "Protection et évacuation"
    MESURES_PRISES = "mesures_prises", "Mesures prises et actions menées"
    RETOUR_NORMALE = "retour_normale", "Retour à la normale"

    @property
    def heading(self) -> str:
        """French heading used in long messages."""
        return self.label


MESSAGE_ACTIONS = frozenset(
    {
        Action.PAGE_ON_CALL,
        Action.RECALL_CELL,
        Action.NOTIFY_OFFICIALS,
        Action.ALERT_PRESS_POOL,
        Action.PRESS_RELEASE,
        Action.PUBLISH,
        Action.RELAY_CIAV,
        Action.ANNOUNCE_CIP,
    }
)
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Escalation(_Frozen):
    """Call again until reached ("appeler jusqu'à joindre"), for steps that ask acknowledgement.

    Who forms a chain depends on the step's action: for `notify_officials`, each commune's maire,
    then its adjoints in order, then the mairie's secrétariat, one person at a time; for
    `page_on_call`, each on-call role's holder then deputies, one at a time; for `recall_cell`,
    the whole recall list at once, again for the unreached, until the playbook's quorum of
    trained members has acknowledged. A chain stops as soon as it is reached.
    """

    wait: timedelta = timedelta(minutes=5)  # after an unanswered attempt, before the next
    max_attempts: int = Field(default=2, ge=1, le=10)  # calls per person
    until: timedelta = timedelta(minutes=55)  # from T0: no new call after this

    @field_validator("wait", "until")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("la durée doit être positive")
        return value


ESCALATING_ACTIONS = frozenset({Action.NOTIFY_OFFICIALS, Action.PAGE_ON_CALL, Action.RECALL_CELL})


class Step(_Frozen):
    """One timed step of a playbook."""

    id: str
    title: str
    offset: timedelta  # ISO 8601 duration from T0, e.g. "PT5M"
    engagement: Engagement
    action: Action
    audience: tuple[Audience, ...] = ()
    channels: tuple[ChannelName, ...] = ()
    template: str | None = None
    approval: Approval = Approval.NONE
    depends_on: tuple[str, ...] = ()
    only_unreached: bool = False  # fallback: skip communes where someone already acknowledged
    ask_acknowledgement: bool = False
    valid_for: timedelta = timedelta(hours=6)  # how long the message stays true
    escalation: Escalation | None = None

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(
                "identifiant invalide (minuscules, chiffres et _ ; commence par une lettre)"
            )
        return value

    @field_validator("offset", "valid_for")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("la durée ne peut pas être négative")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.action in MESSAGE_ACTIONS:
            self._check_message()
        public = [c for c in self.channels if c.is_public]
        if public and Audience.PUBLIC not in self.audience:
            raise ValueError(
                f"les canaux publics ({', '.join(public)}) exigent le public « public »"
            )
        if Audience.PUBLIC in self.audience and self.approval == Approval.NONE:
            raise ValueError(
                'un message au public doit être validé (approval = "required" ou "pre_approved")'
            )
        if self.only_unreached and self.action != Action.NOTIFY_OFFICIALS:
            raise ValueError("only_unreached ne vaut que pour l'action notify_officials")
        if self.escalation is not None:
            self._check_escalation(self.escalation)
        return self

    def _check_message(self) -> None:
        """A step that sends a message names its channels, its audience and its template."""
        if not self.channels:
            raise ValueError("une étape qui envoie un message doit indiquer ses canaux")
        if not self.audience:
            raise ValueError("une étape qui envoie un message doit indiquer son public")
        if self.template is None:
            raise ValueError("une étape qui envoie un message doit indiquer son modèle")

    def _check_escalation(self, escalation: Escalation) -> None:
        """An escalating step calls, asks acknowledgement and stops after it starts."""
        if self.action not in ESCALATING_ACTIONS:
            raise ValueError(
                "escalation ne vaut que pour les actions notify_officials, page_on_call "
                "et recall_cell"
            )
        if ChannelName.VOICE not in self.channels:
            raise ValueError("escalation : l'étape doit appeler (canal « voice »)")
        if not self.ask_acknowledgement:
            raise ValueError("escalation : l'étape doit demander l'accusé de réception")
        if escalation.until <= self.offset:
            raise ValueError("escalation : « until » doit venir après le déclenchement")


class Playbook(_Frozen):
    """The plan for one kind of event: timed steps from T0."""

    kind: KnownEventKind
    title: str
    version: int = Field(ge=1)
    description: str = ""
    applicable_sections: tuple[Section, ...] = ()
    quorum: dict[Role, int] = Field(default_factory=dict)  # trained cell members to acknowledge
    steps: tuple[Step, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [s.id for s in self.steps]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"étapes en double : {', '.join(dupes)}")
        known = set(ids)
        for step in self.steps:
            missing = [d for d in step.depends_on if d not in known]
            if missing:
                raise ValueError(
                    f"étape {step.id} : dépend d'étapes inconnues : {', '.join(missing)}"
                )
        _check_acyclic({s.id: s.depends_on for s in self.steps})
        for role in self.quorum:
            if role not in {Role.CHARGE_COMMUNICATION, Role.AGENT_RAPPEL}:
                raise ValueError(
                    f"quorum : le rôle {role} ne fait pas partie de la liste de rappel"
                )
        for step in self.steps:
            if step.action == Action.RELAY_CIAV and not kind_row(self.kind).ciav:
                raise ValueError(
                    f"étape {step.id} : le relais du numéro CIAV ne vaut que pour un attentat"
                )
        return self


def _check_acyclic(graph: dict[str, tuple[str, ...]]) -> None:
    state: dict[str, int] = {}

    def visit(node: str, path: tuple[str, ...]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            raise ValueError(f"dépendances circulaires : {' → '.join((*path, node))}")
        state[node] = 1
        for dep in graph[node]:
            visit(dep, (*path, node))
        state[node] = 2

    for node in graph:
        visit(node, ())


class MessageTemplate(_Frozen):
    """A French message in the forms each channel needs; each text is a Jinja template."""

    name: str
    subject: str  # e-mail subject, page title
    short: str  # SMS, X, app notification: a few lines
    voice: str  # read by the automate d'appels (fr-FR)
    intro: str = ""
    sections: dict[Section, str] = Field(default_factory=dict)
    closing: str = ""


class PlannedStep(_Frozen):
    """A step with its absolute due time, frozen at T0."""

    step: Step
    due_at: datetime


class Plan(_Frozen):
    """A playbook planned at T0: what a running crisis follows, whatever later edits say."""

    kind: EventKind
    playbook_title: str
    playbook_version: int
    playbook_digest: str  # sha256 of the playbook as planned
    t0: datetime
    steps: tuple[PlannedStep, ...]
    templates: dict[str, MessageTemplate]
    applicable_sections: tuple[Section, ...]
    quorum: dict[Role, int]

    def step(self, step_id: str) -> PlannedStep:
        """The planned step with this id."""
        for planned in self.steps:
            if planned.step.id == step_id:
                return planned
        raise KeyError(step_id)
