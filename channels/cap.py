"""CAP 1.2 (OASIS Common Alerting Protocol): build one `<alert>` and validate it against the XSD.

Pure: no I/O except reading the shipped schema (channels/data/CAP-v1.2.xsd, see its NOTICE).
"""

from __future__ import annotations

import hashlib
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo

import xmlschema

__all__ = [
    "CAP_NAMESPACE",
    "CapAlert",
    "CapReference",
    "Certainty",
    "MsgType",
    "Severity",
    "Urgency",
    "build_cap_alert",
    "cap_categories",
    "cap_datetime",
    "cap_event_label",
    "cap_file_name",
    "cap_identifier",
    "validate_cap",
]

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
_NS = "{" + CAP_NAMESPACE + "}"

MsgType = Literal["Alert", "Update", "Cancel"]
Urgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
Severity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
Certainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]
ResponseType = Literal[
    "Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None"
]

# CAP 1.2 §3.2.2 categories per event kind, when the alert does not carry its own (a CAP built
# without a crisis context). The orchestrator passes the kind's row (playbooks/kinds.py): a new
# kind needs no line here. "Met" covers floods.
_CATEGORIES: dict[str, tuple[str, ...]] = {
    "inondation": ("Met",),
    "tempete": ("Met",),
    "nucleaire": ("CBRNE",),
    "attentat": ("Security",),
    "sater": ("Rescue",),
    "accident_industriel": ("Safety", "Env"),
}
_EVENT_LABELS: dict[str, str] = {
    "inondation": "Inondation",
    "tempete": "Tempête",
    "nucleaire": "Accident nucléaire",
    "attentat": "Attentat",
    "sater": "Recherche aéroterrestre (SATER)",
    "accident_industriel": "Accident industriel",
}
DEFAULT_EVENT_LABEL = "Événement majeur"

# identifier and sender: no spaces, commas, "<" or "&" (CAP 1.2 §3.2.1)
_RESTRICTED = re.compile(r"[\s,<&]")
# characters XML 1.0 cannot carry at all
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def cap_categories(event_kind: str) -> tuple[str, ...]:
    """CAP categories for an event kind; "Safety" when the kind is unknown."""
    return _CATEGORIES.get(event_kind, ("Safety",))


def cap_event_label(event_kind: str) -> str:
    """French label of an event kind for `<event>`."""
    return _EVENT_LABELS.get(event_kind, DEFAULT_EVENT_LABEL)


def cap_identifier(prefecture_code: str, idempotency_key: str) -> str:
    """Stable CAP identifier for one publication: the same key always gives the same alert id."""
    code = _RESTRICTED.sub("-", prefecture_code.strip()) or "0"
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:24]
    return f"urn:crisis:{code}:{digest}"


def cap_file_name(identifier: str) -> str:
    """Portable file name for an alert (`cap/<name>`): colons and the like become dashes."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", identifier) + ".xml"


def cap_datetime(when: datetime, timezone: ZoneInfo) -> str:
    """CAP date-time: local time with its offset, no "Z", no fractions (the XSD's pattern)."""
    if when.tzinfo is None:
        raise ValueError("CAP needs an aware datetime")
    return when.astimezone(timezone).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class CapReference:
    """An earlier alert this one updates or cancels."""

    sender: str
    identifier: str
    sent: str  # as written in that alert's <sent>

    def __str__(self) -> str:
        return f"{self.sender},{self.identifier},{self.sent}"


@dataclass(frozen=True)
class CapAlert:
    """One CAP alert message with a single French `<info>` block."""

    identifier: str
    sender: str
    sent: datetime
    sender_name: str  # the prefecture, e.g. "Préfecture de la Loire"
    headline: str
    description: str
    msg_type: MsgType = "Alert"
    exercise: bool = False
    references: tuple[CapReference, ...] = ()
    incident: str | None = None  # the crisis id: groups every alert of one événement majeur
    event_kind: str = ""
    event: str | None = None  # French label; default: from event_kind
    categories: tuple[str, ...] = ()  # CAP 1.2 §3.2.2; default: from event_kind
    urgency: Urgency = "Immediate"
    severity: Severity = "Severe"
    certainty: Certainty = "Observed"
    response_types: tuple[ResponseType, ...] = ()
    instruction: str | None = None
    web: str | None = None  # the public alert page
    expires: datetime | None = None
    area_desc: str | None = None
    geocodes: tuple[str, ...] = ()  # codes INSEE of the communes concerned
    timezone: str = "Europe/Paris"

    def __post_init__(self) -> None:
        for field, value in (("identifier", self.identifier), ("sender", self.sender)):
            if not value or _RESTRICTED.search(value):
                raise ValueError(f"CAP {field} must be non-empty, without spaces, ',', '<', '&'")
        if self.msg_type in ("Update", "Cancel") and not self.references:
            raise ValueError(f"a CAP {self.msg_type} must reference the alerts it replaces")
        if self.sent.tzinfo is None or (self.expires is not None and self.expires.tzinfo is None):
            raise ValueError("CAP needs aware datetimes")


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, _NS + tag)
    element.text = _text(text)
    return element


def build_cap_alert(alert: CapAlert) -> bytes:
    """The alert as a CAP 1.2 XML document (UTF-8, with declaration)."""
    tz = ZoneInfo(alert.timezone)
    root = ET.Element(_NS + "alert")
    _sub(root, "identifier", alert.identifier)
    _sub(root, "sender", alert.sender)
    _sub(root, "sent", cap_datetime(alert.sent, tz))
    _sub(root, "status", "Exercise" if alert.exercise else "Actual")
    _sub(root, "msgType", alert.msg_type)
    _sub(root, "scope", "Public")
    if alert.exercise:
        _sub(root, "note", "EXERCICE EXERCICE EXERCICE : message d'exercice, aucune action requise")
    if alert.references:
        _sub(root, "references", " ".join(str(r) for r in alert.references))
    if alert.incident:
        _sub(root, "incidents", _RESTRICTED.sub("-", alert.incident))

    info = ET.SubElement(root, _NS + "info")
    _sub(info, "language", "fr-FR")
    for category in alert.categories or cap_categories(alert.event_kind):
        _sub(info, "category", category)
    _sub(info, "event", alert.event or cap_event_label(alert.event_kind))
    for response in alert.response_types:
        _sub(info, "responseType", response)
    _sub(info, "urgency", alert.urgency)
    _sub(info, "severity", alert.severity)
    _sub(info, "certainty", alert.certainty)
    if alert.expires is not None:
        _sub(info, "expires", cap_datetime(alert.expires, tz))
    _sub(info, "senderName", alert.sender_name)
    _sub(info, "headline", alert.headline)
    _sub(info, "description", alert.description)
    if alert.instruction:
        _sub(info, "instruction", alert.instruction)
    if alert.web:
        _sub(info, "web", alert.web)
    if alert.area_desc or alert.geocodes:
        area = ET.SubElement(info, _NS + "area")
        _sub(area, "areaDesc", alert.area_desc or "Communes concernées")
        for code in alert.geocodes:
            geocode = ET.SubElement(area, _NS + "geocode")
            _sub(geocode, "valueName", "INSEE")
            _sub(geocode, "value", code)
    ET.indent(root)
    document: bytes = ET.tostring(
        root, encoding="utf-8", xml_declaration=True, default_namespace=CAP_NAMESPACE
    )
    return document


@cache
def _schema() -> xmlschema.XMLSchema:
    source = resources.files("channels").joinpath("data", "CAP-v1.2.xsd").read_text("utf-8")
    return xmlschema.XMLSchema(source)


def validate_cap(xml_bytes: bytes) -> list[str]:
    """Problems of a CAP document against the CAP 1.2 XSD; empty when valid."""
    try:
        errors = list(_schema().iter_errors(io.BytesIO(xml_bytes)))
    except (xmlschema.XMLSchemaException, ET.ParseError, ValueError) as exc:
        return [f"document XML illisible : {exc}"]
    return [f"{error.path or '/'} : {error.reason or error.message}" for error in errors]
