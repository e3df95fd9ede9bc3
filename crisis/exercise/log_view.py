"""The ExerciseView of a run started from the dashboard: plain lines in its log file
(sortie.log), for whoever looks into a run afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from crisis import compliance
from crisis.clock import PausableClock
from crisis.exercise.runner import ExerciseEnding, ExerciseMoment, ExerciseOpening


class LogView:
    """Writes the opening and the end of a run as plain text; nothing while it plays."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def _line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def opening(self, opening: ExerciseOpening) -> None:
        """The scenario, its area, its pace, whether sends are real."""
        channels = "réels pour les participants" if opening.real_sends else "simulés"
        self._line(
            f"EXERCICE : {opening.title} — {opening.communes} communes, "
            f"{opening.duration_minutes} min à ×{opening.speed:g}, graine {opening.seed} ; "
            f"canaux {channels} ; base {opening.database}"
        )

    @contextmanager
    def watching(self, clock: PausableClock) -> Iterator[Callable[[ExerciseMoment], None]]:
        """Nothing is written while the run plays."""
        yield lambda moment: None

    def ending(self, ending: ExerciseEnding) -> None:
        """The verdicts, the training recorded, the REX's files, how to reread."""
        self._line("Fin de l'exercice")
        for v in compliance.judge(ending.entries, ending.now):
            self._line(f"  {v.engagement} : {v.status.label} — {v.detail}")
        self._line(
            f"Participations enregistrées dans les dossiers de formation : {ending.result.trained}"
        )
        for path in ending.result.reports:
            self._line(f"Retour d'expérience : {path}")
        self._line(f"Pour relire sa main courante : {ending.journal_command}")
        self._line(f"Pour vérifier son chaînage : {ending.verify_command}")
