"""Drafting a message before its approval (four-eyes): pure engine decisions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from channels.base import ChannelName
from contacts.demo import demo_directory
from contacts.geography import load_communes
from crisis.engine import (
    Approve,
    CrisisState,
    Decision,
    Draft,
    EngineConfig,
    Refused,
    Stimulus,
    Tick,
    decide,
    initial_due,
    template_for,
)
from crisis.journal import describe
from crisis.model import (
    Actor,
    ApprovalRefused,
    ApprovalRequested,
    Crisis,
    DraftTexts,
    Interface,
    MessageApproved,
    MessageDrafted,
    Mode,
    SendMessage,
    StepState,
    StepStatus,
)
from playbooks.loader import load_library
from playbooks.model import EventKind, Section
from playbooks.planner import plan
from tests.conftest import T0

CONFIG = EngineConfig(
    prefecture="Préfecture de la Loire", timezone=ZoneInfo("Europe/Paris"), public_addresses={}
)
AGENT = Actor(name="Agent d'astreinte", interface=Interface.CLI)
REDACTRICE = Actor(name="Claire Martin (cmartin)", interface=Interface.WEB)
DIRCAB = Actor(name="Paul Durand (pdurand)", interface=Interface.WEB)
STEP = "premier_message"  # flood: website, X, Facebook, app; approval required; due T0+15
TEXTS = DraftTexts(
    subject="Crue de la Loire : point à {{ now_local }}",
    short="{{ prefecture }} : crue en cours à {{ communes|join(', ') }}. Restez chez vous.",
    voice="Ici la {{ prefecture }}. Crue en cours. Restez chez vous.",
    intro="Le COD est activé depuis {{ t0_local }}.",
    sections={
        Section.CONSEILS_COMPORTEMENT: "Ne prenez pas votre voiture.",
        Section.EVOLUTION: "",  # an empty section is dropped
    },
    closing="Prochain point à 4 heures.",
)


def _state() -> CrisisState:
    library = load_library()
    codes = ("42218", "42187")
    communes = [c for c in load_communes() if c.code_insee in codes]
    crisis = Crisis(
        id="C1",
        kind=EventKind.INONDATION,
        mode=Mode.REEL,
        t0=T0,
        synergi_ref="S",
        communes=codes,
        commune_names={c.code_insee: c.nom for c in communes},
        recorded_by=AGENT,
        recorded_at=T0,
        idempotency_key="k",
        plan=plan(library.playbooks[EventKind.INONDATION], library.templates, T0, source="x"),
        roster=demo_directory(communes).contacts,
    )
    steps = tuple(StepState(step_id=p.step.id, due_at=initial_due(p)) for p in crisis.plan.steps)
    return CrisisState(crisis=crisis, steps=steps, acknowledged={})


def _applied(state: CrisisState, decision: Decision) -> CrisisState:
    """The state after the service stored the decision (steps and crisis columns)."""
    steps = tuple(decision.steps.get(s.step_id, s) for s in state.steps)
    crisis = state.crisis.model_copy(update=decision.crisis_updates)
    return replace(state, crisis=crisis, steps=steps)


def _run(state: CrisisState, stimulus: Stimulus, at: datetime) -> tuple[CrisisState, Decision]:
    decision = decide(state, stimulus, at, CONFIG)
    return _applied(state, decision), decision


def _step(state: CrisisState, step_id: str = STEP) -> StepState:
    return next(s for s in state.steps if s.step_id == step_id)


def _awaiting_approval() -> CrisisState:
    """The first public message is due and waits for its approval (drafter: the template)."""
    state, _ = _run(_state(), Tick(), T0 + timedelta(minutes=16))
    assert _step(state).status == StepStatus.APPROVAL
    return state


def test_draft_is_journaled_with_its_sources_and_becomes_the_steps_message() -> None:
    """The fact carries the edited sources (trimmed, empty sections dropped) and the drafter;
    the step names its human drafter; the crisis keeps the draft as the step's template."""
    now = T0 + timedelta(minutes=17)
    state, decision = _run(_awaiting_approval(), Draft(STEP, TEXTS, REDACTRICE), now)
    [(fact, actor)] = [(f, a) for f, a in decision.facts if isinstance(f, MessageDrafted)]
    assert actor == REDACTRICE and fact.drafted_by == REDACTRICE.name
    assert fact.texts.short == TEXTS.short
    assert fact.texts.sections == {Section.CONSEILS_COMPORTEMENT: "Ne prenez pas votre voiture."}
    assert describe(fact, ZoneInfo("Europe/Paris")) == (
        "Message de l'étape premier_message rédigé par Claire Martin (cmartin) ; "
        "validation attendue d'une autre personne."
    )
    current = _step(state)
    assert current.drafted_by == REDACTRICE.name and current.approved_by == ""
    assert current.status == StepStatus.APPROVAL
    template = template_for(state.crisis, state.crisis.plan.step(STEP).step)
    assert template.name == "inondation_premier_message (rédaction)"
    assert template.short == TEXTS.short and template.closing == TEXTS.closing
    # another step still sends the playbook's template
    other = state.crisis.plan.step("communique_presse").step
    assert template_for(state.crisis, other) == state.crisis.plan.templates["inondation_communique"]


def test_the_drafter_cannot_approve_another_person_can_and_the_draft_is_sent() -> None:
    """Four-eyes against the real drafter: their approval is refused and journaled; another
    person's sends the drafted texts on every channel (short on X and the app, long on the
    website and Facebook)."""
    now = T0 + timedelta(minutes=17)
    state, _ = _run(_awaiting_approval(), Draft(STEP, TEXTS, REDACTRICE), now)
    same_person = Actor(name="claire martin (cmartin)", interface=Interface.CLI)
    state, refused = _run(state, Approve(STEP, same_person), now)
    assert refused.refused and "double regard" in refused.refused
    assert [type(f) for f, _ in refused.facts] == [ApprovalRefused]
    assert not [i for i in refused.intents if isinstance(i, SendMessage)]
    assert _step(state).status == StepStatus.APPROVAL

    state, approved = _run(state, Approve(STEP, DIRCAB), now)
    assert approved.refused is None
    assert any(isinstance(f, MessageApproved) for f, _ in approved.facts)
    sends = {i.channel: i for i in approved.intents if isinstance(i, SendMessage)}
    assert set(sends) == {ChannelName.WEBSITE, ChannelName.X, ChannelName.FACEBOOK, ChannelName.APP}
    short = "Préfecture de la Loire : crue en cours à Saint-Étienne, Roanne. Restez chez vous."
    assert sends[ChannelName.X].body == short and sends[ChannelName.APP].body == short
    website = sends[ChannelName.WEBSITE]
    assert website.subject == "Crue de la Loire : point à 02h27"
    assert website.body.startswith("Le COD est activé depuis 02h10.")
    assert "Conseils de comportement\nNe prenez pas votre voiture." in website.body
    assert website.body.endswith("Prochain point à 4 heures.")
    assert "trente centimètres" not in website.body  # nothing left of the playbook's text
    step = _step(state)
    assert step.status == StepStatus.DONE
    assert (step.drafted_by, step.approved_by) == (REDACTRICE.name, DIRCAB.name)


def test_a_draft_before_the_step_is_due_keeps_its_human_drafter() -> None:
    """Drafted while planned: when the step falls due it asks for approval naming the human
    drafter (not the template), and that person still cannot approve it."""
    state, decision = _run(_state(), Draft(STEP, TEXTS, REDACTRICE), T0 + timedelta(minutes=5))
    assert _step(state).status == StepStatus.PLANNED
    assert not [f for f, _ in decision.facts if isinstance(f, ApprovalRequested)]
    state, due = _run(state, Tick(), T0 + timedelta(minutes=16))
    [requested] = [
        f for f, _ in due.facts if isinstance(f, ApprovalRequested) and f.step_id == STEP
    ]
    assert requested.drafted_by == REDACTRICE.name
    assert _step(state).drafted_by == REDACTRICE.name
    _, refused = _run(state, Approve(STEP, REDACTRICE), T0 + timedelta(minutes=17))
    assert refused.refused and "double regard" in refused.refused


def test_a_new_draft_replaces_the_previous_one_and_its_drafter() -> None:
    """Rewritten by someone else: the step's message and drafter are the latest; the first
    drafter may then approve (they did not write what is approved)."""
    now = T0 + timedelta(minutes=17)
    state, _ = _run(_awaiting_approval(), Draft(STEP, TEXTS, REDACTRICE), now)
    second = TEXTS.model_copy(update={"short": "{{ prefecture }} : restez chez vous."})
    state, _ = _run(state, Draft(STEP, second, DIRCAB), now)
    assert _step(state).drafted_by == DIRCAB.name
    assert state.crisis.drafts[STEP].short == second.short
    _, refused = _run(state, Approve(STEP, DIRCAB), now)
    assert refused.refused
    _, approved = _run(state, Approve(STEP, REDACTRICE), now)
    bodies = {i.body for i in approved.intents if isinstance(i, SendMessage)}
    assert "Préfecture de la Loire : restez chez vous." in bodies


@pytest.mark.parametrize(
    ("step_id", "message"),
    [
        ("annonce_cip_public", "modèle pré-approuvé par le playbook"),
        ("alerte_astreinte", "n'envoie pas de message soumis à validation"),
        ("proposition_cip", "n'envoie pas de message soumis à validation"),
        ("inconnue", "étape inconnue : inconnue"),
    ],
)
def test_only_messages_awaiting_approval_can_be_drafted(step_id: str, message: str) -> None:
    """Pre-approved templates, internal alerts, steps without a message, unknown steps."""
    with pytest.raises(Refused, match=message):
        decide(_state(), Draft(step_id, TEXTS, REDACTRICE), T0, CONFIG)


def test_an_approved_or_sent_message_is_not_drafted_again() -> None:
    """Approved (even before it is due): "déjà approuvé : il part"; sent: "déjà parti"."""
    now = T0 + timedelta(minutes=5)
    early, _ = _run(_state(), Approve(STEP, DIRCAB), now)
    assert _step(early).approved_by == DIRCAB.name and _step(early).status == StepStatus.PLANNED
    with pytest.raises(Refused, match="déjà approuvé \\(Paul Durand \\(pdurand\\)\\) : il part"):
        decide(early, Draft(STEP, TEXTS, REDACTRICE), now, CONFIG)
    sent, _ = _run(_awaiting_approval(), Approve(STEP, DIRCAB), T0 + timedelta(minutes=17))
    assert _step(sent).status == StepStatus.DONE
    with pytest.raises(Refused, match="déjà parti"):
        decide(sent, Draft(STEP, TEXTS, REDACTRICE), T0 + timedelta(minutes=18), CONFIG)


def test_a_closed_crisis_takes_no_draft() -> None:
    """Once closed, nothing is drafted."""
    state = _state()
    closed = replace(state, crisis=state.crisis.model_copy(update={"closed_at": T0}))
    with pytest.raises(Refused, match="l'événement est clos"):
        decide(closed, Draft(STEP, TEXTS, REDACTRICE), T0, CONFIG)


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (
            TEXTS.model_copy(update={"short": "{{ prefecture }"}),
            "^texte court : texte impossible à composer \\(.+\\) ; champs disponibles : .*"
            "prefecture",
        ),
        (
            TEXTS.model_copy(update={"sections": {Section.PREVENTION: "{{ inconnu }}"}}),
            "^rubrique « Prévention » : texte impossible à composer \\(.*inconnu.*\\)",
        ),
        (TEXTS.model_copy(update={"subject": "  "}), "^objet : le texte est vide"),
        (TEXTS.model_copy(update={"voice": "{{ '' }}"}), "^message vocal : le texte est vide"),
        (
            TEXTS.model_copy(update={"closing": "x" * 10_001}),
            "^conclusion : 10001 caractères, 10000 au plus",
        ),
    ],
)
def test_a_draft_that_does_not_compose_is_refused_naming_its_part(
    texts: DraftTexts, message: str
) -> None:
    """Rendered with the crisis's context before anything is recorded: the refusal names the
    part (in French) and, for a template error, the placeholders available."""
    with pytest.raises(Refused, match=message):
        decide(
            _awaiting_approval(), Draft(STEP, texts, REDACTRICE), T0 + timedelta(minutes=17), CONFIG
        )


def test_the_short_text_fits_one_post_on_x() -> None:
    """Over 280 characters once composed: refused for a step published on X; a step that does
    not go to X (the press release, by e-mail) takes it."""
    long_short = TEXTS.model_copy(update={"short": "{{ prefecture }} " + "é" * 258})
    now = T0 + timedelta(minutes=17)
    with pytest.raises(Refused, match=r"^texte court : 281 caractères, 280 au plus pour X"):
        decide(_awaiting_approval(), Draft(STEP, long_short, REDACTRICE), now, CONFIG)
    fits = TEXTS.model_copy(update={"short": "{{ prefecture }} " + "é" * 257})
    decide(_awaiting_approval(), Draft(STEP, fits, REDACTRICE), now, CONFIG)  # 280: accepted
    press = decide(
        _awaiting_approval(), Draft("communique_presse", long_short, REDACTRICE), now, CONFIG
    )
    assert any(isinstance(f, MessageDrafted) for f, _ in press.facts)
    # counted as X counts: a link weighs 23 whatever its length, an emoji 2
    link = (
        "https://www.loire.gouv.fr/Actions-de-l-Etat/Securite-et-protection-de-la-population/crue"
    )
    linked = TEXTS.model_copy(update={"short": f"{'a' * 250} {link}"})  # 340 raw, 274 for X
    decide(_awaiting_approval(), Draft(STEP, linked, REDACTRICE), now, CONFIG)
    emoji = TEXTS.model_copy(update={"short": "⚠" * 141})  # 141 raw, 282 for X
    with pytest.raises(Refused, match=r"^texte court : 282 caractères"):
        decide(_awaiting_approval(), Draft(STEP, emoji, REDACTRICE), now, CONFIG)


def test_a_draft_never_publishes_the_directorys_numbers_or_addresses() -> None:
    """Read through a placeholder (the crisis and its roster) or typed, a number or an address
    of a person of the directory is refused, without repeating it."""
    state = _awaiting_approval()
    contact = next(c for c in state.crisis.roster if c.mobile and c.email)
    assert contact.mobile is not None and contact.email is not None
    now = T0 + timedelta(minutes=17)
    for texts in (
        TEXTS.model_copy(update={"voice": "{{ crisis }}"}),
        TEXTS.model_copy(update={"closing": f"Écrivez à {contact.email.upper()}."}),
        TEXTS.model_copy(update={"intro": f"Appelez le {contact.mobile}."}),
    ):
        with pytest.raises(Refused, match="coordonnées d'une personne de l'annuaire") as refused:
            decide(state, Draft(STEP, texts, REDACTRICE), now, CONFIG)
        assert contact.mobile not in str(refused.value)


def test_a_draft_with_a_directory_number_written_the_french_way_is_refused() -> None:
    """The directory's E.164 number typed as "06 39 98 .." (national form) is still refused,
    while a public number of the message (not in the directory) is not."""
    state = _awaiting_approval()
    contact = next(c for c in state.crisis.roster if c.mobile)
    assert contact.mobile is not None
    national = "0" + contact.mobile[3:]
    spaced = " ".join([national[:2], national[2:4], national[4:6], national[6:8], national[8:]])
    now = T0 + timedelta(minutes=17)
    typed = TEXTS.model_copy(update={"intro": f"Appelez le {spaced}."})
    with pytest.raises(Refused, match="coordonnées d'une personne de l'annuaire"):
        decide(state, Draft(STEP, typed, REDACTRICE), now, CONFIG)
    public = TEXTS.model_copy(update={"intro": "Numéro d'information : 01 99 00 99 99."})
    decide(state, Draft(STEP, public, REDACTRICE), now, CONFIG)
