"""Reports as PDF (fpdf2): A4, the prefecture and the title on every page, « page N / M »,
readable tables and the timeline drawn with lines and rectangles (real text, no image)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from crisis.reports.document.model import Block, Document, Table
from crisis.reports.figures import CategoryName, RexFigures
from crisis.reports.timeline import COLOURS, Chart, layout

__all__ = ["FONT_DIRS", "FontMissing", "render_pdf"]

FONT_DIRS: tuple[Path, ...] = (
    Path(__file__).parent / "fonts",  # vendored (see fonts/README.md)
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian: fonts-dejavu-core
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
)
_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
_FAMILY = "DejaVu"
_BLUE = (0, 0, 145)
_RED = (206, 5, 0)
_GREY = (58, 58, 58)
_LIGHT = (246, 246, 246)
_ROW_COLOURS = {
    "statut-met": (227, 253, 235),
    "statut-late": (255, 233, 230),
    "statut-at-risk": (255, 233, 230),
    "statut-missed": (255, 221, 221),
}
_MARGIN = 15.0


class FontMissing(RuntimeError):
    """No Unicode TrueType font to write French with (install the fonts-dejavu-core package)."""


def _font_dir(dirs: Sequence[Path]) -> Path:
    for d in dirs:
        if all((d / name).is_file() for name in _FILES.values()):
            return d
    raise FontMissing(
        "police DejaVu introuvable pour produire le PDF (paquet Debian fonts-dejavu-core) ; "
        f"dossiers cherchés : {', '.join(str(d) for d in dirs)}"
    )


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


class _Pdf(FPDF):
    """A4 portrait with the State header and the page footer."""

    def __init__(self, doc: Document, fonts: Path) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.doc = doc
        for style, name in _FILES.items():
            self.add_font(_FAMILY, style, str(fonts / name))
        self.set_margins(_MARGIN, 26, _MARGIN)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(f"{doc.title} — {doc.prefecture}")
        self.set_author(doc.prefecture)
        self.set_subject(doc.subtitle)
        self.set_creator("Orchestrateur de communication d'urgence")
        self.set_lang("fr-FR")

    def header(self) -> None:
        top = 8.0
        self.set_draw_color(*_BLUE)
        self.set_line_width(1.2)
        self.line(_MARGIN, top, _MARGIN, top + 9)
        self.set_xy(_MARGIN + 2, top)
        self.set_font(_FAMILY, "B", 7.5)
        self.set_text_color(22, 22, 22)
        self.multi_cell(40, 3.2, "RÉPUBLIQUE\nFRANÇAISE", new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.set_xy(_MARGIN + 2, top + 6.6)
        self.set_font(_FAMILY, "I", 5.5)
        self.cell(40, 2.6, "Liberté Égalité Fraternité")
        self.set_xy(60, top)
        self.set_font(_FAMILY, "B", 10)
        self.set_text_color(*_BLUE)
        self.cell(self.w - 60 - _MARGIN, 5, self.doc.prefecture, align="R")
        self.set_xy(60, top + 5)
        self.set_font(_FAMILY, "", 8)
        self.set_text_color(*_GREY)
        self.cell(self.w - 60 - _MARGIN, 4, self.doc.title, align="R")
        self.set_draw_color(*_BLUE)
        self.set_line_width(0.4)
        self.line(_MARGIN, top + 11.5, self.w - _MARGIN, top + 11.5)
        if self.doc.exercise:
            self.set_fill_color(*_RED)
            self.set_text_color(255, 255, 255)
            self.set_font(_FAMILY, "B", 8)
            self.set_xy(_MARGIN, top + 12.5)
            self.cell(
                self.w - 2 * _MARGIN, 4.5, "EXERCICE — EXERCICE — EXERCICE", align="C", fill=True
            )
        self.set_text_color(22, 22, 22)
        self.set_xy(_MARGIN, 26)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_draw_color(*_GREY)
        self.set_line_width(0.2)
        self.line(_MARGIN, self.get_y() - 1, self.w - _MARGIN, self.get_y() - 1)
        self.set_font(_FAMILY, "", 7)
        self.set_text_color(*_GREY)
        left = self.doc.prefecture + (" — EXERCICE" if self.doc.exercise else "")
        self.cell((self.w - 2 * _MARGIN) * 0.7, 5, left)
        self.cell((self.w - 2 * _MARGIN) * 0.3, 5, f"page {self.page_no()} / {{nb}}", align="R")


def render_pdf(
    doc: Document, *, figures: RexFigures | None = None, font_dirs: Sequence[Path] = FONT_DIRS
) -> bytes:
    """The document as PDF bytes; `figures` draws the timeline where a block asks for it."""
    pdf = _Pdf(doc, _font_dir(font_dirs))
    pdf.add_page()
    pdf.set_font(_FAMILY, "B", 17)
    pdf.set_text_color(*_BLUE)
    pdf.multi_cell(0, 8, doc.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.set_font(_FAMILY, "B", 10.5)
    pdf.set_text_color(22, 22, 22)
    pdf.multi_cell(0, 5.5, doc.subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.set_font(_FAMILY, "I", 8)
    pdf.set_text_color(*_GREY)
    pdf.multi_cell(0, 4.5, doc.generated, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    for index, block in enumerate(doc.blocks, start=1):
        _block(pdf, index, block, figures)
    for note in doc.notes:
        pdf.ln(2)
        pdf.set_font(_FAMILY, "I", 7.5)
        pdf.set_text_color(*_GREY)
        pdf.multi_cell(0, 4, note, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    return bytes(pdf.output())


def _block(pdf: _Pdf, index: int, block: Block, figures: RexFigures | None) -> None:
    if pdf.get_y() > pdf.h - 45:  # never a title alone at the foot of a page
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(_FAMILY, "B", 12)
    pdf.set_text_color(*_BLUE)
    pdf.multi_cell(
        0, 6.5, f"{index}. {block.title}", new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L"
    )
    pdf.set_draw_color(221, 221, 221)
    pdf.set_line_width(0.2)
    pdf.line(_MARGIN, pdf.get_y(), pdf.w - _MARGIN, pdf.get_y())
    pdf.ln(1.5)
    pdf.set_text_color(22, 22, 22)
    for paragraph in block.paragraphs:
        pdf.set_font(_FAMILY, "", 9)
        pdf.multi_cell(0, 4.6, paragraph, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        pdf.ln(1)
    if block.pairs:
        _pairs(pdf, block.pairs)
    if block.chart and figures is not None:
        _chart(pdf, layout(figures))
    for table in block.tables:
        _table(pdf, table)


def _pairs(pdf: _Pdf, pairs: Sequence[tuple[str, str]]) -> None:
    pdf.set_font(_FAMILY, "", 8.5)
    with pdf.table(
        col_widths=(38, 62),
        first_row_as_headings=False,
        line_height=4.6,
        borders_layout="HORIZONTAL_LINES",
        text_align="LEFT",
        padding=1,
    ) as table:
        for term, value in pairs:
            row = table.row()
            row.cell(term, style=FontFace(emphasis="BOLD"))
            row.cell(value)
    pdf.ln(2)


def _table(pdf: _Pdf, table: Table) -> None:
    size = 6.8 if table.small else 7.8
    if table.caption:
        pdf.set_font(_FAMILY, "I", 7.5)
        pdf.set_text_color(*_GREY)
        pdf.multi_cell(0, 4, table.caption, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        pdf.set_text_color(22, 22, 22)
    if not table.rows:
        pdf.set_font(_FAMILY, "I", 8.5)
        pdf.multi_cell(0, 5, table.empty, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        pdf.ln(2)
        return
    pdf.set_font(_FAMILY, "", size)
    pdf.set_fill_color(*_LIGHT)
    pdf.set_draw_color(200, 200, 200)
    pdf.set_text_color(22, 22, 22)
    headings = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=_BLUE)
    with pdf.table(
        col_widths=table.widths,
        headings_style=headings,
        line_height=size * 0.5,
        text_align="LEFT",
        borders_layout="HORIZONTAL_LINES",
        cell_fill_color=_LIGHT,
        cell_fill_mode="ROWS",
        padding=0.9,
    ) as out:
        heading = out.row()
        for title in table.headers:
            heading.cell(title)
        for i, cells in enumerate(table.rows):
            fill = _ROW_COLOURS.get(table.row_class(i))
            style = FontFace(fill_color=fill) if fill is not None else None
            row = out.row()
            for text in cells:
                row.cell(text, style=style)
    pdf.ln(2.5)


def _chart(pdf: _Pdf, chart: Chart) -> None:
    width = pdf.w - 2 * _MARGIN
    k = width / chart.width
    height = chart.height * k
    if pdf.get_y() + height > pdf.h - 20:
        pdf.add_page()
    ox, oy = _MARGIN, pdf.get_y() + 1

    def x(v: float) -> float:
        return ox + v * k

    def y(v: float) -> float:
        return oy + v * k

    plot_w = (chart.plot_right - chart.plot_left) * k
    pdf.set_line_width(0.1)
    for i, lane in enumerate(chart.lanes):
        pdf.set_fill_color(*(_LIGHT if i % 2 == 0 else (255, 255, 255)))
        pdf.rect(x(chart.plot_left), y(lane.y), plot_w, lane.height * k, style="F")
        pdf.set_font(_FAMILY, "", 6.5)
        pdf.set_text_color(22, 22, 22)
        pdf.set_xy(ox, y(lane.middle) - 1.5)
        pdf.cell((chart.plot_left - 6) * k, 3, lane.category.value, align="R")
    pdf.set_draw_color(221, 221, 221)
    pdf.set_font(_FAMILY, "", 6)
    for tick in chart.ticks:
        pdf.line(x(tick.x), y(chart.plot_top), x(tick.x), y(chart.plot_bottom + 3))
        pdf.set_xy(x(tick.x) - 8, y(chart.plot_bottom + 5))
        pdf.cell(16, 3, tick.label, align="C")
    pdf.set_xy(ox, y(chart.plot_bottom + 5))
    pdf.set_text_color(*_GREY)
    pdf.cell((chart.plot_left - 16) * k, 3, "min. depuis T0", align="R")
    pdf.set_draw_color(*_RED)
    pdf.set_line_width(0.35)
    pdf.set_dash_pattern(dash=1.2, gap=0.8)
    pdf.line(x(chart.deadline_x), y(chart.plot_top), x(chart.deadline_x), y(chart.plot_bottom))
    pdf.set_dash_pattern()
    pdf.set_fill_color(*_rgb(COLOURS[CategoryName.PRESS]))
    pdf.set_text_color(22, 22, 22)
    pdf.set_font(_FAMILY, "", 5)
    for bar in chart.bars:
        pdf.rect(x(bar.x), y(bar.y), bar.width * k, bar.height * k, style="F")
        pdf.set_xy(x(bar.x), y(bar.y) - 2.4)
        pdf.cell(bar.width * k, 2.4, str(bar.count), align="C")
    size = 1.7
    for m in chart.markers:
        pdf.set_fill_color(*_rgb(COLOURS[m.category]))
        pdf.rect(x(m.x) - size / 2, y(m.y) - size / 2, size, size, style="F")
    pdf.set_font(_FAMILY, "", 6.5)
    for lx, ly, category in chart.legend:
        pdf.set_fill_color(*_rgb(COLOURS[category]))
        pdf.rect(x(lx), y(ly) - 1.2, 2.4, 2.4, style="F")
        pdf.set_xy(x(lx) + 3, y(ly) - 1.5)
        pdf.cell(20, 3, category.value)
    pdf.set_draw_color(22, 22, 22)
    pdf.set_fill_color(*_LIGHT)
    pdf.set_text_color(22, 22, 22)
    pdf.set_xy(_MARGIN, oy + height + 2)
