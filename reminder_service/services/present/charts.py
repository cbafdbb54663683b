"""Small charts as SVG text, drawn on the server: no script, no library, nothing fetched.

Made to be put inline in a console page whose Content-Security-Policy forbids inline styles, so every
look is an SVG presentation attribute (fill=, stroke=), never a style attribute or a <style> element.
Made to be read without colour: each series has its own pattern (solid, hatched, crossed, dotted,
outlined) and a mark, every bar carries its number in words, and each chart has a <title>, a <desc> and
an aria-label. Every piece of text is escaped, so a unit called «A<b>&"C"» stays text.

Pure: plain values in, a string out. Sizes are in SVG user units; the page scales the whole drawing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

FONT = 12
# Average advance of a glyph of the system sans-serif at FONT (Vietnamese diacritics take no extra width):
# enough to leave room for labels without font metrics.
GLYPH = 6.8
INK, MUTED, GRID = "#1d2430", "#5b6575", "#d5dae1"


@dataclass(frozen=True)
class Look:
    """How one series is drawn: a fill (a colour, or a pattern drawn over a ground), an outline, a mark."""

    ground: str
    ink: str
    mark: str
    pattern: str | None  # None: solid ground; else SVG drawn in a 6×6 tile in ``ink``
    dashed: bool = False


# The marks are the board's (a tick, a quarter circle, a cross, a dash, a dot), so the two read alike.
LOOKS: dict[str, Look] = {
    "on_time": Look("#2e7d4f", "#1c5b2a", "✓", None),
    "late": Look("#fff1d6", "#9a5b00", "◔", '<path d="M-1 1L1 -1M0 6L6 0M5 7L7 5" stroke-width="1.6"/>'),
    "missing": Look("#fbe1e1", "#a12a2a", "✗", '<path d="M0 0L6 6M6 0L0 6" stroke-width="1.3"/>'),
    "waived": Look("#f1f2f4", "#5b6575", "–", '<circle cx="3" cy="3" r="1.1"/>'),
    "open": Look("#ffffff", "#5b6575", "·", None, dashed=True),
    "bar": Look("#1d4a8a", "#1d4a8a", "", None),
}


def esc(text: object) -> str:
    """Text for an SVG text node or attribute: <, >, &, and both quotes escaped."""
    return escape(str(text), quote=True)


def _ident(text: str) -> str:
    cleaned = re.sub(r"[^a-z0-9-]", "", text.lower())
    return cleaned or "chart"


def _fill(ident: str, look: str) -> str:
    found = LOOKS[look]
    return f"url(#{ident}-{look})" if found.pattern else found.ground


def _shape_attrs(ident: str, look: str) -> str:
    found = LOOKS[look]
    dash = ' stroke-dasharray="3 2"' if found.dashed else ""
    return f'fill="{_fill(ident, look)}" stroke="{found.ink}" stroke-width="1"{dash}'


def _defs(ident: str, looks: Sequence[str]) -> str:
    patterns = []
    for name in dict.fromkeys(looks):
        look = LOOKS[name]
        if look.pattern is None:
            continue
        patterns.append(
            f'<pattern id="{ident}-{name}" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect width="6" height="6" fill="{look.ground}"/>'
            f'<g stroke="{look.ink}" fill="{look.ink}">{look.pattern}</g></pattern>')
    return f"<defs>{''.join(patterns)}</defs>" if patterns else ""


def _fit(text: str, width: float, glyph: float = GLYPH) -> str:
    """The text, cut with "…" to about ``width`` units."""
    room = max(1, int(width / glyph))
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = FONT, weight: str = "",
          fill: str = INK, cls: str = "") -> str:
    extra = (f' font-weight="{weight}"' if weight else "") + (f' class="{cls}"' if cls else "")
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}"{extra}>'
            f"{esc(text)}</text>")


def _svg(ident: str, width: float, height: float, title: str, description: str, body: Sequence[str],
         looks: Sequence[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{ident}" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-label="{esc(title)}" aria-describedby="{ident}-desc" '
        f'font-family="Segoe UI, Roboto, Arial, Noto Sans, sans-serif">'
        f'<title>{esc(title)}</title><desc id="{ident}-desc">{esc(description)}</desc>'
        f"{_defs(ident, looks)}{''.join(body)}</svg>")


def _legend(ident: str, x: float, y: float, entries: Sequence[tuple[str, str]]) -> tuple[list[str], float]:
    """Swatches with their mark and words in a row; returns the pieces and the width taken."""
    parts, at = [], x
    for look, words in entries:
        label = f"{LOOKS[look].mark} {words}".strip()
        parts.append(f'<rect x="{at:.1f}" y="{y - 11:.1f}" width="14" height="14" {_shape_attrs(ident, look)}/>')
        parts.append(_text(at + 19, y, label))
        at += 19 + len(label) * GLYPH + 18
    return parts, at - x


# --- horizontal bars -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    # Between 0 and the chart's maximum; None: nothing to measure (no bar, the text says why).
    value: float | None
    # Written at the end of the bar: the figure itself, e.g. "80% (16/20)".
    text: str
    hint: str = ""  # the bar's tooltip: the full label and figures


def bar_chart(ident: str, title: str, description: str, bars: Sequence[Bar], *, maximum: float = 100,
              ticks: Sequence[float] = (0, 25, 50, 75, 100),
              tick_text: Callable[[float], str] = lambda value: f"{value:g}%", look: str = "bar") -> str:
    """One horizontal bar per item, its label on the left and its figure written at its end, over a light
    track showing the whole (100%), so the share is read off the length and off the words alike."""
    ident = _ident(ident)
    label_width = min(max((len(bar.label) for bar in bars), default=4) * GLYPH + 12, 300)
    plot, text_width, row, top = 360.0, max((len(bar.text) for bar in bars), default=4) * GLYPH + 16, 28, 24
    left = label_width
    width = left + plot + text_width
    height = top + row * max(1, len(bars)) + 8
    body = []
    for tick in ticks:
        x = left + plot * tick / maximum
        body.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 6:.1f}" stroke="{GRID}"/>')
        body.append(_text(x, top - 8, tick_text(tick), anchor="middle", size=11, fill=MUTED))
    for index, bar in enumerate(bars):
        y = top + index * row
        hint = bar.hint or f"{bar.label}: {bar.text}"
        length = 0.0 if bar.value is None else plot * max(0.0, min(bar.value, maximum)) / maximum
        shapes = [f"<title>{esc(hint)}</title>",
                  _text(left - 8, y + 18, _fit(bar.label, label_width - 12), anchor="end")]
        if bar.value is not None:
            shapes.append(f'<rect x="{left:.1f}" y="{y + 5}" width="{plot:.1f}" height="18" fill="#f1f2f4" '
                          f'stroke="{GRID}"/>')
            if length > 0:
                shapes.append(f'<rect x="{left:.1f}" y="{y + 5}" width="{length:.1f}" height="18" '
                              f"{_shape_attrs(ident, look)}/>")
        if bar.value is None:
            shapes.append(_text(left + 6, y + 18, bar.text, fill=MUTED))
        else:
            shapes.append(_text(left + plot + 6, y + 18, bar.text, weight="600", cls="figure"))
        body.append(f'<g class="bar">{"".join(shapes)}</g>')
    return _svg(ident, width, height, title, description, body, (look,))


# --- stacked columns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    look: str
    value: int


@dataclass(frozen=True)
class Column:
    label: str
    segments: tuple[Segment, ...]
    hint: str = ""

    @property
    def total(self) -> int:
        return sum(segment.value for segment in self.segments)


def nice_ceiling(value: int) -> tuple[int, int]:
    """An axis end at or above ``value`` and its step: the smallest of 1, 2 or 5 times a power of ten that
    reaches ``value`` in at most five steps."""
    if value <= 0:
        return 1, 1
    power = 10 ** max(0, math.floor(math.log10(value / 5)) if value >= 5 else 0)
    step = next(m * power for m in (1, 2, 5, 10) if m * power * 5 >= value)
    return step * math.ceil(value / step), step


def column_chart(ident: str, title: str, description: str, columns: Sequence[Column], *,
                 legend: Sequence[tuple[str, str]], axis_label: str) -> str:
    """Stacked columns: each segment's count written inside it, each column's total above it, the
    categories under the axis and a legend of patterns with words."""
    ident = _ident(ident)
    top, plot_height, column_width, gap, left = 44, 190.0, 64.0, 30.0, 44.0
    end, step = nice_ceiling(max((c.total for c in columns), default=0))
    width = max(left + len(columns) * (column_width + gap) + gap, 360)
    legend_parts, legend_width = _legend(ident, left, 16, legend)
    width = max(width, left + legend_width + 8)
    height = top + plot_height + 48
    base = top + plot_height
    body = [*legend_parts]
    for tick in range(0, end + 1, step):
        y = base - plot_height * tick / end
        body.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{width - 8:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 6, y + 4, str(tick), anchor="end", size=11, fill=MUTED))
    for index, column in enumerate(columns):
        x = left + gap + index * (column_width + gap)
        shapes = [f"<title>{esc(column.hint or column.label)}</title>"]
        y = base
        for segment in column.segments:
            if segment.value <= 0:
                continue
            size = plot_height * segment.value / end
            y -= size
            shapes.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{column_width:.1f}" height="{size:.1f}" '
                          f"{_shape_attrs(ident, segment.look)}/>")
            if size >= 15 and segment.value != column.total:  # a column of one series: its total says it
                # A white chip under the number keeps it legible on a hatched or dotted fill.
                chip = len(str(segment.value)) * GLYPH + 8
                middle = y + size / 2
                shapes.append(f'<rect x="{x + column_width / 2 - chip / 2:.1f}" y="{middle - 8:.1f}" '
                              f'width="{chip:.1f}" height="15" rx="3" fill="#ffffff" stroke="{GRID}"/>')
                shapes.append(_text(x + column_width / 2, middle + 4, str(segment.value), anchor="middle", size=11))
        shapes.append(_text(x + column_width / 2, y - 6, str(column.total), anchor="middle", weight="700",
                            cls="total"))
        shapes.append(_text(x + column_width / 2, base + 17, column.label, anchor="middle"))
        body.append(f'<g class="column">{"".join(shapes)}</g>')
    body.append(f'<line x1="{left:.1f}" y1="{base:.1f}" x2="{width - 8:.1f}" y2="{base:.1f}" stroke="{INK}"/>')
    body.append(_text(left + (width - left) / 2, base + 38, axis_label, anchor="middle", fill=MUTED))
    return _svg(ident, width, height, title, description, body, [look for look, _ in legend])


# --- a strip of marks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    look: str
    text: str
    hint: str = ""


def strip_chart(ident: str, title: str, description: str, rows: Sequence[str], columns: Sequence[str],
                cells: Mapping[tuple[int, int], Mark], *, legend: Sequence[tuple[str, str]],
                empty: str = "không phải nộp") -> str:
    """Rows × columns of marks: each cell a patterned swatch with its words beside it (a cell with no
    mark says ``empty``); column headings on top, row headings on the left, a legend above."""
    ident = _ident(ident)
    label_width = max((len(r) for r in rows), default=4) * GLYPH + 16
    cell_width = max(150.0, min(230.0, max((len(m.text) for m in cells.values()), default=10) * 6.2 + 34))
    top, row_height = 58, 30
    width = label_width + cell_width * max(1, len(columns)) + 8
    legend_parts, legend_width = _legend(ident, 4, 16, legend)
    width = max(width, legend_width + 12)
    height = top + row_height * max(1, len(rows)) + 6
    body = [*legend_parts]
    for c, heading in enumerate(columns):
        x = label_width + c * cell_width
        body.append(_text(x + 4, top - 10, _fit(heading, cell_width - 8, 6.4), size=11, weight="600",
                          cls="heading"))
    for r, heading in enumerate(rows):
        y = top + r * row_height
        body.append(f'<line x1="0" y1="{y:.1f}" x2="{width:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(label_width - 10, y + 20, heading, anchor="end", weight="600"))
        for c in range(len(columns)):
            x = label_width + c * cell_width
            mark = cells.get((r, c))
            if mark is None:
                body.append(_text(x + 4, y + 20, empty, size=11, fill=MUTED))
                continue
            swatch = f'<rect x="{x + 4:.1f}" y="{y + 6:.1f}" width="18" height="18" {_shape_attrs(ident, mark.look)}/>'
            body.append(f'<g class="mark"><title>{esc(mark.hint or mark.text)}</title>{swatch}'
                        f"{_text(x + 28, y + 20, _fit(mark.text, cell_width - 32, 6.2), size=11)}</g>")
    return _svg(ident, width, height, title, description, body, [look for look, _ in legend])
