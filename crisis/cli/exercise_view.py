"""How `crisis exercise run` shows a run on the terminal: its opening line, a live board
(Entrée pauses it), and at the end the verdicts, the communes reached and the REX's files."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from crisis import compliance
from crisis.cli.views import reach_table, render_verdicts
from crisis.clock import PausableClock
from crisis.exercise.runner import ExerciseEnding, ExerciseMoment, ExerciseOpening
from crisis.model import CipCallEnded, MediaRequestAnswered, MediaRequestReceived


class ConsoleExerciseView:
    """The ExerciseView of the terminal (rich)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def opening(self, opening: ExerciseOpening) -> None:
        """One line: the scenario, its area, its pace, whether sends are real."""
        channels = "réels pour les participants" if opening.real_sends else "simulés"
        self.console.print(
            f"[bold]EXERCICE[/bold] : {opening.title} — {opening.communes} communes, "
            f"{opening.duration_minutes} min à ×{opening.speed:g}, graine {opening.seed} ; "
            f"canaux {channels} ; base {opening.database}"
        )

    @contextmanager
    def watching(self, clock: PausableClock) -> Iterator[Callable[[ExerciseMoment], None]]:
        """A live board, refreshed at each moment; Entrée pauses and resumes the clock."""
        stop = _pause_on_enter(clock, self.console)
        try:
            with Live(console=self.console, refresh_per_second=4, transient=False) as live:
                yield lambda moment: live.update(screen(moment))
        finally:
            if stop is not None:
                stop()

    def ending(self, ending: ExerciseEnding) -> None:
        """The verdicts, the communes reached, the training recorded, the REX, how to reread."""
        console = self.console
        crisis, result = ending.crisis, ending.result
        console.rule("Fin de l'exercice")
        render_verdicts(compliance.judge(ending.entries, ending.now))
        reach = compliance.commune_reach(ending.entries, ending.now)
        console.print(reach_table(reach, crisis.commune_names, crisis.t0))
        console.print(
            f"Participations enregistrées dans les dossiers de formation : {result.trained}"
        )
        for path in result.reports:
            console.print(f"Retour d'expérience : {path}")
        console.print(f"Pour relire sa main courante : {ending.journal_command}")
        console.print(f"Pour vérifier son chaînage : {ending.verify_command}", soft_wrap=True)


def screen(moment: ExerciseMoment) -> Group:
    """The live board: the exercise's clock, the press and CIP figures, the engagements."""
    entries = moment.entries
    minutes = (moment.now - moment.t0).total_seconds() / 60
    received = [e for e in entries if isinstance(e.fact, MediaRequestReceived)]
    answered = {e.fact.request_id for e in entries if isinstance(e.fact, MediaRequestAnswered)}
    calls = [e.fact for e in entries if isinstance(e.fact, CipCallEnded)]
    head = Table.grid(padding=(0, 2))
    paused = " [reverse] PAUSE [/reverse]" if moment.paused else ""
    head.add_row(
        f"[bold]EXERCICE T0+{int(minutes):02d}:{int(minutes * 60) % 60:02d}[/bold]{paused}",
        f"sollicitations presse : {len(received)} (sans réponse : {len(received) - len(answered)})",
        f"appels CIP : {len(calls)}"
        + (f" (répondus {sum(c.outcome == 'repondu' for c in calls)})" if calls else ""),
    )
    table = Table(title="Engagements")
    table.add_column("engagement")
    table.add_column("état")
    table.add_column("détail")
    for v in compliance.judge(entries, moment.now):
        table.add_row(v.engagement, v.status.label, v.detail[:80])
    queue = Table(title="File des sollicitations presse (dernières)")
    for column in ("réf.", "média", "question", "état"):
        queue.add_column(column)
    for e in received[-5:]:
        fact = e.fact
        assert isinstance(fact, MediaRequestReceived)
        state = "répondu" if fact.request_id in answered else "[yellow]en attente[/yellow]"
        queue.add_row(fact.request_id, fact.outlet, fact.question[:60], state)
    return Group(head, table, queue)


def _pause_on_enter(clock: PausableClock, console: Console) -> Callable[[], None] | None:
    """On a terminal, Entrée pauses and resumes the exercise clock; returns the clean-up."""
    if not sys.stdin.isatty():
        return None
    loop = asyncio.get_running_loop()

    def toggle() -> None:
        sys.stdin.readline()
        if clock.paused:
            clock.resume()
        else:
            clock.pause()

    loop.add_reader(sys.stdin.fileno(), toggle)
    console.print("Entrée : mettre l'exercice en pause ou le reprendre.")

    def stop() -> None:
        loop.remove_reader(sys.stdin.fileno())

    return stop
