"""Click's and Typer's own messages reach the agent in French (real `crisis` subprocess)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from crisis.cli.french import french_message

CRISIS = [sys.executable, "-m", "crisis"]
ENGLISH = ("Missing", "Error", "Usage", "Try '", "Invalid value", "No such", "Show this message")


def _crisis(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CRISIS, *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("activate", "--kind", "inondation"), "Option manquante : '--t0'"),
        (("status",), "Argument manquant : 'crisis_id'"),
        (("commande-inconnue",), "Commande inconnue"),
        (("status", "a", "b"), "Argument(s) en trop : b"),
        (("activate", "--option-inconnue"), "Option inconnue : --option-inconnue"),
        (
            ("activate", "--kind", "crue", "--t0", "02:10", "--synergi", "S", "--zone", "42218",
             "--by", "A"),
            "'crue' n'est pas l'une des valeurs",
        ),
    ],
)  # fmt: skip
def test_usage_errors_are_french(args: tuple[str, ...], said: str) -> None:
    """A forgotten option, a typo'd command or value: French, code 2, no English left."""
    result = _crisis(*args)
    assert result.returncode == 2
    text = " ".join(re.sub("[│╭╮╰╯─]", " ", result.stdout + result.stderr).split())
    assert said in text, text
    assert "Erreur" in text and "Utilisation :" in text
    assert not [word for word in ENGLISH if word in text], text


def test_help_headings_are_french() -> None:
    """`crisis status --help` shows French headings and the --help line in French."""
    result = _crisis("status", "--help")
    assert result.returncode == 0
    assert "Utilisation :" in result.stdout and "Afficher cette aide" in result.stdout
    assert "[obligatoire]" in result.stdout
    assert not [word for word in ENGLISH if word in result.stdout], result.stdout


def test_unknown_message_passes_through_unchanged() -> None:
    """A message the table does not know is shown as it is, never lost."""
    assert french_message("Quelque chose d'inédit") == "Quelque chose d'inédit"
