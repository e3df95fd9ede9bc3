"""What the website channel remembers (state.json) and the files it derives from it: the public
alert page, the homepage banner (Module 1 §11.4), the Atom feed and the CAP index feed.

Pure: state in, text out. HTML is built with html.escape (no template engine outside
crisis/rendering.py); feeds with ElementTree.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from channels.cap import MsgType, cap_file_name

__all__ = [
    "CrisisRecord",
    "PageContext",
    "PublishedItem",
    "WebsiteState",
    "render_alert_page",
    "render_atom_feed",
    "render_banner",
    "render_cap_feed",
]

ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EXERCISE_BANNER = "EXERCICE EXERCICE EXERCICE"
END_OF_ALERT = "Fin d'alerte : retour à la normale"
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_RECENT_ENDS = 3  # "fin d'alerte" notices kept on the page once the crises are closed


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)


class PublishedItem(_Record):
    """One published CAP alert (a message, or the Cancel that ends a crisis)."""

    key: str  # the outbox idempotency key (or "withdraw:<crisis>:<chain>")
    identifier: str
    sent: str  # as written in the CAP <sent>: local time with offset
    msg_type: MsgType
    subject: str
    body: str
    exercise: bool = False
    valid_until: str | None = None
    chain: int = 0  # a crisis reopened after a Cancel starts a new chain of alerts
    cms: Literal["pending", "done"] | None = None  # None: no CMS configured
    cap: str = ""  # the CAP document, kept only while the CMS post is pending (cap/ has it)

    @property
    def anchor(self) -> str:
        """HTML id of the message on the alert page."""
        return "msg-" + cap_file_name(self.identifier).removesuffix(".xml")


class CrisisRecord(_Record):
    """Everything published for one crisis, and whether its alert is still running."""

    crisis_id: str
    exercise: bool = False
    event_kind: str = ""
    event_label: str = ""
    categories: list[str] = []  # CAP categories; empty: from the kind
    area_desc: str = ""
    insee_codes: list[str] = []
    title: str | None = None
    chain: int = 0
    open: bool = True
    withdrawn_at: str | None = None
    withdraw_reason: str | None = None
    items: list[PublishedItem] = []

    def current(self) -> list[PublishedItem]:
        """Alerts of the running chain, oldest first (what an Update or Cancel references)."""
        return [i for i in self.items if i.chain == self.chain and i.msg_type != "Cancel"]

    def last_change(self) -> datetime:
        """When this crisis was last published or withdrawn."""
        stamps = [i.sent for i in self.items] + [s for s in (self.withdrawn_at,) if s]
        return max(datetime.fromisoformat(s) for s in stamps)


class WebsiteState(_Record):
    """The channel's memory, kept in state.json: survives restarts, answers lookups."""

    version: int = 1
    crises: dict[str, CrisisRecord] = {}

    def find(self, key: str) -> tuple[CrisisRecord, PublishedItem] | None:
        """The crisis and item published under an idempotency key."""
        for crisis in self.crises.values():
            for item in crisis.items:
                if item.key == key:
                    return crisis, item
        return None

    def all_items(self) -> list[PublishedItem]:
        """Every published alert, newest first."""
        items = list(enumerate(i for c in self.crises.values() for i in c.items))
        items.sort(key=lambda pair: (datetime.fromisoformat(pair[1].sent), pair[0]), reverse=True)
        return [item for _, item in items]

    def open_crises(self) -> list[CrisisRecord]:
        """Crises whose alert is running, most recently updated first."""
        crises = [c for c in self.crises.values() if c.open and c.current()]
        return sorted(crises, key=CrisisRecord.last_change, reverse=True)


@dataclass(frozen=True)
class PageContext:
    """Where things are published and who publishes them."""

    prefecture_name: str
    public_url: str  # the alert page
    files_url: str  # public URL of the folder serving output_dir, ending with "/"
    timezone: ZoneInfo
    feed_entries: int = 50

    @property
    def atom_url(self) -> str:
        return self.files_url + "atom.xml"

    @property
    def cap_feed_url(self) -> str:
        return self.files_url + "cap.xml"

    def cap_url(self, identifier: str) -> str:
        return self.files_url + "cap/" + cap_file_name(identifier)


def french_time(value: str | datetime, tz: ZoneInfo) -> str:
    """ "15 janvier 2025 à 10 h 05", in the prefecture's time zone."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = when.astimezone(tz)
    day = "1er" if local.day == 1 else str(local.day)
    return f"{day} {_MONTHS[local.month - 1]} {local.year} à {local.hour} h {local.minute:02d}"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _paragraphs(text: str) -> str:
    blocks = [b.strip() for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    return "\n".join(f"<p>{_e(b).replace(chr(10), '<br>' + chr(10))}</p>" for b in blocks)


def _time(value: str, ctx: PageContext) -> str:
    return f'<time datetime="{_e(value)}">{_e(french_time(value, ctx.timezone))}</time>'


def _crisis_title(crisis: CrisisRecord) -> str:
    if crisis.title:
        return crisis.title
    return " – ".join(p for p in (crisis.event_label, crisis.area_desc) if p) or "Alerte"


def _message(item: PublishedItem, ctx: PageContext) -> str:
    label = "Première information" if item.msg_type == "Alert" else "Mise à jour"
    validity = ""
    if item.valid_until:
        validity = (
            '\n<p class="fr-text--xs">Information valable jusqu\'au '
            f"{_time(item.valid_until, ctx)}.</p>"
        )
    return (
        f'<article class="fr-card fr-mb-3w" id="{_e(item.anchor)}">\n'
        f"<h3>{_e(item.subject or label)}</h3>\n"
        f'<p class="fr-text--sm">{label} publiée le {_time(item.sent, ctx)}</p>\n'
        f"{_paragraphs(item.body)}{validity}\n"
        "</article>"
    )


def _exercise_notice() -> str:
    return (
        '<div class="fr-notice fr-notice--warning" role="note">'
        f"<p><strong>{EXERCISE_BANNER}</strong> : ceci est un exercice, "
        "aucune action n'est demandée à la population.</p></div>"
    )


def _crisis_section(crisis: CrisisRecord, ctx: PageContext) -> str:
    ident = "crise-" + _e(cap_file_name(crisis.crisis_id or "alerte").removesuffix(".xml"))
    parts = [f'<section class="fr-mb-6w" id="{ident}" aria-labelledby="{ident}-titre">']
    if crisis.exercise:
        parts.append(_exercise_notice())
    parts.append(f'<h2 id="{ident}-titre">{_e(_crisis_title(crisis))}</h2>')
    parts.extend(_message(i, ctx) for i in reversed(crisis.current()))
    if crisis.exercise:
        parts.append(_exercise_notice())
    parts.append("</section>")
    return "\n".join(parts)


def _end_notice(crisis: CrisisRecord, ctx: PageContext) -> str:
    when = f" le {_time(crisis.withdrawn_at, ctx)}" if crisis.withdrawn_at else ""
    reason = _paragraphs(crisis.withdraw_reason or "")
    prefix = f"{EXERCISE_BANNER} – " if crisis.exercise else ""
    return (
        '<section class="fr-callout fr-mb-3w">\n'
        f"<h2>{_e(prefix + END_OF_ALERT)}</h2>\n"
        f"<p>{_e(_crisis_title(crisis))} : fin d'alerte prononcée{when}.</p>\n"
        f"{reason}\n</section>"
    )


def render_alert_page(state: WebsiteState, ctx: PageContext, now: datetime) -> str:
    """alerte.html: the current messages of the open crises, newest first."""
    crises = state.open_crises()
    heading = "Alertes en cours" if crises else "Aucune alerte en cours"
    body = [_crisis_section(c, ctx) for c in crises]
    if not crises:
        ended = [c for c in state.crises.values() if not c.open and c.withdrawn_at]
        ended.sort(key=CrisisRecord.last_change, reverse=True)
        body.extend(_end_notice(c, ctx) for c in ended[:_RECENT_ENDS])
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(heading)} – {_e(ctx.prefecture_name)}</title>
<link rel="alternate" type="application/atom+xml" title="Alertes (Atom)" href="{_e(ctx.atom_url)}">
<link rel="alternate" type="application/atom+xml" title="Alertes CAP 1.2" \
href="{_e(ctx.cap_feed_url)}">
</head>
<body>
<main class="fr-container fr-my-6w" id="contenu" role="main">
<h1>{_e(heading)}</h1>
<p class="fr-text--sm">{_e(ctx.prefecture_name)} – page mise à jour le \
{_e(french_time(now, ctx.timezone))} (heure locale).</p>
{chr(10).join(body)}
</main>
<footer class="fr-footer" role="contentinfo">
<p class="fr-container">Flux : <a href="{_e(ctx.atom_url)}">Atom</a> – \
<a href="{_e(ctx.cap_feed_url)}">alertes CAP 1.2</a></p>
</footer>
</body>
</html>
"""


def render_banner(state: WebsiteState, ctx: PageContext) -> str:
    """bandeau.html: the homepage banner, one line and a link to the alert page."""
    crises = state.open_crises()
    link = f'<a href="{_e(ctx.public_url)}">Consulter l\'information et les consignes</a>'
    if crises:
        latest = crises[0].current()[-1]
        exercise = any(c.exercise for c in crises)
        count = f" ({len(crises)})" if len(crises) > 1 else ""
        prefix = f"{EXERCISE_BANNER} – " if exercise else ""
        text = (
            f"{prefix}Alerte en cours{count} : {latest.subject or _crisis_title(crises[0])} "
            f"(mise à jour le {french_time(latest.sent, ctx.timezone)})"
        )
        kind = "fr-notice--alert"
    elif any(not c.open and c.withdrawn_at for c in state.crises.values()):
        text, kind = END_OF_ALERT, "fr-notice--info"
    else:
        return "<!-- aucune alerte en cours -->\n"
    return (
        f'<div class="fr-notice {kind}" role="alert" lang="fr"><div class="fr-container">'
        f'<p class="fr-notice__title">{_e(text)}. {link}</p></div></div>\n'
    )


def _atom_sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _atom_feed(
    feed_id: str, title: str, ctx: PageContext, items: list[PublishedItem]
) -> ET.Element:
    # unqualified names plus an explicit xmlns: ElementTree's default_namespace option cannot
    # serialize unqualified attributes (rel, href, type)
    feed = ET.Element("feed", {"xmlns": ATOM_NAMESPACE, _XML_LANG: "fr"})
    _atom_sub(feed, "id", feed_id)
    _atom_sub(feed, "title", title)
    _atom_sub(feed, "updated", items[0].sent if items else "1970-01-01T00:00:00+00:00")
    _atom_sub(feed, "link", rel="self", type="application/atom+xml", href=feed_id)
    _atom_sub(feed, "link", rel="alternate", type="text/html", href=ctx.public_url)
    author = _atom_sub(feed, "author")
    _atom_sub(author, "name", ctx.prefecture_name)
    return feed


def _entry_title(item: PublishedItem) -> str:
    title = item.subject or (END_OF_ALERT if item.msg_type == "Cancel" else "Alerte")
    return f"{EXERCISE_BANNER} – {title}" if item.exercise else title


def _serialize(feed: ET.Element) -> str:
    ET.indent(feed)
    text = ET.tostring(feed, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + text + "\n"


def _render_feed(
    state: WebsiteState,
    ctx: PageContext,
    url: str,
    title: str,
    fill: Callable[[ET.Element, PublishedItem], None],
) -> str:
    """An Atom feed of the newest published items: each entry's id and title, then `fill`."""
    items = state.all_items()[: ctx.feed_entries]
    feed = _atom_feed(url, title, ctx, items)
    for item in items:
        entry = _atom_sub(feed, "entry")
        _atom_sub(entry, "id", item.identifier)
        _atom_sub(entry, "title", _entry_title(item))
        fill(entry, item)
    return _serialize(feed)


def render_atom_feed(state: WebsiteState, ctx: PageContext) -> str:
    """atom.xml: the published messages (and ends of alert), newest first."""

    def fill(entry: ET.Element, item: PublishedItem) -> None:
        _atom_sub(entry, "published", item.sent)
        _atom_sub(entry, "updated", item.sent)
        page = ctx.public_url if item.msg_type == "Cancel" else f"{ctx.public_url}#{item.anchor}"
        _atom_sub(entry, "link", rel="alternate", type="text/html", href=page)
        _atom_sub(entry, "category", term=item.msg_type)
        _atom_sub(entry, "content", item.body, type="text")

    return _render_feed(state, ctx, ctx.atom_url, f"Alertes – {ctx.prefecture_name}", fill)


def render_cap_feed(state: WebsiteState, ctx: PageContext) -> str:
    """cap.xml: an Atom index of the CAP alerts, each entry linking to cap/<identifier>.xml."""

    def fill(entry: ET.Element, item: PublishedItem) -> None:
        _atom_sub(entry, "updated", item.sent)
        href = ctx.cap_url(item.identifier)
        _atom_sub(entry, "link", rel="alternate", type="application/cap+xml", href=href)
        _atom_sub(entry, "category", term=item.msg_type)
        _atom_sub(entry, "summary", item.subject or item.body[:200], type="text")

    title = f"Alertes CAP – {ctx.prefecture_name}"
    return _render_feed(state, ctx, ctx.cap_feed_url, title, fill)
