"""The demo pointed, by configuration only, at local stand-ins of every real provider.

Prism serves Twilio's and X's official OpenAPI specs (trimmed copies in tests/contracts/specs),
aiosmtpd is the prefecture's mail relay (STARTTLS with a self-signed certificate, AUTH), small
HTTP servers stand in for the Facebook Graph API and the mobile app vendor, and the website is
published to a temporary folder. `crisis check-config` then `crisis demo --config` run as
subprocesses: the flood playbook goes out through the real client libraries (twilio, tweepy,
aiosmtplib, httpx), and what each provider received is checked against the demo's database.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from channels.app import verify_signature
from channels.base import ChannelName
from channels.cap import validate_cap
from channels.email import message_id_for
from crisis.exercise.presets import DEMO_CIP_NUMBER
from crisis.journal import verify
from crisis.model import OutboxItem, OutboxState
from crisis.store import Store
from tests.contracts.prism import SPECS, free_port, prism_mock
from tests.integration.test_email_smtp import PASSWORD, USERNAME, Relay, smtp_server
from tests.integration.test_facebook_http import PAGE, TOKEN, GraphPage, make_handler

TWILIO_SPEC = SPECS / "twilio_api_v2010.json"
X_SPEC = SPECS / "x_api_v2_openapi.json"
# What the specs' examples answer (see tests/contracts/test_*_contract.py)
EXAMPLE_SMS_SID = "SM" + "a" * 32
EXAMPLE_CALL_SID = "CA" + "a" * 32
EXAMPLE_TWEET_ID = "1445880548472328192"
APP_SECRET = "secret-partage-demo-fictif-0123456789abcdef"
SENDER_DOMAIN = "example.fr"
SPEED = 120  # the demo's hour in about 30 seconds
ENV = {
    "CRISIS_TWILIO_ACCOUNT_SID": "AC" + "a" * 32,  # Prism checks ^AC[0-9a-fA-F]{32}$
    "CRISIS_TWILIO_AUTH_TOKEN": "jeton-twilio-fictif",
    "CRISIS_X_API_KEY": "cle-app-fictive",
    "CRISIS_X_API_SECRET": "secret-app-fictif",
    "CRISIS_X_ACCESS_TOKEN": "jeton-compte-fictif",
    "CRISIS_X_ACCESS_SECRET": "secret-compte-fictif",
    "CRISIS_FACEBOOK_PAGE_TOKEN": TOKEN,
    "CRISIS_SMTP_USERNAME": USERNAME,
    "CRISIS_SMTP_PASSWORD": PASSWORD,
    "CRISIS_APP_HMAC_SECRET": APP_SECRET,
}


@dataclass
class AppVendor:
    """The app vendor's endpoint: keeps each signed alert, refuses a bad signature with 401.

    The demo signs with its accelerated clock, far ahead of this process's clock: freshness is
    checked afterwards against the crisis's own time line, the HMAC here and again afterwards.
    """

    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    rejected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _app_handler(vendor: AppVendor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, data: dict[str, Any]) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            stamp = self.headers.get("X-Crisis-Timestamp", "")
            signature = self.headers.get("X-Crisis-Signature", "")
            now = int(stamp) if stamp.isdigit() else 0
            with vendor.lock:
                if not verify_signature(APP_SECRET, stamp, body, signature, now=now):
                    vendor.rejected += 1
                    return self._answer(401, {"error": "signature"})
                vendor.received.append((dict(self.headers), body))
                number = len(vendor.received)
            return self._answer(201, {"id": f"app-{number}"})

    return Handler


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the relay's), made with openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@dataclass
class Providers:
    """Where each stand-in listens, and what it saw."""

    twilio: str
    x: str
    relay: Relay
    ca_file: Path
    graph: str
    page: GraphPage
    app: str
    vendor: AppVendor


@pytest.fixture(scope="module")
def providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Providers]:
    tls = tmp_path_factory.mktemp("tls")
    certificate = _certificate(tls)
    page, vendor = GraphPage(), AppVendor()
    with ExitStack() as stack:
        twilio = stack.enter_context(prism_mock(TWILIO_SPEC))
        x = stack.enter_context(prism_mock(X_SPEC))
        relay = stack.enter_context(smtp_server(Relay(), certificate))
        graph = stack.enter_context(http_server(make_handler(page)))
        app = stack.enter_context(http_server(_app_handler(vendor)))
        yield Providers(twilio, x, relay, certificate[0], graph, page, app, vendor)


def _config(providers: Providers, site: Path, web_port: int) -> str:
    channels = {
        "voice": "twilio",
        "sms": "twilio",
        "email": "smtp",
        "x": "x",
        "facebook": "facebook",
        "website": "website",
        "app": "webhook",
    }
    blocks = "\n".join(
        f'[channels.{name}]\nprovider = "{provider}"\n' for name, provider in channels.items()
    )
    return f"""{blocks}
[web]
host = "127.0.0.1"
port = {web_port}

[twilio]
api_base_url = "{providers.twilio}"
public_base_url = "http://127.0.0.1:{web_port}"
voice_from = "+33199000001"
sms_sender = "PREF42"
timeout_s = 10

[smtp]
host = "127.0.0.1"
port = {providers.relay.port}
starttls = true
from_address = "pref-communication@{SENDER_DOMAIN}"
from_name = "Préfecture de la Loire"
timeout_s = 10
ca_file = "{providers.ca_file}"
helo_hostname = "orchestrateur.example.fr"

[x]
api_base_url = "{providers.x}"
timeout_s = 10

[facebook]
page_id = "{PAGE}"
graph_base_url = "{providers.graph}"
timeout_s = 10

[website]
output_dir = "{site}"
public_url = "https://www.loire.gouv.fr/alerte"
cap_sender = "pref-loire@interieur.gouv.fr"

[app]
url = "{providers.app}/v1/alertes"
timeout_s = 10
app_name = "Alerte Loire"
"""


def _crisis(*args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run `crisis ARGS`; past the timeout, fail with where it was stuck (faulthandler dump)."""
    with subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-m", "crisis", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
            stdout, stderr = process.communicate(timeout=30)
            pytest.fail(f"crisis {args[0]} bloqué après {timeout} s :\n{stdout[-3000:]}\n{stderr}")
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _failure(result: subprocess.CompletedProcess[str]) -> str:
    """The end of the screen, and each error the command printed (its last lines included)."""
    errors = [line for line in result.stderr.splitlines() if "Error" in line]
    return "\n".join([result.stdout[-2000:], *errors[-10:], result.stderr[-1500:]])


def _words(text: str) -> str:
    return " ".join(text.split())


def _read_mail(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.mark.slow
def test_demo_runs_the_flood_playbook_through_the_real_clients(
    providers: Providers, tmp_path: Path
) -> None:
    """Config only: every channel on its real provider; each provider receives what the outbox
    says was sent, with the provider's own ids, and the journal stays intact."""
    site = tmp_path / "site"
    site.mkdir()
    config = tmp_path / "crisis.toml"
    config.write_text(_config(providers, site, free_port()), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRISIS_", "TWILIO_"))} | ENV

    checked = _crisis("check-config", "--config", str(config), env=env, timeout=60)
    said = " ".join((checked.stdout + checked.stderr).split())
    assert checked.returncode == 0, said
    assert "fournisseurs réels" in said
    for provider in ("twilio (voice, sms)", "smtp (email)", "x (x)", "facebook (facebook)"):
        assert provider in said
    assert "website (website)" in said and "webhook (app)" in said

    data_dir = tmp_path / "demo"
    started = time.monotonic()
    result = _crisis(
        "demo", "--config", str(config), "--speed", str(SPEED), "--data-dir", str(data_dir),
        env=env, timeout=150,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    out = " ".join(result.stdout.split())
    assert result.returncode == 0, _failure(result)
    assert "fournisseurs réels : twilio (voice, sms)" in out
    assert "chaînage intègre" in out
    assert elapsed < 90, f"démonstration trop lente : {elapsed:.0f} s"

    store = Store.open(f"sqlite:///{data_dir / 'crisis.db'}")
    try:
        with store.transaction() as tx:
            (crisis_id,) = tx.crisis_ids(open_only=False)
            crisis = tx.crisis(crisis_id)
            rows = tx.in_states(list(OutboxState))
            stored, head_seq, head_hash = tx.stored_journal(crisis_id)
    finally:
        store.close()
    assert verify(crisis_id, stored, head_seq, head_hash) == []
    demo_config = str(data_dir / "demo.toml")
    verified = _crisis("journal", "verify", "--config", demo_config, env=env, timeout=60)
    assert verified.returncode == 0, _failure(verified)
    assert f"{crisis_id} : main courante intègre" in " ".join(verified.stdout.split())

    by_channel: dict[ChannelName, list[OutboxItem]] = {}
    for row in rows:
        by_channel.setdefault(row.message.channel, []).append(row)
    assert set(by_channel) == set(ChannelName)
    done = {OutboxState.SENT, OutboxState.DELIVERED}
    for channel, items in by_channel.items():
        reached = [i for i in items if i.state in done]
        assert reached, f"{channel.value} : aucun envoi abouti ({[i.state for i in items]})"
        stuck = [i for i in items if i.state not in done | {OutboxState.CANCELLED}]
        assert not stuck, f"{channel.value} : {[(i.state, i.message.step_id) for i in stuck]}"

    def ids(channel: ChannelName) -> list[str | None]:
        return [i.provider_id for i in by_channel[channel] if i.state in done]

    # Twilio: the spec's examples (Prism answers every create with them)
    assert set(ids(ChannelName.SMS)) == {EXAMPLE_SMS_SID}
    assert set(ids(ChannelName.VOICE)) == {EXAMPLE_CALL_SID}
    # two publications: the first public message, then the CIP's number once the préfet ordered it
    published = {i.message.step_id for i in by_channel[ChannelName.X] if i.state in done}
    assert published == {"premier_message", "annonce_cip_public"}
    # X: the tweet id of the spec's 201 example
    assert ids(ChannelName.X) == [EXAMPLE_TWEET_ID] * 2
    # Facebook: the post ids the Graph stand-in gave, for the posts it holds
    assert sorted(ids(ChannelName.FACEBOOK)) == sorted(post["id"] for post in providers.page.posts)
    assert len(providers.page.posts) == 2
    # App: the vendor's ids; every request was signed with the shared secret at crisis time
    assert sorted(ids(ChannelName.APP)) == ["app-1", "app-2"]
    assert providers.vendor.rejected == 0
    assert len(providers.vendor.received) == 2
    headers, body = providers.vendor.received[0]
    stamp = int(headers["X-Crisis-Timestamp"])
    signed_at = datetime.fromtimestamp(stamp, UTC)
    assert crisis.t0 + timedelta(minutes=15) <= signed_at <= crisis.t0 + timedelta(minutes=61)
    assert verify_signature(
        APP_SECRET, stamp, body, headers["X-Crisis-Signature"], now=signed_at, tolerance_s=1
    )
    assert not verify_signature(
        APP_SECRET + "x", stamp, body, headers["X-Crisis-Signature"], now=signed_at
    )
    payload = json.loads(body)
    assert payload["id"] == by_channel[ChannelName.APP][0].message.idempotency_key

    # E-mail: Message-IDs derived from the outbox keys; the relay got them over STARTTLS + AUTH
    mails = {str(m["Message-ID"]): m for m in map(_read_mail, providers.relay.received)}
    sent_mails = [i for i in by_channel[ChannelName.EMAIL] if i.state in done]
    for item in sent_mails:
        assert item.provider_id == message_id_for(item.message.idempotency_key, SENDER_DOMAIN)
        assert item.provider_id in mails
    assert len(mails) == len(providers.relay.received) == len(sent_mails)
    assert all(s["tls"] and s["authenticated"] for s in providers.relay.sessions)
    releases = [i for i in sent_mails if i.message.engagement == "48.3"]
    assert releases, "le communiqué de presse (48.3) n'est pas parti"
    for item in releases:
        mail = mails[str(item.provider_id)]
        assert mail.get_content_type() == "multipart/alternative"
        text = mail.get_body(("plain",))
        html = mail.get_body(("html",))
        assert text is not None and html is not None
        assert item.message.html, "le communiqué est rédigé en HTML par son modèle"
        assert _words(html.get_content()) == _words(item.message.html)
        assert _words(text.get_content()) == _words(item.message.body)
        assert "<h1>Communiqué de presse" in html.get_content()

    # Website: the static pages, the feed and a valid CAP 1.2 alert, all under the CAP id;
    # then the CIP's number published as an update of the same alert
    websites = {i.message.step_id: i for i in by_channel[ChannelName.WEBSITE]}
    assert set(websites) == {"premier_message", "annonce_cip_public"}
    website = websites["premier_message"]
    identifier = website.provider_id
    assert identifier is not None and identifier.startswith("urn:crisis:42:")
    page = (site / "alerte.html").read_text(encoding="utf-8")
    assert "Préfecture de la Loire" in page
    feed = (site / "atom.xml").read_text(encoding="utf-8")
    assert f"<id>{identifier}</id>" in feed
    cap = site / "cap" / (identifier.replace(":", "-") + ".xml")
    alerts = sorted((site / "cap").glob("*.xml"))
    assert cap in alerts and len(alerts) == 2
    assert all(validate_cap(a.read_bytes()) == [] for a in alerts)
    update = next(a for a in alerts if a != cap).read_text(encoding="utf-8")
    assert "<msgType>Update</msgType>" in update and identifier in update  # references it
    assert DEMO_CIP_NUMBER in update
    assert f"<identifier>{identifier}</identifier>" in cap.read_text(encoding="utf-8")
    assert f"cap/{cap.name}" in (site / "cap.xml").read_text(encoding="utf-8")  # CAP index
