"""The dashboard's chart: the test statistic of each comparison against the efficacy
and futility boundaries, by information fraction, as inline SVG.

Drawn by hand rather than with matplotlib (which draws the offline report): a page that
refreshes itself every half minute for every viewer should cost microseconds, not a
plotting library's start-up, and a ``viewBox`` scales to a phone's width. The data come
from the latest look's comparisons (``information_fractions``, ``statistics``,
``efficacy_boundaries``, ``futility_boundaries``); a blinded view has no statistics, so
only the boundaries are drawn and the chart says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

__all__ = ["statistic_chart"]

WIDTH, HEIGHT = 640, 330
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 74
CEILING = 8.0
"""Boundaries above this |z| (the first looks of an O'Brien-Fleming design) are drawn at
the top edge, with a note."""
COLOURS = ("#1f5fbf", "#8a3ffc", "#d97706", "#0e7490")
EFFICACY, FUTILITY = "#b91c1c", "#15803d"


def _x(fraction: float) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * min(max(fraction, 0.0), 1.05) / 1.05


def _finite(values: Sequence[Any] | None) -> list[float | None]:
    out: list[float | None] = []
    for v in values or []:
        ok = isinstance(v, int | float) and math.isfinite(v)
        out.append(float(v) if ok else None)
    return out


def _polyline(points: list[tuple[float, float]], colour: str, dashed: bool, label: str) -> str:
    if not points:
        return ""
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    marks = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>' for x, y in points
    )
    return (
        f'<g class="series" data-series="{escape(label)}">'
        f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
        f"{marks}</g>"
    )


def statistic_chart(comparisons: Sequence[dict[str, Any]], *, blinded: bool) -> str:
    """SVG of |z| per comparison against the boundaries (all looks so far)."""
    if not comparisons:
        return (
            f'<svg class="chart" viewBox="0 0 {WIDTH} 60" role="img" '
            'aria-label="no look has been analysed yet"><text x="8" y="35">'
            "No look has been analysed yet.</text></svg>"
        )
    first = comparisons[0]
    fractions = _finite(first.get("information_fractions"))
    efficacy = _finite(first.get("efficacy_boundaries"))
    futility = _finite(first.get("futility_boundaries"))
    paths = [] if blinded else [_finite(c.get("statistics")) for c in comparisons]
    seen = [abs(v) for p in paths for v in p if v is not None]
    bounds = [b for b in efficacy if b is not None]
    wanted = max(4.0, *(v + 0.5 for v in seen), *(b + 0.25 for b in bounds))
    top = math.ceil(min(wanted, CEILING))
    clipped = any(b > top for b in bounds) or any(v > top for v in seen)

    def y(value: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - min(max(value, 0.0), top) / top)

    def points(values: list[float | None], absolute: bool = False) -> list[tuple[float, float]]:
        return [
            (_x(f), y(abs(v) if absolute else v))
            for f, v in zip(fractions, values, strict=False)
            if f is not None and v is not None
        ]

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-label="test statistic against the sequential boundaries" '
        'xmlns="http://www.w3.org/2000/svg">',
        "<title>Test statistic |z| against the efficacy and futility boundaries</title>",
    ]
    for tick in range(0, top + 1):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#e5e7eb"/><text x="{LEFT - 8}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end" font-size="12">{tick}</text>'
        )
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<text x="{_x(share):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" '
            f'font-size="12">{share:.0%}</text>'
        )
    parts.append(
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.0f}" y="{HEIGHT - BOTTOM + 36}" '
        'text-anchor="middle" font-size="12">information fraction</text>'
        f'<text x="14" y="{(TOP + HEIGHT - BOTTOM) / 2:.0f}" font-size="12" '
        f'transform="rotate(-90 14 {(TOP + HEIGHT - BOTTOM) / 2:.0f})" '
        'text-anchor="middle">|z|</text>'
    )
    parts.append(_polyline(points(efficacy), EFFICACY, True, "efficacy boundary"))
    if any(v is not None and v > 0 for v in futility):
        parts.append(_polyline(points(futility), FUTILITY, True, "futility boundary"))
    legend = [("efficacy boundary", EFFICACY), ("futility boundary", FUTILITY)]
    for i, (comparison, path) in enumerate(zip(comparisons, paths, strict=False)):
        colour = COLOURS[i % len(COLOURS)]
        label = f"{comparison.get('challenger')} vs {comparison.get('reference')}"
        parts.append(_polyline(points(path, absolute=True), colour, False, label))
        legend.append((label, colour))
    notes = []
    if blinded:
        notes.append("Statistics are blinded until the verdict; the boundaries are shown.")
    if clipped:
        notes.append(f"Values above {top} are drawn at the top edge.")
    for i, note in enumerate(notes):
        parts.append(
            f'<text x="{WIDTH - RIGHT - 6}" y="{TOP + 14 + 16 * i}" font-size="12" '
            f'text-anchor="end" fill="#374151">{escape(note)}</text>'
        )
    x = float(LEFT)
    for label, colour in legend:  # one row under the axis
        parts.append(
            f'<rect x="{x:.0f}" y="{HEIGHT - 14}" width="14" height="4" fill="{colour}"/>'
            f'<text x="{x + 18:.0f}" y="{HEIGHT - 8}" font-size="12">{escape(label)}</text>'
        )
        x += 30 + 6.5 * len(label)
    parts.append("</svg>")
    return "".join(parts)
