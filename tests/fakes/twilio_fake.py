"""A small fake of Twilio's REST API on 127.0.0.1, with faults scripted per request.

It serves what the orchestrator's Twilio channels use, with the paths, form fields and JSON
shapes of the official specification (tests/contracts/specs/twilio_api_v2010.json):

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json   CreateMessage (201)
    GET  /2010-04-01/Accounts/{AccountSid}/Messages.json   ListMessage (200, newest first)
    POST /2010-04-01/Accounts/{AccountSid}/Calls.json      CreateCall (201)
    GET  /2010-04-01/Accounts/{AccountSid}/Calls.json      ListCall (200, newest first)
    GET  /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json
                                                          ListIncomingPhoneNumber (200)
    POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json
                                                          UpdateIncomingPhoneNumber (200)

Requests need HTTP Basic auth with the account SID (AC...) and its auth token. Every message or
call the fake accepts is recorded, so that a test can count what would have reached a phone.

Faults are queued per route ("messages.create", "messages.list", "calls.create", "calls.list",
"numbers.list", "numbers.update") and consumed one per request, in order: latency, 429 with Retry-After, 500/503 (with or without
the message created first), "accept then hang" (recorded, then no answer before the client's
timeout: the ambiguous case), and connection refused (`stop()`, then `start()` on the same port).

Status callbacks are signed with Twilio's own RequestValidator and posted over HTTP to the
StatusCallback URL given at creation, in whatever order and as many times as a test asks.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
ROUTES = (
    "messages.create",
    "messages.list",
    "calls.create",
    "calls.list",
    "numbers.list",
    "numbers.update",
)


@dataclass(frozen=True)
class Fault:
    """What the fake does to one request instead of (or before) answering normally.

    `status`: 0 answers normally (201/200), otherwise this HTTP error with a Twilio error body.
    `accept`: the message or call is created (recorded) before the answer, even an error one.
    `delay`: seconds before answering (latency, or a hang longer than the client's timeout).
    `fire`: statuses whose callbacks are posted while the answer is held back.
    """

    status: int = 0
    accept: bool = True
    delay: float = 0.0
    retry_after: int | None = None
    fire: tuple[str, ...] = ()

    @classmethod
    def latency(cls, seconds: float) -> Fault:
        """A normal answer, late."""
        return cls(delay=seconds)

    @classmethod
    def too_many_requests(cls, retry_after: int = 1) -> Fault:
        """429 with Retry-After; nothing created."""
        return cls(status=429, accept=False, retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 500, *, accepted: bool) -> Fault:
        """A 5xx; `accepted`: Twilio created the message before failing to answer."""
        return cls(status=status, accept=accepted)

    @classmethod
    def accept_then_hang(cls, seconds: float, *, fire: Sequence[str] = ()) -> Fault:
        """Created and recorded, then the answer comes too late (or never, if stopped)."""
        return cls(delay=seconds, accept=True, fire=tuple(fire))

    @classmethod
    def hang_before_accept(cls, seconds: float) -> Fault:
        """No answer in time, and nothing was created."""
        return cls(delay=seconds, accept=False)


_ERRORS = {
    400: (21604, "A 'To' phone number is required."),
    401: (20003, "Authenticate"),
    404: (20404, "The requested resource was not found"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}


@dataclass
class FakeMessage:
    """A message the fake accepted."""

    sid: str
    to: str
    from_: str | None
    body: str
    messaging_service_sid: str | None
    status_callback: str | None
    validity_period: int | None
    date_created: datetime
    status: str = "queued"

    def resource(self, account_sid: str) -> dict[str, Any]:
        """The JSON resource (api.v2010.account.message)."""
        created = format_datetime(self.date_created)
        return {
            "account_sid": account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": created,
            "date_sent": None,
            "date_updated": created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "EUR",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{self.sid}/Media.json"
            },
            "to": self.to,
            "uri": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{self.sid}.json",
        }

    def callback_params(self, account_sid: str, status: str) -> dict[str, str]:
        """The form Twilio posts to the StatusCallback for `status`."""
        params = {
            "AccountSid": account_sid,
            "ApiVersion": API_VERSION,
            "MessageSid": self.sid,
            "MessageStatus": status,
            "SmsSid": self.sid,
            "SmsStatus": status,
            "To": self.to,
            "From": self.from_ or "",
        }
        if status in {"undelivered", "failed"}:
            params["ErrorCode"] = "30003"
        return params


@dataclass
class FakeCall:
    """A call the fake accepted."""

    sid: str
    to: str
    from_: str
    url: str | None
    status_callback: str | None
    date_created: datetime
    status: str = "queued"

    def resource(self, account_sid: str) -> dict[str, Any]:
        """The JSON resource (api.v2010.account.call)."""
        created = format_datetime(self.date_created)
        return {
            "account_sid": account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": created,
            "date_updated": created,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "EUR",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": None,
            "status": self.status,
            "subresource_uris": {},
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": f"/{API_VERSION}/Accounts/{account_sid}/Calls/{self.sid}.json",
        }

    def callback_params(self, account_sid: str, status: str) -> dict[str, str]:
        """The form Twilio posts to the StatusCallback for `status`."""
        params = {
            "AccountSid": account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": self.sid,
            "CallStatus": status,
            "Direction": "outbound-api",
            "To": self.to,
            "From": self.from_,
        }
        if status == "completed":
            params["CallDuration"] = "21"
        return params


_NUMBER_FIELDS = {  # form field of UpdateIncomingPhoneNumber -> FakeNumber attribute
    "VoiceUrl": "voice_url",
    "VoiceMethod": "voice_method",
    "VoiceFallbackUrl": "voice_fallback_url",
    "VoiceFallbackMethod": "voice_fallback_method",
    "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method",
    "VoiceApplicationSid": "voice_application_sid",
    "TrunkSid": "trunk_sid",
    "FriendlyName": "friendly_name",
}


@dataclass
class FakeNumber:
    """A phone number the account owns (IncomingPhoneNumber), with its voice routing."""

    sid: str
    phone_number: str
    voice_url: str | None = None
    voice_method: str = "POST"
    voice_fallback_url: str | None = None
    voice_fallback_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    voice_application_sid: str | None = None
    trunk_sid: str | None = None
    friendly_name: str = ""

    def resource(self, account_sid: str) -> dict[str, Any]:
        """The JSON resource (api.v2010.account.incoming_phone_number); empty values as
        Twilio answers them (null URLs, empty strings for callbacks and application)."""
        return {
            "account_sid": account_sid,
            "api_version": API_VERSION,
            "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
            "friendly_name": self.friendly_name or self.phone_number,
            "phone_number": self.phone_number,
            "sid": self.sid,
            "sms_method": "POST",
            "sms_url": "",
            "status_callback": self.status_callback or "",
            "status_callback_method": self.status_callback_method,
            "trunk_sid": self.trunk_sid,
            "uri": f"/{API_VERSION}/Accounts/{account_sid}/IncomingPhoneNumbers/{self.sid}.json",
            "voice_application_sid": self.voice_application_sid or "",
            "voice_caller_id_lookup": False,
            "voice_fallback_method": self.voice_fallback_method,
            "voice_fallback_url": self.voice_fallback_url,
            "voice_method": self.voice_method,
            "voice_url": self.voice_url,
            "voice_receive_mode": "voice",
            "status": "in-use",
            "type": "local",
        }

    def update(self, form: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        """Apply an update form like Twilio (an empty value clears the field; an application
        and a trunk exclude each other); a 400 error, or None when applied."""
        for name, value in form.items():
            if name.endswith("Method") and name in _NUMBER_FIELDS and value not in {"GET", "POST"}:
                return _error(400, 21403, "Method must be GET or POST")
            if name.endswith(("Url", "Callback")) and value and not value.startswith("http"):
                return _error(400, 21402, "Url is not a valid URL")
        for name, value in form.items():
            attribute = _NUMBER_FIELDS.get(name)
            if attribute is None:
                continue
            if attribute.endswith("method") or attribute == "friendly_name":
                setattr(self, attribute, value)
            else:
                setattr(self, attribute, value or None)
        if form.get("VoiceApplicationSid"):
            self.trunk_sid = None
        if form.get("TrunkSid"):
            self.voice_application_sid = None
        return None


@dataclass(frozen=True)
class Callback:
    """A signed status callback, ready to be posted."""

    url: str
    params: dict[str, str]
    signature: str = field(repr=False)

    def post(self, timeout: float = 5.0) -> int:
        """POST it as Twilio does; the HTTP status the orchestrator answered."""
        request = urllib.request.Request(
            self.url,
            data=urlencode(self.params).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": self.signature,
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)


@dataclass(frozen=True)
class Served:
    """One request as the fake answered it (for assertions on retries and look-ups)."""

    route: str
    status: int  # the HTTP status answered (201 even when the client had given up)
    accepted: bool  # a message or call was created (and recorded)
    to: str = ""  # the form's To, for creates


class FakeTwilio:
    """The fake API. `now` stamps date_created (pass the test's clock, so that look-up windows
    computed from the orchestrator's clock hold)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        now: Callable[[], datetime],
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.account_sid = account_sid
        self._auth_token = auth_token
        self._now = now
        self.host = host
        self.port = port
        self.messages: list[FakeMessage] = []
        self.calls: list[FakeCall] = []
        self.numbers: list[FakeNumber] = []
        self.number_updates: list[dict[str, str]] = []  # every update form received, in order
        self.served: list[Served] = []
        self.fired: list[int] = []  # HTTP statuses of callbacks fired during hangs
        self.in_flight = 0  # requests being handled right now (latency included)
        self.peak_in_flight = 0  # the most requests handled at once since start
        self._faults: dict[str, list[Fault]] = {route: [] for route in ROUTES}
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"FakeTwilio(base_url={self.base_url!r})"

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Where the API is served (api_base_url)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Serve on 127.0.0.1 (the same port again after `stop`)."""
        handler = type("Handler", (_Handler,), {"fake": self})
        server = _Server((self.host, self.port), handler)
        self.port = int(server.server_address[1])
        self._released = threading.Event()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving: connections are refused until `start`; held answers are released."""
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    @contextmanager
    def running(self) -> Iterator[FakeTwilio]:
        """Started for the duration of a `with` block."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    # --- scripting and records ----------------------------------------------------------------

    def script(self, route: str, *faults: Fault) -> None:
        """Queue faults for the next requests on `route` (one fault per request, in order)."""
        if route not in self._faults:
            raise ValueError(f"unknown route {route!r}")
        with self._lock:
            self._faults[route].extend(faults)

    def pending_faults(self, route: str) -> int:
        """Faults not yet consumed on `route`."""
        with self._lock:
            return len(self._faults[route])

    def add_number(self, phone_number: str, **routing: Any) -> FakeNumber:
        """Give the account a phone number (FakeNumber fields as keywords)."""
        number = FakeNumber(sid="PN" + secrets.token_hex(16), phone_number=phone_number, **routing)
        with self._lock:
            self.numbers.append(number)
        return number

    def sent(self) -> Counter[tuple[str, str]]:
        """How many messages were accepted per (To, Body)."""
        with self._lock:
            return Counter((m.to, m.body) for m in self.messages)

    def answered(self, route: str, status: int) -> list[Served]:
        """The requests on `route` answered with `status`, in order."""
        with self._lock:
            return [s for s in self.served if s.route == route and s.status == status]

    def callbacks(self, sid: str, statuses: Sequence[str]) -> list[Callback]:
        """Signed status callbacks for a recorded message or call, in the order given."""
        with self._lock:
            target: FakeMessage | FakeCall | None = next(
                (m for m in [*self.messages, *self.calls] if m.sid == sid), None
            )
        if target is None:
            raise KeyError(sid)
        if not target.status_callback:
            raise ValueError(f"{sid} was created without StatusCallback")
        validator = RequestValidator(self._auth_token)
        out = []
        for status in statuses:
            params = target.callback_params(self.account_sid, status)
            signature = validator.compute_signature(target.status_callback, params)
            out.append(Callback(target.status_callback, params, signature))
        return out

    def request_started(self) -> None:
        """A request arrived (server thread): counted in flight until `request_ended`."""
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def request_ended(self) -> None:
        """Its answer is ready (after any scripted latency)."""
        with self._lock:
            self.in_flight -= 1

    # --- request handling (server threads) -------------------------------------------------------

    def _next_fault(self, route: str) -> Fault | None:
        with self._lock:
            queue = self._faults[route]
            return queue.pop(0) if queue else None

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(user, self.account_sid) and secrets.compare_digest(
            password, self._auth_token
        )

    def _create(self, kind: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Validate a create form like Twilio; (201, resource) or a 400 error."""
        now = self._now()
        to = form.get("To", "")
        if not to:
            return _error(400)
        if kind == "messages":
            if not form.get("From") and not form.get("MessagingServiceSid"):
                return _error(400, 21603, "A 'From' phone number is required.")
            if not form.get("Body") and not form.get("MediaUrl") and not form.get("ContentSid"):
                return _error(400, 21602, "Message body is required.")
            validity = form.get("ValidityPeriod")
            message = FakeMessage(
                sid="SM" + secrets.token_hex(16),
                to=to,
                from_=form.get("From"),
                body=form.get("Body", ""),
                messaging_service_sid=form.get("MessagingServiceSid"),
                status_callback=form.get("StatusCallback"),
                validity_period=int(validity) if validity else None,
                date_created=now,
            )
            with self._lock:
                self.messages.append(message)
            return 201, message.resource(self.account_sid)
        if not form.get("From"):
            return _error(400, 21603, "A 'From' phone number is required.")
        if not (form.get("Url") or form.get("Twiml") or form.get("ApplicationSid")):
            return _error(400, 21205, "Url parameter is required.")
        call = FakeCall(
            sid="CA" + secrets.token_hex(16),
            to=to,
            from_=form["From"],
            url=form.get("Url"),
            status_callback=form.get("StatusCallback"),
            date_created=now,
        )
        with self._lock:
            self.calls.append(call)
        return 201, call.resource(self.account_sid)

    def _list(self, kind: str, query: dict[str, str], path: str) -> dict[str, Any]:
        """One page, newest first, filtered on To and From (ListMessage / ListCall)."""
        with self._lock:
            items: list[FakeMessage | FakeCall] = list(
                reversed(self.messages if kind == "messages" else self.calls)
            )
        if "To" in query:
            items = [i for i in items if i.to == query["To"]]
        if "From" in query:
            items = [i for i in items if i.from_ == query["From"]]
        size = max(1, min(1000, int(query.get("PageSize", "50"))))
        page = int(query.get("Page", "0"))
        chunk = items[page * size : (page + 1) * size]
        first = {k: v for k, v in query.items() if k not in {"Page", "PageToken"}}
        more = len(items) > (page + 1) * size
        return {
            kind: [i.resource(self.account_sid) for i in chunk],
            "end": page * size + max(0, len(chunk) - 1),
            "first_page_uri": f"{path}?{urlencode({**first, 'Page': 0})}",
            "next_page_uri": f"{path}?{urlencode({**first, 'Page': page + 1})}" if more else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": (
                f"{path}?{urlencode({**first, 'Page': page - 1})}" if page > 0 else None
            ),
            "start": page * size,
            "uri": f"{path}?{urlencode(query)}",
        }

    def _numbers(
        self, method: str, resource: str, query: dict[str, str], form: dict[str, str], path: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """ListIncomingPhoneNumber (PhoneNumber matches partial numbers, like Twilio) and
        UpdateIncomingPhoneNumber, with the faults scripted on numbers.list / numbers.update."""
        _, _, number_sid = resource.partition("/")
        listing = not number_sid
        if listing != (method == "GET"):
            return (*_error(404), {})
        route = "numbers.list" if listing else "numbers.update"
        fault = self._next_fault(route) or Fault()
        status: int
        body: dict[str, Any]
        applied = False
        if listing:
            wanted = query.get("PhoneNumber", "").replace("*", "")
            with self._lock:
                found = [n for n in self.numbers if wanted in n.phone_number]
            size = max(1, min(1000, int(query.get("PageSize", "50"))))
            status, body = (
                200,
                {
                    "incoming_phone_numbers": [n.resource(self.account_sid) for n in found[:size]],
                    "end": max(0, min(size, len(found)) - 1),
                    "first_page_uri": f"{path}?{urlencode({**query, 'Page': 0})}",
                    "next_page_uri": None,
                    "page": 0,
                    "page_size": size,
                    "previous_page_uri": None,
                    "start": 0,
                    "uri": f"{path}?{urlencode(query)}",
                },
            )
        else:
            with self._lock:
                self.number_updates.append(dict(form))
                target = next((n for n in self.numbers if n.sid == number_sid), None)
                refused = None if target is None or not fault.accept else target.update(form)
            if target is None:
                status, body = _error(404)
            elif refused is not None:
                status, body = refused
            else:
                applied = fault.accept
                status, body = 200, target.resource(self.account_sid)
        headers: dict[str, str] = {}
        if fault.status:
            status, body = _error(fault.status)
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
        with self._lock:
            self.served.append(Served(route, status, applied))
        if fault.delay:
            self._released.wait(fault.delay)
        return status, body, headers

    def _fire(self, sid: str, statuses: Sequence[str]) -> None:
        for callback in self.callbacks(sid, statuses):
            self.fired.append(callback.post())

    def handle(
        self, method: str, path: str, query: dict[str, str], form: dict[str, str], auth: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer one request: (status, JSON body, extra headers)."""
        prefix = f"/{API_VERSION}/Accounts/"
        if not path.startswith(prefix) or not path.endswith(".json"):
            return (*_error(404), {})
        sid, _, resource = path[len(prefix) : -len(".json")].partition("/")
        kind = {"Messages": "messages", "Calls": "calls"}.get(resource)
        numbers = resource == "IncomingPhoneNumbers" or resource.startswith("IncomingPhoneNumbers/")
        if (kind is None and not numbers) or method not in {"GET", "POST"}:
            return (*_error(404), {})
        if not self._authorized(auth):
            return (*_error(401), {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        if sid != self.account_sid:
            return (*_error(404), {})
        if numbers:
            return self._numbers(method, resource, query, form, path)
        route = f"{kind}.{'create' if method == 'POST' else 'list'}"
        fault = self._next_fault(route) or Fault()
        status, body = 200, {}
        if method == "GET":
            body = self._list(kind, query, path)
        elif fault.accept:
            status, body = self._create(kind, form)
        created = str(body.get("sid", "")) if status == 201 else ""
        headers: dict[str, str] = {}
        if fault.status:
            status, body = _error(fault.status)
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
        with self._lock:
            self.served.append(Served(route, status, bool(created), form.get("To", "")))
        if fault.fire and created:
            self._fire(created, fault.fire)
        if fault.delay:
            self._released.wait(fault.delay)
        return status, body, headers


def _error(status: int, code: int | None = None, message: str = "") -> tuple[int, dict[str, Any]]:
    default_code, default_message = _ERRORS.get(status, (20500, "Error"))
    return status, {
        "code": code or default_code,
        "message": message or default_message,
        "more_info": f"https://www.twilio.com/docs/errors/{code or default_code}",
        "status": status,
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a held answer never blocks stop()
    block_on_close = False
    request_queue_size = 256  # many clients connecting at once are all accepted at once


class _Handler(BaseHTTPRequestHandler):
    fake: FakeTwilio
    protocol_version = "HTTP/1.1"

    def _answer(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        form = dict(parse_qsl(raw, keep_blank_values=True))
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.fake.request_started()
        status, body, headers = self.fake.handle(
            method, parts.path, query, form, self.headers.get("Authorization")
        )
        self.fake.request_ended()
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (timeout): nobody to answer
            self.close_connection = True

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines carry phone numbers (look-ups filter on To)."""
