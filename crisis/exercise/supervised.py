"""The process of an exercise started from the dashboard: `python -m crisis.exercise.supervised
FOLDER` (crisis/exercise/control.py explains the folder and its files).

It plays the run with the service's settings (channels forced to simulation by the dashboard),
its own database in FOLDER/donnees and the REX in FOLDER/rapports, and reports its state until
the end, failure included (in French, for the dashboard).
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from crisis.bootstrap import wall_clock
from crisis.exercise.control import RunControl, RunStatus
from crisis.exercise.errors import ScenarioError
from crisis.exercise.log_view import LogView
from crisis.exercise.runner import run_exercise
from crisis.runtime import ServiceRefused
from crisis.settings import Settings


def main(argv: list[str]) -> int:
    """Play the run in `argv[0]`; 0 when it ended (finished or stopped), 1 when it failed."""
    if len(argv) != 1:
        print("usage : python -m crisis.exercise.supervised DOSSIER", file=sys.stderr)
        return 2
    folder = Path(argv[0])
    control = RunControl(folder)
    wall = wall_clock()
    control.report(wall.now(), force=True, status=RunStatus.STARTING)

    try:
        settings = Settings.model_validate(control.launch.settings)
        result = run_exercise(
            Path(control.launch.scenario),
            data_dir=folder / "donnees",
            view=LogView(sys.stdout),
            speed=control.launch.speed,
            base=settings,
            env=os.environ,
            out_dir=folder / "rapports",
            control=control,
        )
    except (ScenarioError, ValueError, OSError, ServiceRefused) as exc:
        control.report(wall.now(), force=True, status=RunStatus.FAILED, error=str(exc)[:500])
        return 1
    except Exception as exc:  # the dashboard must learn that the run failed, whatever the cause
        traceback.print_exc()
        control.report(
            wall.now(),
            force=True,
            status=RunStatus.FAILED,
            error=f"erreur interne ({type(exc).__name__}) : voir sortie.log",
        )
        return 1
    stopped = control.stop_requested
    control.report(
        wall.now(),
        force=True,
        status=RunStatus.STOPPED if stopped else RunStatus.FINISHED,
        crisis_id=result.crisis_id,
        reports=tuple(p.name for p in result.reports),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
