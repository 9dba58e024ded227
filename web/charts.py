"""Charts drawn on the server as SVG: nothing to download, nothing to run in the browser.

Each chart is an `<svg role="img">` with a title and a one-sentence description for screen
readers; the page puts the same figures in a table beside it. Colours come from CSS classes
(the pages' style sheet), never from inline styles, which the pages' security policy forbids.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    css: str


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]
    css: str


def _axis(value: float, ticks: int = 4) -> tuple[int, int]:
    """(top, step) of a value axis in whole numbers: the step is 1, 2 or 5 times a power of
    ten, and the top the first multiple of it at or above `value` (at least one step)."""
    rough = max(value / ticks, 1)
    power = 10 ** math.floor(math.log10(rough))
    step = next(int(m * power) for m in (1, 2, 5, 10) if m * power >= rough)
    return max(step * math.ceil(value / step), step), step


def bars(chart_id: str, title: str, items: Sequence[Bar]) -> Markup:
    """Horizontal bars, one per item, each labelled with its count."""
    width, row, label_w, pad = 300, 28, 90, 8
    height = row * len(items) + pad
    top = max((i.value for i in items), default=0)
    scale = (width - label_w - 48) / max(top, 1)
    total = sum(i.value for i in items)
    summary = ", ".join(f"{i.label} {i.value}" for i in items)
    parts = [
        Markup('<svg viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d" '
               'class="chart-svg" focusable="false">').format(w=width, h=height, id=chart_id),
        Markup('<title id="{}-t">{}</title>').format(chart_id, title),
        Markup('<desc id="{}-d">{} in all: {}.</desc>').format(chart_id, total, summary),
    ]
    for n, item in enumerate(items):
        y = pad / 2 + n * row
        length = item.value * scale
        parts.append(Markup(
            '<g class="bar-row"><text x="{lx}" y="{ty}" class="axis-label" text-anchor="end">'
            '{label}</text><rect x="{x}" y="{y}" width="{w:.1f}" height="{h}" rx="3" '
            'class="bar {css}"></rect><text x="{vx:.1f}" y="{ty}" class="value-label" '
            'data-value="{value}">{value}</text></g>'
        ).format(lx=label_w - 8, ty=y + row / 2 + 4, label=item.label, x=label_w, y=y + 5,
                 w=max(length, 0.0), h=row - 10, css=item.css, vx=label_w + length + 6,
                 value=item.value))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def lines(chart_id: str, title: str, days: Sequence[date], series: Sequence[Series],
          *, area: bool = False) -> Markup:
    """One line per series over consecutive days, with a value axis and a few date ticks."""
    width, height = 1000, 220
    left, right, top_pad, bottom = 44, 14, 12, 28
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top, step = _axis(max((v for s in series for v in s.values), default=0))
    count = len(days)

    def x(i: int) -> float:
        return left + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(value: float) -> float:
        return top_pad + plot_h - plot_h * value / top

    description = "; ".join(
        f"{s.name}: {sum(s.values)} in all, at most {max(s.values, default=0)} a day"
        if not area else f"{s.name}: {s.values[0] if s.values else 0} on the first day, "
        f"{s.values[-1] if s.values else 0} on the last"
        for s in series
    )
    parts = [
        Markup('<svg viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d" '
               'class="chart-svg" focusable="false">').format(w=width, h=height, id=chart_id),
        Markup('<title id="{}-t">{}</title>').format(chart_id, title),
        Markup('<desc id="{}-d">From {} to {}. {}.</desc>').format(
            chart_id, days[0].isoformat() if days else "", days[-1].isoformat() if days else "",
            description),
    ]
    for value in range(0, top + 1, step):
        ty = y(value)
        parts.append(Markup(
            '<line x1="{l}" x2="{r}" y1="{y:.1f}" y2="{y:.1f}" class="grid"></line>'
            '<text x="{tx}" y="{ly:.1f}" class="axis-label" text-anchor="end">{v}</text>'
        ).format(l=left, r=width - right, y=ty, tx=left - 6, ly=ty + 4, v=value))
    if count:
        ticks = sorted({0, count - 1, *range(0, count, max(1, math.ceil(count / 6)))})
        for i in ticks:
            if i != count - 1 and count - 1 - i < max(1, math.ceil(count / 6)) / 2:
                continue
            parts.append(Markup(
                '<text x="{x:.1f}" y="{y}" class="axis-label" text-anchor="{a}">{d}</text>'
            ).format(x=x(i), y=height - 8, d=days[i].strftime("%b %d"),
                     a="start" if i == 0 else "end" if i == count - 1 else "middle"))
    for s in series:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values))
        if area and s.values:
            base = f"{x(len(s.values) - 1):.1f},{y(0):.1f} {x(0):.1f},{y(0):.1f}"
            parts.append(Markup('<polygon points="{} {}" class="area {}"></polygon>')
                         .format(points, base, s.css))
        parts.append(Markup('<polyline points="{}" class="line {}"></polyline>')
                     .format(points, s.css))
        if count <= 45:
            for i, v in enumerate(s.values):
                parts.append(Markup('<circle cx="{:.1f}" cy="{:.1f}" r="2.5" class="dot {}">'
                                    '<title>{}: {} on {}</title></circle>')
                             .format(x(i), y(v), s.css, s.name, v, days[i].isoformat()))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> Markup:
    """The figures of a chart as a table (inside a `<details>` on the page)."""
    head = Markup("").join(Markup('<th scope="col">{}</th>').format(h) for h in headers)
    body = Markup("").join(
        Markup("<tr>{}</tr>").format(Markup("").join(
            Markup('<th scope="row">{}</th>').format(cell) if n == 0
            else Markup('<td class="num">{}</td>').format(cell)
            for n, cell in enumerate(row)))
        for row in rows
    )
    return Markup('<table><caption class="visually-hidden">{}</caption><thead><tr>{}</tr>'
                  '</thead><tbody>{}</tbody></table>').format(escape(caption), head, body)
