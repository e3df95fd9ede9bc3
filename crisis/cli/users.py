"""`crisis users …`: web accounts and API tokens (French output; secrets shown once)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

import crisis.operations.accounts as account_ops
import crisis.queries.accounts as account_queries
from crisis.accounts import (
    AccountError,
    WebRole,
    WebUser,
    check_login,
    check_password,
    hash_password,
    new_api_token,
    new_totp_secret,
    totp_by_default,
    totp_uri,
)
from crisis.bootstrap import open_store, wall_clock
from crisis.cli.common import ConfigOption, console, fail, load
from crisis.store import Store
from crisis.store.accounts import AccountExists, UnknownAccount

users_app = typer.Typer(
    help="Comptes web (rôles, mots de passe, double authentification) et jetons d'API.",
    no_args_is_help=True,
)
LoginArgument = Annotated[str, typer.Argument(help="Identifiant du compte (ex. : jdupont).")]


@contextmanager
def _store(config: ConfigOption) -> Iterator[Store]:
    store = open_store(load(config).database.url)
    try:
        yield store
    finally:
        store.close()


def _login(login: str) -> str:
    try:
        return check_login(login)
    except AccountError as exc:
        raise fail(str(exc)) from None


def _read_password() -> str:
    """The new password: asked twice on a terminal, else the first line of standard input."""
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Mot de passe", hide_input=True)
        again = typer.prompt("Mot de passe (confirmation)", hide_input=True)
        if password != again:
            raise fail("les deux mots de passe saisis diffèrent : rien n'a été changé")
    try:
        check_password(password)
    except AccountError as exc:
        raise fail(str(exc)) from None
    return password


def _show_totp(secret: str, login: str) -> None:
    console.print(
        "Double authentification : ajoutez ce compte à l'application d'authentification "
        "(adresse à transformer en QR code ; elle ne sera plus affichée) :"
    )
    console.print(escape(totp_uri(secret, login)), highlight=False)


@users_app.command(name="add")
def add(
    login: LoginArgument,
    role: Annotated[
        WebRole,
        typer.Option(
            "--role",
            "-r",
            help="prefet, directeur_cabinet, charge_communication, agent ou observateur.",
        ),
    ],
    name: Annotated[str, typer.Option("--name", "-n", help="Nom affiché (main courante).")],
    no_totp: Annotated[
        bool,
        typer.Option(
            "--no-totp",
            help="Sans double authentification (active par défaut pour le préfet et le "
            "directeur de cabinet).",
        ),
    ] = False,
    totp: Annotated[
        bool, typer.Option("--totp", help="Avec double authentification, quel que soit le rôle.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Créer un compte web (mot de passe demandé deux fois, ou lu sur l'entrée standard)."""
    login = _login(login)
    display_name = name.strip()
    if not display_name or len(display_name) > 200:
        raise fail("indiquez un nom affiché (1 à 200 caractères) avec --name")
    password = _read_password()
    secret = new_totp_secret() if (totp or totp_by_default(role)) and not no_totp else None
    now = wall_clock().now()
    user = WebUser(
        login=login,
        display_name=display_name,
        role=role,
        password_hash=hash_password(password),
        totp_secret=secret,
        created_at=now,
        updated_at=now,
    )
    with _store(config) as store:
        try:
            account_ops.add_user(store, user)
        except AccountExists:
            raise fail(f"le compte « {login} » existe déjà") from None
    console.print(
        f"[green]Compte créé[/green] : {escape(login)} — {escape(display_name)} ({role.label})."
    )
    if secret is not None:
        _show_totp(secret, login)


def _set(config: ConfigOption, login: str, **values: object) -> WebUser:
    with _store(config) as store:
        try:
            return account_ops.update_user(store, login, wall_clock().now(), **values)
        except UnknownAccount as exc:
            raise fail(str(exc)) from None


@users_app.command(name="disable")
def disable(login: LoginArgument, config: ConfigOption = None) -> None:
    """Désactiver un compte : plus de connexion, ses jetons d'API sont refusés."""
    user = _set(config, _login(login), disabled=True)
    console.print(f"Compte {escape(user.login)} désactivé.")


@users_app.command(name="enable")
def enable(login: LoginArgument, config: ConfigOption = None) -> None:
    """Réactiver un compte désactivé."""
    user = _set(config, _login(login), disabled=False)
    console.print(f"Compte {escape(user.login)} réactivé.")


@users_app.command(name="reset")
def reset(
    login: LoginArgument,
    totp: Annotated[
        bool, typer.Option("--totp", help="Renouveler aussi le secret de double authentification.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Changer le mot de passe d'un compte (--totp : renouveler aussi le second facteur)."""
    login = _login(login)
    with _store(config) as store:
        exists = account_queries.user(store, login) is not None
    if not exists:
        raise fail(f"aucun compte « {login} »")
    values: dict[str, object] = {"password_hash": hash_password(_read_password())}
    secret = new_totp_secret() if totp else None
    if secret is not None:
        values["totp_secret"] = secret
    _set(config, login, **values)
    console.print(f"Mot de passe du compte {escape(login)} changé.")
    if secret is not None:
        _show_totp(secret, login)


@users_app.command(name="list")
def list_users(config: ConfigOption = None) -> None:
    """Lister les comptes et leurs jetons d'API (jamais de secret)."""
    with _store(config) as store:
        users, tokens = account_queries.users_and_tokens(store)
    if not users:
        console.print("Aucun compte web.")
        return
    table = Table(title="Comptes web")
    for column in ("identifiant", "nom", "rôle", "TOTP", "état", "jetons actifs"):
        table.add_column(column)
    for user in users:
        mine = [t for t in tokens if t.login == user.login and t.active]
        table.add_row(
            escape(user.login),
            escape(user.display_name),
            user.role.label,
            "oui" if user.has_totp else "non",
            "[red]désactivé[/red]" if user.disabled else "actif",
            ", ".join(f"{escape(t.prefix)}…" for t in mine) or "—",
        )
    console.print(table)


@users_app.command(name="token")
def token(login: LoginArgument, config: ConfigOption = None) -> None:
    """Créer un jeton d'API pour un compte (affiché une seule fois)."""
    login = _login(login)
    new = new_api_token()
    with _store(config) as store:
        try:
            account_ops.add_token(store, login, new.hash, new.prefix, wall_clock().now())
        except UnknownAccount as exc:
            raise fail(str(exc)) from None
        except account_ops.AccountDisabled:
            raise fail(f"le compte « {login} » est désactivé : aucun jeton créé") from None
    console.print(
        f"Jeton d'API créé pour {escape(login)} (à conserver maintenant : il ne sera plus "
        "affiché ; en-tête « Authorization: Bearer <jeton> ») :"
    )
    console.print(new.token, highlight=False, markup=False)


@users_app.command(name="revoke-token")
def revoke_token(
    prefix: Annotated[str, typer.Argument(help="Début du jeton, tel que l'affiche « list ».")],
    config: ConfigOption = None,
) -> None:
    """Révoquer un jeton d'API."""
    prefix = prefix.strip().rstrip("…")
    with _store(config) as store:
        revoked = account_ops.revoke_tokens(store, prefix, wall_clock().now())
    if not revoked:
        raise fail(f"aucun jeton actif ne commence par « {prefix} »")
    for item in revoked:
        console.print(f"Jeton {escape(item.prefix)}… de {escape(item.login)} révoqué.")
