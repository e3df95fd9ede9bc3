"""The timeline chart of a REX: geometry (shared by the SVG and the PDF) and an inline SVG. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from crisis.reports.figures import CategoryName, RexFigures

__all__ = ["COLOURS", "Chart", "layout", "svg"]

COLOURS: dict[CategoryName, str] = {
    CategoryName.T0: "#000091",
    CategoryName.STEP: "#3a3a3a",
    CategoryName.PUBLICATION: "#18753c",
    CategoryName.ACK: "#0063cb",
    CategoryName.PRESS: "#b34000",
    CategoryName.CIP: "#6a6af4",
    CategoryName.INJECT: "#8d533e",
    CategoryName.ALERT: "#ce0500",
}
WIDTH = 960.0
LEFT = 110.0
RIGHT = 24.0
TOP = 10.0
LANE = 26.0
PRESS_LANE = 56.0
AXIS = 26.0
LEGEND = 26.0
_TICK_STEPS = (5, 10, 15, 30, 60, 120, 240, 360, 720, 1440, 2880, 10080)
_MAX_TICKS = 12


@dataclass(frozen=True)
class Lane:
    """One row of the chart."""

    category: CategoryName
    y: float
    height: float

    @property
    def middle(self) -> float:
        """Vertical centre."""
        return self.y + self.height / 2


@dataclass(frozen=True)
class Marker:
    """One event."""

    x: float
    y: float
    category: CategoryName
    label: str  # French, with its time offset


@dataclass(frozen=True)
class Bar:
    """Media requests of one quarter hour."""

    x: float
    y: float
    width: float
    height: float
    count: int
    label: str


@dataclass(frozen=True)
class Tick:
    """A graduation of the minutes axis."""

    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    """Everything to draw, in abstract units (WIDTH wide)."""

    width: float
    height: float
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    span_minutes: int
    lanes: tuple[Lane, ...]
    markers: tuple[Marker, ...]
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    deadline_x: float  # T0+60
    legend: tuple[tuple[float, float, CategoryName], ...]  # x, y, category


def _step(span: float) -> int:
    return next((s for s in _TICK_STEPS if span / s <= _MAX_TICKS), _TICK_STEPS[-1])


def _tick_label(minutes: int) -> str:
    if minutes == 0:
        return "T0"
    if minutes % 1440 == 0 and minutes >= 2880:
        return f"+{minutes // 1440} j"
    if minutes % 60 == 0 and minutes >= 120:
        return f"+{minutes // 60} h"
    return f"+{minutes}"


def layout(figures: RexFigures) -> Chart:
    """The chart's geometry: T0 at left, minutes along, one lane per category."""
    offsets = [e.offset.total_seconds() / 60 for e in figures.timeline]
    offsets += [(q.start.total_seconds() / 60) + 15 for q in figures.media.per_quarter]
    last = max([60.0, *offsets])
    step = _step(last)
    span = int(math.ceil(last / step) * step)
    if span <= last:  # leave room after the last event
        span += step
    plot_left, plot_right = LEFT, WIDTH - RIGHT

    def x(minutes: float) -> float:
        return round(plot_left + max(0.0, minutes) / span * (plot_right - plot_left), 2)

    lanes: list[Lane] = []
    y = TOP
    for category in CategoryName:
        height = PRESS_LANE if category == CategoryName.PRESS else LANE
        lanes.append(Lane(category, y, height))
        y += height
    plot_bottom = y
    by_category = {lane.category: lane for lane in lanes}
    markers = tuple(
        Marker(
            x(e.offset.total_seconds() / 60),
            by_category[e.category].middle,
            e.category,
            f"{_offset_label(e.offset.total_seconds())} — {e.label}",
        )
        for e in figures.timeline
        if e.category != CategoryName.PRESS
    )
    press = by_category[CategoryName.PRESS]
    peak = max((q.count for q in figures.media.per_quarter), default=0)
    bars = []
    for q in figures.media.per_quarter:
        if not q.count:
            continue
        start = q.start.total_seconds() / 60
        height = round((press.height - 14) * q.count / peak, 2)
        left = x(start) + 1
        bars.append(
            Bar(
                left,
                round(press.y + press.height - 2 - height, 2),
                round(x(start + 15) - 1 - left, 2),
                height,
                q.count,
                f"T0+{int(start)} à T0+{int(start) + 15} min : {q.count} sollicitation(s)",
            )
        )
    ticks = tuple(Tick(x(m), _tick_label(m)) for m in range(0, span + 1, step))
    legend_y = plot_bottom + AXIS + LEGEND / 2
    slot = (plot_right - plot_left) / len(CategoryName)
    legend = tuple(
        (round(plot_left + i * slot, 2), legend_y, c) for i, c in enumerate(CategoryName)
    )
    return Chart(
        width=WIDTH,
        height=plot_bottom + AXIS + LEGEND + 4,
        plot_left=plot_left,
        plot_right=plot_right,
        plot_top=TOP,
        plot_bottom=plot_bottom,
        span_minutes=span,
        lanes=tuple(lanes),
        markers=markers,
        bars=tuple(bars),
        ticks=ticks,
        deadline_x=x(60),
        legend=legend,
    )


def _offset_label(seconds: float) -> str:
    sign = "-" if seconds < 0 else "+"
    minutes, secs = divmod(math.ceil(abs(seconds)), 60)
    return f"T0{sign}{minutes} min" + (f" {secs:02d} s" if secs else "")


def _n(value: float) -> str:
    """Numbers written the same way every time (deterministic output)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def svg(figures: RexFigures) -> str:
    """The timeline as an inline SVG document fragment (French labels, no external asset)."""
    c = layout(figures)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chronologie" role="img" '
        f'viewBox="0 0 {_n(c.width)} {_n(c.height)}" width="100%" '
        f'font-family="Marianne, Arial, Helvetica, sans-serif" font-size="11">',
        "<title>Chronologie de l'événement depuis le temps 0 (minutes)</title>",
    ]
    for i, lane in enumerate(c.lanes):
        fill = "#f6f6f6" if i % 2 == 0 else "#ffffff"
        out.append(
            f'<rect class="lane" x="{_n(c.plot_left)}" y="{_n(lane.y)}" '
            f'width="{_n(c.plot_right - c.plot_left)}" height="{_n(lane.height)}" fill="{fill}"/>'
        )
        out.append(
            f'<text x="{_n(c.plot_left - 8)}" y="{_n(lane.middle + 4)}" text-anchor="end" '
            f'fill="#161616">{escape(lane.category.value)}</text>'
        )
    for tick in c.ticks:
        out.append(
            f'<line x1="{_n(tick.x)}" y1="{_n(c.plot_top)}" x2="{_n(tick.x)}" '
            f'y2="{_n(c.plot_bottom + 4)}" stroke="#dddddd" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{_n(tick.x)}" y="{_n(c.plot_bottom + 16)}" text-anchor="middle" '
            f'fill="#3a3a3a">{escape(tick.label)}</text>'
        )
    out.append(
        f'<text x="{_n(c.plot_left - 16)}" y="{_n(c.plot_bottom + 16)}" text-anchor="end" '
        f'fill="#666666" font-size="10">min. depuis T0</text>'
    )
    out.append(
        f'<line class="echeance" x1="{_n(c.deadline_x)}" y1="{_n(c.plot_top)}" '
        f'x2="{_n(c.deadline_x)}" y2="{_n(c.plot_bottom)}" stroke="#ce0500" '
        f'stroke-width="1.5" stroke-dasharray="5,3"><title>Échéance T0+60 min</title></line>'
    )
    for bar in c.bars:
        out.append(
            f'<rect class="bar" x="{_n(bar.x)}" y="{_n(bar.y)}" width="{_n(bar.width)}" '
            f'height="{_n(bar.height)}" fill="{COLOURS[CategoryName.PRESS]}" '
            f'data-count="{bar.count}"><title>{escape(bar.label)}</title></rect>'
        )
        out.append(
            f'<text x="{_n(bar.x + bar.width / 2)}" y="{_n(bar.y - 2)}" text-anchor="middle" '
            f'font-size="9" fill="#161616">{bar.count}</text>'
        )
    for m in c.markers:
        out.append(
            f'<circle class="marker marker-{_css(m.category)}" cx="{_n(m.x)}" cy="{_n(m.y)}" '
            f'r="5" fill="{COLOURS[m.category]}" fill-opacity="0.8" stroke="#ffffff" '
            f'stroke-width="1"><title>{escape(m.label)}</title></circle>'
        )
    for x, y, category in c.legend:
        out.append(
            f'<rect x="{_n(x)}" y="{_n(y - 5)}" width="10" height="10" fill="{COLOURS[category]}"/>'
        )
        out.append(
            f'<text class="legende" x="{_n(x + 14)}" y="{_n(y + 4)}" fill="#161616">'
            f"{escape(category.value)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _css(category: CategoryName) -> str:
    """ASCII class name of a category."""
    return {
        CategoryName.T0: "t0",
        CategoryName.STEP: "etape",
        CategoryName.PUBLICATION: "publication",
        CategoryName.ACK: "accuse",
        CategoryName.PRESS: "presse",
        CategoryName.CIP: "cip",
        CategoryName.INJECT: "injection",
        CategoryName.ALERT: "alerte",
    }[category]
