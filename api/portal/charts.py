"""Charts drawn on the server as SVG: horizontal bars (counts by group), stacked bars (money per
budget year: committed and available) and columns over time with a marked moment (the funding
stop). No script, no library: each chart is a picture with a text alternative, and its page shows
the same figures in a table next to it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH = 640
ROW = 28  # height of one bar row
LABEL_WIDTH = 190  # room for the group labels left of the bars
VALUE_WIDTH = 120  # room for the value right of the bars
COLUMN_AREA = 180  # height of the column chart's plot area


@dataclass(frozen=True)
class Part:
    """One segment of a stacked bar (e.g. committed money), drawn with a CSS class."""

    name: str
    value: Decimal | int
    css: str


def _n(value: float | int | Decimal) -> str:
    """A coordinate with at most one decimal (SVG wants no locale, no exponent)."""
    return f"{float(value):.1f}".rstrip("0").rstrip(".")


def _svg(height: int, label: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="q-chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>")


def _scale(values: Sequence[Decimal | int]) -> Decimal:
    top = max((Decimal(v) for v in values), default=Decimal(0))
    return top if top > 0 else Decimal(1)


def bars(label: str, items: Sequence[tuple[str, int | Decimal, str]]) -> Markup:
    """One horizontal bar per item: (group label, value, the value as text)."""
    top = _scale([v for _, v, _ in items])
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    body = []
    for index, (name, value, shown) in enumerate(items):
        y = 8 + index * ROW
        length = Decimal(span) * Decimal(value) / top
        body.append(
            f'<text class="q-chart__label" x="{LABEL_WIDTH - 8}" y="{y + 17}" '
            f'text-anchor="end">{escape(_clip(name))}</text>'
            f'<rect class="q-chart__bar" x="{LABEL_WIDTH}" y="{y + 4}" '
            f'width="{_n(max(length, Decimal(1) if value else Decimal(0)))}" height="{ROW - 8}"/>'
            f'<text class="q-chart__value" x="{_n(LABEL_WIDTH + length + 6)}" y="{y + 17}">'
            f"{escape(shown)}</text>")
    return _svg(16 + len(items) * ROW, label, body)


def stacked(label: str, rows: Sequence[tuple[str, Sequence[Part], str]]) -> Markup:
    """One bar per row made of its parts (e.g. committed, then available), with a legend."""
    top = _scale([sum((Decimal(p.value) for p in parts), Decimal(0)) for _, parts, _ in rows])
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    body, legend = [], {}
    for index, (name, parts, shown) in enumerate(rows):
        y = 8 + index * ROW
        x = Decimal(LABEL_WIDTH)
        body.append(f'<text class="q-chart__label" x="{LABEL_WIDTH - 8}" y="{y + 17}" '
                    f'text-anchor="end">{escape(_clip(name))}</text>')
        for part in parts:
            length = Decimal(span) * Decimal(part.value) / top
            legend.setdefault(part.css, part.name)
            body.append(f'<rect class="{escape(part.css)}" x="{_n(x)}" y="{y + 4}" '
                        f'width="{_n(length)}" height="{ROW - 8}"/>')
            x += length
        body.append(f'<text class="q-chart__value" x="{_n(x + 6)}" y="{y + 17}">'
                    f"{escape(shown)}</text>")
    y = 16 + len(rows) * ROW
    x = LABEL_WIDTH
    for css, name in legend.items():
        body.append(f'<rect class="{escape(css)}" x="{x}" y="{y}" width="14" height="14"/>'
                    f'<text class="q-chart__label" x="{x + 20}" y="{y + 12}">{escape(name)}</text>')
        x += 30 + 8 * len(name)
    return _svg(y + 26, label, body)


def columns(label: str, ticks: Sequence[str], values: Sequence[int],
            marker: int | None = None, marker_label: str = "") -> Markup:
    """A column per period (ticks: the periods' short names, a few of them written under the
    axis); `marker` marks the period of a moment (the funding stop) with a line and its label."""
    top = _scale(values)
    left, bottom = 40, 24 + COLUMN_AREA
    step = Decimal(WIDTH - left - 10) / max(len(values), 1)
    body = [f'<line class="q-chart__axis" x1="{left}" y1="{bottom}" x2="{WIDTH - 10}" '
            f'y2="{bottom}"/>',
            f'<text class="q-chart__value" x="{left - 6}" y="{24 + 4}" text-anchor="end">'
            f"{escape(str(top))}</text>",
            f'<text class="q-chart__value" x="{left - 6}" y="{bottom}" text-anchor="end">0'
            "</text>"]
    every = max(1, (len(ticks) + 7) // 8)  # at most about eight tick labels
    for index, value in enumerate(values):
        height = Decimal(COLUMN_AREA) * Decimal(value) / top
        x = left + step * index
        body.append(f'<rect class="q-chart__bar" x="{_n(x + step * Decimal("0.15"))}" '
                    f'y="{_n(bottom - height)}" width="{_n(step * Decimal("0.7"))}" '
                    f'height="{_n(height)}"/>')
        if index % every == 0:
            body.append(f'<text class="q-chart__tick" x="{_n(x + step / 2)}" y="{bottom + 16}" '
                        f'text-anchor="middle">{escape(ticks[index])}</text>')
    if marker is not None and 0 <= marker < len(values):
        x = left + step * marker + step / 2
        # The label stands on the side of the line that has room for it.
        anchor, text_x = ("end", x - 4) if x > WIDTH / 2 else ("start", x + 4)
        body.append(f'<line class="q-chart__marker" x1="{_n(x)}" y1="14" x2="{_n(x)}" '
                    f'y2="{bottom}"/>'
                    f'<text class="q-chart__marker-label" x="{_n(text_x)}" y="12" '
                    f'text-anchor="{anchor}">{escape(marker_label)}</text>')
    return _svg(bottom + 24, label, body)


def _clip(text: str, length: int = 28) -> str:
    return text if len(text) <= length else text[:length - 1] + "…"
