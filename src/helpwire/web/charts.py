"""Charts drawn on the server as SVG shapes: bars with their labels, scaled to the page's
box. No script and no third-party code: the template writes the shapes as SVG elements
(presentation attributes, which the Content-Security-Policy allows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 720
HEIGHT = 220
MARGIN_LEFT = 48
MARGIN_BOTTOM = 28
PLOT_TOP = 12


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int  # which series (its colour)
    title: str  # shown on hover and read by screen readers


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    bars: list[Bar]
    x_labels: list[Tick]
    y_labels: list[Tick]
    legend: list[str]


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    unit: str = "",
    every: int = 1,
) -> Chart:
    """Grouped bars: one group per label, one bar per series in it. ``every``: label each
    n-th group only (a month of days)."""
    top = max((v or 0 for _name, values in series for v in values), default=0) or 1
    plot_height = HEIGHT - MARGIN_BOTTOM - PLOT_TOP
    group = (WIDTH - MARGIN_LEFT) / max(1, len(labels))
    bar_width = max(1.0, group * 0.8 / max(1, len(series)))
    bars: list[Bar] = []
    for index, label in enumerate(labels):
        for number, (name, values) in enumerate(series):
            value = values[index] or 0
            height = plot_height * value / top
            bars.append(
                Bar(
                    x=round(MARGIN_LEFT + index * group + group * 0.1 + number * bar_width, 1),
                    y=round(PLOT_TOP + plot_height - height, 1),
                    width=round(bar_width, 1),
                    height=round(height, 1),
                    series=number,
                    title=f"{label}: {name} {_number(value)}{unit}",
                )
            )
    x_labels = [
        Tick(round(MARGIN_LEFT + i * group + group / 2, 1), HEIGHT - 8, label)
        for i, label in enumerate(labels)
        if i % every == 0
    ]
    y_labels = [
        Tick(
            MARGIN_LEFT - 6,
            round(PLOT_TOP + plot_height * (1 - share) + 4, 1),
            _number(top * share),
        )
        for share in (0, 0.5, 1)
    ]
    return Chart(title, WIDTH, HEIGHT, bars, x_labels, y_labels, [name for name, _v in series])


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
