"""`crisis contacts …`: check, import, export, erase, list the directory (French output)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

import crisis.cli.contacts_rgpd as rgpd
import crisis.operations.directory as directory_ops
import crisis.queries.directory as directory_queries
from contacts.check import check_directory, quorum_shortfall
from contacts.demo import demo_directory
from contacts.geography import load_communes
from contacts.importer import (
    ImportReport,
    UnreadableFile,
)
from contacts.model import Role
from contacts.phone import mask
from contacts.training import trained_ids
from crisis.bootstrap import open_store
from crisis.cli.common import ConfigOption, console, fail, load
from crisis.cli.directory_source import (
    SLOT,
    SLOTS,
    configured_directory,
    database_store,
    plural,
    today,
    wall_now,
    zone,
)
from crisis.directory_admin import STATUS_LABELS, ImportKind, mask_email, run_import
from crisis.store.directory import DirectoryIntegrityError
from playbooks.loader import PlaybookErrors, load_library

contacts_app = typer.Typer(
    help="Annuaire : élus, astreinte, liste de rappel, CIP, presse.", no_args_is_help=True
)
STATUS_COLOURS = {"imported": "green", "updated": "cyan", "unchanged": "dim", "rejected": "red"}


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
    directory = configured_directory(settings)
    now = wall_now()
    tz = zone(settings)
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
        f"{plural(counts['imported'], 'importé')}, {counts['updated']} mis à jour, "
        f"{plural(counts['unchanged'], 'inchangé')}, {plural(counts['rejected'], 'rejeté')}."
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
    store = database_store(settings, "import impossible")
    try:
        stored = directory_queries.stored_directory(store)  # its revision: a race is caught
        current = base = stored.directory
        if not current.communes:
            base = current.model_copy(
                update={"communes": load_communes(settings.directory.communes_file)}
            )
        try:
            result = run_import(
                kind, data, base, source=file.name, keep=keep_valid, tz=zone(settings)
            )
        except UnreadableFile as exc:
            raise fail(str(exc)) from None
        _print_report(result.report)
        rejected = result.report.counts["rejected"]
        if rejected and not keep_valid:
            console.print(
                f"[red]Rien n'a été enregistré[/red] : "
                f"{plural(rejected, 'ligne rejetée', 'lignes rejetées')}. "
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
        try:  # the write lock only now, for the replacement alone
            directory_ops.replace_if_unchanged(store, result.directory, stored.revision)
        except directory_ops.DirectoryChanged:
            raise fail(
                "l'annuaire a été modifié pendant l'import (autre import ou effacement) : "
                "rien n'a été enregistré, relancez la commande"
            ) from None
    except DirectoryIntegrityError as exc:
        raise fail(str(exc)) from None
    finally:
        store.close()
    console.print("[green]Annuaire enregistré dans la base.[/green]")
    if rejected:
        console.print(
            f"{plural(rejected, 'ligne rejetée ignorée', 'lignes rejetées ignorées')} "
            "(--keep-valid)."
        )
        raise typer.Exit(1)  # the valid lines are stored; the rejected ones still need fixing


contacts_app.command(name="export")(rgpd.export)
contacts_app.command(name="erase")(rgpd.erase)


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
    directory = configured_directory(settings)
    trained = trained_ids(directory, today(settings))
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
    console.print(f"{plural(len(chosen), 'contact')}.")


@contacts_app.command(name="seed-demo")
def seed_demo(
    force: Annotated[
        bool, typer.Option("--force", help="Remplacer un annuaire déjà présent dans la base.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Écrire dans la base l'annuaire de démonstration (fiction), formations et astreintes."""
    settings = load(config)
    tz = zone(settings)
    directory = demo_directory(
        load_communes(settings.directory.communes_file),
        seed=settings.directory.seed,
        now=wall_now(),
        tz=tz,
    )
    store = open_store(settings.database.url)
    try:
        directory_ops.install(store, directory, replace=force)
    except directory_ops.DirectoryPresent as exc:
        raise fail(
            f"la base contient déjà un annuaire ({plural(exc.contacts, 'contact')}) : "
            "relancez avec --force pour le remplacer par l'annuaire de démonstration"
        ) from None
    finally:
        store.close()
    console.print(
        f"[green]Annuaire de démonstration enregistré[/green] : "
        f"{len(directory.communes)} communes, {plural(len(directory.contacts), 'contact')}, "
        f"{plural(len(directory.training), 'formation')}, "
        f"{plural(len(directory.rosters), SLOT, SLOTS)} "
        "(numéros de fiction ARCEP)."
    )
    if settings.directory.source != "database":
        console.print(
            'Pour l\'utiliser, indiquez [directory] source = "database" dans la configuration.',
            markup=False,
        )
