"""The crisis-room dashboard: login, the crises, a crisis's board, live updates (French pages).

Server-rendered with the DSFR; every page is usable on a phone (375 px) and on the COD's big
screen. Sessions are signed cookies (crisis/web/session.py); every form carries the session's
CSRF token, checked on every POST; each action checks the account's role (crisis.accounts.can)
and is journaled with the account's name and the web as interface. Only static scripts run
(Content-Security-Policy `script-src 'self'`); the board refreshes its fragments when the main
courante moves (server-sent events, crisis/web/live.py).

One module per page family, each with its module-level router and handlers: login.py,
crises.py (the list and the activation), board.py (the board, its fragments and stream),
actions.py (the board's forms), drafting.py; what they show is in crisis/web/views/.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter

from crisis.accounts import hash_password
from crisis.bootstrap import App
from crisis.web.access import PageAccess
from crisis.web.binding import bind
from crisis.web.pages import actions, board, crises, drafting, login
from crisis.web.session import SessionCodec
from crisis.web.views.board import FRAGMENTS

__all__ = ["FRAGMENTS", "pages_router", "router"]

router = APIRouter(include_in_schema=False)
for _family in (login, crises, board, actions, drafting):  # the routes' order matters
    router.include_router(_family.router)


def pages_router(app: App, codec: SessionCodec) -> APIRouter:
    """The dashboard's routes, bound to the built application and the session codec."""
    decoy_hash = hash_password(secrets.token_urlsafe(24))  # unknown logins cost the same time
    return bind(router, access=PageAccess(app, codec), decoy_hash=decoy_hash)
