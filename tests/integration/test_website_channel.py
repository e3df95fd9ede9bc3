"""The website channel publishes the alert page, the banner, the Atom and CAP feeds in a real
folder, and signs its calls to a real (local) CMS webhook."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import hmac
import json
import os
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest

from channels.base import (
    Channel,
    ChannelConfigError,
    ChannelName,
    DeliveryFailed,
    OutgoingMessage,
    Recipient,
)
from channels.cap import CAP_NAMESPACE, validate_cap
from channels.website import (
    CrisisContext,
    WebsiteChannel,
    WebsiteCredentials,
    WebsiteSettings,
    check_website,
)

CAP = {"cap": CAP_NAMESPACE}
ATOM = {"atom": "http://www.w3.org/2005/Atom"}
SECRET = "s" * 40
START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)  # 10:00 in Paris


class FakeTime:
    """A TimeSource that tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)
        await asyncio.sleep(0)


def _message(n: int, crisis: str = "crise-A", **fields: object) -> OutgoingMessage:
    values: dict[str, object] = {
        "idempotency_key": f"{crisis}:etape-{n}:site:website:v1",
        "channel": ChannelName.WEBSITE,
        "recipient": Recipient(contact_id="site-prefecture", address="site"),
        "subject": f"Message {n} de {crisis}",
        "body": f"Corps du message {n}.",
        "crisis_id": crisis,
        "step_id": f"etape-{n}",
        "valid_until": START + timedelta(hours=6),
    }
    values.update(fields)
    return OutgoingMessage(**values)  # type: ignore[arg-type]


def _settings(**fields: object) -> WebsiteSettings:
    values: dict[str, object] = {
        "public_url": "https://www.loire.gouv.fr/alerte",
        "feed_url": "https://www.loire.gouv.fr/alerte/flux/",
        "cap_sender": "pref-loire@interieur.gouv.fr",
    }
    values.update(fields)
    return WebsiteSettings(**values)  # type: ignore[arg-type]


def _context(crisis_id: str) -> CrisisContext | None:
    if crisis_id == "crise-A":
        return CrisisContext(event_kind="inondation", area_desc="Roanne", insee_codes=("42187",))
    return None


def _channel(out: Path, clock: FakeTime, **settings: object) -> WebsiteChannel:
    return WebsiteChannel(
        _settings(output_dir=out, **settings),
        WebsiteCredentials(),
        clock,
        crisis_context=_context,
    )


def _cap_docs(out: Path) -> dict[str, ET.Element]:
    return {p.name: ET.fromstring(p.read_bytes()) for p in sorted((out / "cap").glob("*.xml"))}


def _cap_of(out: Path, identifier: str) -> ET.Element:
    for root in _cap_docs(out).values():
        if root.findtext("cap:identifier", namespaces=CAP) == identifier:
            return root
    raise AssertionError(identifier)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "www"
    folder.mkdir()
    return folder


async def _publish_four(channel: WebsiteChannel, clock: FakeTime) -> list[str]:
    """Three messages of crise-A (one with markup), then one of crise-B, ten minutes apart."""
    ids = []
    for message in (
        _message(1),
        _message(2, body="Évitez les berges <script>alert('x')</script> & restez chez vous."),
        _message(3),
        _message(1, crisis="crise-B"),
    ):
        ids.append((await channel.send(message)).provider_id)
        await clock.sleep(600)
    return ids


def test_website_channel_implements_the_protocol(out: Path):
    """The channel is a Channel named "website"."""
    channel = _channel(out, FakeTime(START))
    assert isinstance(channel, Channel)
    assert channel.name is ChannelName.WEBSITE


async def test_messages_appear_on_page_feeds_and_cap_alerts(out: Path):
    """Four messages of two crises: page lists them escaped, Atom has 4 entries, CAP alerts
    validate and chain Alert, Update, Update."""
    clock = FakeTime(START)
    channel = _channel(out, clock)
    ids = await _publish_four(channel, clock)

    page = (out / "alerte.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; restez" in page
    assert "<script>" not in page
    positions = [page.index(f"Message {n} de crise-A") for n in (3, 2, 1)]
    assert positions == sorted(positions)  # newest first
    assert page.index("Message 1 de crise-B") < positions[0]  # most recent crisis first
    assert "10 h 20" in page  # message 3 at 09:20 UTC, shown in Paris time
    assert "EXERCICE" not in page

    atom = ET.fromstring((out / "atom.xml").read_bytes())
    entries = atom.findall("atom:entry", ATOM)
    assert len(entries) == 4
    assert atom.findtext("atom:id", namespaces=ATOM)
    assert atom.findtext("atom:updated", namespaces=ATOM) == "2026-01-15T10:30:00+01:00"
    assert [e.findtext("atom:id", namespaces=ATOM) for e in entries] == ids[::-1]

    docs = _cap_docs(out)
    assert len(docs) == 4
    for name, root in docs.items():
        assert validate_cap(ET.tostring(root)) == [], name
    a_types = [_cap_of(out, i).findtext("cap:msgType", namespaces=CAP) for i in ids[:3]]
    assert a_types == ["Alert", "Update", "Update"]
    assert _cap_of(out, ids[3]).findtext("cap:msgType", namespaces=CAP) == "Alert"
    third_refs = _cap_of(out, ids[2]).findtext("cap:references", namespaces=CAP) or ""
    assert [r.split(",")[1] for r in third_refs.split(" ")] == ids[:2]
    first = _cap_of(out, ids[0])
    assert first.findtext("cap:info/cap:category", namespaces=CAP) == "Met"
    assert first.findtext("cap:info/cap:area/cap:areaDesc", namespaces=CAP) == "Roanne"
    assert first.findtext("cap:info/cap:expires", namespaces=CAP) == "2026-01-15T16:00:00+01:00"
    assert first.findtext("cap:info/cap:web", namespaces=CAP) == "https://www.loire.gouv.fr/alerte"

    cap_feed = ET.fromstring((out / "cap.xml").read_bytes())
    links = [
        e.find("atom:link", ATOM).get("href")  # type: ignore[union-attr]
        for e in cap_feed.findall("atom:entry", ATOM)
    ]
    assert len(links) == 4
    prefix = "https://www.loire.gouv.fr/alerte/flux/cap/"
    assert all(link.startswith(prefix) for link in links)
    assert {link.removeprefix(prefix) for link in links} == set(docs)

    banner = (out / "bandeau.html").read_text(encoding="utf-8")
    assert "Alerte en cours (2) : Message 1 de crise-B" in banner
    assert 'href="https://www.loire.gouv.fr/alerte"' in banner
    assert oct((out / "alerte.html").stat().st_mode & 0o777) == oct(0o644)


async def test_sending_the_same_message_twice_publishes_it_once(out: Path):
    """A resend of an idempotency key returns the same receipt and adds nothing."""
    clock = FakeTime(START)
    channel = _channel(out, clock)
    first = await channel.send(_message(1))
    await clock.sleep(60)
    again = await channel.send(_message(1))
    assert again == first
    assert len(list((out / "cap").glob("*.xml"))) == 1
    atom = ET.fromstring((out / "atom.xml").read_bytes())
    assert len(atom.findall("atom:entry", ATOM)) == 1


async def test_withdraw_publishes_a_cancel_and_takes_the_crisis_off_the_page(out: Path):
    """Fin d'alerte: a Cancel referencing all three alerts; the page keeps only crise-B."""
    clock = FakeTime(START)
    channel = _channel(out, clock)
    ids = await _publish_four(channel, clock)
    await channel.withdraw("crise-A", "Décrue confirmée, les routes sont rouvertes.")

    docs = _cap_docs(out)
    assert len(docs) == 5
    cancels = [r for r in docs.values() if r.findtext("cap:msgType", namespaces=CAP) == "Cancel"]
    assert len(cancels) == 1
    cancel = cancels[0]
    assert validate_cap(ET.tostring(cancel)) == []
    refs = (cancel.findtext("cap:references", namespaces=CAP) or "").split(" ")
    assert [r.split(",")[1] for r in refs] == ids[:3]

    page = (out / "alerte.html").read_text(encoding="utf-8")
    assert "de crise-A" not in page
    assert "Message 1 de crise-B" in page
    assert "Fin d'alerte" not in (out / "bandeau.html").read_text(encoding="utf-8")

    await channel.withdraw("crise-B", "Fin de l'événement.")
    page = (out / "alerte.html").read_text(encoding="utf-8")
    assert "Aucune alerte en cours" in page
    assert "retour à la normale" in page
    assert "Message 1 de crise-B" not in page
    banner = (out / "bandeau.html").read_text(encoding="utf-8")
    assert "Fin d&#x27;alerte : retour à la normale" in banner
    atom = ET.fromstring((out / "atom.xml").read_bytes())
    assert len(atom.findall("atom:entry", ATOM)) == 6

    await channel.withdraw("crise-B", "Fin de l'événement.")  # twice: nothing more
    assert len(_cap_docs(out)) == 6


async def test_a_message_after_a_withdrawal_starts_a_new_alert(out: Path):
    """A crisis published again after its Cancel gets a fresh Alert, without references."""
    clock = FakeTime(START)
    channel = _channel(out, clock)
    await channel.send(_message(1))
    await channel.withdraw("crise-A", "Fin d'alerte.")
    await clock.sleep(3600)
    receipt = await channel.send(_message(2))
    root = _cap_of(out, receipt.provider_id)
    assert root.findtext("cap:msgType", namespaces=CAP) == "Alert"
    assert root.find("cap:references", CAP) is None
    assert "Message 2 de crise-A" in (out / "alerte.html").read_text(encoding="utf-8")


async def test_exercise_messages_are_marked_on_page_banner_and_cap(out: Path):
    """An exercise shows the EXERCICE banner and publishes CAP status Exercise."""
    clock = FakeTime(START)
    channel = _channel(out, clock)
    receipt = await channel.send(_message(1, crisis="exo-1", exercise=True))
    page = (out / "alerte.html").read_text(encoding="utf-8")
    assert "EXERCICE EXERCICE EXERCICE" in page
    assert "EXERCICE EXERCICE EXERCICE" in (out / "bandeau.html").read_text(encoding="utf-8")
    assert _cap_of(out, receipt.provider_id).findtext("cap:status", namespaces=CAP) == "Exercise"


async def test_summer_time_is_shown_with_the_summer_offset(out: Path):
    """In July, 09:00 UTC is 11 h 00 in Paris and the CAP offset is +02:00."""
    clock = FakeTime(datetime(2026, 7, 1, 9, 0, tzinfo=UTC))
    channel = _channel(out, clock)
    receipt = await channel.send(_message(1, valid_until=None))
    assert "1er juillet 2026 à 11 h 00" in (out / "alerte.html").read_text(encoding="utf-8")
    sent = _cap_of(out, receipt.provider_id).findtext("cap:sent", namespaces=CAP)
    assert sent == "2026-07-01T11:00:00+02:00"


async def test_a_restarted_channel_finds_earlier_messages_and_continues_the_chain(out: Path):
    """After a restart, lookup answers from state.json and the next message is an Update."""
    clock = FakeTime(START)
    first = await _channel(out, clock).send(_message(1))

    restarted = _channel(out, clock)
    assert await restarted.lookup(_message(1)) == first
    assert await restarted.lookup(_message(9)) is None
    await clock.sleep(300)
    second = await restarted.send(_message(2))
    root = _cap_of(out, second.provider_id)
    assert root.findtext("cap:msgType", namespaces=CAP) == "Update"
    assert first.provider_id in (root.findtext("cap:references", namespaces=CAP) or "")


async def test_missing_output_folder_is_a_non_retryable_failure_naming_it(tmp_path: Path):
    """A folder that does not exist: refused for good, the reason names it (in French)."""
    missing = tmp_path / "absent"
    channel = _channel(missing, FakeTime(START), state_dir=tmp_path)
    with pytest.raises(DeliveryFailed) as caught:
        await channel.send(_message(1))
    assert not caught.value.retryable
    assert not caught.value.ambiguous
    assert str(missing) in caught.value.public_reason
    assert "à la main" in caught.value.public_reason
    assert await channel.lookup(_message(1)) is None  # nothing was recorded as published


@pytest.mark.parametrize(
    ("code", "words"), [(errno.ENOSPC, "disque plein"), (errno.EACCES, "droits insuffisants")]
)
async def test_file_system_errors_are_non_retryable(
    out: Path, monkeypatch: pytest.MonkeyPatch, code: int, words: str
):
    """Disk full or permission denied while writing: non-retryable, says why and where."""
    channel = _channel(out, FakeTime(START))

    def failing_replace(src: object, dst: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(DeliveryFailed) as caught:
        await channel.send(_message(1))
    monkeypatch.undo()
    assert not caught.value.retryable
    assert words in caught.value.public_reason
    assert str(out) in caught.value.public_reason
    assert await channel.lookup(_message(1)) is None
    assert not [p for p in out.rglob("*") if p.is_file()]  # no temporary file left behind


# -- the CMS webhook, against a real HTTP server on 127.0.0.1 -----------------------------


@dataclass
class FakeCms:
    """A CMS webhook endpoint: checks signatures, records publications, answers as told."""

    secret: bytes
    status: int = 200
    delay: float = 0.0
    posts: list[dict[str, object]] = field(default_factory=list)
    signatures_ok: list[bool] = field(default_factory=list)
    published: set[str] = field(default_factory=set)
    url: str = ""

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        signed = headers.get("X-Crisis-Timestamp", "").encode() + b"." + body
        expected = "sha256=" + hmac.new(self.secret, signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, headers.get("X-Crisis-Signature", ""))


def _handler(cms: FakeCms) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, status: int, payload: dict[str, object]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ok = cms.verify(dict(self.headers.items()), body)
            cms.signatures_ok.append(ok)
            if not ok:
                return self._answer(401, {"error": "signature"})
            if cms.status == 200:
                payload = json.loads(body)
                cms.posts.append(payload)
                cms.published.add(payload["idempotency_key"])
            if cms.delay:
                time.sleep(cms.delay)  # processed, but answers too late
            self._answer(cms.status, {"ok": cms.status == 200})

        def do_GET(self) -> None:
            cms.signatures_ok.append(cms.verify(dict(self.headers.items()), b""))
            key = unquote(self.path.rsplit("/", 1)[-1])
            if key in cms.published:
                return self._answer(200, {"idempotency_key": key})
            self._answer(404, {"error": "inconnu"})

    return Handler


@pytest.fixture
def cms() -> Iterator[FakeCms]:
    fake = FakeCms(secret=SECRET.encode())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    server.block_on_close = False
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/api/alertes"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def _cms_channel(url: str, clock: FakeTime, state_dir: Path | None, **settings: object):
    return WebsiteChannel(
        _settings(cms_webhook_url=url, state_dir=state_dir, **settings),
        WebsiteCredentials.from_env({"CRISIS_WEBSITE_HMAC_SECRET": SECRET}),
        clock,
        crisis_context=_context,
    )


async def test_cms_receives_signed_payloads_with_valid_cap(cms: FakeCms, tmp_path: Path):
    """Each publication is POSTed once, HMAC-signed, with its CAP alert (Alert then Update)."""
    clock = FakeTime(START)
    channel = _cms_channel(cms.url, clock, tmp_path)
    first = await channel.send(_message(1))
    await clock.sleep(120)
    await channel.send(_message(2))
    await channel.send(_message(2))  # already published: not posted again
    await channel.aclose()

    assert cms.signatures_ok == [True, True]
    assert [p["msg_type"] for p in cms.posts] == ["Alert", "Update"]
    assert cms.posts[1]["references"] == [first.provider_id]
    assert cms.posts[0]["identifier"] == first.provider_id
    assert cms.posts[0]["body"] == "Corps du message 1."
    for payload in cms.posts:
        assert validate_cap(str(payload["cap"]).encode()) == []


async def test_cms_and_folder_together_and_withdraw_posts_the_cancel(cms: FakeCms, out: Path):
    """With both targets, the Cancel goes to the CMS too, and the files are written."""
    clock = FakeTime(START)
    channel = _cms_channel(cms.url, clock, None, output_dir=out)
    await channel.send(_message(1))
    await channel.withdraw("crise-A", "Fin d'alerte.")
    await channel.aclose()
    assert [p["msg_type"] for p in cms.posts] == ["Alert", "Cancel"]
    assert len(_cap_docs(out)) == 2
    assert "Aucune alerte en cours" in (out / "alerte.html").read_text(encoding="utf-8")


async def test_cms_429_is_retryable_and_the_retry_publishes(cms: FakeCms, tmp_path: Path):
    """429: retry later; the retry posts the same publication once."""
    cms.status = 429
    channel = _cms_channel(cms.url, FakeTime(START), tmp_path)
    with pytest.raises(DeliveryFailed) as caught:
        await channel.send(_message(1))
    assert caught.value.retryable
    assert not caught.value.ambiguous
    assert await channel.lookup(_message(1)) is None  # the CMS says 404: not published

    cms.status = 200
    receipt = await channel.send(_message(1))
    await channel.aclose()
    assert [p["idempotency_key"] for p in cms.posts] == [_message(1).idempotency_key]
    assert cms.posts[0]["identifier"] == receipt.provider_id


async def test_slow_cms_is_ambiguous_and_lookup_asks_the_cms(cms: FakeCms, tmp_path: Path):
    """A timeout after the request left is ambiguous; lookup then finds it on the CMS."""
    cms.delay = 1.5
    channel = _cms_channel(cms.url, FakeTime(START), tmp_path, timeout_s=0.3)
    with pytest.raises(DeliveryFailed) as caught:
        await channel.send(_message(1))
    assert caught.value.ambiguous
    assert not caught.value.retryable
    cms.delay = 0.0
    receipt = await channel.lookup(_message(1))
    await channel.aclose()
    assert receipt is not None
    assert receipt.provider_id == cms.posts[0]["identifier"]
    assert all(cms.signatures_ok)


async def test_cms_only_lookup_asks_the_cms_after_a_restart(cms: FakeCms):
    """Without a state folder, lookup is GET {webhook}/{key}: 200 found, 404 not sent."""
    clock = FakeTime(START)
    before = _cms_channel(cms.url, clock, None)
    sent = await before.send(_message(1))
    await before.aclose()
    restarted = _cms_channel(cms.url, clock, None)
    assert await restarted.lookup(_message(1)) == sent
    assert await restarted.lookup(_message(2)) is None
    await restarted.aclose()


async def test_cms_refusals_and_outages_map_to_french_reasons(cms: FakeCms, tmp_path: Path):
    """400: non-retryable, publish by hand; 503: retryable; connection refused: retryable."""
    channel = _cms_channel(cms.url, FakeTime(START), tmp_path)
    cms.status = 400
    with pytest.raises(DeliveryFailed) as refused:
        await channel.send(_message(1))
    assert not refused.value.retryable and not refused.value.ambiguous
    assert "à la main" in refused.value.public_reason
    cms.status = 503
    with pytest.raises(DeliveryFailed) as unavailable:
        await channel.send(_message(1))
    assert unavailable.value.retryable
    await channel.aclose()

    closed = _cms_channel("http://127.0.0.1:9/api", FakeTime(START), tmp_path / "x")
    (tmp_path / "x").mkdir()
    with pytest.raises(DeliveryFailed) as down:
        await closed.send(_message(1))
    assert down.value.retryable and not down.value.ambiguous
    await closed.aclose()


async def test_wrong_secret_is_refused_for_good(cms: FakeCms, tmp_path: Path):
    """A CMS that rejects the signature (401): channel down, publish by hand."""
    channel = WebsiteChannel(
        _settings(cms_webhook_url=cms.url, state_dir=tmp_path),
        WebsiteCredentials(hmac_secret="autre-secret-" + "x" * 30),
        FakeTime(START),
    )
    with pytest.raises(DeliveryFailed) as caught:
        await channel.send(_message(1))
    await channel.aclose()
    assert not caught.value.retryable
    assert "CRISIS_WEBSITE_HMAC_SECRET" in caught.value.public_reason
    assert "autre-secret" not in caught.value.public_reason
    assert cms.signatures_ok == [False]


# -- configuration --------------------------------------------------------------------------


def test_settings_need_a_folder_or_a_webhook():
    """Neither output_dir nor cms_webhook_url: refused with a French message."""
    with pytest.raises(ValueError, match="output_dir"):
        _settings()


def test_webhook_without_secret_cannot_build_the_channel(tmp_path: Path):
    """The HMAC secret is required once a CMS webhook is configured; repr never shows it."""
    settings = _settings(cms_webhook_url="https://cms.example.fr/api", state_dir=tmp_path)
    with pytest.raises(ChannelConfigError, match="CRISIS_WEBSITE_HMAC_SECRET"):
        WebsiteChannel(settings, WebsiteCredentials.from_env({}), FakeTime(START))
    with pytest.raises(ChannelConfigError, match="CRISIS_WEBSITE_HMAC_SECRET"):
        WebsiteCredentials.from_env({}, require_secret=True)
    credentials = WebsiteCredentials.from_env({"CRISIS_WEBSITE_HMAC_SECRET": SECRET})
    assert SECRET not in repr(credentials)


def test_check_website_reports_problems_without_publishing(tmp_path: Path):
    """Missing folder, plain-http URL and missing secret are reported; nothing is written."""
    settings = _settings(
        output_dir=tmp_path / "absent",
        public_url="http://www.loire.gouv.fr/alerte",
        cms_webhook_url="https://cms.example.fr/api",
    )
    problems = check_website(settings, {})
    assert any("n'existe pas" in p for p in problems)
    assert any("public_url doit être une adresse https" in p for p in problems)
    assert any("CRISIS_WEBSITE_HMAC_SECRET" in p for p in problems)
    assert not (tmp_path / "absent").exists()

    good = _settings(output_dir=tmp_path)
    assert check_website(good, {}) == []
    assert list(tmp_path.iterdir()) == []
