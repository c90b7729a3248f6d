"""Server-drawn charts (``server.web.charts``): a missing value breaks a line instead of
inventing one, a lone value still shows, and every value sits inside the drawing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shipwise.server.web.charts import Band, Series, line_chart

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TIMES = [T0 + timedelta(minutes=10 * i) for i in range(5)]


def points(run: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (pair.split(",") for pair in run.split())]


def test_line_chart__a_missing_value__breaks_the_line_in_two() -> None:
    chart = line_chart(TIMES, [Series("with", [1.0, 2.0, None, 3.0, 4.0], "with")])

    (line,) = chart.lines
    assert [len(points(run)) for run in line.runs] == [2, 2]
    assert len(line.dots) == 4


def test_line_chart__a_lone_value__is_drawn_as_a_short_stroke_and_its_band_as_a_bar() -> None:
    chart = line_chart(TIMES[:1], [Series("limit", [1.5], "limit")], Band("interval", [(0.7, 1.3)]))

    (run,) = chart.lines[0].runs
    (x1, y1), (x2, y2) = points(run)
    assert x1 < x2
    assert y1 == y2
    (bar,) = chart.bands
    assert len({x for x, _ in points(bar)}) == 2  # a bar with a width, not a line


def test_line_chart__every_value_and_interval__sits_inside_the_plot() -> None:
    series = [
        Series("with", [0.01, 0.02, 0.035, None, 0.03], "with"),
        Series("without", [0.01, 0.01, 0.01, 0.011, 0.01], "without"),
    ]
    band = Band("interval", [None, (0.015, 0.025), (0.031, 0.039), None, (0.02, 0.04)])

    chart = line_chart(TIMES, series, band, lambda v: f"{v:.1%}")

    left, top, right, bottom = chart.plot
    drawn = [p for line in chart.lines for run in line.runs for p in points(run)]
    drawn += [p for polygon in chart.bands for p in points(polygon)]
    assert all(left - 8 <= x <= right + 8 and top <= y <= bottom for x, y in drawn)
    assert [tick.label for tick in chart.x_ticks] == [
        "02 Nov 09:00",
        "02 Nov 09:20",
        "02 Nov 09:40",
    ]
    assert chart.y_ticks[0].label == "0.8%"  # the lowest value, padded, at the bottom
    assert chart.y_ticks[0].at == bottom
