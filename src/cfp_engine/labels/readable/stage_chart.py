"""The stage chart of the HTML label: horizontal bars per life-cycle stage as inline SVG."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from cfp_engine.labels.readable.display_values import format_decimal, round_significant
from cfp_engine.labels.readable.view import Bar


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _nice_step(span: float) -> float:
    """A 1-2-5 step giving about four intervals over ``span``."""
    raw = span / 4
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def stage_chart_svg(bars: Sequence[Bar], *, title: str, heading: str, desc: str) -> str:
    """Horizontal stage bars as inline SVG; the value axis starts at zero.

    Negative values (credits) are drawn leftward from the zero line, which is always
    drawn. Each bar is a ``rect class="bar"`` with ``data-stage`` and ``data-value``.
    """
    name_w, value_w, row_h, top = 170, 110, 34, 36
    values = [b.value for b in bars] or [0.0]
    low, high = min(0.0, *values), max(0.0, *values)
    step = _nice_step(high - low) if high > low else 1.0
    low_tick, high_tick = math.floor(low / step) * step, math.ceil(high / step) * step
    pad = value_w if low < 0 else 0  # room for the labels of negative bars
    plot_x, plot_w = name_w + pad, 600 - name_w - pad - value_w
    width, height = 600, top + row_h * len(bars) + 30

    def x(v: float) -> float:
        return round(plot_x + plot_w * (v - low_tick) / (high_tick - low_tick), 2)

    zero = x(0.0)
    parts = [
        f'<svg class="stage-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">{_e(title)}</title>',
        f'<desc id="chart-desc">{_e(desc)}</desc>',
        f'<text x="{plot_x}" y="16" font-weight="600">{_e(heading)}</text>',
    ]
    count = round((high_tick - low_tick) / step)
    for i in range(count + 1):
        tick = low_tick + i * step
        tx = x(tick)
        label = format_decimal(round_significant(tick, 6).normalize()) if tick else "0"
        parts.append(
            f'<line class="grid" x1="{tx}" y1="{top - 6}" x2="{tx}" y2="{height - 24}" '
            'stroke="#ddd" stroke-width="1"/>'
            f'<text x="{tx}" y="{height - 8}" text-anchor="middle" font-size="11">{label}</text>'
        )
    for i, bar in enumerate(bars):
        y = top + i * row_h
        bx, bw = min(zero, x(bar.value)), abs(x(bar.value) - zero)
        fill = "#2e7d32" if bar.value >= 0 else "#1565c0"
        end, anchor = (bx + bw + 5, "start") if bar.value >= 0 else (bx - 5, "end")
        parts.append(
            f'<text x="{name_w - 8}" y="{y + row_h / 2 + 4}" text-anchor="end">'
            f"{_e(bar.name)}</text>"
            f'<rect class="bar" data-stage="{_e(bar.stage)}" data-value="{bar.value!r}" '
            f'x="{bx}" y="{y + 6}" width="{bw}" height="{row_h - 12}" fill="{fill}">'
            f"<title>{_e(bar.name)}: {_e(bar.label)}</title></rect>"
            f'<text x="{end}" y="{y + row_h / 2 + 4}" text-anchor="{anchor}">{_e(bar.label)}</text>'
        )
    parts.append(
        f'<line class="zero-line" x1="{zero}" y1="{top - 6}" x2="{zero}" y2="{height - 24}" '
        'stroke="#000" stroke-width="2"/>'
    )
    return "\n".join(parts) + "\n</svg>"
