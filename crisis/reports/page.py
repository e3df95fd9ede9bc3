"""Reports as self-contained HTML pages (inline CSS and SVG: the file opens offline)."""

from __future__ import annotations

from crisis.rendering import render_report
from crisis.reports.document.model import Document

__all__ = ["render_html"]

_TEMPLATES = {"rex": "rex.html.j2", "conformite": "conformite.html.j2", "bilan": "bilan.html.j2"}


def render_html(doc: Document, *, chart: str = "") -> str:
    """The document as one HTML page; `chart` is the timeline SVG (trusted, built by us)."""
    return render_report(_TEMPLATES[doc.slug], {"doc": doc, "chart": chart})
