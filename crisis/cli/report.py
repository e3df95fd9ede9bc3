"""`crisis report ...`: REX, compliance and annual reports (HTML, PDF, Markdown), and the
REX's lessons."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn

from crisis.cli.common import ByOption, ConfigOption, cli_actor, console, fail, open_app
from crisis.directory_admin import training_rows
from crisis.engine import Refused
from crisis.model import CorrectiveAction, JournalEntry, LessonsRecorded
from crisis.queries import events
from crisis.reports import write_annual, write_compliance, write_rex
from crisis.store.repository import CrisisNotFound

OutOption = Annotated[
    Path, typer.Option("--output", "--sortie", "-o", help="Dossier où écrire les rapports.")
]
FormatOption = Annotated[
    list[str] | None,
    typer.Option("--format", help="html, pdf ou md (plusieurs possibles ; défaut : les trois)."),
]

report_app = typer.Typer(help="Rapports : REX, conformité, bilan annuel (HTML, PDF, Markdown).")


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
        entries = events.journal(application.store, crisis_id)
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


def _crisis_command(writer: Callable[..., list[Path]]) -> Callable[..., None]:
    """The `crisis report <kind> CRISIS_ID` command that writes one crisis's report."""

    def command(
        crisis_id: str,
        output: OutOption = Path("rapports"),
        formats: FormatOption = None,
        config: ConfigOption = None,
    ) -> None:
        _report(writer, config, crisis_id, output, formats)

    return command


_CRISIS_REPORTS = (
    (
        "rex",
        write_rex,
        "Le retour d'expérience (REX) d'un événement ou d'un exercice, tiré de la main courante.",
    ),
    (
        "compliance",
        write_compliance,
        "Le rapport de conformité (verdict de la première heure) sur une page, pour l'auditeur.",
    ),
)
for _name, _writer, _help in _CRISIS_REPORTS:
    report_app.command(_name, help=_help)(_crisis_command(_writer))


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
        journals = events.journals(application.store)
        now = application.clock.now()
        settings = application.settings
        tz = settings.prefecture.zone
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
        application.orchestrator.record(crisis_id, [lessons], cli_actor(by))
    except (Refused, CrisisNotFound) as exc:
        raise fail(str(exc)) from None
    finally:
        application.close()
    console.print(
        f"Enseignements enregistrés ({len(lessons.actions)} action(s) corrective(s)) ; "
        f"le prochain « crisis report rex {crisis_id} » les reprend."
    )
