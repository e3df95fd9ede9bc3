"""The web application: provider webhooks, the API, acknowledgement links, the CIP line and
the dashboard, every router included here (the one page registry); and its uvicorn server."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from channels.ack_link import AckLinkSigner
from channels.twilio_hotline import HotlineSettings
from crisis.bootstrap import App
from crisis.web.access import STATIC_DIR, disabled_router
from crisis.web.ack_links import ack_link_router
from crisis.web.api import mount_api
from crisis.web.errors import install_french_errors
from crisis.web.limits import BodyLimit
from crisis.web.pages import pages_router
from crisis.web.pages.contacts import contacts_router
from crisis.web.pages.exercises import exercises_router
from crisis.web.pages.reports import reports_router
from crisis.web.providers.cip_line import cip_router
from crisis.web.session import SessionCodec, is_local_http
from crisis.web.webhooks import webhook_router

log = logging.getLogger(__name__)


class WebServerError(RuntimeError):
    """The web server could not start (French message)."""


def create_app(
    app: App,
    *,
    twilio_auth_token: str | None,
    public_base_url: str,
    ack_signer: AckLinkSigner | None = None,
) -> FastAPI:
    """The FastAPI application over a built orchestrator.

    `public_base_url` is the address Twilio is given (behind the reverse proxy); signatures
    are checked against it. Without `twilio_auth_token` every Twilio callback is refused.
    """
    web = FastAPI(title="Orchestrateur de crise", docs_url=None, redoc_url=None, openapi_url=None)
    web.state.crisis_app = app
    install_french_errors(web)  # every invalid request: 422 in French, the field named
    web.add_middleware(BodyLimit)  # body limits per prefix, before routes and authentication
    web.include_router(
        webhook_router(
            app.orchestrator, auth_token=twilio_auth_token, public_base_url=public_base_url
        )
    )
    mount_api(web, app.orchestrator, app.store, app.clock)  # /api/v1, schema /api/openapi.json
    if ack_signer is not None:
        web.include_router(
            ack_link_router(app.orchestrator, ack_signer, app.settings.prefecture.name)
        )
    mount_pages(web, app, ack_signer)  # the dashboard (503 in French without the secret)
    hooks = app.webhooks
    if hooks is not None and (hooks.hotline is not None or hooks.forward_to is not None):
        web.include_router(  # the numéro unique's line and the switchboard's message
            cip_router(
                app.orchestrator,
                auth_token=twilio_auth_token,
                public_base_url=public_base_url,
                hotline=hooks.hotline or HotlineSettings(),
                announcement=hooks.announcement,
                forward_to=hooks.forward_to,
            )
        )
    return web


def mount_pages(web: FastAPI, app: App, ack_signer: AckLinkSigner | None) -> None:
    """Add the dashboard (pages, static files) to `web`.

    The session key is derived from the secret of CRISIS_WEB_SECRET (the acknowledgement links'
    signer, built when `web.public_base_url` and the variable are set). Without it the pages
    answer 503 with a French explanation; the API and the webhooks are not affected.
    """
    web.mount("/statique", StaticFiles(directory=STATIC_DIR), name="statique")
    if ack_signer is None:
        web.include_router(disabled_router())
        return
    codec = SessionCodec(ack_signer.secret, secure=not is_local_http(ack_signer.base_url))
    for router in (pages_router, reports_router, contacts_router, exercises_router):
        web.include_router(router(app, codec))  # the one page registry


class _Server(uvicorn.Server):
    """uvicorn, minus its signal handlers: the host process decides when to stop (`stop`)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_web(
    app: App,
    stop: asyncio.Event,
    *,
    host: str,
    port: int,
    twilio_auth_token: str | None,
    public_base_url: str,
    ack_signer: AckLinkSigner | None = None,
    shutdown_timeout: int = 5,
    listener: socket.socket | None = None,
) -> None:
    """Serve the web application on host:port until `stop` is set.

    `listener`: the socket already bound by `bind_listener` (the service binds its port before
    it dispatches anything); without it, host:port is bound here. Raises WebServerError.
    """
    listener = listener or bind_listener(host, port)
    config = uvicorn.Config(
        create_app(
            app,
            twilio_auth_token=twilio_auth_token,
            public_base_url=public_base_url,
            ack_signer=ack_signer,
        ),
        host=host,
        port=port,
        lifespan="off",
        access_log=False,  # query strings carry outbox keys; bodies (never logged) phone numbers
        log_config=None,  # the host process configures logging; uvicorn must not replace it
        server_header=False,
        timeout_graceful_shutdown=shutdown_timeout,
    )
    server = _Server(config)
    receipts = app.orchestrator.receipts  # the status callbacks' group commit
    receipts.start()
    serving = asyncio.create_task(_serve(server, f"{host}:{port}", listener))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        server.should_exit = True  # graceful: requests in progress finish, then uvicorn returns
        try:
            await serving
        finally:
            await receipts.stop()  # the last batch is written before the service returns
    log.info("serveur web arrêté")


def bind_listener(host: str, port: int) -> socket.socket:
    """The web server's socket, bound to host:port (listening starts with the server); raises
    WebServerError (French) when the address is taken or invalid."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        listener = socket.socket(family, kind, proto)
    except OSError as exc:
        raise WebServerError(
            f"le serveur web n'a pas pu démarrer sur {host}:{port} : adresse invalide ({exc})"
        ) from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        listener.bind(address)
    except OSError as exc:
        listener.close()
        reason = (
            "port déjà utilisé par un autre programme (un autre « crisis run » ?)"
            if exc.errno == errno.EADDRINUSE
            else exc.strerror or str(exc)
        )
        raise WebServerError(
            f"le serveur web n'a pas pu démarrer sur {host}:{port} : {reason} ; changez "
            "[web] port ou arrêtez le programme qui l'occupe"
        ) from None
    return listener


async def _serve(server: uvicorn.Server, where: str, listener: socket.socket) -> None:
    # uvicorn calls sys.exit when it cannot serve: caught here, inside the task, because a
    # SystemExit escaping a task stops the whole event loop (dispatcher and alarms with it)
    try:
        await server.serve(sockets=[listener])
    except SystemExit as exc:
        raise WebServerError(
            f"le serveur web n'a pas pu démarrer sur {where} (adresse déjà utilisée ?)"
        ) from exc
