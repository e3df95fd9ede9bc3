"""Logging in and out of the dashboard: the login form (password, then the TOTP code when the
account has one), rate-limited per login and per source address; a logout revokes the
session, so that a copy of its cookie is refused from then on."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from crisis.accounts import (
    LOGIN_WINDOW,
    Action,
    WebUser,
    check_login,
    hash_password,
    password_needs_rehash,
    rate_limit,
    verify_password,
    verify_totp,
)
from crisis.operations import sessions as session_writes
from crisis.queries import accounts
from crisis.queries import sessions as session_reads
from crisis.store import Store
from crisis.web.access import LOGIN_PATH, PageAccess, Visitor, guarded, page_response, text_form
from crisis.web.binding import page_access
from crisis.web.pages.common import acting
from crisis.web.session import Session

__all__ = ["authenticate", "home", "login", "login_form", "logout", "router"]

router = APIRouter(include_in_schema=False)


def authenticate(
    store: Store, login: str, form: Mapping[str, str], now: datetime, decoy_hash: str
) -> WebUser | None:
    """The account when login, password (and TOTP code when it has one) are right; an unknown
    login costs the same time as a known one (`decoy_hash`)."""
    password = form.get("password", "")
    try:
        login = check_login(login)
    except ValueError:
        verify_password(decoy_hash, password)
        return None
    user = accounts.user(store, login)
    if user is None:
        verify_password(decoy_hash, password)
        return None
    if not verify_password(user.password_hash, password) or user.disabled:
        return None
    if user.totp_secret is not None and not verify_totp(
        user.totp_secret, form.get("code", ""), now
    ):
        return None
    return user


def _login_page(
    access: PageAccess, who: Visitor, *, error: str = "", login: str = "", status: int = 200
) -> Response:
    context = {**access.common(who), "title": "Connexion", "error": error, "login": login}
    return access.respond(who, page_response("connexion.html", context, status))


def _stale_form(access: PageAccess, who: Visitor) -> Response:
    context = {
        **access.common(who),
        "title": "Accès refusé",
        "message": "jeton de formulaire absent ou invalide : rechargez la page "
        "de connexion puis recommencez",
    }
    return access.respond(who, page_response("erreur.html", context, 403))


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/crises", status_code=303)


@router.get(LOGIN_PATH)
async def login_form(request: Request) -> Response:
    access = page_access(request)
    who = access.visitor(request)
    if who.user is not None:
        return RedirectResponse("/crises", status_code=303)
    return _login_page(access, who)


@router.post(LOGIN_PATH)
async def login(request: Request) -> Response:
    access = page_access(request)
    who = access.visitor(request)
    form = await text_form(request)
    raw_login = form.get("login", "")
    if who.fresh or not who.session.csrf_ok(form.get("csrf")):
        return _stale_form(access, who)
    store = access.app.store
    source = request.client.host if request.client else "inconnue"
    now = access.app.clock.now()
    login_key = raw_login.strip().lower()[:64]
    failures = session_reads.login_failures(store, login_key, source, now - LOGIN_WINDOW)
    limit = rate_limit(failures.login, failures.source, now)
    if not limit.allowed:
        message = f"Connexion refusée : {limit.reason}."
        return _login_page(access, who, error=message, login=raw_login[:64], status=429)
    user = authenticate(store, login_key, form, now, request.state.decoy_hash)
    new_hash = None
    if user is not None and password_needs_rehash(user.password_hash):
        new_hash = hash_password(form.get("password", ""))
    user = session_writes.record_login(store, login_key, source, now, user, new_hash=new_hash)
    if user is None:
        message = "Identifiant, mot de passe ou code à usage unique incorrect, ou compte désactivé."
        return _login_page(access, who, error=message, login=raw_login[:64], status=401)
    session = Session.of_user(user.login, user.updated_at.isoformat(), now)
    return access.with_cookie(RedirectResponse("/crises", status_code=303), session)


@router.post("/deconnexion")
@guarded
async def logout(request: Request) -> Response:
    access, who, user, _form = await acting(request, Action.READ)
    clock = access.app.clock
    session_writes.revoke_session(  # a copy of the cookie is refused from now on
        access.app.store, who.session.sid, user.login, who.session.expires_at, clock.now()
    )
    return access.with_cookie(
        RedirectResponse(LOGIN_PATH, status_code=303), Session.anonymous(clock.now())
    )
