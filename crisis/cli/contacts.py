"""`crisis contacts …`: check, import, export, erase, list the directory (French output)."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from contacts.check import check_directory, quorum_shortfall
from contacts.demo import demo_directory
from contacts.geography import load_communes
from contacts.importer import (
    ImportReport,
    UnreadableFile,
)
from contacts.model import Contact, Directory, Role
from contacts.phone import mask
from contacts.training import trained_ids
from crisis.bootstrap import build_directory
from crisis.cli.common import ConfigOption, console, fail, load
from crisis.clock import SystemClock
from crisis.directory_admin import STATUS_LABELS, ImportKind, mask_email, run_import
from crisis.settings import Settings
from crisis.store import Store
from crisis.store.directory import DirectoryIntegrityError
from playbooks.loader import PlaybookErrors, load_library

contacts_app = typer.Typer(
    help="Annuaire : élus, astreinte, liste de rappel, CIP, presse.", no_args_is_help=True
)
SLOT, SLOTS = "créneau d'astreinte", "créneaux d'astreinte"
STATUS_COLOURS = {"imported": "green", "updated": "cyan", "unchanged": "dim", "rejected": "red"}


# --- helpers -----------------------------------------------------------------------------


def _zone(settings: Settings) -> tzinfo:
    return ZoneInfo(settings.prefecture.timezone)


def _now() -> datetime:
    return SystemClock().now()


def _today(settings: Settings) -> date:
    return _now().astimezone(_zone(settings)).date()


def _database_store(settings: Settings, action: str) -> Store:
    """The store, when the directory's source is the database (otherwise a French error)."""
    if settings.directory.source != "database":
        raise fail(
            f"{action} : l'annuaire configuré n'est pas celui de la base de données "
            f"(source actuelle : « {settings.directory.source} »). Indiquez "
            '[directory] source = "database" dans le fichier de configuration.',
            code=2,
        )
    return Store.open(settings.database.url)


def _directory(settings: Settings) -> Directory:
    """The configured directory; the database's is read once and its store closed."""
    if settings.directory.source != "database":
        return build_directory(settings)()
    store = Store.open(settings.database.url)
    try:
        return build_directory(settings, store=store)()
    finally:
        store.close()


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count <= 1 else (plural or singular + 's')}"


# --- check -------------------------------------------------------------------------------


@contacts_app.command(name="check")
def contacts_check(config: ConfigOption = None) -> None:
    """Vérifier l'annuaire : communes injoignables, astreinte, quorum, tableau CIP, recyclages.

    Aussi : doublons de mobiles, lignes fixes enregistrées comme mobiles, créneaux d'astreinte
    sans personne sur les 7 prochains jours, agents CIP écartés (engagement 50.2).
    """
    settings = load(config)
    try:
        library = load_library(settings.playbooks.library_dir, settings.playbooks.templates_dir)
    except PlaybookErrors as exc:
        raise fail(str(exc), code=2) from None
    directory = _directory(settings)
    now = _now()
    tz = _zone(settings)
    findings = check_directory(directory, now=now, tz=tz)
    today = now.astimezone(tz).date()
    for kind, playbook in library.playbooks.items():
        findings += quorum_shortfall(
            directory, playbook.quorum, label=f"playbook {kind.label}", on=today
        )
    console.print(
        f"Annuaire : {len(directory.communes)} communes, {len(directory.contacts)} contacts."
    )
    errors = [f for f in findings if f.severity == "erreur"]
    for finding in sorted(findings, key=lambda f: f.severity != "erreur"):
        colour = "red" if finding.severity == "erreur" else "yellow"
        console.print(f"[{colour}]{finding.severity}[/{colour}] — {escape(finding.message)}")
    if not findings:
        console.print("[green]Aucun problème trouvé.[/green]")
    raise typer.Exit(1 if errors else 0)


# --- import ------------------------------------------------------------------------------


def _print_report(report: ImportReport) -> None:
    table = Table(title=f"Rapport d'import — {escape(report.source)}")
    table.add_column("ligne", justify="right")
    table.add_column("résultat")
    table.add_column("contact")
    table.add_column("motif")
    for line in report.lines:
        colour = STATUS_COLOURS[line.status]
        table.add_row(
            str(line.line),
            f"[{colour}]{STATUS_LABELS[line.status]}[/{colour}]",
            escape(line.contact_id or ""),
            escape(line.reason),
        )
    console.print(table)
    counts = report.counts
    console.print(
        f"{_plural(counts['imported'], 'importé')}, {counts['updated']} mis à jour, "
        f"{_plural(counts['unchanged'], 'inchangé')}, {_plural(counts['rejected'], 'rejeté')}."
    )


@contacts_app.command(name="import")
def import_file(
    kind: Annotated[
        ImportKind,
        typer.Argument(
            help="contacts (fichier de la préfecture), maires-rne (Répertoire national des "
            "élus), formations (formations et exercices), astreintes (tableaux d'astreinte)."
        ),
    ],
    file: Annotated[Path, typer.Argument(help="Fichier CSV (Excel : « CSV UTF-8 » ou « CSV »).")],
    keep_valid: Annotated[
        bool,
        typer.Option(
            "--keep-valid", help="Enregistrer les lignes valides malgré des lignes rejetées."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Afficher le rapport sans rien enregistrer.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Importer un fichier dans l'annuaire de la base : tout ou rien, rapport ligne à ligne."""
    settings = load(config)
    try:
        data = file.read_bytes()
    except OSError:
        raise fail(f"fichier illisible ou introuvable : {file}", code=2) from None
    store = _database_store(settings, "import impossible")
    try:
        with store.transaction() as tx:
            revision = tx.directory_revision()  # before the rows: a race is caught below
            current = tx.load_directory()
        base = current
        if not current.communes:
            base = current.model_copy(
                update={"communes": load_communes(settings.directory.communes_file)}
            )
        try:
            result = run_import(
                kind, data, base, source=file.name, keep=keep_valid, tz=_zone(settings)
            )
        except UnreadableFile as exc:
            raise fail(str(exc)) from None
        _print_report(result.report)
        rejected = result.report.counts["rejected"]
        if rejected and not keep_valid:
            console.print(
                f"[red]Rien n'a été enregistré[/red] : "
                f"{_plural(rejected, 'ligne rejetée', 'lignes rejetées')}. "
                "Corrigez le fichier, ou relancez avec --keep-valid pour n'enregistrer que "
                "les lignes valides."
            )
            raise typer.Exit(1)
        if dry_run:
            console.print("Simulation (--dry-run) : rien n'a été enregistré.")
            raise typer.Exit(1 if rejected else 0)  # a rejected line is an error, even kept out
        if result.directory is base:
            console.print("Aucun changement : l'annuaire est déjà à jour.")
            raise typer.Exit(1 if rejected else 0)
        # the write lock is taken only now, for the replacement alone (the dispatcher may be
        # writing to the same database); a change since the read means the report is stale
        with store.transaction() as tx:
            if tx.directory_revision(lock=True) != revision:
                raise fail(
                    "l'annuaire a été modifié pendant l'import (autre import ou effacement) : "
                    "rien n'a été enregistré, relancez la commande"
                )
            tx.replace_directory(result.directory)
    except DirectoryIntegrityError as exc:
        raise fail(str(exc)) from None
    finally:
        store.close()
    console.print("[green]Annuaire enregistré dans la base.[/green]")
    if rejected:
        console.print(
            f"{_plural(rejected, 'ligne rejetée ignorée', 'lignes rejetées ignorées')} "
            "(--keep-valid)."
        )
        raise typer.Exit(1)  # the valid lines are stored; the rejected ones still need fixing


# --- export, erase (RGPD) ----------------------------------------------------------------


def _person(directory: Directory, contact: Contact, tz: tzinfo) -> dict[str, Any]:
    training = [
        r.model_dump(mode="json", exclude={"contact_id"})
        for r in directory.training
        if r.contact_id == contact.id
    ]
    rosters = [
        {
            "role": s.role.value,
            "qualite": "titulaire" if s.contact_id == contact.id else "suppléant",
            "debut": s.starts.astimezone(tz).isoformat(),
            "fin": s.ends.astimezone(tz).isoformat(),
            "titulaire": s.contact_id,
            "suppleant": s.deputy_id,
        }
        for s in directory.rosters
        if contact.id in {s.contact_id, s.deputy_id}
    ]
    return {
        "contact": contact.model_dump(mode="json"),
        "formations": training,
        "astreintes": rosters,
    }


@contacts_app.command(name="export")
def export(
    contact_id: Annotated[
        str | None, typer.Argument(help="Identifiant du contact (tout l'annuaire sinon).")
    ] = None,
    *,
    output: Annotated[Path, typer.Option("--output", "-o", help="Fichier JSON à écrire.")],
    config: ConfigOption = None,
) -> None:
    """Exporter en JSON un contact (droit d'accès, RGPD art. 15) ou tout l'annuaire."""
    settings = load(config)
    tz = _zone(settings)
    directory = _directory(settings)
    if contact_id is not None:
        contact = directory.contact(contact_id)
        if contact is None:
            raise fail(f"aucun contact « {contact_id} » dans l'annuaire")
        people = [contact]
    else:
        people = list(directory.contacts)
    document: dict[str, Any] = {
        "objet": "Droit d'accès (RGPD, article 15) : données de l'annuaire de crise"
        if contact_id
        else "Export de l'annuaire de crise",
        "responsable": settings.prefecture.name,
        "exporte_le": _now().astimezone(tz).isoformat(timespec="seconds"),
        "contacts": [_person(directory, c, tz) for c in people],
    }
    if contact_id is None:
        document["communes"] = [c.model_dump(mode="json") for c in directory.communes]
    try:
        output.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    except OSError:
        raise fail(f"impossible d'écrire {output}") from None
    trainings = sum(len(p["formations"]) for p in document["contacts"])
    slots = sum(len(p["astreintes"]) for p in document["contacts"])
    console.print(
        f"Export écrit dans {escape(str(output))} : {_plural(len(people), 'contact')}, "
        f"{_plural(trainings, 'formation')}, "
        f"{_plural(slots, SLOT, SLOTS)}."
    )
    console.print(
        "Ce fichier contient des données personnelles : transmettez-le par un canal sûr, "
        "puis supprimez-le."
    )


@contacts_app.command(name="erase")
def erase(
    contact_id: Annotated[str, typer.Argument(help="Identifiant du contact à effacer.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Ne pas demander confirmation.")] = (
        False
    ),
    config: ConfigOption = None,
) -> None:
    """Effacer un contact (droit à l'effacement, RGPD art. 17), ses formations et astreintes."""
    settings = load(config)
    store = _database_store(settings, "effacement impossible")
    try:
        if not yes:
            if not sys.stdin.isatty():
                raise fail("confirmez l'effacement en relançant avec --yes", code=2)
            if not typer.confirm(f"Effacer définitivement le contact « {contact_id} » ?"):
                raise fail("rien n'a été effacé")
        with store.transaction() as tx:
            scrubbed = tx.scrub_contact(contact_id)
            if scrubbed.open_crises:  # checked before anything is erased: all or nothing
                raise fail(
                    f"« {contact_id} » est destinataire de l'événement en cours "
                    f"{', '.join(scrubbed.open_crises)} : ses coordonnées peuvent encore servir. "
                    "Rien n'a été effacé ; relancez l'effacement après la clôture."
                )
            found = tx.erase_contact(contact_id)
            if not found and not scrubbed.closed_crises:
                raise fail(f"aucun contact « {contact_id} » dans l'annuaire ni dans un événement")
    finally:
        store.close()
    if found:
        console.print(
            f"[green]Contact « {escape(contact_id)} » effacé[/green] de l'annuaire, avec ses "
            "formations et ses créneaux d'astreinte (s'il était suppléant, le créneau reste "
            "sans suppléant)."
        )
    if scrubbed.closed_crises:
        console.print(
            f"Événements clos {', '.join(scrubbed.closed_crises)} : nom, numéros et adresse "
            f"effacés de la liste des destinataires figée au temps 0 et de "
            f"{scrubbed.outbox_rows} message(s) de la file d'envoi."
        )
    console.print(
        f"La main courante ne désigne ce contact que par son identifiant "
        f"« {escape(contact_id)} » (ni nom, ni numéro, ni adresse) : elle est conservée telle "
        "quelle, comme preuve."
    )


# --- list, seed-demo ---------------------------------------------------------------------


@contacts_app.command(name="list")
def list_contacts(
    commune: Annotated[
        str | None, typer.Option("--commune", help="Code INSEE de la commune.")
    ] = None,
    role: Annotated[Role | None, typer.Option("--role", help="Rôle des contacts.")] = None,
    config: ConfigOption = None,
) -> None:
    """Lister les contacts (numéros et adresses masqués)."""
    settings = load(config)
    directory = _directory(settings)
    trained = trained_ids(directory, _today(settings))
    chosen = [
        c
        for c in directory.contacts
        if (commune is None or c.commune == commune) and (role is None or c.role == role)
    ]
    table = Table(title="Annuaire")
    for name in ("identifiant", "nom", "rôle", "commune", "mobile", "fixe", "courriel", "formé"):
        table.add_column(name, no_wrap=name in {"identifiant", "mobile", "fixe"})
    for c in chosen:
        table.add_row(
            escape(c.id),
            escape(c.name),
            c.role.label,
            c.commune or "",
            mask(c.mobile) if c.mobile else "",
            mask(c.landline) if c.landline else "",
            escape(mask_email(c.email)) if c.email else "",
            "oui" if c.id in trained else "non",
        )
    console.print(table)
    console.print(f"{_plural(len(chosen), 'contact')}.")


@contacts_app.command(name="seed-demo")
def seed_demo(
    force: Annotated[
        bool, typer.Option("--force", help="Remplacer un annuaire déjà présent dans la base.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Écrire dans la base l'annuaire de démonstration (fiction), formations et astreintes."""
    settings = load(config)
    tz = _zone(settings)
    directory = demo_directory(
        load_communes(settings.directory.communes_file),
        seed=settings.directory.seed,
        now=_now(),
        tz=tz,
    )
    store = Store.open(settings.database.url)
    try:
        with store.transaction() as tx:
            present = tx.contact_count()
            if present and not force:
                raise fail(
                    f"la base contient déjà un annuaire ({_plural(present, 'contact')}) : "
                    "relancez avec --force pour le remplacer par l'annuaire de démonstration"
                )
            tx.replace_directory(directory)
    finally:
        store.close()
    console.print(
        f"[green]Annuaire de démonstration enregistré[/green] : "
        f"{len(directory.communes)} communes, {_plural(len(directory.contacts), 'contact')}, "
        f"{_plural(len(directory.training), 'formation')}, "
        f"{_plural(len(directory.rosters), SLOT, SLOTS)} "
        "(numéros de fiction ARCEP)."
    )
    if settings.directory.source != "database":
        console.print(
            'Pour l\'utiliser, indiquez [directory] source = "database" dans la configuration.',
            markup=False,
        )
