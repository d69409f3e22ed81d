"""Inline SVG charts, drawn in Python so the page needs no chart library and no network.

Two shapes cover the report: grouped horizontal bars (one group per language, one bar per
tokenizer) and 100 % stacked bars (shares: scripts of a vocabulary, categories of a mixture). Every
bar carries a ``<title>`` with the exact value and unit, so hovering reads the figure, and the value
is printed at the end of the bar. Colours come from Paul Tol's colour-blind-safe "muted" scheme.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

#: Paul Tol's "muted" qualitative scheme (distinct under the common colour-vision deficiencies),
#: reordered so the first few colours are the most distinct from each other.
PALETTE = ("#332288", "#88CCEE", "#117733", "#CC6677", "#DDCC77", "#AA4499", "#44AA99", "#882255",
           "#999933", "#777777")

#: Palette colours dark enough to need white text on top.
DARK_COLOURS = frozenset({"#332288", "#117733", "#882255", "#AA4499", "#777777"})

CHAR_WIDTH = 6.6  # average glyph width at the 11px chart font, to size label columns
FONT_SIZE = 11


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def format_number(value: float | None) -> str:
    """Three significant figures for ratios, thousands separators for counts: 4.12, 0.873, 12.3, 1,234."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}"
    magnitude = abs(value)
    if magnitude >= 1000 or (float(value).is_integer() and magnitude >= 100):
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def nice_ticks(maximum: float, wanted: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``maximum`` (steps of 1, 2 or 5 x 10^k)."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / wanted
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    count = math.ceil(maximum / step - 1e-9)
    return [round(i * step, 12) for i in range(count + 1)]


def _label_width(labels: Sequence[str], minimum: float = 40, maximum: float = 220) -> float:
    longest = max((len(label) for label in labels), default=0)
    return min(maximum, max(minimum, longest * CHAR_WIDTH + 12))


def grouped_bar_chart(
    groups: Sequence[str],
    series: Sequence[str],
    values: Mapping[tuple[str, str], tuple[float | None, str | None]],
    *,
    unit: str,
    label: str,
    reference_line: float | None = None,
    plot_width: float = 720,
) -> str:
    """Horizontal bars: one block per group (language), one bar per series (tokenizer).

    Args:
        groups: row labels, top to bottom.
        series: bar labels within a group; bar ``i`` uses ``colour(i)``.
        values: (group, series) -> (value, reason); value None draws "n/a" with the reason on hover.
        unit: unit shown in tooltips (and the axis caption).
        label: accessible name of the chart.
        reference_line: draw a dashed vertical line at this value (e.g. 1.0 for ratios).
        plot_width: width of the bar area in SVG units (the SVG scales to the page).
    """
    numbers = [v for v, _ in values.values() if v is not None and math.isfinite(v)]
    top = max(numbers + ([reference_line] if reference_line is not None else []), default=1.0)
    ticks = nice_ticks(top)
    scale = plot_width / ticks[-1]
    bar = max(4.0, min(14.0, 64.0 / max(1, len(series))))
    gap = max(6.0, bar)
    left = _label_width(groups)
    axis_height = 22.0
    value_room = 56.0
    width = left + plot_width + value_room
    block = bar * len(series)
    height = axis_height + len(groups) * (block + gap) + 4
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" font-size="{FONT_SIZE}">'
    ]
    for tick in ticks:
        x = left + tick * scale
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{axis_height - 4:.0f}" x2="{x:.1f}" y2="{height:.0f}"/>')
        parts.append(f'<text class="tick" x="{x:.1f}" y="{axis_height - 8:.0f}" text-anchor="middle">'
                     f"{tick:g}</text>")
    y = axis_height
    for group in groups:
        parts.append(f'<text class="group" x="{left - 6:.0f}" y="{y + block / 2 + 4:.1f}" text-anchor="end">'
                     f"{escape(group)}</text>")
        for index, name in enumerate(series):
            value, reason = values.get((group, name), (None, "not measured"))
            tip = escape(f"{name} · {group}: " + (f"{format_number(value)} {unit}" if value is not None
                                                   else f"n/a ({reason})"))
            if value is None or not math.isfinite(value):
                parts.append(f'<text class="na" x="{left + 3:.0f}" y="{y + bar - 1:.1f}" '
                             f'font-size="{min(bar, 10):.0f}"><title>{tip}</title>n/a</text>')
            else:
                length = max(0.5, value * scale)
                parts.append(
                    f'<rect class="bar" x="{left:.0f}" y="{y:.1f}" width="{length:.1f}" height="{bar - 1:.1f}" '
                    f'fill="{colour(index)}"><title>{tip}</title></rect>'
                )
                if bar >= 7:
                    parts.append(f'<text class="value" x="{left + length + 3:.1f}" y="{y + bar - 2:.1f}" '
                                 f'font-size="{min(bar, 10):.0f}">{format_number(value)}</text>')
            y += bar
        y += gap
    if reference_line is not None:
        x = left + reference_line * scale
        parts.append(f'<line class="reference" x1="{x:.1f}" y1="{axis_height - 4:.0f}" x2="{x:.1f}" '
                     f'y2="{height:.0f}"/>')
    parts.append("</svg>")
    return "".join(parts)


def stacked_share_chart(
    rows: Sequence[str],
    shares: Mapping[str, Mapping[str, float]],
    *,
    label: str,
    max_categories: int = 9,
    plot_width: float = 600,
) -> tuple[str, list[str]]:
    """One 100 % bar per row (tokenizer) split into categories (scripts, domains...).

    Categories beyond the ``max_categories`` largest overall are folded into "other", as is the
    part of a row its shares leave unaccounted for.

    Returns:
        The SVG and the category names in colour order (for the legend).
    """
    totals: dict[str, float] = {}
    for row in rows:
        for category, share in shares.get(row, {}).items():
            totals[category] = totals.get(category, 0.0) + float(share or 0.0)
    ordered = sorted(totals, key=lambda c: (-totals[c], c))
    kept = [c for c in ordered[:max_categories] if totals[c] > 0]
    categories = kept + ["other"]
    left = _label_width(rows)
    bar, gap = 18.0, 8.0
    width = left + plot_width + 8
    height = len(rows) * (bar + gap) + 4
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" font-size="{FONT_SIZE}">'
    ]
    y = 2.0
    for row in rows:
        row_shares = {c: float(v or 0.0) for c, v in shares.get(row, {}).items()}
        folded = {c: row_shares.get(c, 0.0) for c in kept}
        folded["other"] = max(0.0, sum(row_shares.values()) - sum(folded.values()))
        folded["other"] += max(0.0, 1.0 - sum(row_shares.values()))
        total = sum(folded.values()) or 1.0
        parts.append(f'<text class="group" x="{left - 6:.0f}" y="{y + bar / 2 + 4:.1f}" text-anchor="end">'
                     f"{escape(row)}</text>")
        x = left
        for index, category in enumerate(categories):
            share = folded[category] / total
            if share <= 0:
                continue
            length = share * plot_width
            fill = "#DDDDDD" if category == "other" else colour(index)
            tip = escape(f"{row} · {category}: {share:.1%}")
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{length:.1f}" height="{bar:.0f}" '
                         f'fill="{fill}"><title>{tip}</title></rect>')
            if length > 34:
                ink = "inside light" if fill in DARK_COLOURS else "inside"
                parts.append(f'<text class="{ink}" x="{x + length / 2:.1f}" y="{y + bar / 2 + 4:.1f}" '
                             f'text-anchor="middle">{share:.0%}</text>')
            x += length
        y += bar + gap
    parts.append("</svg>")
    return "".join(parts), categories
