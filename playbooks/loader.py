"""Load the playbook library and its message templates from TOML, with errors a cabinet can fix.

Every error names the file, the step and the key, in French: a playbook is edited by the
prefecture's staff, not by developers, and a typo must never become a silent default.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from playbooks.model import EventKind, MessageTemplate, Playbook, Step

__all__ = [
    "Library",
    "PlaybookError",
    "PlaybookErrors",
    "check_library",
    "default_library_dir",
    "default_templates_dir",
    "load_library",
    "load_playbook",
    "load_template",
]

_PACKAGE_DIR = Path(__file__).resolve().parent


class PlaybookError(Exception):
    """A broken playbook or template: which file, which step, which key, why (French)."""

    def __init__(
        self, file: Path, reason: str, *, step: str | None = None, key: str | None = None
    ) -> None:
        self.file = file
        self.reason = reason
        self.step = step
        self.key = key
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = [_display(self.file)]
        if self.step is not None:
            where.append(f"étape « {self.step} »")
        if self.key is not None:
            where.append(f"clé « {self.key} »")
        return f"{', '.join(where)} : {self.reason}"

    def __str__(self) -> str:
        return self._describe()


class PlaybookErrors(Exception):
    """Every error found in a library, one per line."""

    def __init__(self, errors: Sequence[PlaybookError]) -> None:
        self.errors = list(errors)
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.errors)
        head = f"{count} erreur{'s' if count > 1 else ''} dans les playbooks :"
        return "\n".join([head, *(f"- {error}" for error in self.errors)])


class Library(BaseModel):
    """The loaded playbooks (one per kind), every template, and each playbook's raw TOML."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    playbooks: dict[EventKind, Playbook]
    templates: dict[str, MessageTemplate]
    sources: dict[EventKind, str]  # raw TOML of each playbook file: what the plan digest hashes


def default_library_dir() -> Path:
    """The playbooks shipped inside the installed package."""
    return _PACKAGE_DIR / "library"


def default_templates_dir() -> Path:
    """The message templates shipped inside the installed package."""
    return _PACKAGE_DIR / "templates"


def load_playbook(path: Path) -> Playbook:
    """Read and validate one playbook file; raise the first PlaybookError found."""
    loaded = _read_playbook(path)
    if loaded.errors:
        raise loaded.errors[0]
    assert loaded.playbook is not None
    return loaded.playbook


def load_template(path: Path) -> MessageTemplate:
    """Read and validate one message template; its name is the file's stem."""
    template, errors = _read_template(path)
    if errors:
        raise errors[0]
    assert template is not None
    return template


def check_library(library_dir: Path, templates_dir: Path) -> list[PlaybookError]:
    """Every error in the library and its templates (never only the first); [] when all is well."""
    return _scan(library_dir, templates_dir)[1]


def load_library(library_dir: Path | None = None, templates_dir: Path | None = None) -> Library:
    """Load the whole library; raise PlaybookErrors listing every problem if there is any."""
    library, errors = _scan(
        library_dir if library_dir is not None else default_library_dir(),
        templates_dir if templates_dir is not None else default_templates_dir(),
    )
    if errors:
        raise PlaybookErrors(errors)
    assert library is not None
    return library


# --- scanning -------------------------------------------------------------------------------


class _LoadedPlaybook:
    """What reading one playbook file gave: the playbook (if valid), its text, its errors."""

    def __init__(self, playbook: Playbook | None, source: str, errors: list[PlaybookError]) -> None:
        self.playbook = playbook
        self.source = source
        self.errors = errors


def _scan(library_dir: Path, templates_dir: Path) -> tuple[Library | None, list[PlaybookError]]:
    errors: list[PlaybookError] = []
    templates: dict[str, MessageTemplate] = {}
    broken_templates: set[str] = set()
    for path in _toml_files(templates_dir, errors):
        template, template_errors = _read_template(path)
        errors.extend(template_errors)
        if template is None:
            broken_templates.add(path.stem)
        else:
            templates[template.name] = template

    playbooks: dict[EventKind, Playbook] = {}
    sources: dict[EventKind, str] = {}
    files: dict[EventKind, Path] = {}
    for path in _toml_files(library_dir, errors):
        loaded = _read_playbook(path)
        errors.extend(loaded.errors)
        playbook = loaded.playbook
        if playbook is None:
            continue
        errors.extend(_missing_templates(path, playbook, templates, broken_templates))
        if playbook.kind in files:
            errors.append(
                PlaybookError(
                    path,
                    f"un autre playbook existe déjà pour « {playbook.kind} » "
                    f"({files[playbook.kind].name}) : un seul playbook par type d'événement",
                    key="kind",
                )
            )
            continue
        files[playbook.kind] = path
        playbooks[playbook.kind] = playbook
        sources[playbook.kind] = loaded.source

    if errors:
        return None, errors
    return Library(playbooks=playbooks, templates=templates, sources=sources), []


def _toml_files(directory: Path, errors: list[PlaybookError]) -> list[Path]:
    if not directory.is_dir():
        errors.append(PlaybookError(directory, "dossier introuvable"))
        return []
    return sorted(p for p in directory.glob("*.toml") if p.is_file())


def _missing_templates(
    path: Path, playbook: Playbook, templates: Mapping[str, MessageTemplate], broken: set[str]
) -> Iterable[PlaybookError]:
    for step in playbook.steps:
        if step.template is None or step.template in templates or step.template in broken:
            continue  # a broken template file is already reported on its own
        hint = _suggest(step.template, templates)
        yield PlaybookError(
            path,
            f"modèle de message introuvable « {step.template} »{hint}",
            step=step.id,
            key="template",
        )


# --- one file -------------------------------------------------------------------------------


def _read_playbook(path: Path) -> _LoadedPlaybook:
    source, data, errors = _read_toml(path)
    if data is None:
        return _LoadedPlaybook(None, source, errors)
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as exc:
        return _LoadedPlaybook(None, source, _translate(path, exc, data, Playbook.model_fields))
    return _LoadedPlaybook(playbook, source, [])


def _read_template(path: Path) -> tuple[MessageTemplate | None, list[PlaybookError]]:
    _, data, errors = _read_toml(path)
    if data is None:
        return None, errors
    if "name" in data:
        return None, [
            PlaybookError(path, "clé inconnue : le nom du modèle est celui du fichier", key="name")
        ]
    try:
        template = MessageTemplate.model_validate({"name": path.stem, **data})
    except ValidationError as exc:
        return None, _translate(path, exc, data, MessageTemplate.model_fields)
    return template, []


def _read_toml(path: Path) -> tuple[str, dict[str, Any] | None, list[PlaybookError]]:
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return "", None, [PlaybookError(path, "fichier illisible : encodage UTF-8 attendu")]
    except OSError as exc:
        return "", None, [PlaybookError(path, f"fichier illisible ({exc.strerror})")]
    try:
        return source, tomllib.loads(source), []
    except tomllib.TOMLDecodeError as exc:
        return source, None, [PlaybookError(path, _toml_reason(exc))]


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")


def _toml_reason(exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    if match := _TOML_POSITION.search(message):
        detail = message[: match.start()]
        where = f"ligne {match.group(1)}, colonne {match.group(2)}"
    elif match := _TOML_END.search(message):
        detail = message[: match.start()]
        where = "en fin de fichier"
    else:
        detail, where = message, "position inconnue"
    return f"syntaxe TOML invalide, {where} ({detail})"


# --- pydantic errors in French ----------------------------------------------------------------


def _translate(
    path: Path, exc: ValidationError, data: Mapping[str, Any], fields: Mapping[str, Any]
) -> list[PlaybookError]:
    translated: list[PlaybookError] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        step: str | None = None
        known_fields: Mapping[str, Any] = fields
        if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
            step = _step_label(data, loc[1])
            rest = loc[2:]
            known_fields = Step.model_fields
        else:
            rest = loc
        key = next((part for part in rest if isinstance(part, str)), None)
        reason = _reason(error, known_fields)
        if not rest:
            step, key, reason = _locate_validator_message(step, reason)
        translated.append(PlaybookError(path, reason, step=step, key=key))
    return translated


def _step_label(data: Mapping[str, Any], index: int) -> str:
    steps = data.get("steps")
    if isinstance(steps, list) and index < len(steps):
        raw = steps[index]
        if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"]:
            return str(raw["id"])
    return f"n° {index + 1}"


_SIMPLE_REASONS = {
    "missing": "clé obligatoire manquante",
    "string_type": "texte attendu (entre guillemets)",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "bool_type": "true ou false attendu",
    "bool_parsing": "true ou false attendu",
    "list_type": 'liste attendue, par exemple ["sms", "voice"]',
    "tuple_type": 'liste attendue, par exemple ["sms", "voice"]',
    "dict_type": "table attendue",
    "model_type": "table attendue",
    "model_attributes_type": "table attendue",
    "time_delta_type": 'durée ISO 8601 attendue, par exemple "PT5M"',
    "string_too_short": "texte vide",
}


def _reason(error: Any, fields: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        unknown = str(error["loc"][-1])
        return f"clé inconnue{_suggest(unknown, fields)}"
    if kind == "enum":
        expected = _expected(str(ctx.get("expected", "")))
        return f"valeur inconnue « {error['input']} » (attendu : {expected})"
    if kind == "time_delta_parsing":
        return f'durée ISO 8601 invalide (« {error["input"]} »), par exemple "PT5M"'
    if kind in {"greater_than_equal", "greater_than"}:
        bound = ctx.get("ge", ctx.get("gt"))
        sign = "≥" if kind == "greater_than_equal" else ">"
        return f"nombre {sign} {bound} attendu (« {error['input']} »)"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return _SIMPLE_REASONS.get(kind, str(error["msg"]))


def _expected(raw: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as "a, b, c"."""
    values = re.findall(r"'([^']*)'", raw)
    return ", ".join(values) if values else raw


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.7)
    return f" (vouliez-vous dire « {close[0]} » ?)" if close else ""


# The model's own validators (playbooks/model.py) say in French what is wrong with a step or
# a playbook as a whole; pydantic locates them on the step or nowhere. Recover the step and the
# key from the message so that the error points at the line to fix.
_STEP_MESSAGE_KEYS = (
    ("identifiant invalide", "id"),
    ("doit indiquer ses canaux", "channels"),
    ("doit indiquer son public", "audience"),
    ("doit indiquer son modèle", "template"),
    ("canaux publics", "audience"),
    ("un message au public doit être validé", "approval"),
    ("only_unreached", "only_unreached"),
    ("escalation", "escalation"),
    ("dépend d'étapes inconnues", "depends_on"),
    ("relais du numéro CIAV", "action"),
)
_NAMED_STEP = re.compile(r"^étape (\S+) : (.*)$", re.DOTALL)
_DUPLICATES = re.compile(r"^étapes en double : ([^,\s]+)")
_CYCLE = re.compile(r"^dépendances circulaires : (\S+)")


def _locate_validator_message(step: str | None, reason: str) -> tuple[str | None, str | None, str]:
    if step is None:
        if match := _NAMED_STEP.match(reason):
            step, reason = match.group(1), match.group(2)
        elif match := _DUPLICATES.match(reason):
            return match.group(1), "id", reason
        elif match := _CYCLE.match(reason):
            return match.group(1), "depends_on", reason
        elif reason.startswith("quorum : "):
            return None, "quorum", reason.removeprefix("quorum : ")
    key = next((k for fragment, k in _STEP_MESSAGE_KEYS if fragment in reason), None)
    return step, key, reason


def _display(path: Path) -> str:
    """The file as staff know it: relative to the project when it is the shipped library."""
    try:
        return path.resolve().relative_to(_PACKAGE_DIR.parent).as_posix()
    except ValueError:
        return str(path)
