"""`crisis exercise ...`, `crisis media ...`, `crisis cip ...`, `crisis report ...`."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from contacts.area import AreaError
from contacts.cog import load_extract
from crisis.cli_common import (
    ByOption,
    ConfigOption,
    console,
    fail,
    load,
    open_app,
    open_app_sending,
    operator_authority,
)
from crisis.directory_admin import training_rows
from crisis.engine import Refused
from crisis.exercise.callers import figures as call_figures
from crisis.exercise.scenario import LIBRARY, ScenarioError, load_scenario
from crisis.model import (
    Actor,
    CipCallEnded,
    CorrectiveAction,
    Interface,
    JournalEntry,
    LessonsRecorded,
    MediaRequestAnswered,
    MediaRequestAssigned,
    MediaRequestReceived,
)
from crisis.reports import write_annual, write_compliance, write_rex
from crisis.settings import SettingsError
from crisis.store.repository import CrisisNotFound

OutOption = Annotated[
    Path, typer.Option("--output", "--sortie", "-o", help="Dossier où écrire les rapports.")
]
FormatOption = Annotated[
    list[str] | None,
    typer.Option("--format", help="html, pdf ou md (plusieurs possibles ; défaut : les trois)."),
]

exercise_app = typer.Typer(help="Exercices : scénarios, injections, pression médiatique (49).")
media_app = typer.Typer(help="Sollicitations presse : file, réponses, attributions (49.2).")
cip_app = typer.Typer(help="Cellule d'information du public (CIP) et son numéro unique (50).")
report_app = typer.Typer(help="Rapports : REX, conformité, bilan annuel (HTML, PDF, Markdown).")


def scenario_file(given: Path) -> Path:
    """A scenario file, or the name of one shipped in the library ("inondation_furan")."""
    shipped = LIBRARY / f"{given.name.removesuffix('.toml')}.toml"
    if not given.exists() and given.parent == Path() and shipped.exists():
        return shipped
    return given


def _by(name: str) -> Actor:
    return Actor(name=name, interface=Interface.CLI)


# --- exercise -------------------------------------------------------------------------------


@exercise_app.command("run")
def exercise_run(
    scenario: Annotated[
        Path,
        typer.Argument(help="Fichier de scénario TOML, ou le nom d'un scénario fourni."),
    ],
    speed: Annotated[
        float | None,
        typer.Option(help="Accélération de l'horloge, de 1 à 60 (défaut : celle du scénario)."),
    ] = None,
    data_dir: Annotated[
        Path,
        typer.Option(
            help="Dossier de l'exercice (base, journaux simulés), vidé à chaque exécution s'il a "
            "été créé par une exécution précédente ; un dossier non vide sans le fichier "
            ".crisis-owned, ou qui contient les données configurées, est refusé."
        ),
    ] = Path("var/exercice"),
    output: Annotated[
        Path | None, typer.Option("--output", "--sortie", "-o", help="Dossier du REX.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Jouer un exercice de bout en bout : injections, pression médiatique, CIP, puis le REX.

    Canaux simulés, sauf « real_sends = true » (section « exercise ») : alors seuls les
    participants du scénario reçoivent de vrais messages, tous marqués EXERCICE EXERCICE
    EXERCICE.
    """
    from crisis.exercise.runner import run_exercise
    from crisis.runtime import ServiceRefused

    base = load(config) if config is not None else None
    try:
        run_exercise(
            scenario_file(scenario),
            data_dir=data_dir,
            console=console,
            speed=speed,
            base=base,
            env=os.environ,
            out_dir=output,
            config=config,
        )
    except (ScenarioError, AreaError, ValueError) as exc:
        raise fail(str(exc), code=2) from None
    except ServiceRefused as exc:
        raise fail(f"exercice non lancé : {exc}", code=2) from None
    except SettingsError as exc:
        from crisis.cli_common import settings_failed

        raise settings_failed(exc) from None


@exercise_app.command("check")
def exercise_check(
    scenario: Annotated[Path, typer.Argument(help="Fichier de scénario TOML.")],
    config: ConfigOption = None,
) -> None:
    """Vérifier un scénario (injections, zone, participants) sans le jouer."""
    settings = load(config)
    try:
        loaded = load_scenario(
            scenario_file(scenario), geography=load_extract(settings.directory.communes_file)
        )
    except ScenarioError as exc:
        raise fail(str(exc), code=2) from None
    console.print(
        f"[green]Scénario valide[/green] : {escape(loaded.title)} — {len(loaded.injects)} "
        f"injections, {loaded.duration} min, pression médiatique "
        f"{'oui' if loaded.media.enabled else 'non'}, "
        f"CIP {'oui' if loaded.cip.activate else 'non'}."
    )


# --- media ----------------------------------------------------------------------------------


@media_app.command("list")
def media_list(
    crisis_id: str,
    all_requests: Annotated[
        bool, typer.Option("--all", "--toutes", help="Aussi les sollicitations déjà traitées.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """La file des sollicitations presse : en attente d'abord, avec leur ancienneté."""
    application = open_app(config)
    tz = ZoneInfo(application.settings.prefecture.timezone)
    try:
        with application.store.transaction() as tx:
            tx.crisis(crisis_id)
            entries = tx.journal(
                crisis_id,
                types=["MediaRequestReceived", "MediaRequestAssigned", "MediaRequestAnswered"],
            )
    except CrisisNotFound as exc:
        raise fail(str(exc)) from None
    finally:
        application.close()
    now = application.clock.now()
    answered = {e.fact.request_id: e for e in entries if isinstance(e.fact, MediaRequestAnswered)}
    assigned = {
        e.fact.request_id: e.fact.assignee
        for e in entries
        if isinstance(e.fact, MediaRequestAssigned)
    }
    table = Table(title="Sollicitations presse")
    for column in ("réf.", "reçue", "type", "média", "question", "confiée à", "état"):
        table.add_column(column)
    shown = 0
    for entry in entries:
        fact = entry.fact
        if not isinstance(fact, MediaRequestReceived):
            continue
        done = answered.get(fact.request_id)
        if done is not None and not all_requests:
            continue
        if done is None:
            waited = int((now - entry.at).total_seconds() // 60)
            state = f"[yellow]en attente depuis {waited} min[/yellow]"
        else:
            state = f"répondu en {int((done.at - entry.at).total_seconds() // 60)} min"
        table.add_row(
            fact.request_id,
            f"{entry.at.astimezone(tz):%H:%M}",
            fact.kind,
            escape(f"{fact.outlet} — {fact.journalist}"),
            escape(fact.question),
            escape(assigned.get(fact.request_id, "")),
            state,
        )
        shown += 1
    if shown:
        console.print(table)
    else:
        console.print("Aucune sollicitation presse en attente.")


def _media(config: Path | None, crisis_id: str, request_id: str, by: str, **kwargs: str) -> None:
    application = open_app(config)
    try:
        application.orchestrator.media_follow_up(crisis_id, request_id, _by(by), **kwargs)
    except (Refused, CrisisNotFound) as exc:
        raise fail(str(exc)) from None
    finally:
        application.close()


@media_app.command("answer")
def media_answer(
    crisis_id: str,
    request_id: str,
    by: ByOption,
    answer: Annotated[
        str, typer.Option("--answer", "--reponse", help="Ce qui a été répondu.")
    ] = "",
    config: ConfigOption = None,
) -> None:
    """Enregistrer la première réponse à une sollicitation (le délai de réponse est mesuré)."""
    _media(config, crisis_id, request_id, by, answer=answer)
    console.print(f"Première réponse enregistrée pour {request_id}.")


@media_app.command("assign")
def media_assign(
    crisis_id: str,
    request_id: str,
    assignee: Annotated[str, typer.Argument(help="À qui la confier (nom ou identifiant).")],
    by: ByOption,
    config: ConfigOption = None,
) -> None:
    """Confier une sollicitation à un membre de la cellule."""
    _media(config, crisis_id, request_id, by, assignee=assignee)
    console.print(f"Sollicitation {request_id} confiée à {escape(assignee)}.")


# --- CIP ------------------------------------------------------------------------------------


@cip_app.command("activate")
def cip_activate(
    crisis_id: str,
    number: Annotated[str, typer.Option("--number", "--numero", help="Le numéro unique.")],
    by: ByOption,
    config: ConfigOption = None,
) -> None:
    """Enregistrer l'ordre du préfet d'activer la CIP (T0 CIP) et son numéro unique.

    Réservé aux comptes qui ont la délégation du préfet (directeur de cabinet ou préfet,
    section « accounts » de la configuration). L'annonce du numéro (médias, internet, standard)
    part aussitôt avec « crisis run ».
    """
    application = open_app_sending(
        config, "le numéro unique n'est pas renvoyé vers la CIP : le faire dans la console Twilio"
    )
    login, authority = operator_authority(application.settings)
    try:
        application.orchestrator.activate_cip(
            crisis_id, number, _by(f"{by} (compte {login})"), authority=authority
        )
    except (Refused, CrisisNotFound) as exc:
        raise fail(str(exc)) from None
    finally:
        application.close()
    console.print(f"CIP activée (T0 CIP), numéro unique {escape(number)}.")


@cip_app.command("close")
def cip_close(crisis_id: str, by: ByOption, config: ConfigOption = None) -> None:
    """Enregistrer l'ordre de fermer la CIP ; l'événement continue (délégation du préfet)."""
    application = open_app_sending(
        config, "le numéro unique n'est pas rendu à sa configuration : le faire dans la console"
    )
    login, authority = operator_authority(application.settings)
    try:
        application.orchestrator.close_cip(
            crisis_id, _by(f"{by} (compte {login})"), authority=authority
        )
    except (Refused, CrisisNotFound) as exc:
        raise fail(str(exc)) from None
    finally:
        application.close()
    console.print("CIP fermée.")


@cip_app.command("sheet")
def cip_sheet(crisis_id: str, config: ConfigOption = None) -> None:
    """La fiche réflexe des agents CIP : l'information validée à lire aux appelants, le numéro
    unique et les chiffres des appels depuis le T0 CIP (reçus, répondus, abandonnés, attente)."""
    application = open_app(config)
    tz = ZoneInfo(application.settings.prefecture.timezone)
    try:
        with application.store.transaction() as tx:
            crisis = tx.crisis(crisis_id)
            calls = [
                e.fact
                for e in tx.journal(crisis_id, types=["CipCallEnded"])
                if isinstance(e.fact, CipCallEnded)
            ]
        sheet = application.orchestrator.reading_sheet(crisis_id)
    except CrisisNotFound as exc:
        raise fail(str(exc)) from None
    finally:
        application.close()
    if crisis.t0_cip is None:
        raise fail("la CIP n'a pas été activée pour cet événement")
    state = f"ouverte, numéro unique {crisis.cip_number}" if crisis.cip_number else "fermée"
    console.rule(f"Fiche réflexe CIP — {crisis.kind.label} — {crisis.id}")
    console.print(f"CIP {state} ; T0 CIP {crisis.t0_cip.astimezone(tz):%d/%m %H:%M}.")
    console.print("[bold]À lire aux appelants (dernière information validée) :[/bold]")
    console.print(escape(sheet))
    numbers = call_figures(calls)
    console.print(
        f"Appels : {numbers.calls} reçus, {numbers.answered} répondus, {numbers.abandoned} "
        f"abandonnés, {numbers.messages} messages laissés, {numbers.overflow} dissuadés ; "
        f"attente moyenne {numbers.mean_wait_seconds:.0f} s, maximale "
        f"{numbers.max_wait_seconds:.0f} s."
    )
    for agent, count in sorted(numbers.answered_by_agent.items()):
        console.print(f"  {escape(agent)} : {count} appel(s) pris")


# --- reports --------------------------------------------------------------------------------


@contextmanager
def _progress() -> Iterator[Callable[[int, int, str], None]]:
    """A rich progress bar fed by the report writers' (done, total, label) callbacks."""
    with Progress(
        TextColumn("{task.description}"), BarColumn(), console=console, transient=True
    ) as bar:
        task = bar.add_task("rapport", total=1)

        def update(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        yield update


def _written(paths: list[Path]) -> None:
    for path in paths:
        console.print(f"Écrit : {path}")


def _journal(config: Path | None, crisis_id: str) -> tuple[list[JournalEntry], str, str, datetime]:
    application = open_app(config)
    try:
        with application.store.transaction() as tx:
            tx.crisis(crisis_id)
            entries = tx.journal(crisis_id)
    except CrisisNotFound as exc:
        raise fail(str(exc)) from None
    finally:
        application.close()
    settings = application.settings
    return entries, settings.prefecture.name, settings.prefecture.timezone, application.clock.now()


def _report(
    writer: Callable[..., list[Path]],
    config: Path | None,
    crisis_id: str,
    output: Path,
    formats: list[str] | None,
) -> None:
    entries, prefecture, tz, now = _journal(config, crisis_id)
    with _progress() as progress:
        paths = writer(
            entries,
            now,
            output,
            prefecture=prefecture,
            timezone=tz,
            formats=formats or ("html", "pdf", "md"),
            progress=progress,
        )
    _written(paths)


@report_app.command("rex")
def report_rex(
    crisis_id: str,
    output: OutOption = Path("rapports"),
    formats: FormatOption = None,
    config: ConfigOption = None,
) -> None:
    """Le retour d'expérience (REX) d'un événement ou d'un exercice, tiré de la main courante."""
    _report(write_rex, config, crisis_id, output, formats)


@report_app.command("compliance")
def report_compliance(
    crisis_id: str,
    output: OutOption = Path("rapports"),
    formats: FormatOption = None,
    config: ConfigOption = None,
) -> None:
    """Le rapport de conformité (verdict de la première heure) sur une page, pour l'auditeur."""
    _report(write_compliance, config, crisis_id, output, formats)


@report_app.command("annual")
def report_annual(
    year: Annotated[int, typer.Argument(help="L'année du bilan, par exemple 2026.")],
    output: OutOption = Path("rapports"),
    formats: FormatOption = None,
    config: ConfigOption = None,
) -> None:
    """Le bilan annuel : événements et exercices, conformité, formations, actions ouvertes."""
    application = open_app(config)
    try:
        with application.store.transaction() as tx:
            journals = [tx.journal(c) for c in tx.crisis_ids(open_only=False)]
        now = application.clock.now()
        settings = application.settings
        tz = ZoneInfo(settings.prefecture.timezone)
        rows = training_rows(application.directory(), now.astimezone(tz).date())
    finally:
        application.close()
    with _progress() as progress:
        paths = write_annual(
            year,
            journals,
            rows,
            now,
            output,
            prefecture=settings.prefecture.name,
            timezone=settings.prefecture.timezone,
            formats=formats or ("html", "pdf", "md"),
            progress=progress,
        )
    _written(paths)


_ACTION = re.compile(r"^\s*[-*]\s*\[(?P<done>[ xX])\]\s*(?P<rest>.+)$")
_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_lessons(text: str, where: str) -> LessonsRecorded:
    """The REX's lessons from Markdown: free text, and actions as a checklist
    "- [ ] Action — responsable — 15/01/2027" ("- [x]" when done). ValueError in French."""
    kept: list[str] = []
    actions: list[CorrectiveAction] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _ACTION.match(line)
        if match is None:
            kept.append(line)
            continue
        parts = [p.strip() for p in re.split(r"\s+[—|]\s+", match.group("rest"))]
        due = None
        if len(parts) > 2 and parts[2]:
            found = _DATE.match(parts[2])
            try:
                due = (
                    date(int(found[3]), int(found[2]), int(found[1]))
                    if found
                    else date.fromisoformat(parts[2])
                )
            except ValueError:
                raise ValueError(
                    f"{where}, ligne {number} : échéance « {parts[2]} » illisible "
                    "(JJ/MM/AAAA attendu)"
                ) from None
        actions.append(
            CorrectiveAction(
                title=parts[0],
                owner=parts[1] if len(parts) > 1 else "",
                due=due,
                done=match.group("done") != " ",
            )
        )
    return LessonsRecorded(text="\n".join(kept).strip(), actions=tuple(actions))


@report_app.command("lessons")
def report_lessons(
    crisis_id: str,
    file: Annotated[Path, typer.Argument(help="Fichier Markdown des enseignements.")],
    by: ByOption,
    config: ConfigOption = None,
) -> None:
    """Enregistrer « enseignements et actions correctives » du REX (la dernière version vaut).

    Le texte est libre ; chaque action est une case à cocher :
    « - [ ] Action — responsable — 15/01/2027 » (« - [x] » une fois faite).
    """
    try:
        lessons = parse_lessons(file.read_text(encoding="utf-8"), str(file))
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{file} : fichier illisible ({exc.__class__.__name__})") from None
    except ValueError as exc:
        raise fail(str(exc), code=2) from None
    application = open_app(config)
    try:
        application.orchestrator.record(crisis_id, [lessons], _by(by))
    except (Refused, CrisisNotFound) as exc:
        raise fail(str(exc)) from None
    finally:
        application.close()
    console.print(
        f"Enseignements enregistrés ({len(lessons.actions)} action(s) corrective(s)) ; "
        f"le prochain « crisis report rex {crisis_id} » les reprend."
    )
