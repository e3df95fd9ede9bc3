"""The crisis-room dashboard: login, the crises, a crisis's board, live updates (French pages).

Server-rendered with the DSFR; every page is usable on a phone (375 px) and on the COD's big
screen. Sessions are signed cookies (crisis/web/session.py); every form carries the session's
CSRF token, checked on every POST; each action checks the account's role (crisis.accounts.can)
and is journaled with the account's name and the web as interface. Only static scripts run
(Content-Security-Policy `script-src 'self'`); the board refreshes its fragments when the main
courante moves (server-sent events, crisis/web/live.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from channels.base import ChannelName
from channels.publication import weighted_length
from channels.sms_text import count_segments, describe_segments
from contacts.area import AreaError, parse_area, resolve_area
from contacts.cog import CogError, load_extract
from contacts.model import CELL_ROLES
from crisis import compliance, press, timefmt
from crisis.accounts import (
    LOGIN_WINDOW,
    Action,
    WebUser,
    actor_of,
    authority_of,
    can,
    check_login,
    hash_password,
    password_needs_rehash,
    rate_limit,
    verify_password,
    verify_totp,
)
from crisis.activation import (
    CONFIRMING_AUTHORITY,
    ActivationConflict,
    ActivationError,
    Confirmation,
    T0TooOld,
)
from crisis.bootstrap import App
from crisis.engine import (
    X_LIMIT,
    InvalidStimulus,
    Refused,
    draft_refusal,
    message_context,
    template_for,
)
from crisis.exercise.control import list_runs
from crisis.journal import shown as shown_text
from crisis.model import (
    NOT_YET,
    AcknowledgementReceived,
    Crisis,
    DraftTexts,
    Interface,
    JournalEntry,
    Mode,
    StepState,
    StepStatus,
)
from crisis.rendering import RenderError, render_message
from crisis.service import ActivationRequest
from crisis.store.repository import CrisisNotFound
from crisis.timefmt import elapsed_label, local_label
from crisis.web.access import (
    LOGIN_PATH,
    WALL,
    PageAccess,
    Visitor,
    guarded,
    page_response,
    text_form,
)
from crisis.web.live import journal_head, sse_stream
from crisis.web.session import Session, SessionCodec
from playbooks.model import Approval, EventKind, PlannedStep, Section

__all__ = ["FRAGMENTS", "pages_router"]

JOURNAL_SHOWN = 50
FRAGMENTS = (
    "conformite",
    "validations",
    "etapes",
    "communes",
    "cellule",
    "presse",
    "cip",
    "main-courante",
)
REACH_LABELS = {
    "joint": "jointe",
    "en_cours": "en cours",
    "non_joint": "non jointe",
    "injoignable": "injoignable",
}
REACH_FILTERS = {
    "": "toutes",
    "joint": "jointes",
    "en_cours": "en cours",
    "non_joint": "non jointes",
}
STEP_LABELS = {
    StepStatus.PLANNED: "prévue",
    StepStatus.HELD: "en attente",
    StepStatus.APPROVAL: "validation attendue",
    StepStatus.DONE: "faite",
}


def _skipped(step: StepState) -> bool:
    """A step done without being played: its purpose was already achieved (« sans objet »)."""
    return step.status == StepStatus.DONE and step.triggered_at is None


DONE_MESSAGES = {
    "approbation": "Message approuvé : il part dès maintenant.",
    "note": "Note ajoutée à la main courante.",
    "cloture": "Événement clos : l'alerte publique est retirée.",
    "cip": "Ordre de la préfète ou du préfet enregistré pour la CIP.",
    "presse": "Réponse à la sollicitation presse enregistrée.",
    "redaction": "Rédaction enregistrée : elle attend la validation d'une autre personne.",
    "deja": "Activation déjà enregistrée : c'est cet événement (même référence SYNERGI, même "
    "type, même temps 0, mêmes communes). Aucun doublon n'a été créé.",
    "t0": "Temps 0 rectifié : la conformité compte désormais depuis le temps 0 rectifié.",
}
PLACEHOLDERS = {  # what a drafted text may read (crisis.engine.message_context), in French
    "prefecture": ("{{ prefecture }}", "nom de la préfecture"),
    "t0_local": ("{{ t0_local }}", "heure du temps 0 (02h10)"),
    "now_local": ("{{ now_local }}", "heure de l'envoi"),
    "communes": ("{{ communes|join(', ') }}", "communes concernées, séparées par des virgules"),
    "commune": ("{{ commune }}", "commune du destinataire (messages aux élus ; vide au public)"),
    "ciav_number": ("{{ ciav_number }}", "numéro de la CIAV (attentat), une fois communiqué"),
    "cip_number": ("{{ cip_number }}", "numéro unique de la CIP, une fois activée"),
    "t0_cip_local": ("{{ t0_cip_local }}", "heure d'activation de la CIP"),
    "crisis": ("{{ crisis.synergi_ref }}", "référence SYNERGI de l'événement"),
}


def pages_router(app: App, codec: SessionCodec) -> APIRouter:  # noqa: PLR0915 (one closure per route)
    """The dashboard's routes, bound to the built application and the session codec."""
    router = APIRouter(include_in_schema=False)
    store, clock, orchestrator = app.store, app.clock, app.orchestrator
    tz = ZoneInfo(app.settings.prefecture.timezone)
    decoy_hash = hash_password(secrets.token_urlsafe(24))  # unknown logins cost the same time

    access = PageAccess(app, codec)
    visitor, respond, common = access.visitor, access.respond, access.common
    with_cookie, forbidden, reader = access.with_cookie, access.forbidden, access.reader

    async def acting(request: Request, action: Action) -> tuple[Visitor, WebUser, dict[str, str]]:
        """A POST: logged in (else to the login page), CSRF token right, role allowed; the
        form's text fields."""
        who, user, form = await access.poster(request, lambda u: can(u.role, action), action.label)
        return who, user, {k: v for k, v in form.items() if isinstance(v, str)}

    def load(crisis_id: str) -> tuple[Crisis, list[StepState], list[JournalEntry]]:
        with store.transaction() as tx:
            return tx.crisis(crisis_id), tx.steps(crisis_id), tx.journal(crisis_id)

    def not_found(who: Visitor, crisis_id: str) -> Response:
        context = {
            **common(who),
            "title": "Événement inconnu",
            "message": f"aucun événement « {crisis_id} »",
        }
        return page_response("erreur.html", context, 404)

    def board_context(who: Visitor, crisis_id: str, reach_filter: str) -> dict[str, Any] | None:
        try:
            crisis, steps, entries = load(crisis_id)
        except CrisisNotFound:
            return None
        now = clock.now()
        return {
            **common(who),
            **_board(crisis, steps, entries, now, tz, app, reach_filter),
        }

    def board(
        who: Visitor,
        crisis_id: str,
        reach_filter: str = "",
        *,
        error: str = "",
        done: str = "",
        status: int = 200,
    ) -> Response:
        context = board_context(who, crisis_id, reach_filter)
        if context is None:
            return not_found(who, crisis_id)
        context.update(error=error, done=DONE_MESSAGES.get(done, ""))
        return respond(who, page_response("crise.html", context, status))

    def back(crisis_id: str, done: str) -> Response:
        return RedirectResponse(f"/crises/{crisis_id}?{urlencode({'fait': done})}", status_code=303)

    # --- login ---------------------------------------------------------------------------

    @router.get("/")
    async def home() -> Response:
        return RedirectResponse("/crises", status_code=303)

    @router.get(LOGIN_PATH)
    async def login_form(request: Request) -> Response:
        who = visitor(request)
        if who.user is not None:
            return RedirectResponse("/crises", status_code=303)
        return respond(
            who,
            page_response(
                "connexion.html", {**common(who), "title": "Connexion", "error": "", "login": ""}
            ),
        )

    @router.post(LOGIN_PATH)
    async def login(request: Request) -> Response:
        who = visitor(request)
        form = await text_form(request)
        raw_login = form.get("login", "")

        def again(message: str, status: int) -> Response:
            context = {
                **common(who),
                "title": "Connexion",
                "error": message,
                "login": raw_login[:64],
            }
            return respond(who, page_response("connexion.html", context, status))

        if who.fresh or not who.session.csrf_ok(form.get("csrf")):
            return respond(
                who,
                page_response(
                    "erreur.html",
                    {
                        **common(who),
                        "title": "Accès refusé",
                        "message": "jeton de formulaire absent ou invalide : rechargez la page "
                        "de connexion puis recommencez",
                    },
                    403,
                ),
            )
        source = request.client.host if request.client else "inconnue"
        now = clock.now()
        login_key = raw_login.strip().lower()[:64]
        with store.transaction() as tx:
            limit = rate_limit(
                tx.login_failures(login_key, now - LOGIN_WINDOW),
                tx.source_failures(source, now - LOGIN_WINDOW),
                now,
            )
        if not limit.allowed:
            return again(f"Connexion refusée : {limit.reason}.", 429)
        user = _authenticate(store, login_key, form, now, decoy_hash)
        with store.transaction() as tx:
            tx.record_attempt(login_key, source, now, ok=user is not None)
            if user is not None and password_needs_rehash(user.password_hash):
                user = tx.update_user(
                    user.login, now, password_hash=hash_password(form.get("password", ""))
                )
        if user is None:
            return again(
                "Identifiant, mot de passe ou code à usage unique incorrect, ou compte désactivé.",
                401,
            )
        session = Session.of_user(user.login, user.updated_at.isoformat(), now)
        return with_cookie(RedirectResponse("/crises", status_code=303), session)

    @router.post("/deconnexion")
    @guarded
    async def logout(request: Request) -> Response:
        who, user, _form = await acting(request, Action.READ)
        now = clock.now()
        with store.transaction() as tx:  # a copy of the cookie is refused from now on
            tx.revoke_session(who.session.sid, user.login, who.session.expires_at, now)
        return with_cookie(
            RedirectResponse(LOGIN_PATH, status_code=303), Session.anonymous(clock.now())
        )

    # --- crises --------------------------------------------------------------------------

    def crises_context(who: Visitor) -> dict[str, Any]:
        with store.transaction() as tx:
            crises = [tx.crisis(i) for i in tx.crisis_ids(open_only=False)]
        now = clock.now()
        local = now.astimezone(tz)
        rows = [
            {
                "id": c.id,
                "kind": c.kind.label,
                "exercise": c.mode == Mode.EXERCICE,
                "t0": timefmt.local(c.t0, tz),
                "communes": len(c.communes),
                "closed": f"{c.closed_at.astimezone(tz):%d/%m/%Y %H:%M}" if c.closed_at else "",
            }
            for c in reversed(crises)
        ]
        runs = [
            {"id": r.run_id, "title": r.title, "status": r.status.value, "speed": f"{r.speed:g}"}
            for r in list_runs(app.settings.data_dir / "exercices", WALL.now())
            if r.status.live
        ]
        return {
            **common(who),
            "title": "Événements",
            "runs": runs,
            "open": [r for r in rows if not r["closed"]],
            "closed": [r for r in rows if r["closed"]],
            "kinds": [(k.value, k.label) for k in EventKind],
            "form": {
                "kind": EventKind.INONDATION.value,
                "t0_date": f"{local:%Y-%m-%d}",
                "t0_time": f"{local:%H:%M}",
                "synergi": "",
                "zone": "",
                "exercise": False,
                "key": secrets.token_urlsafe(16),
            },
            "error": "",
        }

    @router.get("/crises")
    @guarded
    async def crises(request: Request) -> Response:
        who, _user = reader(request)
        return respond(who, page_response("crises.html", crises_context(who)))

    @router.post("/crises/activation")
    @guarded
    async def declare(request: Request) -> Response:
        who, user, form = await acting(request, Action.DECLARE_T0)
        context = crises_context(who)
        given: dict[str, Any] = {
            "kind": form.get("kind", ""),
            "t0_date": form.get("t0_date", ""),
            "t0_time": form.get("t0_time", ""),
            "synergi": form.get("synergi", "").strip(),
            "zone": form.get("zone", "").strip(),
            "exercise": form.get("exercise") == "1",
            "key": form.get("key", "")[:100] or secrets.token_urlsafe(16),
        }
        context["form"] = given

        def refuse(message: str) -> Response:
            context["error"] = message
            return respond(who, page_response("crises.html", context, 422))

        try:
            kind = EventKind(given["kind"])
        except ValueError:
            return refuse("type d'événement inconnu")
        try:
            t0 = _local_t0(str(given["t0_date"]), str(given["t0_time"]), tz)
        except ValueError as exc:
            return refuse(str(exc))
        if not given["synergi"]:
            return refuse("la référence SYNERGI est obligatoire")
        try:
            spec = parse_area(str(given["zone"]))
            area = resolve_area(spec, load_extract(app.settings.directory.communes_file))
        except (AreaError, CogError) as exc:
            return refuse(str(exc))
        authority = authority_of(user.role)
        given["other_event"] = form.get("other_event") == "1"
        given["old_t0"] = form.get("old_t0") == "1"
        given["reason"] = form.get("reason", "").strip()
        confirm = {
            **context,
            "title": "Confirmer l'activation",
            "t0_label": f"{local_label(t0, tz)} ({timefmt.zone_of(t0, tz)})",
            "t0_elapsed": elapsed_label(clock.now() - t0),
            "kind_label": kind.label,
            "communes": [(c, area.names.get(c, c)) for c in area.codes],
            "sources": list(area.by_source.items()),
            "may_confirm": authority.rank >= CONFIRMING_AUTHORITY.rank,
            "needs": "",
            "existing": "",
        }
        if form.get("confirm") != "1":
            return respond(who, page_response("confirmation.html", confirm))
        confirmation = (
            Confirmation(
                authority=authority,
                reason=str(given["reason"]),
                other_event=bool(given["other_event"]),
                old_t0=bool(given["old_t0"]),
            )
            if given["other_event"] or given["old_t0"]
            else None
        )
        request_ = ActivationRequest(
            kind=kind,
            t0=t0,
            synergi_ref=str(given["synergi"]),
            communes=area.codes,
            area=spec.as_text(),
            recorded_by=actor_of(user, Interface.WEB),
            mode=Mode.EXERCICE if given["exercise"] else Mode.REEL,
            idempotency_key=f"web-{given['key']}",
            confirmation=confirmation,
        )
        try:
            activation = orchestrator.activate(request_)
        except ActivationConflict as exc:
            confirm.update(error=str(exc), needs="other_event", existing=exc.existing_id)
            return respond(who, page_response("confirmation.html", confirm, 409))
        except T0TooOld as exc:
            confirm.update(error=str(exc), needs="old_t0")
            return respond(who, page_response("confirmation.html", confirm, 422))
        except ActivationError as exc:
            return refuse(str(exc))
        done = "" if activation.created else "?fait=deja"
        return RedirectResponse(f"/crises/{activation.crisis.id}{done}", status_code=303)

    # --- one crisis ----------------------------------------------------------------------

    @router.get("/crises/{crisis_id}")
    @guarded
    async def crisis_page(request: Request, crisis_id: str) -> Response:
        who, _user = reader(request)
        return board(
            who,
            crisis_id,
            request.query_params.get("statut", ""),
            done=request.query_params.get("fait", ""),
        )

    @router.get("/crises/{crisis_id}/fragments/{name}")
    @guarded
    async def fragment(request: Request, crisis_id: str, name: str) -> Response:
        who, _user = reader(request, fragment=True)
        if name not in FRAGMENTS:
            return Response("fragment inconnu", status_code=404)
        context = board_context(who, crisis_id, request.query_params.get("statut", ""))
        if context is None:
            return Response("événement inconnu", status_code=404)
        return page_response(f"fragments/{name}.html", context)

    @router.get("/crises/{crisis_id}/flux")
    @guarded
    async def stream(request: Request, crisis_id: str) -> Response:
        reader(request, fragment=True)
        if journal_head(store, crisis_id) is None:
            return Response("événement inconnu", status_code=404)
        return StreamingResponse(
            sse_stream(lambda: journal_head(store, crisis_id), request.is_disconnected),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @router.post("/crises/{crisis_id}/validations/{step_id}")
    @guarded
    async def approve(request: Request, crisis_id: str, step_id: str) -> Response:
        who, user, _form = await acting(request, Action.APPROVE)
        return act(
            who,
            crisis_id,
            "approbation",
            lambda: orchestrator.approve(crisis_id, step_id, actor_of(user, Interface.WEB)),
        )

    @router.post("/crises/{crisis_id}/notes")
    @guarded
    async def note(request: Request, crisis_id: str) -> Response:
        who, user, form = await acting(request, Action.NOTE)
        text = form.get("text", "").strip()
        if not text:
            return board(who, crisis_id, error="la note est vide", status=422)
        return act(
            who,
            crisis_id,
            "note",
            lambda: orchestrator.note(crisis_id, text, actor_of(user, Interface.WEB)),
        )

    @router.post("/crises/{crisis_id}/cloture")
    @guarded
    async def close(request: Request, crisis_id: str) -> Response:
        who, user, form = await acting(request, Action.CLOSE)
        if form.get("confirm") != "1":
            return board(
                who,
                crisis_id,
                error="cochez la case de confirmation pour clore l'événement",
                status=422,
            )
        reason = form.get("reason", "").strip()[:500]
        return act(
            who,
            crisis_id,
            "cloture",
            lambda: orchestrator.close(crisis_id, actor_of(user, Interface.WEB), reason),
        )

    @router.post("/crises/{crisis_id}/temps0")
    @guarded
    async def rectify(request: Request, crisis_id: str) -> Response:
        who, user, form = await acting(request, Action.RECTIFY_T0)
        try:
            t0 = _local_t0(form.get("t0_date", ""), form.get("t0_time", ""), tz)
        except ValueError as exc:
            return board(who, crisis_id, error=str(exc), status=422)
        if form.get("confirm") != "1":
            return board(
                who, crisis_id, error="cochez la case pour rectifier le temps 0", status=422
            )
        reason = form.get("reason", "")
        return act(
            who,
            crisis_id,
            "t0",
            lambda: orchestrator.rectify_t0(
                crisis_id,
                t0,
                reason,
                actor_of(user, Interface.WEB),
                authority=authority_of(user.role),
            ),
        )

    @router.post("/crises/{crisis_id}/cip/activation")
    @guarded
    async def cip_on(request: Request, crisis_id: str) -> Response:
        who, user, form = await acting(request, Action.ORDER_CIP)
        number = form.get("number", "")
        return act(
            who,
            crisis_id,
            "cip",
            lambda: orchestrator.activate_cip(
                crisis_id,
                number,
                actor_of(user, Interface.WEB),
                authority=authority_of(user.role),
            ),
        )

    @router.post("/crises/{crisis_id}/cip/fermeture")
    @guarded
    async def cip_off(request: Request, crisis_id: str) -> Response:
        who, user, _form = await acting(request, Action.ORDER_CIP)
        return act(
            who,
            crisis_id,
            "cip",
            lambda: orchestrator.close_cip(
                crisis_id, actor_of(user, Interface.WEB), authority=authority_of(user.role)
            ),
        )

    @router.post("/crises/{crisis_id}/presse/{request_id}")
    @guarded
    async def media_answered(request: Request, crisis_id: str, request_id: str) -> Response:
        who, user, form = await acting(request, Action.NOTE)
        answer = form.get("answer", "").strip()[:2000]
        return act(
            who,
            crisis_id,
            "presse",
            lambda: orchestrator.media_follow_up(
                crisis_id, request_id, actor_of(user, Interface.WEB), answer=answer
            ),
        )

    def drafting(
        who: Visitor,
        crisis_id: str,
        step_id: str,
        texts: DraftTexts | None = None,
        *,
        error: str = "",
        status: int = 200,
    ) -> Response:
        """The drafting form: the texts given (or the step's current ones), the reason of a
        refusal; a step that can no longer be drafted shows only why (409)."""
        try:
            with store.transaction() as tx:
                crisis, steps = tx.crisis(crisis_id), tx.steps(crisis_id)
        except CrisisNotFound:
            return not_found(who, crisis_id)
        context = _drafting(crisis, steps, step_id, texts, clock.now(), app)
        if context is None:
            return access.error(who, "Étape inconnue", f"aucune étape « {step_id} »", 404)
        if context["refusal"] and texts is None:
            return access.error(who, "Rédaction impossible", context["refusal"], 409)
        context.update(error=error)
        return respond(who, page_response("redaction.html", {**common(who), **context}, status))

    @router.get("/crises/{crisis_id}/redaction/{step_id}")
    @guarded
    async def draft_form(request: Request, crisis_id: str, step_id: str) -> Response:
        who, user = reader(request)
        if not can(user.role, Action.DRAFT):
            raise forbidden(who, f"le rôle {user.role.label} ne permet pas de {Action.DRAFT.label}")
        return drafting(who, crisis_id, step_id)

    @router.post("/crises/{crisis_id}/redaction/{step_id}")
    @guarded
    async def draft(request: Request, crisis_id: str, step_id: str) -> Response:
        who, user, form = await acting(request, Action.DRAFT)
        texts = _draft_texts(form)
        try:
            orchestrator.draft(crisis_id, step_id, texts, actor_of(user, Interface.WEB))
        except CrisisNotFound:
            return not_found(who, crisis_id)
        except Refused as exc:  # the form again, the reason on top, nothing typed lost
            return drafting(who, crisis_id, step_id, texts, error=str(exc), status=422)
        return back(crisis_id, "redaction")

    def act(who: Visitor, crisis_id: str, done: str, action: Callable[[], None]) -> Response:
        try:
            action()
        except CrisisNotFound:
            return not_found(who, crisis_id)
        except InvalidStimulus as exc:  # what was typed (too long, a phone number...): 422
            return board(who, crisis_id, error=str(exc), status=422)
        except Refused as exc:
            return board(who, crisis_id, error=str(exc), status=409)
        return back(crisis_id, done)

    return router


# --- helpers -------------------------------------------------------------------------------


def _authenticate(
    store: Any, login: str, form: Mapping[str, str], now: datetime, decoy_hash: str
) -> WebUser | None:
    """The account when login, password (and TOTP code when it has one) are right."""
    password = form.get("password", "")
    try:
        login = check_login(login)
    except ValueError:
        verify_password(decoy_hash, password)
        return None
    with store.transaction() as tx:
        user: WebUser | None = tx.user(login)
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


def _local_t0(day: str, at: str, tz: ZoneInfo) -> datetime:
    """T0 from the form's local date and time (French error if unreadable)."""
    try:
        value = datetime.combine(date.fromisoformat(day.strip()), time.fromisoformat(at.strip()))
    except ValueError:
        raise ValueError(
            "date ou heure du temps 0 illisible (date JJ/MM/AAAA et heure HH:MM attendues)"
        ) from None
    return value.replace(tzinfo=tz)


def _minutes(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    return f"{sign}{seconds // 60} min {seconds % 60:02d} s"


def _board(
    crisis: Crisis,
    steps: list[StepState],
    entries: list[JournalEntry],
    now: datetime,
    tz: ZoneInfo,
    app: App,
    reach_filter: str,
) -> dict[str, Any]:
    """Everything the board and its fragments show."""
    by_seq = {e.seq: e for e in entries}
    roster = {c.id: c for c in crisis.roster}
    planned = {p.step.id: p for p in crisis.plan.steps}
    end = crisis.closed_at or now
    verdicts = [
        {
            "engagement": v.engagement,
            "status": v.status.value,
            "label": v.status.label,
            "detail": v.detail,
            "evidence": [
                f"n° {n} — {timefmt.local(by_seq[n].at, tz, date=False, seconds=True)} — "
                f"{shown_text(by_seq[n], tz)}"
                for n in v.evidence
                if n in by_seq
            ],
        }
        for v in compliance.judge(entries, now)
    ]
    step_rows = []
    for s in steps:
        p = planned.get(s.step_id)
        step_rows.append(
            {
                "id": s.step_id,
                "title": p.step.title if p else s.step_id,
                "engagement": p.step.engagement.value if p else "",
                "due": "dès l'ordre d'activer la CIP"
                if s.due_at == NOT_YET
                else f"T0+{int((s.due_at - crisis.t0).total_seconds() // 60)} min",
                "status": s.status.value,
                "label": "sans objet" if _skipped(s) else STEP_LABELS[s.status],
                "reason": s.hold_reason if s.status != StepStatus.DONE or _skipped(s) else "",
                "approved_by": s.approved_by,
                "draftable": p is not None and not draft_refusal(crisis, p.step, s),
                "drafted_by": s.drafted_by if s.step_id in crisis.drafts else "",
            }
        )
    approvals = [
        _approval(crisis, s, planned[s.step_id], now, app)
        for s in steps
        if s.status == StepStatus.APPROVAL
        and not s.approved_by
        and s.step_id in planned
        and planned[s.step_id].step.approval == Approval.REQUIRED
    ]
    reach_rows = [
        {
            "code": r.code_insee,
            "name": crisis.commune_names.get(r.code_insee, r.code_insee),
            "status": r.status,
            "label": REACH_LABELS.get(r.status, r.status),
            "who": (
                f"{roster[r.contact_id].name} ({r.role.label if r.role else ''})"
                if r.contact_id in roster
                else (r.contact_id or "")
            )
            if r.status == "joint"
            else "",
            "at": f"{r.at.astimezone(tz):%H:%M}" if r.at else "",
            "attempts": r.attempts,
        }
        for r in compliance.commune_reach(entries, now)
    ]
    if reach_filter == "non_joint":
        shown = [r for r in reach_rows if r["status"] in {"non_joint", "injoignable"}]
    elif reach_filter in REACH_FILTERS and reach_filter:
        shown = [r for r in reach_rows if r["status"] == reach_filter]
    else:
        reach_filter, shown = "", reach_rows
    cell = []
    for e in entries:
        fact = e.fact
        if isinstance(fact, AcknowledgementReceived) and fact.role in CELL_ROLES:
            contact = roster.get(fact.contact_id)
            eta = ""
            if fact.eta_minutes:
                eta = (
                    f"vers {(e.at + timedelta(minutes=fact.eta_minutes)).astimezone(tz):%H:%M} "
                    f"(dans {fact.eta_minutes} min)"
                )
            cell.append(
                {
                    "name": contact.name if contact else fact.contact_id,
                    "role": fact.role.label if fact.role else "",
                    "trained": fact.trained,
                    "at": f"{e.at.astimezone(tz):%H:%M}",
                    "eta": eta or "non précisée",
                }
            )
    latest = [
        {
            "seq": e.seq,
            "at": timefmt.local(e.at, tz, seconds=True),
            "actor": e.actor.name,
            "interface": e.actor.interface.value,
            "text": shown_text(e, tz),
        }
        for e in reversed(entries[-JOURNAL_SHOWN:])
    ]
    declared = compliance.declared_t0(entries)
    deadline = crisis.t0 + timedelta(minutes=60)
    return {
        "title": f"{crisis.kind.label.capitalize()} — {crisis.id}",
        "crisis": {
            "id": crisis.id,
            "kind": crisis.kind.label,
            "exercise": crisis.mode == Mode.EXERCICE,
            "synergi": crisis.synergi_ref,
            "t0": timefmt.local(crisis.t0, tz),
            "t0_date": f"{crisis.t0.astimezone(tz):%Y-%m-%d}",
            "t0_time": f"{crisis.t0.astimezone(tz):%H:%M}",
            "t0_declared": f"{declared.astimezone(tz):%d/%m/%Y %H:%M}" if declared else "",
            "t0_iso": crisis.t0.isoformat(),
            "now_iso": now.isoformat(),
            "deadline_iso": deadline.isoformat(),
            "closed": f"{crisis.closed_at.astimezone(tz):%d/%m/%Y %H:%M}"
            if crisis.closed_at
            else "",
            "since": _minutes(end - crisis.t0),
            "remaining": _minutes(deadline - now) if now < deadline else "",
            "communes": len(crisis.communes),
            "cip_number": crisis.cip_number or "",
            "cip_since": f"{crisis.t0_cip.astimezone(tz):%H:%M}" if crisis.t0_cip else "",
        },
        "exercise": crisis.mode == Mode.EXERCICE,
        "verdicts": verdicts,
        "steps": step_rows,
        "approvals": approvals,
        "reach": shown,
        "reach_counts": {
            "total": len(reach_rows),
            "joint": sum(r["status"] == "joint" for r in reach_rows),
        },
        "reach_filter": reach_filter,
        "reach_filters": list(REACH_FILTERS.items()),
        "cell": cell,
        "media": [_press_item(r, tz) for r in press.queue(entries)],
        "journal": latest,
        "fragments": FRAGMENTS,
    }


def _press_item(request: press.PressRequest, tz: ZoneInfo) -> dict[str, Any]:
    """A press request as the board's press list shows it."""
    answer = request.answer
    return {
        "id": request.request_id,
        "outlet": request.request.outlet,
        "journalist": request.request.journalist,
        "question": request.request.question,
        "topic": request.request.topic,
        "at": f"{request.received_at.astimezone(tz):%H:%M}",
        "assignee": request.assignee,
        "answer": request.answer_text,
        "answered_by": (
            f"{answer.actor.name} à {answer.at.astimezone(tz):%H:%M}" if answer is not None else ""
        ),
    }


def _draft_texts(form: Mapping[str, str]) -> DraftTexts:
    """The drafting form's texts, as typed (browsers send CRLF line ends)."""

    def field(name: str) -> str:
        return form.get(name, "").replace("\r\n", "\n")

    return DraftTexts(
        subject=field("subject"),
        short=field("short"),
        voice=field("voice"),
        intro=field("intro"),
        sections={s: field(f"rubrique_{s.value}") for s in Section if field(f"rubrique_{s.value}")},
        closing=field("closing"),
    )


def _drafting(
    crisis: Crisis,
    steps: list[StepState],
    step_id: str,
    texts: DraftTexts | None,
    now: datetime,
    app: App,
) -> dict[str, Any] | None:
    """The drafting page of a step (None when the crisis has no such step)."""
    planned = next((p for p in crisis.plan.steps if p.step.id == step_id), None)
    current = next((s for s in steps if s.step_id == step_id), None)
    if planned is None or current is None:
        return None
    step = planned.step
    if texts is None:
        try:
            texts = DraftTexts.of(template_for(crisis, step))
        except KeyError:
            texts = DraftTexts(subject="", short="", voice="")
    context = message_context(crisis, None, now, app.orchestrator.config)
    return {
        "title": f"Rédiger le message — {step.title}",
        "exercise": crisis.mode == Mode.EXERCICE,
        "crisis": {"id": crisis.id, "kind": crisis.kind.label},
        "step": {
            "id": step.id,
            "title": step.title,
            "engagement": step.engagement.value,
            "channels": ", ".join(c.label for c in step.channels),
            "x": ChannelName.X in step.channels,
            "drafted_by": current.drafted_by,
            "drafted": step.id in crisis.drafts,
        },
        "texts": texts,
        "sections": [
            {
                "name": f"rubrique_{s.value}",
                "id": f"rubrique-{s.value}",
                "heading": s.heading,
                "text": texts.sections.get(s, ""),
                "expected": s in crisis.plan.applicable_sections,
            }
            for s in Section
        ],
        "placeholders": [
            {"code": code, "help": help_}
            for code, help_ in (PLACEHOLDERS.get(k, (f"{{{{ {k} }}}}", "")) for k in context)
        ],
        "refusal": draft_refusal(crisis, step, current),
        "current": _approval(crisis, current, planned, now, app),
        "x_limit": X_LIMIT,
        "error": "",
    }


def _approval(
    crisis: Crisis, state: StepState, planned: PlannedStep, now: datetime, app: App
) -> dict[str, Any]:
    """A message awaiting approval, previewed as each of its channels would carry it."""
    step = planned.step
    item: dict[str, Any] = {
        "step_id": step.id,
        "title": step.title,
        "engagement": step.engagement.value,
        "drafted_by": state.drafted_by,
        "previews": [],
        "error": "",
    }
    try:
        template = template_for(crisis, step)  # the draft written on the dashboard, if any
    except KeyError:
        item["error"] = "modèle de message introuvable"
        return item
    try:
        text = render_message(template, message_context(crisis, None, now, app.orchestrator.config))
    except RenderError as exc:
        item["error"] = str(exc)
        return item
    for channel in step.channels:
        if channel == ChannelName.SMS:
            preview = {
                "text": text.short,
                "measure": f"{count_segments(text.short)} segment(s) — "
                + describe_segments(text.short),
            }
        elif channel in {ChannelName.X, ChannelName.APP}:
            length = weighted_length(text.short) if channel == ChannelName.X else len(text.short)
            over = (
                " — trop long pour un seul post : publié en fil"
                if channel == ChannelName.X and length > X_LIMIT
                else ""
            )
            preview = {"text": text.short, "measure": f"{length} caractères{over}"}
        elif channel in {ChannelName.VOICE, ChannelName.STANDARD}:
            preview = {"text": text.voice, "measure": "message vocal"}
        elif channel == ChannelName.WEBSITE:
            preview = {
                "text": text.long,
                "measure": "page d'alerte, bandeau et flux CAP (même texte)",
            }
        else:
            preview = {"text": text.long, "measure": f"objet : {text.subject}"}
        item["previews"].append({"channel": channel.label, **preview})
    return item
