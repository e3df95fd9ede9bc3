"""The document every format renders: numbered blocks of text, term pairs and tables."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Block", "Document", "Table"]


@dataclass(frozen=True)
class Table:
    """A table: headers, rows of text cells (may hold line breaks), relative column widths."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[int, ...]
    row_classes: tuple[str, ...] = ()  # one CSS class per row (verdict colours), or empty
    caption: str = ""
    empty: str = "Aucun élément."
    css: str = ""  # extra class on the table element
    small: bool = False  # long texts: smaller print

    def row_class(self, index: int) -> str:
        """The CSS class of a row ("" if none)."""
        return self.row_classes[index] if index < len(self.row_classes) else ""


@dataclass(frozen=True)
class Block:
    """A numbered section of the document."""

    title: str
    anchor: str
    paragraphs: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()  # term, value
    tables: tuple[Table, ...] = ()
    chart: bool = False  # the timeline chart goes here


@dataclass(frozen=True)
class Document:
    """A report ready to be rendered in any format."""

    slug: str  # rex, conformite, bilan
    title: str
    subtitle: str
    prefecture: str
    exercise: bool
    generated: str  # "document établi le … à partir de la main courante"
    blocks: tuple[Block, ...]
    seal: str = ""  # the last entry's hash, when built from one journal
    notes: tuple[str, ...] = field(default=())
