"""Geometry for server-rendered SVG survival charts (no scripts, no style attributes)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
        points = group["points"]
        steps = [f"M{x(0)},{y(1.0)}"]
        upper, lower = [f"M{x(0)},{y(points[0]['high'])}"], []
        for before, point in zip(points, points[1:]):
            steps.append(f"H{x(point['day'])}V{y(point['survival'])}")
            upper.append(f"H{x(point['day'])}V{y(point['high'])}")
        for before, point in zip(points[::-1], points[::-1][1:]):
            lower.append(f"V{y(point['low'])}H{x(point['day'])}")
        end = points[-1]
        band = "".join(upper) + f"V{y(end['low'])}" + "".join(lower) + "Z"
        lines.append(Line(group["key"], COLOURS[n % len(COLOURS)], DASHES[n % len(DASHES)],
                          "".join(steps), band, TOP + 14 + 16 * n))
    step = max(1, months // 6)
    x_ticks = [(x(m * 30.4375), str(m)) for m in range(0, months + 1, step)]
    y_ticks = [(y(v / 100), f"{v}%") for v in range(0, 101, 25)]
    return Chart(WIDTH, HEIGHT, lines, x_ticks, y_ticks, LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM)
