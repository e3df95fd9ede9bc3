"""CAP 1.2 alerts built by channels.cap are valid, linked (Update/Cancel) and correctly dated."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from channels.cap import (
    CAP_NAMESPACE,
    CapAlert,
    CapReference,
    build_cap_alert,
    cap_datetime,
    cap_identifier,
    validate_cap,
)

NS = {"cap": CAP_NAMESPACE}
SENDER = "pref-loire@interieur.gouv.fr"
WINTER = datetime(2026, 1, 15, 9, 30, 12, 654321, tzinfo=UTC)  # 10:30:12 in Paris
SUMMER = datetime(2026, 7, 15, 9, 30, 12, 654321, tzinfo=UTC)  # 11:30:12 in Paris
PARIS = ZoneInfo("Europe/Paris")


def _alert(**fields: object) -> CapAlert:
    values: dict[str, object] = {
        "identifier": cap_identifier("42", "crisis-1:step-1:public:website:v1"),
        "sender": SENDER,
        "sent": WINTER,
        "sender_name": "Préfecture de la Loire",
        "headline": "Crue de la Loire : évitez les berges",
        "description": "Montée rapide des eaux à Roanne.\nNe vous engagez pas sur les routes inondées.",
        "event_kind": "inondation",
        "web": "https://www.loire.gouv.fr/alerte",
        "expires": WINTER + timedelta(hours=6),
        "area_desc": "Roanne, Montbrison",
        "geocodes": ("42187", "42147"),
        "incident": "crisis-1",
    }
    values.update(fields)
    return CapAlert(**values)  # type: ignore[arg-type]


def _text(document: bytes, path: str) -> str:
    found = ET.fromstring(document).find(path, NS)
    assert found is not None, path
    return found.text or ""


def test_built_alert_validates_against_the_cap_schema():
    """A first alert with area, geocodes and expiry is a valid CAP 1.2 document."""
    document = build_cap_alert(_alert())
    assert validate_cap(document) == []
    root = ET.fromstring(document)
    assert root.tag == f"{{{CAP_NAMESPACE}}}alert"
    assert _text(document, "cap:msgType") == "Alert"
    assert _text(document, "cap:status") == "Actual"
    assert _text(document, "cap:scope") == "Public"
    assert _text(document, "cap:info/cap:language") == "fr-FR"
    assert _text(document, "cap:info/cap:category") == "Met"
    assert _text(document, "cap:info/cap:event") == "Inondation"
    codes = [v.text for v in root.findall("cap:info/cap:area/cap:geocode/cap:value", NS)]
    assert codes == ["42187", "42147"]
    names = {v.text for v in root.findall("cap:info/cap:area/cap:geocode/cap:valueName", NS)}
    assert names == {"INSEE"}
    assert root.find("cap:references", NS) is None


def test_update_carries_references_to_the_earlier_alert():
    """An Update names the earlier alert as "sender,identifier,sent"."""
    first = _alert()
    first_doc = build_cap_alert(first)
    reference = CapReference(SENDER, first.identifier, _text(first_doc, "cap:sent"))
    update = _alert(
        identifier=cap_identifier("42", "crisis-1:step-2:public:website:v1"),
        sent=WINTER + timedelta(minutes=20),
        msg_type="Update",
        references=(reference,),
    )
    document = build_cap_alert(update)
    assert validate_cap(document) == []
    assert _text(document, "cap:msgType") == "Update"
    assert _text(document, "cap:references") == (
        f"{SENDER},{first.identifier},2026-01-15T10:30:12+01:00"
    )


def test_update_without_references_is_refused():
    """An Update or Cancel must say which alerts it replaces."""
    with pytest.raises(ValueError, match="reference"):
        _alert(msg_type="Update")


def test_cancel_references_every_earlier_alert_and_validates():
    """A Cancel lists all earlier alerts of the crisis, space-separated."""
    refs = (
        CapReference(SENDER, "urn:crisis:42:aaa", "2026-01-15T10:30:12+01:00"),
        CapReference(SENDER, "urn:crisis:42:bbb", "2026-01-15T10:50:12+01:00"),
    )
    document = build_cap_alert(
        _alert(
            identifier="urn:crisis:42:ccc",
            msg_type="Cancel",
            references=refs,
            headline="Fin d'alerte : retour à la normale",
            description="Décrue confirmée.",
            urgency="Past",
            severity="Minor",
            response_types=("AllClear",),
            expires=None,
        )
    )
    assert validate_cap(document) == []
    assert _text(document, "cap:msgType") == "Cancel"
    assert _text(document, "cap:references").split(" ") == [
        f"{SENDER},urn:crisis:42:aaa,2026-01-15T10:30:12+01:00",
        f"{SENDER},urn:crisis:42:bbb,2026-01-15T10:50:12+01:00",
    ]
    assert _text(document, "cap:info/cap:responseType") == "AllClear"


def test_exercise_alert_has_status_exercise():
    """An exercise message is a CAP "Exercise", with a note saying so."""
    document = build_cap_alert(_alert(exercise=True))
    assert validate_cap(document) == []
    assert _text(document, "cap:status") == "Exercise"
    assert "EXERCICE" in _text(document, "cap:note")


@pytest.mark.parametrize(
    ("when", "expected"),
    [(WINTER, "2026-01-15T10:30:12+01:00"), (SUMMER, "2026-07-15T11:30:12+02:00")],
)
def test_sent_is_paris_local_time_without_z_or_fractions(when: datetime, expected: str):
    """<sent> carries the Paris offset of the season (+01:00 / +02:00), no "Z", no fraction."""
    document = build_cap_alert(_alert(sent=when, expires=when + timedelta(hours=1)))
    sent = _text(document, "cap:sent")
    assert sent == expected
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", sent)
    assert validate_cap(document) == []


def test_cap_datetime_refuses_naive_datetimes():
    """A naive datetime has no offset to write: refused rather than guessed."""
    with pytest.raises(ValueError):
        cap_datetime(datetime(2026, 1, 15, 10, 0), PARIS)


def test_tampered_status_is_reported_by_validate_cap():
    """A document with a French status word ("Réel") breaks the schema and is reported."""
    document = build_cap_alert(_alert()).replace(b"<status>Actual<", "<status>Réel<".encode())
    problems = validate_cap(document)
    assert problems
    assert any("status" in p for p in problems)


def test_unreadable_xml_is_reported_not_raised():
    """Truncated XML gives a problem list, not an exception."""
    assert validate_cap(build_cap_alert(_alert())[:80])


def test_text_is_escaped_and_round_trips():
    """Markup in a message is text in CAP: escaped on the wire, intact when read back."""
    document = build_cap_alert(_alert(description="<script>alert('x')</script> & suite"))
    assert b"<script>" not in document
    assert _text(document, "cap:info/cap:description") == "<script>alert('x')</script> & suite"
    assert validate_cap(document) == []


def test_identifier_is_stable_and_cap_safe():
    """The same idempotency key always gives the same identifier, without spaces or commas."""
    key = "crisis 1,step:public"
    assert cap_identifier("42", key) == cap_identifier("42", key)
    assert cap_identifier("42", key) != cap_identifier("42", key + "2")
    assert re.fullmatch(r"urn:crisis:42:[0-9a-f]{24}", cap_identifier("42", key))


def test_unknown_event_kind_falls_back_to_safety():
    """An event kind without a mapping is categorised "Safety", event "Événement majeur"."""
    document = build_cap_alert(_alert(event_kind="autre"))
    assert _text(document, "cap:info/cap:category") == "Safety"
    assert _text(document, "cap:info/cap:event") == "Événement majeur"
    assert validate_cap(document) == []
