"""`crisis exercise run` and `crisis exercise check`: a scenario played, or checked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from contacts.area import AreaError
from contacts.cog import load_extract
from crisis.cli.common import ConfigOption, console, fail, load, settings_failed
from crisis.cli.exercise_view import ConsoleExerciseView
from crisis.exercise.runner import run_exercise
from crisis.exercise.scenario import LIBRARY, ScenarioError, load_scenario
from crisis.runtime import ServiceRefused
from crisis.settings import SettingsError

exercise_app = typer.Typer(help="Exercices : scénarios, injections, pression médiatique (49).")


def scenario_file(given: Path) -> Path:
    """A scenario file, or the name of one shipped in the library ("inondation_furan")."""
    shipped = LIBRARY / f"{given.name.removesuffix('.toml')}.toml"
    if not given.exists() and given.parent == Path() and shipped.exists():
        return shipped
    return given


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
    base = load(config) if config is not None else None
    try:
        run_exercise(
            scenario_file(scenario),
            data_dir=data_dir,
            view=ConsoleExerciseView(console),
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
