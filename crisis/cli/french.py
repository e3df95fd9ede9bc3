"""Click's and Typer's own strings in French (usage errors, help headings, prompts).

Click and Typer look their strings up through `gettext` with names bound at import
(`from gettext import gettext as _`). No French catalogue ships with them, so `install()`
points those names at this module's table: an agent who forgets `--par` at 3 a.m. reads
« Option manquante '--par' », not « Missing option ». Unknown strings pass through unchanged.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

__all__ = ["FRENCH", "french_message", "install", "translate", "translate_plural"]

FRENCH: dict[str, str] = {
    # usage errors
    "Error": "Erreur",
    "Error: {message}": "Erreur : {message}",
    "Try '{command} {option}' for help.": "Aide : « {command} {option} ».",
    "Try [blue]'{command_path} {help_option}'[/] for help.": (
        "Aide : [blue]« {command_path} {help_option} »[/]."
    ),
    "Missing argument": "Argument manquant",
    "Missing option": "Option manquante",
    "Missing parameter": "Paramètre manquant",
    "Missing {param_type}": "{param_type} manquant",
    "Missing parameter: {param_name}": "Paramètre manquant : {param_name}",
    "Missing command.": "Commande manquante.",
    "No such option {name!r}.": "Option inconnue : {name!r}.",
    "No such command {name!r}.": "Commande inconnue : {name!r}.",
    "Invalid value: {message}": "Valeur invalide : {message}",
    "Invalid value for {param_hint}: {message}": "Valeur invalide pour {param_hint} : {message}",
    "unknown error": "erreur inconnue",
    "Could not open file {filename!r}: {message}": (
        "Impossible d'ouvrir le fichier {filename!r} : {message}"
    ),
    "Option {name!r} does not take a value.": "L'option {name!r} ne prend pas de valeur.",
    "Argument {name!r} takes {nargs} values.": "L'argument {name!r} prend {nargs} valeurs.",
    "Invalid start character for option ({option})": (
        "Caractère initial invalide pour l'option ({option})"
    ),
    "Value must be an iterable.": "La valeur doit être une liste.",
    "Choose from:\n\t{choices}": "Choisir parmi :\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} n'est pas un {number_type} valide.",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "{value!r} n'est pas un booléen valide. Valeurs reconnues : {states}"
    ),
    "{value!r} is not a valid UUID.": "{value!r} n'est pas un UUID valide.",
    "file": "fichier",
    "directory": "dossier",
    "path": "chemin",
    "{name} {filename!r} does not exist.": "{name} {filename!r} introuvable.",
    "{name} {filename!r} is a file.": "{name} {filename!r} est un fichier.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} est un dossier.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} illisible (droits).",
    "{name} {filename!r} is not writable.": "{name} {filename!r} non modifiable (droits).",
    "{name} {filename!r} is not executable.": "{name} {filename!r} non exécutable.",
    # help
    "Usage:": "Utilisation :",
    "Usage": "Utilisation",
    "Options": "Options",
    "Arguments": "Arguments",
    "Positional arguments": "Arguments",
    "Commands": "Commandes",
    "Show this message and exit.": "Afficher cette aide et quitter.",
    "Show the version and exit.": "Afficher la version et quitter.",
    "%(prog)s, version %(version)s": "%(prog)s, version %(version)s",
    "required": "obligatoire",
    "[required]": "[obligatoire]",
    "default: {default}": "par défaut : {default}",
    "[default: {}]": "[par défaut : {}]",
    "env var: {var}": "variable d'environnement : {var}",
    "[env var: {}]": "[variable d'environnement : {}]",
    "(dynamic)": "(calculé)",
    "deprecated": "obsolète",
    "(deprecated) ": "(obsolète) ",
    # prompts
    "Aborted!": "Abandon.",
    "Aborted.": "Abandon.",
    "Do you want to continue?": "Continuer ?",
    "Confirm the action without prompting.": "Confirmer sans poser la question.",
    "Repeat for confirmation": "Répétez pour confirmer",
    "Error: The two entered values do not match.": (
        "Erreur : les deux valeurs saisies ne sont pas identiques."
    ),
    "Error: invalid input": "Erreur : saisie invalide",
    "Press any key to continue...": "Appuyez sur une touche pour continuer…",
}

_PLURALS: dict[str, tuple[str, str]] = {
    "Got unexpected extra argument ({args})": (
        "Argument en trop : {args}",
        "Arguments en trop : {args}",
    ),
    "Option {name!r} requires an argument.": (
        "L'option {name!r} attend une valeur.",
        "L'option {name!r} attend {nargs} valeurs.",
    ),
    "Takes {nargs} values but 1 was given.": (
        "Attend {nargs} valeurs, 1 seule donnée.",
        "Attend {nargs} valeurs, {len} données.",
    ),
    "Did you mean {possibility}?": (
        "Vouliez-vous dire {possibility} ?",
        "(Vouliez-vous dire l'une de : {possibilities} ?)",
    ),
    "{value!r} is not {choice}.": (
        "{value!r} n'est pas {choice}.",
        "{value!r} n'est pas l'une des valeurs {choices}.",
    ),
    "{value!r} does not match the format {format}.": (
        "{value!r} ne correspond pas au format {format}.",
        "{value!r} ne correspond à aucun des formats {formats}.",
    ),
    "{len_type} values are required, but {len_value} was given.": (
        "{len_type} valeurs attendues, {len_value} donnée.",
        "{len_type} valeurs attendues, {len_value} données.",
    ),
}

# the modules that bound `gettext` / `ngettext` at import
_MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.termui",
    "click.types",
    "typer.core",
    "typer.rich_utils",
    "typer._click.parser",
)


# Typer 0.29 vendors Click (typer._click) with its messages written as f-strings: those are
# rewritten from the formatted English, most specific first.
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.S), french)
    for pattern, french in (
        (r"^Missing option (.+?)\.( .*)?$", r"Option manquante : \1.\2"),
        (r"^Missing argument (.+?)\.( .*)?$", r"Argument manquant : \1.\2"),
        (r"^Missing parameter: (.+)$", r"Paramètre manquant : \1"),
        (r"^Missing (\w+) (.+?)\.( .*)?$", r"\1 manquant : \2.\3"),
        (r"^Invalid value for (.+?): (.*)$", r"Valeur invalide pour \1 : \2"),
        (r"^Invalid value: (.*)$", r"Valeur invalide : \1"),
        (r"^No such option: (.+?)( \(Possible options: (.*)\))?$", r"Option inconnue : \1"),
        (r"^No such command '(.+)'\.$", r"Commande inconnue : « \1 »."),
        (r"^Got unexpected extra argument(?:s|\(s\))? \((.*)\)$", r"Argument(s) en trop : \1"),
        (r"^Option '(.+)' requires an argument\.$", r"L'option « \1 » attend une valeur."),
        (r"^Option '(.+)' does not take a value\.$", r"L'option « \1 » ne prend pas de valeur."),
        (r"^Could not open file (.+?): (.*)$", r"Impossible d'ouvrir le fichier \1 : \2"),
    )
)
_INNER: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), french)
    for pattern, french in (
        (r"Value error, ", ""),
        (r"(.+?) is not one of (.+)\.$", r"\1 n'est pas l'une des valeurs \2."),
        (r"(.+?) is not a valid integer(?: range)?\.", r"\1 n'est pas un nombre entier valide."),
        (r"(.+?) is not a valid float(?: range)?\.", r"\1 n'est pas un nombre valide."),
        (r"(.+?) is not a valid boolean\.?", r"\1 n'est pas « oui » ou « non »."),
        (r"(.+?) is not in the range (.+)\.", r"\1 n'est pas dans l'intervalle \2."),
        (r"(File|Directory|Path) (.+?) does not exist\.", r"Chemin \2 introuvable."),
        (r"(File|Directory|Path) (.+?) is a file\.", r"\2 est un fichier, pas un dossier."),
        (r"(File|Directory|Path) (.+?) is a directory\.", r"\2 est un dossier, pas un fichier."),
        (r"(File|Directory|Path) (.+?) is not readable\.", r"\2 est illisible (droits)."),
        (r"(File|Directory|Path) (.+?) is not writable\.", r"\2 n'est pas modifiable (droits)."),
        (r"\(Possible options: (.*)\)", r"(options possibles : \1)"),
    )
)


def french_message(message: str) -> str:
    """A usage error formatted by Typer's vendored Click, in French (unchanged if unknown)."""
    for pattern, french in _REWRITES:
        if pattern.match(message):
            message = pattern.sub(french, message, count=1)
            break
    for pattern, french in _INNER:
        message = pattern.sub(french, message)
    return message


def translate(message: str) -> str:
    """The French of one of Click's or Typer's strings (unchanged if unknown)."""
    return FRENCH.get(message, message)


def translate_plural(singular: str, plural: str, n: int) -> str:
    """The French of one of Click's plural strings (unchanged if unknown)."""
    forms = _PLURALS.get(singular)
    if forms is None:
        return singular if n == 1 else plural
    return forms[0] if n == 1 else forms[1]


# Typer's headings computed with gettext when typer.rich_utils was imported
_TYPER_CONSTANTS = (
    "DEPRECATED_STRING",
    "DEFAULT_STRING",
    "ENVVAR_STRING",
    "REQUIRED_LONG_STRING",
    "ARGUMENTS_PANEL_TITLE",
    "OPTIONS_PANEL_TITLE",
    "COMMANDS_PANEL_TITLE",
    "ERRORS_PANEL_TITLE",
    "ABORTED_TEXT",
    "RICH_HELP",
)


def install() -> None:
    """Make Click and Typer speak French (idempotent)."""
    try:
        rich_utils = importlib.import_module("typer.rich_utils")
    except ImportError:  # pragma: no cover - Typer without rich
        rich_utils = None
    if rich_utils is not None:
        for constant in _TYPER_CONSTANTS:
            if hasattr(rich_utils, constant):
                setattr(rich_utils, constant, translate(getattr(rich_utils, constant)))
    _patch_vendored_click()
    for name in _MODULES:
        try:
            module: ModuleType = importlib.import_module(name)
        except ImportError:  # another Typer or Click version: fewer modules to patch
            continue
        if hasattr(module, "_"):
            module._ = translate  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = translate_plural  # type: ignore[attr-defined]


_PATCHED = "_crisis_french"


def _patch_vendored_click() -> None:
    """Wrap `format_message` of typer._click's exceptions and its usage line."""
    try:
        exceptions = importlib.import_module("typer._click.exceptions")
        core = importlib.import_module("typer._click.core")
    except ImportError:  # a Typer that uses Click itself: gettext covers it
        return
    for value in vars(exceptions).values():
        if (
            isinstance(value, type)
            and issubclass(value, Exception)
            and "format_message" in vars(value)
            and not getattr(vars(value)["format_message"], _PATCHED, False)
        ):
            setattr(value, "format_message", _french_format(vars(value)["format_message"]))  # noqa: B010
    command = getattr(core, "Command", None)
    if command is not None and not getattr(command.get_usage, _PATCHED, False):
        command.get_usage = _french_usage(command.get_usage)
        command.get_help_option = _french_help_option(command.get_help_option)


def _french_format(original: Callable[[Any], str]) -> Callable[[Any], str]:
    def format_message(self: Any) -> str:
        return french_message(original(self))

    setattr(format_message, _PATCHED, True)
    return format_message


def _french_usage(original: Callable[[Any, Any], str]) -> Callable[[Any, Any], str]:
    def get_usage(self: Any, ctx: Any) -> str:
        usage = original(self, ctx)
        return "Utilisation : " + usage[len("Usage: ") :] if usage.startswith("Usage: ") else usage

    setattr(get_usage, _PATCHED, True)
    return get_usage


def _french_help_option(original: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def get_help_option(self: Any, ctx: Any) -> Any:
        option = original(self, ctx)
        if option is not None and getattr(option, "help", None) in FRENCH:
            option.help = FRENCH[option.help]
        return option

    return get_help_option
