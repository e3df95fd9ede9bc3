"""What `crisis check-config` says before anything runs: each real provider's section and
credentials (nothing sent), and the files and folders the settings name."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from channels.base import ChannelConfigError, ChannelName
from channels.switchboard import SwitchboardSettings, check_switchboard
from channels.twilio_common import TwilioSettings
from channels.twilio_hotline import HotlineSettings
from channels.twilio_numbers import check_hotline_number
from contacts.cog import CogError, load_extract
from crisis.bootstrap.channels import PROVIDERS, section
from crisis.bootstrap.web import ack_signer_of
from crisis.settings import Settings
from crisis.store.urls import sqlite_file

M = TypeVar("M", bound=BaseModel)


def provider_problems(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """What `crisis check-config` says of each real provider, without sending anything."""
    problems: list[str] = []
    used = settings.providers_in_use()
    for provider in PROVIDERS.values():
        if provider.name not in used:
            continue
        found = _checked(
            problems, provider.section, provider.model, settings.section(provider.section)
        )
        if found is not None:
            checked = provider.check(found, env, used[provider.name])
            problems += [f"[{provider.section}] {p}" for p in checked]
    twilio_ok = settings.section("twilio") is not None and "twilio" in used
    if ChannelName.STANDARD in used.get("twilio", []):
        problems += _switchboard_problems(settings, env, twilio_ok)
    problems += _hotline_problems(settings, env, twilio_ok)
    try:
        ack_signer_of(settings, env)
    except ChannelConfigError as exc:
        problems.append(f"[web] {exc}")
    return list(dict.fromkeys(problems))


def _checked(
    problems: list[str], name: str, model: type[M], data: dict[str, object] | None
) -> M | None:
    """Section [`name`] validated, or None with its problem added to `problems`."""
    try:
        return section(model, data, name, f"le fournisseur « {name} »")
    except ChannelConfigError as exc:
        problems.append(f"[{name}] {exc}")
        return None


def _switchboard_problems(settings: Settings, env: Mapping[str, str], twilio_ok: bool) -> list[str]:
    problems: list[str] = []
    board = _checked(problems, "standard", SwitchboardSettings, settings.section("standard"))
    if board is not None and twilio_ok:
        twilio = _checked(problems, "twilio", TwilioSettings, settings.section("twilio"))
        if twilio is not None:
            problems += [f"[standard] {p}" for p in check_switchboard(board, twilio, env)]
    return problems


def _hotline_problems(settings: Settings, env: Mapping[str, str], twilio_ok: bool) -> list[str]:
    problems: list[str] = []
    if settings.cip is None:
        return problems
    hotline = _checked(problems, "cip", HotlineSettings, settings.cip)
    if hotline is not None and hotline.number is not None:
        if not twilio_ok:
            problems.append("[cip] le numéro unique passe par Twilio : section [twilio] requise")
        elif twilio := _checked(problems, "twilio", TwilioSettings, settings.section("twilio")):
            problems += [f"[cip] {p}" for p in check_hotline_number(twilio, hotline.number, env)]
    return problems


def config_problems(settings: Settings) -> list[str]:
    """What makes a file or folder the settings name unusable, each with its key (French),
    checked before anything is written: playbook library, communes file, data_dir, the
    folder of a SQLite database."""
    problems = _playbook_problems(settings)
    communes = settings.directory.communes_file
    if communes is not None and (why := _communes_problem(communes)) is not None:
        problems.append(f"clé « directory.communes_file » : {why}")
    for key, folder in (("data_dir", settings.data_dir), ("database.url", _sqlite_dir(settings))):
        if folder is not None and (why := _not_writable(folder)):
            problems.append(f"clé « {key} » : {why}")
    return problems


def _playbook_problems(settings: Settings) -> list[str]:
    problems: list[str] = []
    library = settings.playbooks.library_dir
    if library is not None:
        if not library.is_dir():
            problems.append(f"clé « playbooks.library_dir » : dossier introuvable : {library}")
        elif not any(p.is_file() for p in library.glob("*.toml")):
            problems.append(
                f"clé « playbooks.library_dir » : aucun playbook (fichier .toml) dans {library} : "
                "aucune activation ne serait possible"
            )
    templates = settings.playbooks.templates_dir
    if templates is not None and not templates.is_dir():
        problems.append(f"clé « playbooks.templates_dir » : dossier introuvable : {templates}")
    return problems


def _communes_problem(communes: Path) -> str | None:
    """Why the communes file cannot be read (None when it can)."""
    try:
        load_extract(communes)
    except CogError as exc:
        return str(exc)
    except UnicodeDecodeError as exc:
        return f"{communes} : encodage non UTF-8 (octet n° {exc.start + 1})"
    except OSError as exc:
        return f"{communes} : {_unreadable(exc)}"
    return None


def _unreadable(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "fichier introuvable"
    if isinstance(exc, IsADirectoryError):
        return "c'est un dossier, un fichier est attendu"
    return f"fichier illisible ({exc.strerror or exc})"


def _sqlite_dir(settings: Settings) -> Path | None:
    path = sqlite_file(settings.database.url)
    return path.parent if path is not None else None


def _not_writable(folder: Path) -> str | None:
    """Why `folder` cannot be created or written to (None when it can)."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return f"dossier « {folder} » impossible à créer : « {probe} » n'est pas un dossier"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"dossier « {probe} » non accessible en écriture (droits du compte de service)"
    return None
