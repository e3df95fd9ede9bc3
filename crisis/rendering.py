"""The one Jinja environment: sandboxed, strict about undefined names. Renders message templates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import escape

from playbooks.model import MessageTemplate, Section

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True)


class RenderError(ValueError):
    """A template that cannot be rendered: which template, which part, why (French)."""


@dataclass(frozen=True)
class RenderedMessage:
    """A message in every form the channels need."""

    subject: str
    short: str  # SMS, X, app notification
    voice: str  # text-to-speech
    long: str  # e-mail, website, Facebook
    html: str
    sections: tuple[Section, ...]  # sections with content (48.5)


@lru_cache(maxsize=512)
def _compiled(source: str) -> Any:
    return _ENV.from_string(source)


def render_text(source: str, context: Mapping[str, Any], *, where: str) -> str:
    """Render one template string; errors name where they come from."""
    try:
        return str(_compiled(source).render(**context)).strip()
    except TemplateError as exc:
        raise RenderError(f"modèle {where} : {exc}") from exc


def render_message(template: MessageTemplate, context: Mapping[str, Any]) -> RenderedMessage:
    """Render every form of a message template with the crisis context."""
    name = template.name

    def part(field: str, source: str) -> str:
        return render_text(source, context, where=f"« {name} », {field}")

    intro = part("intro", template.intro) if template.intro else ""
    closing = part("closing", template.closing) if template.closing else ""
    sections = {
        section: part(f"sections.{section.value}", text)
        for section, text in template.sections.items()
    }
    filled = {s: t for s, t in sections.items() if t}
    long_parts = [intro] if intro else []
    long_parts += [f"{s.heading}\n{t}" for s, t in filled.items()]
    if closing:
        long_parts.append(closing)
    subject = part("subject", template.subject)
    html_parts = [f"<p>{escape(intro)}</p>"] if intro else []
    html_parts += [f"<h2>{escape(s.heading)}</h2>\n<p>{escape(t)}</p>" for s, t in filled.items()]
    if closing:
        html_parts.append(f"<p>{escape(closing)}</p>")
    return RenderedMessage(
        subject=subject,
        short=part("short", template.short),
        voice=part("voice", template.voice),
        long="\n\n".join(long_parts),
        html=f"<h1>{escape(subject)}</h1>\n" + "\n".join(html_parts),
        sections=tuple(filled),
    )


_REPORTS = Path(__file__).resolve().parent / "reports" / "templates"
_PAGES = Path(__file__).resolve().parent / "web" / "templates"


@lru_cache(maxsize=2)
def _html_env(folder: Path) -> SandboxedEnvironment:
    """HTML templates from `folder`: escaped by default, strict about undefined names."""
    return SandboxedEnvironment(
        loader=FileSystemLoader(folder),
        undefined=StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _render_html(folder: Path, name: str, context: Mapping[str, Any], what: str) -> str:
    try:
        return str(_html_env(folder).get_template(name).render(**context))
    except TemplateError as exc:
        raise RenderError(f"{what} {name} : {exc}") from exc


def render_report(name: str, context: Mapping[str, Any]) -> str:
    """Render a report template (REX, conformité, bilan annuel) to an HTML page."""
    return _render_html(_REPORTS, name, context, "modèle de rapport")


def render_page(name: str, context: Mapping[str, Any]) -> str:
    """Render a dashboard page or fragment (crisis/web/templates) to HTML, escaped."""
    return _render_html(_PAGES, name, context, "modèle de page")
