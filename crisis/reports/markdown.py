"""Reports as Markdown (GitHub-flavoured tables). Pure strings."""

from __future__ import annotations

from crisis.reports.document.model import Document, Table

__all__ = ["render_markdown"]

_BANNER = "> **EXERCICE — EXERCICE — EXERCICE**"


def _cell(text: str) -> str:
    """A GFM table cell: pipes escaped, line breaks as <br>."""
    flat = text.replace("\\", "\\\\").replace("|", "\\|")
    return "<br>".join(part.strip() for part in flat.splitlines()) or " "


def _table(table: Table) -> list[str]:
    lines = []
    if table.caption:
        lines += [f"*{table.caption}*", ""]
    if not table.rows:
        return [*lines, f"_{table.empty}_", ""]
    lines.append("| " + " | ".join(_cell(h) for h in table.headers) + " |")
    lines.append("|" + "|".join(" --- " for _ in table.headers) + "|")
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return [*lines, ""]


def render_markdown(doc: Document, *, chart_note: str = "") -> str:
    """The document in Markdown; the chart is replaced by `chart_note` (e.g. see the HTML)."""
    lines: list[str] = []
    if doc.exercise:
        lines += [_BANNER, ""]
    lines += [
        "RÉPUBLIQUE FRANÇAISE — " + doc.prefecture,
        "",
        f"# {doc.title}",
        "",
        f"**{doc.subtitle}**",
        "",
        f"_{doc.generated}_",
        "",
    ]
    for index, block in enumerate(doc.blocks, start=1):
        lines += [f"## {index}. {block.title}", ""]
        for paragraph in block.paragraphs:
            lines += [paragraph, ""]
        if block.pairs:
            lines += [f"- **{term}** : {value}" for term, value in block.pairs]
            lines.append("")
        if block.chart and chart_note:
            lines += [f"_{chart_note}_", ""]
        for table in block.tables:
            lines += _table(table)
    lines += [note + "\n" for note in doc.notes]
    if doc.seal:
        lines += [f"Empreinte de la main courante : `{doc.seal}`", ""]
    if doc.exercise:
        lines += [_BANNER, ""]
    return "\n".join(lines).rstrip() + "\n"
