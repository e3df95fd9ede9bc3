"""Twilio webhooks of the CIP's numéro unique and of the switchboard's announcement.

    POST /webhooks/twilio/standard          the switchboard: the announcement, then <Dial>
    POST /webhooks/twilio/cip/voice         a call to the numéro unique (its voice_url)
    POST /webhooks/twilio/cip/wait          Enqueue waitUrl: position, hold music
    POST /webhooks/twilio/cip/after-queue   Enqueue action: the caller left the queue
    POST /webhooks/twilio/cip/voicemail     Record action: a message was left
    POST /webhooks/twilio/cip/agent         an agent's phone: take the next caller
    POST /webhooks/twilio/cip/connected     Queue url: the caller is put through to an agent
    POST /webhooks/twilio/cip/status        call status callback: one CipCallEnded per call

All are signed (X-Twilio-Signature, checked like crisis/web/webhooks.py against the public
URL; 403 otherwise). The calls in progress (queue length, agents in a call) are tracked in
memory by `CipLineState` (crisis/web/providers/cip_calls.py), keyed by CallSid; each call ends
as ONE CipCallEnded fact in the crisis's main courante. Callers' numbers are never logged nor
journaled: agents are named by their directory id, calls by their CallSid.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response

from channels.twilio_callbacks import DEFAULT_VOICE
from channels.twilio_hotline import (
    STANDARD_PATH,
    CallRoute,
    HotlineSettings,
    QueueDecision,
    after_queue_twiml,
    agent_dial_twiml,
    connected_twiml,
    greeting_twiml,
    hotline_urls,
    out_of_hours_twiml,
    overflow_twiml,
    voicemail_saved_twiml,
    wait_twiml,
)
from channels.twilio_twiml import no_agent_twiml, switchboard_twiml, with_information
from crisis.engine import Refused
from crisis.model import Actor, CipCallEnded, Crisis, Interface
from crisis.service import Orchestrator
from crisis.web.providers.cip_calls import (
    ENDED,
    CallTrack,
    CipLineState,
    agent_id,
    agents_on_duty,
    ended_fact,
    number_param,
    queue_name,
)
from crisis.web.webhooks import XML, TwilioWebhooks

__all__ = ["CIP_PATH", "STANDARD_PATH", "CipLine", "CipWebhooks", "cip_router"]

log = logging.getLogger(__name__)

CIP_PATH = "/webhooks/twilio/cip"
TWILIO = Actor(name="twilio", interface=Interface.PROVIDER)


@dataclass(frozen=True)
class CipLine:
    """What the numéro unique answers with: the hotline's settings, the switchboard's
    announcement, where calls are forwarded, and the voice that speaks."""

    hotline: HotlineSettings
    announcement: Callable[[], str | None] | None
    forward_to: str | None
    voice: str = DEFAULT_VOICE


class CipWebhooks(TwilioWebhooks):
    """The handlers of the numéro unique and of the switchboard (signature check inherited)."""

    def __init__(
        self,
        orchestrator: Orchestrator,
        *,
        auth_token: str | None,
        public_base_url: str,
        line: CipLine,
        state: CipLineState | None = None,
    ) -> None:
        super().__init__(orchestrator, auth_token=auth_token, public_base_url=public_base_url)
        self.hotline = line.hotline
        self.urls = hotline_urls(self.base)
        self.connected_url = f"{self.base}{CIP_PATH}/connected"
        self.announcement = line.announcement
        self.forward_to = line.forward_to
        self.tts_voice = line.voice
        self.state = state or CipLineState()

    def __repr__(self) -> str:
        return f"CipWebhooks(public_base_url={self.base!r})"

    # --- switchboard ---------------------------------------------------------------------

    async def standard(self, request: Request) -> Response:
        """The switchboard's number: the current announcement, then the usual standard."""
        params = await self._checked(request, None)
        if isinstance(params, Response):
            return params
        text = self.announcement() if self.announcement is not None else None
        twiml = switchboard_twiml(text, self.forward_to, voice=self.tts_voice)
        return Response(twiml, media_type=XML)

    # --- caller's side ---------------------------------------------------------------------

    async def caller(self, request: Request) -> Response:
        """A new call on the numéro unique: greeting, information, queue or voicemail."""
        params = await self._checked(request, None)
        if isinstance(params, Response):
            return params
        crisis = self.orchestrator.cip_crisis(params.get("To", ""))
        if crisis is None:
            log.info("appel sur un numéro unique sans CIP active : message de fermeture")
            return Response(out_of_hours_twiml("", voice=self.tts_voice), media_type=XML)
        track = self._routed(crisis, params.get("CallSid", ""))
        info = self.orchestrator.reading_sheet(crisis.id)
        if track.route == CallRoute.OVERFLOW:
            overflow = overflow_twiml(
                self.urls.voicemail, max_length_s=self.hotline.voicemail_max_s, voice=self.tts_voice
            )
            return Response(with_information(overflow, info, voice=self.tts_voice), media_type=XML)
        track.in_queue = track.route == CallRoute.ENQUEUE
        twiml = greeting_twiml(
            info,
            queue_name(self.hotline, crisis.id),
            self.urls.wait,
            self.urls.after_queue,
            open_now=track.route == CallRoute.ENQUEUE,
            voice=self.tts_voice,
            voicemail_url=self.urls.voicemail,
            voicemail_max_s=self.hotline.voicemail_max_s,
        )
        return Response(twiml, media_type=XML)

    async def wait(self, request: Request) -> Response:
        """While waiting: position, average wait, hold music; too long: leave the queue."""
        params = await self._checked(request, None)
        if isinstance(params, Response):
            return params
        position = int(number_param(params, "QueuePosition") or 0)
        average = number_param(params, "AvgQueueTime")
        waited = number_param(params, "QueueTime") or 0.0
        twiml = wait_twiml(
            position,
            None if average is None else int(average),
            self.hotline.hold_music_url,
            queue_time_s=int(waited),
            max_wait_s=self.hotline.max_wait_s,
            voice=self.tts_voice,
        )
        return Response(twiml, media_type=XML)

    async def after_queue(self, request: Request) -> Response:
        """The caller left the queue (QueueResult): goodbye, voicemail or nothing."""
        params = await self._checked(request, None)
        if isinstance(params, Response):
            return params
        result = params.get("QueueResult", "").strip().lower()
        track = self.state.calls.get(params.get("CallSid", ""))
        if track is not None:
            track.left_queue(result, params)
        twiml = after_queue_twiml(
            result,
            self.urls.voicemail,
            max_length_s=self.hotline.voicemail_max_s,
            voice=self.tts_voice,
        )
        return Response(twiml, media_type=XML)

    async def voicemail(self, request: Request) -> Response:
        """A message was recorded: journaled at once as the call's outcome "message"."""
        params = await self._checked(request, None)
        if isinstance(params, Response):
            return params
        sid = params.get("CallSid", "")
        recorded = params.get("RecordingUrl", "") or (
            number_param(params, "RecordingDuration") or 0
        )
        track = self._track(sid, params)
        if track is not None and recorded:
            track.message = True
            track.in_queue = False
            self._journal(sid, track, params)
        return Response(voicemail_saved_twiml(voice=self.tts_voice), media_type=XML)

    async def connected(self, request: Request) -> Response:
        """An agent takes the caller (the Queue noun's url, fetched for the caller)."""
        params = await self._checked(request, None)
        if isinstance(params, Response):
            return params
        track = self.state.calls.get(params.get("CallSid", ""))
        if track is not None:
            track.connected(self.orchestrator.clock.now(), params)
            agent = self.state.agent_calls.get(params.get("DequeingCallSid", ""))
            if agent is not None:
                track.agent_id = agent[1]
        return Response(connected_twiml(voice=self.tts_voice), media_type=XML)

    # --- agent's side ----------------------------------------------------------------------

    async def agent(self, request: Request) -> Response:
        """An agent's phone (a call from or to the numéro unique): <Dial><Queue>."""
        params = await self._checked(request, None)
        if isinstance(params, Response):
            return params
        sides = (params.get("From", ""), params.get("To", ""))
        crisis = next(
            (c for c in (self.orchestrator.cip_crisis(n) for n in sides if n) if c is not None),
            None,
        )
        if crisis is None:
            return Response(no_agent_twiml(voice=self.tts_voice), media_type=XML)
        agent = agent_id(crisis, sides)
        sid = params.get("CallSid", "")
        if sid:
            self.state.agent_calls[sid] = (crisis.id, agent)
            self.state.prune(self.orchestrator.clock.now())
        log.info("CIP %s : agent %s prend un appel", crisis.id, agent or "non identifié")
        twiml = agent_dial_twiml(
            queue_name(self.hotline, crisis.id), voice=self.tts_voice, caller_url=self.connected_url
        )
        return Response(twiml, media_type=XML)

    # --- end of a call ------------------------------------------------------------------------

    async def call_ended(self, request: Request) -> Response:
        """A call's status: when a caller's call has ended, ONE CipCallEnded is journaled."""
        params = await self._checked(request, None)
        if isinstance(params, Response):
            return params
        sid = params.get("CallSid", "")
        if params.get("CallStatus", "").strip().lower() not in ENDED or not sid:
            return Response(status_code=204)
        if sid in self.state.agent_calls:
            del self.state.agent_calls[sid]
            return Response(status_code=204)
        track = self._track(sid, params)
        if track is not None:
            self._journal(sid, track, params)
        return Response(status_code=204)

    # --- helpers ------------------------------------------------------------------------------

    def _routed(self, crisis: Crisis, sid: str) -> CallTrack:
        """The call's track, routed now (queue, overflow, closed) unless already seen."""
        now = self.orchestrator.clock.now()
        self.state.prune(now)
        track = self.state.calls.get(sid)
        if track is not None and track.crisis_id == crisis.id:
            return track
        decision = QueueDecision.decide(
            on_duty=agents_on_duty(crisis),
            busy=self.state.busy(crisis.id),
            queue_length=self.state.queue_length(crisis.id),
            max_queue=self.hotline.max_queue,
            open_now=self.hotline.is_open(now),
        )
        track = CallTrack(crisis_id=crisis.id, started_at=now, route=decision.route)
        if sid:
            self.state.calls[sid] = track
        log.info("CIP %s : appel %s, %s", crisis.id, sid, decision.reason)
        return track

    def _track(self, sid: str, params: dict[str, str]) -> CallTrack | None:
        """The call's track; rebuilt from the called number when this process never saw the
        call (restart): then its route is unknown and only the status decides the outcome."""
        track = self.state.calls.get(sid)
        if track is not None or not sid:
            return track
        crisis = self.orchestrator.cip_crisis(params.get("To", ""))
        if crisis is None:
            return None
        track = CallTrack.rebuilt(crisis.id, self.orchestrator.clock.now(), params)
        self.state.calls[sid] = track
        return track

    def _journal(self, sid: str, track: CallTrack, params: dict[str, str]) -> None:
        """Record the call's CipCallEnded unless this process or the journal has it."""
        if self.state.was_journaled(sid):
            return
        already = any(
            isinstance(e.fact, CipCallEnded) and e.fact.call_id == sid
            for e in self.orchestrator.journal(track.crisis_id)
        )
        if already:
            self.state.journaled(sid)
            return
        fact = ended_fact(sid, track, params, self.orchestrator.clock.now())
        # check, record and mark run without yielding to the event loop: a second callback
        # for the same call waits for this one and finds it journaled
        try:
            self.orchestrator.record(track.crisis_id, [fact], TWILIO)
        except Refused as refused:
            log.warning("CIP %s : appel %s non journalisé (%s)", track.crisis_id, sid, refused)
            self.state.journaled(sid)
            return
        self.state.journaled(sid)
        log.info("CIP %s : appel %s terminé (%s)", track.crisis_id, sid, fact.outcome)


def cip_router(
    orchestrator: Orchestrator,
    *,
    auth_token: str | None,
    public_base_url: str,
    hotline: HotlineSettings,
    announcement: Callable[[], str | None] | None,
    forward_to: str | None,
    voice: str = DEFAULT_VOICE,
    state: CipLineState | None = None,
) -> APIRouter:
    """The numéro unique's and the switchboard's routes, bound to the orchestrator."""
    line = CipLine(hotline, announcement, forward_to, voice)
    hooks = CipWebhooks(
        orchestrator,
        auth_token=auth_token,
        public_base_url=public_base_url,
        line=line,
        state=state,
    )
    router = APIRouter(include_in_schema=False)
    router.add_api_route(STANDARD_PATH, hooks.standard, methods=["POST"])
    router.add_api_route(f"{CIP_PATH}/voice", hooks.caller, methods=["POST"])
    router.add_api_route(f"{CIP_PATH}/wait", hooks.wait, methods=["POST"])
    router.add_api_route(f"{CIP_PATH}/after-queue", hooks.after_queue, methods=["POST"])
    router.add_api_route(f"{CIP_PATH}/voicemail", hooks.voicemail, methods=["POST"])
    router.add_api_route(f"{CIP_PATH}/connected", hooks.connected, methods=["POST"])
    router.add_api_route(f"{CIP_PATH}/agent", hooks.agent, methods=["POST"])
    router.add_api_route(f"{CIP_PATH}/status", hooks.call_ended, methods=["POST"])
    return router
