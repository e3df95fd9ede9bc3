"""Playbook library, loader errors and planner."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from playbooks.loader import (
    Library,
    PlaybookError,
    PlaybookErrors,
    check_library,
    default_library_dir,
    default_templates_dir,
    load_library,
    load_playbook,
    load_template,
)
from playbooks.model import Action, Approval, Audience, EventKind, MessageTemplate, Section
from playbooks.planner import plan

PARIS = ZoneInfo("Europe/Paris")
INTERNAL_TEMPLATES = ("alerte_astreinte", "rappel_cellule", "alerte_elus", "alerte_vivier_presse")
LONG_COMMUNES = ["Saint-Just-Saint-Rambert", "Saint-Bonnet-les-Oules"]
MANY_COMMUNES = [f"Saint-Martin-la-Commune-{i:02d}" for i in range(40)]


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


# --- the shipped library --------------------------------------------------------------------


def test_shipped_library_loads_without_error_and_covers_all_six_kinds() -> None:
    """The shipped playbooks and templates load cleanly, one playbook for each kind of event."""
    assert check_library(default_library_dir(), default_templates_dir()) == []
    library = load_library()
    assert set(library.playbooks) == set(EventKind)
    assert set(library.sources) == set(EventKind)
    for kind, playbook in library.playbooks.items():
        assert playbook.kind == kind
        assert f'kind = "{kind}"' in library.sources[kind]


@pytest.mark.parametrize("kind", list(EventKind))
def test_first_public_message_covers_the_applicable_sections(
    library: Library, kind: EventKind
) -> None:
    """The first publication of each kind fills every section its playbook marks applicable."""
    playbook = library.playbooks[kind]
    assert playbook.applicable_sections
    first = min((s for s in playbook.steps if s.action == Action.PUBLISH), key=lambda s: s.offset)
    assert first.template is not None
    template = library.templates[first.template]
    missing = [s for s in playbook.applicable_sections if not template.sections.get(s, "").strip()]
    assert missing == []


@pytest.mark.parametrize("kind", list(EventKind))
def test_each_playbook_meets_the_hour_with_every_message_step(
    library: Library, kind: EventKind
) -> None:
    """Each playbook pages the astreinte at T0 and schedules every message well before T0+60."""
    playbook = library.playbooks[kind]
    first = playbook.steps[0]
    assert first.action == Action.PAGE_ON_CALL
    assert first.offset == timedelta(0)
    actions = {s.action for s in playbook.steps}
    assert {
        Action.RECALL_CELL,
        Action.NOTIFY_OFFICIALS,
        Action.ALERT_PRESS_POOL,
        Action.PRESS_RELEASE,
        Action.PUBLISH,
        Action.ACTIVATE_CIP,
    } <= actions
    assert (Action.RELAY_CIAV in actions) == (kind == EventKind.ATTENTAT)
    assert all(s.offset <= timedelta(minutes=30) for s in playbook.steps)
    # mayors are called until reached: maire, adjoints, then the mairie's secrétariat
    officials = [s for s in playbook.steps if s.action == Action.NOTIFY_OFFICIALS]
    assert [set(s.audience) for s in officials] == [
        {Audience.MAIRES, Audience.ADJOINTS, Audience.SECRETARIATS}
    ]
    assert all(s.escalation is not None for s in officials)
    assert all(
        s.escalation is not None and s.escalation.until <= timedelta(minutes=60)
        for s in playbook.steps
        if s.action in {Action.PAGE_ON_CALL, Action.RECALL_CELL}
    )
    for step in playbook.steps:
        if Audience.PUBLIC in step.audience:
            assert step.approval != Approval.NONE


def _context(kind: EventKind, communes: list[str], *, numbers: bool) -> dict[str, Any]:
    return {
        "crisis": SimpleNamespace(kind=kind, synergi_ref="SYN-2025-000412"),
        "t0_local": "02h10",
        "now_local": "02h27",
        "prefecture": "Préfecture de la Loire",
        "communes": communes,
        "commune": communes[0] if communes else None,
        "ciav_number": "01 99 00 12 34" if numbers else None,
        "cip_number": "04 65 71 56 78" if numbers else None,
        "t0_cip_local": "02h40" if numbers else None,
    }


def _render(template: MessageTemplate, context: dict[str, Any]) -> dict[str, str]:
    # The same settings as crisis/rendering.py: playbooks must not depend on crisis.
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True)
    texts = {
        "subject": template.subject,
        "short": template.short,
        "voice": template.voice,
        "intro": template.intro,
        "closing": template.closing,
    }
    texts.update({f"sections.{k}": v for k, v in template.sections.items()})
    return {field: env.from_string(text).render(context).strip() for field, text in texts.items()}


@pytest.mark.parametrize("communes", [["Feurs"], LONG_COMMUNES, MANY_COMMUNES])
@pytest.mark.parametrize("numbers", [True, False])
@pytest.mark.parametrize(
    "prefecture", ["Préfecture de la Loire", "Préfecture des Alpes-de-Haute-Provence"]
)
def test_every_template_renders_and_its_short_text_fits_on_x(
    library: Library, communes: list[str], numbers: bool, prefecture: str
) -> None:
    """Every template renders with the documented context only, and `short` fits in 280 chars."""
    for name, template in library.templates.items():
        kind = next(
            (k for k in EventKind if name.startswith(k.value)), EventKind.ACCIDENT_INDUSTRIEL
        )
        context = _context(kind, communes, numbers=numbers)
        context["prefecture"] = prefecture
        rendered = _render(template, context)
        assert len(rendered["short"]) <= 280, (name, len(rendered["short"]), rendered["short"])
        assert all(text.strip() for text in rendered.values()), name
        assert "{" not in "".join(rendered.values()), name
        assert not any("\n\n\n" in text or " \n" in text for text in rendered.values()), name
        if "{{ communes|join" in template.intro:
            assert "\n\nCommunes " in rendered["intro"], name


@pytest.mark.parametrize("commune", ["Feurs", None])
def test_paragraphs_survive_optional_parts(library: Library, commune: str | None) -> None:
    """Optional parts (no commune, no area list) never glue or double paragraphs together."""
    for name, template in library.templates.items():
        context = _context(EventKind.TEMPETE, [], numbers=False)
        context["commune"] = commune
        rendered = _render(template, context)
        for field, text in rendered.items():
            if field == "short":
                continue
            assert "\n\n\n" not in text and " \n" not in text, (name, field)
            assert "Communes concernées" not in text, (name, field)


def test_internal_sms_stay_in_the_gsm_alphabet(library: Library) -> None:
    """The SMS to the cell and the maires use GSM 7-bit characters only (no UCS-2 surcharge)."""
    gsm7 = set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./:;<=>?"
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
        + "".join(str(d) for d in range(10))
    )
    context = _context(EventKind.INONDATION, ["Feurs", "Roanne"], numbers=False)
    for name in INTERNAL_TEMPLATES:
        short = _render(library.templates[name], context)["short"]
        assert set(short) <= gsm7, (name, sorted(set(short) - gsm7))


def test_voice_texts_spell_out_abbreviations(library: Library) -> None:
    """Texts read by the French text-to-speech hold no acronym such as COD, RD or CIP."""
    for name, template in library.templates.items():
        literal = re.sub(r"{[{%].*?[%}]}", " ", template.voice, flags=re.DOTALL)
        assert re.findall(r"\b[A-Z]{2,}\b", literal) == [], name


def test_templates_hold_no_phone_number(library: Library) -> None:
    """Numbers reach a message only through variables: the only digits are "1" and "temps 0"."""
    for name, template in library.templates.items():
        texts = [template.subject, template.short, template.voice, template.intro, template.closing]
        texts += list(template.sections.values())
        literal = re.sub(r"{[{%].*?[%}]}", " ", "\n".join(texts), flags=re.DOTALL)
        assert set(re.findall(r"\d+", literal)) <= {"0", "1"}, name


def test_internal_messages_ask_for_acknowledgement(library: Library) -> None:
    """Alerts to the cell, officials and press pool ask to press or answer 1."""
    for name in INTERNAL_TEMPLATES:
        template = library.templates[name]
        assert "tapez 1" in template.voice, name
        assert "Répondez 1" in template.short, name


# --- the planner ------------------------------------------------------------------------------


def test_plan_freezes_due_times_digest_and_used_templates(library: Library) -> None:
    """plan() sets due_at = T0 + offset in order, hashes the source, keeps only used templates."""
    playbook = library.playbooks[EventKind.ATTENTAT]
    source = library.sources[EventKind.ATTENTAT]
    t0 = datetime(2025, 3, 14, 2, 10, tzinfo=PARIS)

    planned = plan(playbook, library.templates, t0, source=source)

    assert [p.step.id for p in planned.steps] == [s.id for s in playbook.steps]
    assert [p.due_at for p in planned.steps] == [t0 + s.offset for s in playbook.steps]
    assert planned.step("relais_ciav").due_at == t0 + timedelta(minutes=20)
    assert planned.playbook_digest == hashlib.sha256(source.encode("utf-8")).hexdigest()
    assert set(planned.templates) == {s.template for s in playbook.steps if s.template}
    assert "inondation_premier_message" not in planned.templates
    assert planned.t0 == t0
    assert planned.kind == EventKind.ATTENTAT
    assert planned.applicable_sections == playbook.applicable_sections
    assert planned.quorum == playbook.quorum


def test_plan_digest_changes_with_the_source(library: Library) -> None:
    """Two sources give two digests: a running crisis can tell which playbook it followed."""
    playbook = library.playbooks[EventKind.INONDATION]
    t0 = datetime(2025, 3, 14, 1, 10, tzinfo=UTC)
    first = plan(playbook, library.templates, t0, source="version = 1")
    second = plan(playbook, library.templates, t0, source="version = 2")
    assert first.playbook_digest != second.playbook_digest


def test_plan_refuses_a_naive_t0(library: Library) -> None:
    """A T0 without a time zone is refused: due times would be ambiguous at 3 a.m. in October."""
    playbook = library.playbooks[EventKind.INONDATION]
    with pytest.raises(ValueError, match="fuseau horaire"):
        plan(playbook, library.templates, datetime(2025, 3, 14, 2, 10), source="x")


def test_plan_refuses_a_missing_template(library: Library) -> None:
    """Planning with a template set that lacks one the steps use fails, naming step and template."""
    playbook = library.playbooks[EventKind.INONDATION]
    t0 = datetime(2025, 3, 14, 2, 10, tzinfo=PARIS)
    templates = dict(library.templates)
    del templates["alerte_elus"]
    with pytest.raises(ValueError, match=r"alerte_maires.*alerte_elus"):
        plan(playbook, templates, t0, source="x")


# --- broken playbooks -------------------------------------------------------------------------

BASE = """\
kind = "inondation"
title = "Essai"
version = 1
applicable_sections = ["conseils_comportement"]

[[steps]]
id = "alerte_maires"
title = "Alerter les maires"
offset = "PT5M"
engagement = "48.1"
action = "notify_officials"
audience = ["maires"]
channels = ["voice", "sms"]
template = "alerte"
ask_acknowledgement = true

[[steps]]
id = "premier_message"
title = "Publier le premier message"
offset = "PT15M"
engagement = "48.4"
action = "publish"
audience = ["public"]
channels = ["website", "x"]
template = "public"
approval = "required"
depends_on = ["alerte_maires"]
"""
TEMPLATE = """\
subject = "Essai"
short = "Essai {{ t0_local }}"
voice = "Essai"

[sections]
conseils_comportement = "Restez chez vous."
"""


def _library(tmp_path: Path, playbooks: dict[str, str]) -> tuple[Path, Path]:
    library_dir, templates_dir = tmp_path / "library", tmp_path / "templates"
    library_dir.mkdir()
    templates_dir.mkdir()
    for name in ("alerte", "public"):
        (templates_dir / f"{name}.toml").write_text(TEMPLATE, encoding="utf-8")
    for name, text in playbooks.items():
        (library_dir / name).write_text(text, encoding="utf-8")
    return library_dir, templates_dir


def test_a_valid_playbook_in_a_custom_directory_loads(tmp_path: Path) -> None:
    """The test playbook itself is valid, so each broken variant below fails for one reason."""
    library_dir, templates_dir = _library(tmp_path, {"essai.toml": BASE})
    assert check_library(library_dir, templates_dir) == []
    library = load_library(library_dir, templates_dir)
    assert set(library.playbooks) == {EventKind.INONDATION}
    assert library.sources[EventKind.INONDATION] == BASE
    assert load_playbook(library_dir / "essai.toml").steps[1].depends_on == ("alerte_maires",)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            'offset = "PT15M"',
            'ofset = "PT15M"',
            "essai.toml, étape « premier_message », clé « ofset » : clé inconnue"
            " (vouliez-vous dire « offset » ?)",
            id="unknown-key",
        ),
        pytest.param(
            'offset = "PT5M"',
            'offset = "5 minutes"',
            "essai.toml, étape « alerte_maires », clé « offset » : "
            "durée ISO 8601 invalide (« 5 minutes »)",
            id="bad-duration",
        ),
        pytest.param(
            'engagement = "48.1"',
            'engagement = "48.9"',
            "essai.toml, étape « alerte_maires », clé « engagement » : "
            "valeur inconnue « 48.9 » (attendu : 47.1, 47.2, 48.1",
            id="unknown-engagement",
        ),
        pytest.param(
            'id = "premier_message"',
            'id = "alerte_maires"',
            "essai.toml, étape « alerte_maires », clé « id » : étapes en double : alerte_maires",
            id="duplicate-step-id",
        ),
        pytest.param(
            'depends_on = ["alerte_maires"]',
            'depends_on = ["alerte_mairs"]',
            "essai.toml, étape « premier_message », clé « depends_on » : "
            "dépend d'étapes inconnues : alerte_mairs",
            id="missing-dependency",
        ),
        pytest.param(
            "ask_acknowledgement = true",
            'ask_acknowledgement = true\ndepends_on = ["premier_message"]',
            "essai.toml, étape « alerte_maires », clé « depends_on » : dépendances circulaires",
            id="cycle",
        ),
        pytest.param(
            'approval = "required"',
            'approval = "none"',
            "essai.toml, étape « premier_message », clé « approval » : "
            "un message au public doit être validé",
            id="public-without-approval",
        ),
        pytest.param(
            'template = "public"',
            'template = "publc"',
            "essai.toml, étape « premier_message », clé « template » : "
            "modèle de message introuvable « publc » (vouliez-vous dire « public » ?)",
            id="missing-template",
        ),
        pytest.param(
            'title = "Essai"',
            'title = "Essai',
            "essai.toml : syntaxe TOML invalide, ligne 2, colonne",
            id="toml-syntax",
        ),
        pytest.param(
            'kind = "inondation"',
            'kind = "crue"',
            "essai.toml, clé « kind » : valeur inconnue « crue » (attendu : inondation, "
            "accident_industriel, nucleaire, attentat, tempete, sater)",
            id="unknown-kind",
        ),
    ],
)
def test_a_broken_playbook_names_file_step_and_key(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    """Each kind of mistake is reported in French with the file, the step id and the key."""
    assert old in BASE
    library_dir, templates_dir = _library(tmp_path, {"essai.toml": BASE.replace(old, new, 1)})

    errors = check_library(library_dir, templates_dir)

    messages = [str(e) for e in errors]
    assert any(expected in m for m in messages), messages
    assert all(isinstance(e, PlaybookError) and e.file.name == "essai.toml" for e in errors)
    with pytest.raises(PlaybookErrors) as raised:
        load_library(library_dir, templates_dir)
    assert expected in str(raised.value)


def test_error_attributes_locate_the_mistake(tmp_path: Path) -> None:
    """PlaybookError carries file, step, key and reason separately, for the web editor."""
    library_dir, _ = _library(
        tmp_path, {"essai.toml": BASE.replace('offset = "PT5M"', 'offset = "5 minutes"')}
    )
    with pytest.raises(PlaybookError) as raised:
        load_playbook(library_dir / "essai.toml")
    error = raised.value
    assert error.file == library_dir / "essai.toml"
    assert error.step == "alerte_maires"
    assert error.key == "offset"
    assert error.reason == 'durée ISO 8601 invalide (« 5 minutes »), par exemple "PT5M"'


def test_a_step_without_id_is_named_by_its_position(tmp_path: Path) -> None:
    """A step whose id is missing is located by its number, and the missing key is named."""
    library_dir, templates_dir = _library(
        tmp_path, {"essai.toml": BASE.replace('id = "premier_message"\n', "")}
    )
    messages = [str(e) for e in check_library(library_dir, templates_dir)]
    assert any("étape « n° 2 », clé « id » : clé obligatoire manquante" in m for m in messages), (
        messages
    )


def test_the_shipped_library_is_shown_relative_to_the_project() -> None:
    """Errors in the shipped library name the file as staff know it, from the project root."""
    error = PlaybookError(
        default_library_dir() / "inondation.toml",
        "durée ISO 8601 invalide (« 5 minutes »)",
        step="alerte_maires",
        key="offset",
    )
    assert str(error) == (
        "playbooks/library/inondation.toml, étape « alerte_maires », clé « offset » : "
        "durée ISO 8601 invalide (« 5 minutes »)"
    )


def test_check_library_reports_every_error_not_only_the_first(tmp_path: Path) -> None:
    """All mistakes in all files come back at once, and load_library lists them all."""
    two_mistakes = BASE.replace('offset = "PT5M"', 'offset = "5 minutes"').replace(
        'engagement = "48.4"', 'engagement = "49"'
    )
    library_dir, templates_dir = _library(
        tmp_path,
        {
            "a.toml": two_mistakes,
            "b.toml": 'kind = "tempete"\ntitle = \n',
        },
    )
    (templates_dir / "mauvais.toml").write_text(
        'subject = "x"\nvoice = "x"\n[sections]\nconseils = "x"\n', encoding="utf-8"
    )

    messages = [str(e) for e in check_library(library_dir, templates_dir)]

    expected = [
        "a.toml, étape « alerte_maires », clé « offset » : durée ISO 8601 invalide",
        "a.toml, étape « premier_message », clé « engagement » : valeur inconnue « 49 »",
        "b.toml : syntaxe TOML invalide",
        "mauvais.toml, clé « short » : clé obligatoire manquante",
        "mauvais.toml, clé « sections » : valeur inconnue « conseils »",
    ]
    for fragment in expected:
        assert any(fragment in m for m in messages), (fragment, messages)
    with pytest.raises(PlaybookErrors) as raised:
        load_library(library_dir, templates_dir)
    assert len(raised.value.errors) == len(messages)
    assert str(raised.value).count("\n") == len(messages)


def test_two_playbooks_for_one_kind_are_an_error(tmp_path: Path) -> None:
    """Only one playbook per kind: a second one is reported, naming the first."""
    library_dir, templates_dir = _library(tmp_path, {"a.toml": BASE, "b.toml": BASE})
    messages = [str(e) for e in check_library(library_dir, templates_dir)]
    assert len(messages) == 1
    assert (
        "b.toml, clé « kind » : un autre playbook existe déjà pour « inondation » (a.toml)"
        in (messages[0])
    )


def test_a_missing_kind_is_not_an_error(tmp_path: Path) -> None:
    """A prefecture may keep playbooks for some kinds only."""
    library_dir, templates_dir = _library(tmp_path, {"essai.toml": BASE})
    assert set(load_library(library_dir, templates_dir).playbooks) == {EventKind.INONDATION}


def test_a_template_is_named_after_its_file(tmp_path: Path) -> None:
    """load_template takes the name from the file stem and refuses a `name` key."""
    path = tmp_path / "mon_modele.toml"
    path.write_text(TEMPLATE, encoding="utf-8")
    template = load_template(path)
    assert template.name == "mon_modele"
    assert template.sections == {Section.CONSEILS_COMPORTEMENT: "Restez chez vous."}
    path.write_text('name = "autre"\n' + TEMPLATE, encoding="utf-8")
    with pytest.raises(PlaybookError, match="clé « name »"):
        load_template(path)
