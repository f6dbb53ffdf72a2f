"""Human-readable CFP label and calculation report, in Markdown or HTML, English or Japanese.

The label shows the display elements of the CFP representation guide of Japan's METI and
MOE (経済産業省・環境省「カーボンフットプリント表示ガイド」, February 2025): the CFP value
with its unit (g, kg or t CO2e), placed next to the declared unit (宣言単位), the
life-cycle stages covered (算定範囲) and where the CFP calculation report can be found;
plus the reference period. The report that follows lists the items ISO 14067:2018
clause 7 asks a CFP study report to give.

Both formats and both languages are rendered from one view (:func:`build_view`) and one
table of strings (:data:`STRINGS`); this module only re-shapes a
:class:`~cfp_engine.disclosure.Disclosure` and computes nothing but display rounding.

Display rounding (:data:`DISPLAY_ROUNDING_RULE`): the guide asks for the unit kg-CO2e
(g and t alike) but fixes no number of digits, so the engine shows 3 significant digits,
rounded half up (四捨五入; JIS Z 8401:2019 rule B / ISO 80000-1 Annex B rule B), once,
from the unrounded kg CO2e, with :mod:`decimal`; the unit is chosen from the rounded
value, so 0.9996 kg shows as 1.00 kg and never as 1000 g.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from string import Template

from .disclosure import Disclosure
from .errors import SpecError
from .label_text import JA_UNITS, LANGUAGES, STRINGS, text
from .spec import STAGES

DISPLAY_SIGNIFICANT_DIGITS = 3
DISPLAY_ROUNDING_RULE = (
    f"{DISPLAY_SIGNIFICANT_DIGITS} significant digits, round half up (decimal.ROUND_HALF_UP), "
    "applied once to the unrounded kg CO2e; unit g below 1 kg, t from 1000 kg"
)
_UNIT_SCALE = {"g": 3, "kg": 0, "t": -3}  # powers of ten from kg


# -- numbers ---------------------------------------------------------------------------


def round_significant(
    value: float | Decimal | str, digits: int = DISPLAY_SIGNIFICANT_DIGITS
) -> Decimal:
    """``value`` rounded to ``digits`` significant digits, half up, as a Decimal.

    A float is taken at its shortest round-tripping decimal (``repr``), the value the
    disclosure's JSON carries, so 0.1235 rounds to 0.124 (its binary expansion,
    0.12349999..., would round down). Trailing zeros stay: 1.0 -> Decimal('1.00').
    """
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not exact.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    if exact == 0:
        return Decimal(0)
    rounded = exact.quantize(Decimal(1).scaleb(exact.adjusted() - digits + 1), ROUND_HALF_UP)
    if rounded.adjusted() > exact.adjusted():  # 0.9996 -> 1.000: one digit too many
        rounded = rounded.quantize(Decimal(1).scaleb(rounded.adjusted() - digits + 1))
    return rounded


def format_decimal(value: Decimal) -> str:
    """Plain notation with thousands separators, keeping significant trailing zeros."""
    return "0" if value == 0 else format(value, ",f")


@dataclass(frozen=True)
class DisplayValue:
    """A figure as a label shows it: ``number`` (text) in ``unit`` (g, kg or t)."""

    number: str
    unit: str
    rounded_kg: Decimal


def display_value(kg: float, *, unit: str | None = None) -> DisplayValue:
    """``kg`` rounded by :data:`DISPLAY_ROUNDING_RULE`, in ``unit`` or one chosen by size.

    The unit is chosen from the rounded value: g below 1 kg, t from 1000 kg, else kg.
    Scaling a Decimal by powers of ten is exact, so the unit never changes the digits.
    """
    rounded = round_significant(kg)
    if unit is None:
        size = abs(rounded)
        unit = "kg" if size == 0 or 1 <= size < 1000 else ("g" if size < 1 else "t")
    return DisplayValue(format_decimal(rounded.scaleb(_UNIT_SCALE[unit])), unit, rounded)


def format_percent(value: float | Decimal, decimals: int = 1) -> str:
    """A percentage (already in percent) rounded half up to ``decimals`` places."""
    exact = Decimal(repr(float(value))) if not isinstance(value, Decimal) else value
    return format(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP), "f")


def _percent_of(part: float, whole: float = 1.0) -> str:
    """``part`` as a percentage of ``whole``, computed in Decimal from the floats' repr."""
    return f"{format_percent(Decimal(repr(part)) * 100 / Decimal(repr(whole)))} %"


def co2e_unit(unit: str, lang: str) -> str:
    return f"{unit}-CO2e" if lang == "ja" else f"{unit} CO2e"


def _co2e(kg: float | None, lang: str, unit: str | None = None) -> str:
    if kg is None:
        return text("not_given", lang)
    shown = display_value(kg, unit=unit)
    return f"{shown.number} {co2e_unit(shown.unit, lang)}"


def _carbon(kg: float, lang: str, unit: str) -> str:
    shown = display_value(kg, unit=unit)
    return f"{shown.number} {shown.unit}{'-' if lang == 'ja' else ' '}C"


def _mass(kg: float) -> str:
    shown = display_value(kg)
    return f"{shown.number} {shown.unit}"


def _date(day: date, lang: str) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if lang == "ja" else day.isoformat()


def _period(period: tuple[date, date], lang: str) -> str:
    return f"{_date(period[0], lang)}{'～' if lang == 'ja' else ' to '}{_date(period[1], lang)}"


# -- the view: what both formats show --------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One part of the report: key-value ``rows``, an optional ``table``, ``notes``."""

    title: str
    rows: tuple[tuple[str, str], ...] = ()
    table: tuple[tuple[str, ...], ...] = ()  # first row is the header
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bar:
    """One stage bar: its name, value in the label's unit and that value as text."""

    stage: str
    name: str
    value: float
    label: str


@dataclass(frozen=True)
class LabelView:
    lang: str
    title: str
    headline: DisplayValue
    label_rows: tuple[tuple[str, str], ...]
    label_note: str
    report_url: str | None
    sections: tuple[Section, ...]
    bars: tuple[Bar, ...]


def build_view(disclosure: Disclosure, *, lang: str = "en") -> LabelView:
    """Everything the label and report show, as text in ``lang``."""
    if lang not in LANGUAGES:
        raise SpecError(f"label language {lang!r}: one of {', '.join(LANGUAGES)}")
    t = lambda key: text(key, lang)  # noqa: E731 - a local shorthand
    d, facts = disclosure, disclosure.facts
    sep = t("sep")
    total = d.total_kg_co2e
    headline = display_value(total)
    unit = headline.unit  # stage values in the headline's unit, for comparison
    ar = ", ".join(d.ipcc_characterization_factors) or "?"
    if lang == "ja":
        measure = d.declared_unit_of_measurement
        ja_unit = JA_UNITS.get(measure, measure)
        declared = f"{d.declared_unit_amount:g}{ja_unit}あたり（{d.declared_unit}）"
    else:
        declared = f"per {d.declared_unit}"
    missing = [s for s in STAGES if s not in d.stages_covered]
    stages = sep.join(t(s) for s in d.stages_covered)
    if missing:
        stages += t("not_covered").format(sep.join(t(s) for s in missing))
    product = d.product_name + (f" ({d.variant})" if d.variant else "")
    label_rows = [
        (t("product"), product),
        (t("declared_unit"), declared),
        (t("stages"), stages),
        (t("period"), _period(facts.reference_period, lang)),
    ]
    if facts.validity_period:
        label_rows.append((t("validity"), _date(facts.validity_period[1], lang)))
    label_rows += [
        (t("report_at"), facts.report_url or t("report_none")),
        (t("company"), facts.company_name),
    ]

    def share(value: float) -> str:
        return _percent_of(value, total) if total else "—"

    stage_table = [(t("stage"), t("value"), t("share"))]
    for s in STAGES:
        if s in d.stages_covered:
            value = d.stages_kg_co2e.get(s, 0.0)
            stage_table.append((t(s), _co2e(value, lang, unit), share(value)))
        else:
            stage_table.append((t(s), t("excluded"), "—"))
    stage_table.append((t("total"), _co2e(total, lang, unit), "100.0 %" if total else "—"))
    scale = 10.0 ** _UNIT_SCALE[unit]
    bars = tuple(
        Bar(
            s,
            t(s),
            d.stages_kg_co2e.get(s, 0.0) * scale,
            _co2e(d.stages_kg_co2e.get(s, 0.0), lang, unit),
        )
        for s in d.stages_covered
    )

    figures = d.figures
    figure_rows = [
        (t(key), _co2e(figures[key], lang, unit))
        for key in (
            "fossilGhgEmissions",
            "biogenicNonCO2Emissions",
            "biogenicCO2Uptake",
            "landUseChangeGhgEmissions",
            "aircraftGhgEmissions",
            "packagingGhgEmissions",
            "outboundLogisticsGhgEmissions",
        )
        if key in figures
    ]
    if not d.packaging_emissions_included:
        figure_rows = [
            (k, f"{v}{t('packaging_none')}" if k == t("packagingGhgEmissions") else v)
            for k, v in figure_rows
        ]
    figure_rows += [
        (t(key), _carbon(figures[key], lang, unit))
        for key in ("fossilCarbonContent", "biogenicCarbonContent")
        if key in figures
    ]
    figure_rows.append((t("carbon_note"), d.carbon_content_note))

    sources = sep.join(
        f"{s.get('name', '')} ({s['version']})" if s.get("version") else s.get("name", "")
        for s in d.secondary_emission_factor_sources
    )
    data_rows = [
        (t("sources"), sources or t("none")),
        (t("primary_share"), f"{format_percent(d.primary_data_share)} %"),
    ]
    if "coveragePercent" in d.dqi:
        data_rows.append((t("coverage"), f"{format_percent(d.dqi['coveragePercent'])} %"))
    data_rows += [(t(k), format_percent(v, 2)) for k, v in d.dqi.items() if k != "coveragePercent"]

    result = d.result
    reduction = result.get("reduction_vs_virgin")
    recycled = result.get("recycled_content_share")
    integrity = d.integrity
    sections = (
        Section(
            t("s_unit"),
            (
                (t("declared_unit"), declared),
                (t("mass"), _mass(d.mass_per_declared_unit_kg)),
                (t("mass_source"), d.mass_source),
            ),
        ),
        Section(
            t("s_boundary"),
            (
                (t("stages"), stages),
                (t("geography"), d.geography_country or "GLO"),
                (t("boundary"), d.boundary_processes_description),
            ),
        ),
        Section(t("s_stages"), table=tuple(stage_table), notes=(t("share_note"),)),
        Section(t("s_figures"), tuple(figure_rows)),
        Section(t("s_data"), tuple(data_rows), notes=(t("dqr_note"),)),
        Section(
            t("s_allocation"),
            (
                (t("approach"), t(d.approach) if d.approach in STRINGS else d.approach),
                (t("allocation"), d.allocation_rules_description),
            ),
        ),
        Section(
            t("s_method"),
            (
                (t("method"), d.method),
                (t("ipcc"), ar),
                (t("gwp"), d.gwp_source or t("not_given")),
                (t("standards"), sep.join(facts.cross_sectoral_standards) or t("none")),
                (t("rules"), sep.join(facts.product_or_sector_specific_rules) or t("none")),
            ),
        ),
        Section(
            t("s_exclusions"),
            (
                (t("exempted"), f"{format_percent(facts.exempted_emissions_percent)} %"),
                (t("description"), facts.exempted_emissions_description),
            ),
        ),
        Section(t("s_uncertainty"), ((t("assessment"), d.uncertainty_assessment_description),)),
        Section(
            t("s_recycled"),
            (
                (
                    t("recycled"),
                    _percent_of(recycled) if recycled is not None else t("not_given"),
                ),
                (t("virgin"), _co2e(result.get("virgin_baseline_kg_co2e"), lang)),
                (
                    t("reduction"),
                    _percent_of(reduction) if reduction is not None else t("not_given"),
                ),
            ),
        ),
        Section(
            t("s_integrity"),
            (
                (t("id"), f"{d.id} (v{d.version})"),
                (t("created"), d.created),
                (t("ids"), f"{sep.join(facts.company_ids)} / {sep.join(facts.product_ids)}"),
                (t("rounding"), DISPLAY_ROUNDING_RULE),
                *((t(k) if k in STRINGS else k, v) for k, v in integrity.items()),
            ),
        ),
    )
    return LabelView(
        lang=lang,
        title=t("title"),
        headline=headline,
        label_rows=tuple(label_rows),
        label_note=t("rounding_note").format(ar=ar),
        report_url=facts.report_url,
        sections=sections,
        bars=bars,
    )


# -- Markdown --------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#"})


def _md(value: str) -> str:
    return " ".join(str(value).split()).translate(_MD_SPECIAL)


def render_markdown(disclosure: Disclosure, *, lang: str = "en") -> str:
    """The label and its calculation report as Markdown in ``lang`` ("en" or "ja")."""
    view = build_view(disclosure, lang=lang)
    t = lambda key: text(key, lang)  # noqa: E731
    value = f"{view.headline.number} {co2e_unit(view.headline.unit, lang)}"
    lines = [f"# {_md(view.title)}", "", f"## {t('label')}", ""]
    colon = t("colon")
    lines.append(f"> **{_md(t('cfp'))}{colon}{_md(value)}**  ")
    lines += [f"> {_md(k)}{colon}{_md(v)}  " for k, v in view.label_rows]
    lines += [f"> *{_md(view.label_note)}*", "", f"## {_md(t('report'))}", ""]
    if t("engine_text"):
        lines += [_md(t("engine_text")), ""]
    for section in view.sections:
        lines += [f"### {_md(section.title)}", ""]
        lines += [f"- **{_md(k)}**{colon}{_md(v)}" if k else f"- {_md(v)}" for k, v in section.rows]
        if section.table:
            header, *body = section.table
            lines += [
                "| " + " | ".join(_md(c) for c in header) + " |",
                "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|",
            ]
            lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in body]
        if section.rows or section.table:
            lines.append("")
        lines += [*(f"*{_md(n)}*" for n in section.notes), *([""] if section.notes else [])]
    return "\n".join(lines).rstrip() + "\n"


# -- HTML ------------------------------------------------------------------------------

_PAGE = Template(
    """<!DOCTYPE html>
<html lang="$lang">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
body { font-family: "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Yu Gothic",
  Meiryo, "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; background: #fff;
  max-width: 820px; margin: 24px auto; padding: 0 16px; line-height: 1.55; }
.label { border: 3px solid #1b5e20; border-radius: 12px; padding: 16px 20px; }
.label h1 { margin: 0 0 4px; font-size: 1.35em; color: #1b5e20; }
.value { font-size: 2.6em; font-weight: 700; margin: 4px 0 8px; }
.value .unit { font-size: 0.5em; font-weight: 600; margin-left: 0.25em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dt { font-weight: 600; color: #333; } dd { margin: 0; overflow-wrap: anywhere; }
.note { font-size: 0.85em; color: #444; margin-top: 10px; }
h2 { border-bottom: 2px solid #1b5e20; padding-bottom: 2px; margin-top: 28px; }
h3 { margin: 20px 0 6px; font-size: 1.05em; }
table { border-collapse: collapse; } th, td { border: 1px solid #bbb; padding: 3px 10px; }
th[scope=row] { text-align: left; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
figure.chart { margin: 16px 0 0; }
svg text { font-family: inherit; font-size: 13px; fill: #1a1a1a; }
</style>
</head>
<body>
<section class="label" aria-label="$label_aria">
<h1>$title</h1>
<p class="value"><span class="number">$number</span><span class="unit">$unit</span></p>
$label_rows
<p class="note">$note</p>
</section>
<figure class="chart">
$chart
</figure>
<h2>$report_title</h2>
$engine_text
$sections
</body>
</html>
"""
)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _unit_html(unit_text: str) -> str:
    return _e(unit_text).replace("CO2e", "CO<sub>2</sub>e")


def _dl(rows: Sequence[tuple[str, str]], report_url: str | None = None) -> str:
    items = []
    for key, value in rows:
        if report_url and value == report_url and report_url.startswith(("https://", "http://")):
            shown = f'<a href="{_e(report_url)}">{_e(report_url)}</a>'
        else:
            shown = _e(value)
        items.append(f"<dt>{_e(key)}</dt><dd>{shown}</dd>" if key else f"<dd>{shown}</dd>")
    return "<dl>\n" + "\n".join(items) + "\n</dl>"


def _table(rows: Sequence[Sequence[str]]) -> str:
    header, *body = rows
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in header)
    lines = [f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>"]
    for row in body:
        cells = [f'<th scope="row">{_e(row[0])}</th>'] + [
            f'<td class="num">{_e(c)}</td>' for c in row[1:]
        ]
        lines.append(f"<tr>{''.join(cells)}</tr>")
    return "\n".join(lines) + "\n</tbody>\n</table>"


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


def render_html(disclosure: Disclosure, *, lang: str = "en") -> str:
    """The label and its report as one self-contained HTML page (no scripts, no links out)."""
    view = build_view(disclosure, lang=lang)
    t = lambda key: text(key, lang)  # noqa: E731
    unit_text = co2e_unit(view.headline.unit, lang)
    sep = t("sep")
    desc = t("chart_desc").format(
        unit=unit_text, items=sep.join(f"{b.name} {b.label}" for b in view.bars)
    )
    heading = t("chart_heading").format(title=t("chart_title"), unit=unit_text)
    chart = stage_chart_svg(view.bars, title=t("chart_title"), heading=heading, desc=desc)
    sections = []
    for section in view.sections:
        body = [f"<h3>{_e(section.title)}</h3>"]
        if section.rows:
            body.append(_dl(section.rows))
        if section.table:
            body.append(_table(section.table))
        body += [f'<p class="note">{_e(n)}</p>' for n in section.notes]
        sections.append("<section>\n" + "\n".join(body) + "\n</section>")
    value_text = f"{view.headline.number} {unit_text}"
    return _PAGE.substitute(
        lang=lang,
        title=_e(view.title),
        label_aria=_e(f"{t('cfp')}: {value_text}"),
        number=_e(view.headline.number),
        unit=_unit_html(unit_text),
        label_rows=_dl(view.label_rows, view.report_url),
        note=_e(view.label_note),
        chart=chart,
        report_title=_e(t("report")),
        engine_text=f'<p class="note">{_e(t("engine_text"))}</p>' if t("engine_text") else "",
        sections="\n".join(sections),
    )
