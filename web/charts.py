"""Geometry for server-rendered SVG survival charts (no scripts, no style attributes)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 12, 40
# Colour-blind safe (Okabe-Ito), dark enough against white.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
DASHES = ("", "6 3", "2 2", "8 3 2 3", "1 3", "10 4")


@dataclass(frozen=True)
class Line:
    key: str
    colour: str
    dash: str
    path: str
    band: str
    legend_y: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    lines: list[Line]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    left: int
    right: int
    top: int
    bottom: int


def survival_chart(groups: list[dict[str, Any]]) -> Chart:
    """Step lines with their 95% bands for the groups that may be shown."""
    shown = [g for g in groups if not g["suppressed"] and g["points"]]
    max_day = max([g["points"][-1]["day"] for g in shown] + [30.0])
    months = max(1, int(max_day // 30.4375))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: float) -> float:
        return round(LEFT + plot_w * day / max_day, 1)

    def y(survival: float) -> float:
        return round(TOP + plot_h * (1 - survival), 1)

    lines = []
    for n, group in enumerate(shown):
        # Scaled in one go: a curve of 10,000 matches has hundreds of steps.
        columns = np.array([[p["day"], p["survival"], p["high"], p["low"]]
                            for p in group["points"]], dtype=float)
        xs = np.round(LEFT + plot_w * columns[:, 0] / max_day, 1).tolist()
        survival, high, low = (np.round(TOP + plot_h * (1 - columns[:, i]), 1).tolist()
                               for i in (1, 2, 3))
        steps = f"M{xs[0]},{survival[0]}" + "".join(
            f"H{a}V{b}" for a, b in zip(xs[1:], survival[1:]))
        upper = f"M{xs[0]},{high[0]}" + "".join(f"H{a}V{b}" for a, b in zip(xs[1:], high[1:]))
        lower = "".join(f"V{b}H{a}" for a, b in zip(xs[-2::-1], low[-2::-1]))
        band = f"{upper}V{low[-1]}{lower}Z"
        lines.append(Line(group["key"], COLOURS[n % len(COLOURS)], DASHES[n % len(DASHES)],
                          steps, band, TOP + 14 + 16 * n))
    step = max(1, months // 6)
    x_ticks = [(x(m * 30.4375), str(m)) for m in range(0, months + 1, step)]
    y_ticks = [(y(v / 100), f"{v}%") for v in range(0, 101, 25)]
    return Chart(WIDTH, HEIGHT, lines, x_ticks, y_ticks, LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM)


@dataclass(frozen=True)
class Trend:
    width: int
    height: int
    path: str  # the line, broken where a month may not be shown
    points: list[tuple[float, float, str]]  # x, y, the value as shown
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    left: int
    right: int
    top: int
    bottom: int


def trend_chart(labels: list[str], values: list[float | None], *, share: bool) -> Trend:
    """A monthly line: counts from 0 up, shares on 0-100%; hidden months leave a gap."""
    height = 220
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    shown = [v for v in values if v is not None]
    top = 1.0 if share else max([*shown, 1.0]) * 1.1
    step = plot_w / max(1, len(values) - 1)

    def y(value: float) -> float:
        return round(TOP + plot_h * (1 - value / top), 1)

    path, points, pen_down = "", [], False
    for n, value in enumerate(values):
        x = round(LEFT + step * n, 1)
        if value is None:
            pen_down = False
            continue
        path += f"{'L' if pen_down else 'M'}{x},{y(value)}"
        pen_down = True
        points.append((x, y(value), f"{round(value * 100)}%" if share else str(int(value))))
    ticks = ([(y(v / 100), f"{v}%") for v in range(0, 101, 25)] if share
             else [(y(top * k / 4), str(round(top * k / 4))) for k in range(5)])
    x_ticks = [(round(LEFT + step * n, 1), label[5:7]) for n, label in enumerate(labels)]
    return Trend(WIDTH, height, path, points, x_ticks, ticks, LEFT, WIDTH - RIGHT, TOP,
                 height - BOTTOM)


@dataclass(frozen=True)
class ForestRow:
    key: str
    y: float
    x: float  # the ratio
    low: float
    high: float


@dataclass(frozen=True)
class Forest:
    width: int
    height: int
    rows: list[ForestRow]
    x_ticks: list[tuple[float, str]]
    one: float  # x of ratio 1 (no effect)
    left: int
    right: int
    top: int
    bottom: int


FOREST_TICKS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0)


def forest_chart(effects: list[tuple[str, float, float, float]]) -> Forest:
    """Ratios with 95% intervals on a log axis, one row per (key, ratio, low, high)."""
    left, row_h = 16, 36
    height = TOP + row_h * len(effects) + BOTTOM
    lo = min([0.5, *(e[2] for e in effects)])
    hi = max([2.0, *(e[3] for e in effects)])
    span = np.log(hi) - np.log(lo)
    plot_w = WIDTH - left - RIGHT

    def x(ratio: float) -> float:
        return round(left + plot_w * (np.log(ratio) - np.log(lo)) / span, 1)

    rows = [ForestRow(key, TOP + row_h * n + row_h / 2, x(r), x(a), x(b))
            for n, (key, r, a, b) in enumerate(effects)]
    ticks = [(x(t), f"{t:g}".replace(".", ",")) for t in FOREST_TICKS if lo <= t <= hi]
    return Forest(WIDTH, height, rows, ticks, x(1.0), left, WIDTH - RIGHT, TOP, height - BOTTOM)


@dataclass(frozen=True)
class Calibration:
    size: int
    points: list[tuple[float, float, float]]  # x, y, radius
    ticks: list[tuple[float, float, str]]  # x on the bottom axis, y on the left axis, label
    left: int
    right: int
    top: int
    bottom: int


def calibration_chart(groups: list[dict[str, Any]]) -> Calibration:
    """Predicted (x) against observed (y) shares on 0-100%, a dot per group sized by its count."""
    size, left, top = 320, 44, 12
    plot = size - left - 2 * top  # room for the last tick label on the right

    def x(share: float) -> float:
        return round(left + plot * share, 1)

    def y(share: float) -> float:
        return round(top + plot * (1 - share), 1)

    largest = max([g["n"] for g in groups] + [1])
    points = [(x(g["predicted"]), y(g["observed"]), round(3 + 5 * (g["n"] / largest) ** 0.5, 1)) for g in groups]
    ticks = [(x(v / 100), y(v / 100), f"{v}%") for v in range(0, 101, 25)]
    return Calibration(size, points, ticks, left, left + plot, top, top + plot)
