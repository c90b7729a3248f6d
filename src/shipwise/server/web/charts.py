"""Line charts drawn on the server: numbers over time in, an SVG's geometry out.

``line_chart`` places each series, the band (an interval around one of them) and the
axes' ticks in a fixed drawing box; ``_chart.html`` draws them as ``<svg role="img">``
with its ``<title>`` and ``<desc>``. No JavaScript and no charting library: a page that
renders on the server needs only coordinates, and a chart stays readable without
scripts, under the Content-Security-Policy, and in a screenshot.

A value may be missing (``None``: that check had no number for the series); a line
breaks there rather than inventing a value in between.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

__all__ = ["Band", "Chart", "Series", "Tick", "line_chart"]

WIDTH, HEIGHT = 640, 240
# Room for the value labels on the left and the time labels below.
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 12, 36
Y_TICKS = 4
T = TypeVar("T")
PADDING = 0.08  # of the value range, above and below, so no line sits on the frame


@dataclass(frozen=True, slots=True)
class Series:
    """One line: ``values`` line up with the chart's times. ``style`` names how it is
    drawn (``_chart.html``: "with", "without", "limit")."""

    label: str
    values: Sequence[float | None]
    style: str


@dataclass(frozen=True, slots=True)
class Band:
    """An interval at each time (lower, upper), or None where there is none."""

    label: str
    intervals: Sequence[tuple[float, float] | None]


@dataclass(frozen=True, slots=True)
class Tick:
    at: float  # x or y in the drawing
    label: str


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    style: str
    runs: tuple[str, ...]  # SVG polyline points, one per unbroken run
    dots: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    plot: tuple[float, float, float, float]  # left, top, right, bottom
    lines: tuple[Line, ...]
    bands: tuple[str, ...]  # SVG polygon points, one per unbroken run
    band_label: str | None
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]


def _finite(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def _value_range(series: Sequence[Series], band: Band | None) -> tuple[float, float]:
    found = [v for s in series for v in _finite(s.values)]
    if band is not None:
        found += [v for pair in band.intervals if pair is not None for v in _finite(pair)]
    if not found:
        return 0.0, 1.0
    low, high = min(found), max(found)
    if high - low < 1e-12:  # one value: a range around it, so it sits mid-chart
        spread = abs(high) * 0.5 or 1.0
        return low - spread, high + spread
    pad = (high - low) * PADDING
    return low - pad, high + pad


def _runs(items: Sequence[T | None]) -> list[list[T]]:
    """``items`` split where one is missing."""
    runs: list[list[T]] = [[]]
    for item in items:
        if item is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(item)
    return [run for run in runs if run]


def _polyline(run: Sequence[tuple[float, float]]) -> str:
    if len(run) == 1:  # one point alone: a short level stroke, so it shows
        ((x, y),) = run
        run = [(x - 8, y), (x + 8, y)]
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in run)


def _time_label(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%d %b %H:%M}"


def line_chart(
    times: Sequence[datetime],
    series: Sequence[Series],
    band: Band | None = None,
    value_label: Callable[[float], str] = lambda v: f"{v:g}",
) -> Chart:
    """The geometry of ``series`` (and ``band``) against ``times`` (oldest first)."""
    left, top, right, bottom = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM
    low, high = _value_range(series, band)
    start = times[0] if times else datetime.now(UTC)
    span = (times[-1] - start).total_seconds() if len(times) > 1 else 0.0

    def x_of(index: int) -> float:
        if span <= 0:
            return (left + right) / 2
        return left + (times[index] - start).total_seconds() / span * (right - left)

    def y_of(value: float) -> float:
        clipped = min(max(value, low), high)
        return bottom - (clipped - low) / (high - low) * (bottom - top)

    lines = []
    for one in series:
        points = [
            None if v is None or not math.isfinite(v) else (x_of(i), y_of(v))
            for i, v in enumerate(one.values)
        ]
        runs = _runs(points)
        dots = tuple(p for run in runs for p in run)
        lines.append(Line(one.label, one.style, tuple(_polyline(r) for r in runs), dots))
    polygons: list[str] = []
    if band is not None:
        edges = [
            None
            if pair is None or not all(math.isfinite(v) for v in pair)
            else (x_of(i), y_of(pair[0]), y_of(pair[1]))
            for i, pair in enumerate(band.intervals)
        ]
        for run in _runs(edges):
            x0, lo0, hi0 = run[0]  # one interval alone is a thin bar, so it shows
            shape = run if len(run) > 1 else [(x0 - 3, lo0, hi0), (x0 + 3, lo0, hi0)]
            outline = [(x, hi) for x, _, hi in shape] + [(x, lo) for x, lo, _ in reversed(shape)]
            polygons.append(_polyline(outline))
    x_ticks: list[Tick] = []
    if times:
        chosen = sorted({0, len(times) // 2, len(times) - 1})
        x_ticks = [Tick(x_of(i), _time_label(times[i])) for i in chosen]
    y_ticks = [
        Tick(y_of(low + (high - low) * k / Y_TICKS), value_label(low + (high - low) * k / Y_TICKS))
        for k in range(Y_TICKS + 1)
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        plot=(left, top, right, bottom),
        lines=tuple(lines),
        bands=tuple(polygons),
        band_label=None if band is None else band.label,
        x_ticks=tuple(x_ticks),
        y_ticks=tuple(y_ticks),
    )
