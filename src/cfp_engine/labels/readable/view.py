"""What the readable label and its report show, as text in one language: the label view.

:func:`build_view` turns a :class:`~cfp_engine.labels.disclosure.Disclosure` into a
:class:`LabelView` (the label's headline and rows, the report's sections, the stage
bars) with the strings of :data:`cfp_engine.labels.readable.text.STRINGS`; Markdown and HTML
(:mod:`cfp_engine.labels.readable.render`) are both rendered from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cfp_engine.errors import SpecError
from cfp_engine.labels.disclosure import Disclosure
from cfp_engine.labels.readable.display_values import (
    DISPLAY_ROUNDING_RULE,
    UNIT_SCALE,
    DisplayValue,
    display_value,
    format_carbon,
    format_co2e,
    format_date,
    format_decimal,
    format_mass,
    format_percent,
    format_percent_of,
    format_period,
    round_significant,
)
from cfp_engine.labels.readable.text import JA_UNITS, LANGUAGES, STRINGS, text
from cfp_engine.spec.product import STAGES


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
    """The label (headline, rows, note), the report's sections and the stage bars, as text."""

    lang: str
    title: str
    headline: DisplayValue
    label_rows: tuple[tuple[str, str], ...]
    label_note: str
    report_url: str | None
    sections: tuple[Section, ...]
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class _Words:
    """The strings of one language: ``t(key)`` is :func:`~cfp_engine.labels.readable.text.text`."""

    lang: str

    def __call__(self, key: str) -> str:
        return text(key, self.lang)

    def join(self, parts) -> str:
        """``parts`` joined with the language's list separator."""
        return self("sep").join(parts)


def build_view(disclosure: Disclosure, *, lang: str = "en") -> LabelView:
    """Everything the label and report show, as text in ``lang`` (``"en"`` or ``"ja"``).

    Figures are in kg CO2e per declared unit in ``disclosure``; the view shows every stage
    value in the headline's unit (g, kg or t CO2e), so they compare at a glance.
    """
    if lang not in LANGUAGES:
        raise SpecError(f"label language {lang!r}: one of {', '.join(LANGUAGES)}")
    t, d = _Words(lang), disclosure
    headline = display_value(d.total_kg_co2e)
    ar = ", ".join(d.ipcc_characterization_factors) or "?"
    declared, stages = _declared_unit(d, t), _stages_covered(d, t)
    sections = (
        Section(
            t("s_unit"),
            (
                (t("declared_unit"), declared),
                (t("mass"), format_mass(d.mass_per_declared_unit_kg)),
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
        Section(t("s_stages"), table=_stage_table(d, t, headline.unit), notes=(t("share_note"),)),
        Section(t("s_figures"), _figure_rows(d, t, headline.unit)),
        Section(t("s_data"), _data_rows(d, t), notes=(t("dqr_note"),)),
        *_method_sections(d, t, ar),
        _recycled_section(d, t),
        *_per_kwh_sections(d, t),
        _integrity_section(d, t),
    )
    return LabelView(
        lang=lang,
        title=t("title"),
        headline=headline,
        label_rows=_label_rows(d, t, declared, stages),
        label_note=t("rounding_note").format(ar=ar),
        report_url=d.facts.report_url,
        sections=sections,
        bars=_bars(d, t, headline.unit),
    )


def _declared_unit(d: Disclosure, t: _Words) -> str:
    """ "per 1 piece", or in Japanese the amount and unit first."""
    if t.lang == "ja":
        measure = d.declared_unit_of_measurement
        ja_unit = JA_UNITS.get(measure, measure)
        return f"{d.declared_unit_amount:g}{ja_unit}あたり（{d.declared_unit}）"
    return f"per {d.declared_unit}"


def _stages_covered(d: Disclosure, t: _Words) -> str:
    """The stages covered, and the ones not covered named after them."""
    missing = [s for s in STAGES if s not in d.stages_covered]
    stages = t.join(t(s) for s in d.stages_covered)
    if missing:
        stages += t("not_covered").format(t.join(t(s) for s in missing))
    return stages


def _label_rows(
    d: Disclosure, t: _Words, declared: str, stages: str
) -> tuple[tuple[str, str], ...]:
    """The rows of the label itself, under its headline."""
    facts = d.facts
    product = d.product_name + (f" ({d.variant})" if d.variant else "")
    rows = [
        (t("product"), product),
        (t("declared_unit"), declared),
        (t("stages"), stages),
        (t("period"), format_period(facts.reference_period, t.lang)),
    ]
    if facts.validity_period:
        rows.append((t("validity"), format_date(facts.validity_period[1], t.lang)))
    block = d.result.get("per_kwh_delivered")
    if block is not None:
        rows.append((t("per_kwh"), _per_kwh_text(block, t)))
    rows += [
        (t("report_at"), facts.report_url or t("report_none")),
        (t("company"), facts.company_name),
    ]
    return tuple(rows)


def _stage_table(d: Disclosure, t: _Words, unit: str) -> tuple[tuple[str, ...], ...]:
    """Stage, value in ``unit`` and share of the total; excluded stages say so."""
    total = d.total_kg_co2e

    def share(value: float) -> str:
        return format_percent_of(value, total) if total else "—"

    table = [(t("stage"), t("value"), t("share"))]
    for s in STAGES:
        if s in d.stages_covered:
            value = d.stages_kg_co2e.get(s, 0.0)
            table.append((t(s), format_co2e(value, t.lang, unit), share(value)))
        else:
            table.append((t(s), t("excluded"), "—"))
    table.append((t("total"), format_co2e(total, t.lang, unit), "100.0 %" if total else "—"))
    return tuple(table)


def _bars(d: Disclosure, t: _Words, unit: str) -> tuple[Bar, ...]:
    """One bar per stage covered, its value in ``unit``."""
    scale = 10.0 ** UNIT_SCALE[unit]
    return tuple(
        Bar(
            s,
            t(s),
            d.stages_kg_co2e.get(s, 0.0) * scale,
            format_co2e(d.stages_kg_co2e.get(s, 0.0), t.lang, unit),
        )
        for s in d.stages_covered
    )


#: The emission figures of the report, in the order it lists them.
_EMISSION_FIGURES = (
    "fossilGhgEmissions",
    "biogenicNonCO2Emissions",
    "biogenicCO2Uptake",
    "landUseChangeGhgEmissions",
    "aircraftGhgEmissions",
    "packagingGhgEmissions",
    "outboundLogisticsGhgEmissions",
)


def _figure_rows(d: Disclosure, t: _Words, unit: str) -> tuple[tuple[str, str], ...]:
    """The ISO 14067 figures (emissions by kind, carbon contents) and the carbon note."""
    figures = d.figures
    rows = [
        (t(key), format_co2e(figures[key], t.lang, unit))
        for key in _EMISSION_FIGURES
        if key in figures
    ]
    if not d.packaging_emissions_included:
        rows = [
            (k, f"{v}{t('packaging_none')}" if k == t("packagingGhgEmissions") else v)
            for k, v in rows
        ]
    rows += [
        (t(key), format_carbon(figures[key], t.lang, unit))
        for key in ("fossilCarbonContent", "biogenicCarbonContent")
        if key in figures
    ]
    rows.append((t("carbon_note"), d.carbon_content_note))
    return tuple(rows)


def _data_rows(d: Disclosure, t: _Words) -> tuple[tuple[str, str], ...]:
    """Secondary sources, primary-data share and the data quality ratings."""
    sources = t.join(
        f"{s.get('name', '')} ({s['version']})" if s.get("version") else s.get("name", "")
        for s in d.secondary_emission_factor_sources
    )
    rows = [
        (t("sources"), sources or t("none")),
        (t("primary_share"), f"{format_percent(d.primary_data_share)} %"),
    ]
    if d.dqi:  # the pedigree scale, as PACT v3 and Catena-X state it (1 best - 5 worst)
        rows.append((t("coverage"), f"{format_percent(d.dqi['coveragePercent'])} %"))
        rows += [(t(k), format_percent(v, 2)) for k, v in d.dqi.items() if k.endswith("DQR")]
    else:
        rows.append((t("dqr_none_label"), t("dqr_none")))
    return tuple(rows)


def _method_sections(d: Disclosure, t: _Words, ar: str) -> tuple[Section, ...]:
    """Allocation, method, exclusions and uncertainty: how the figures were made."""
    facts = d.facts
    return (
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
                (t("standards"), t.join(facts.cross_sectoral_standards) or t("none")),
                (t("rules"), t.join(facts.product_or_sector_specific_rules) or t("none")),
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
    )


def _recycled_section(d: Disclosure, t: _Words) -> Section:
    """Recycled content, the virgin baseline and the reduction against it."""
    result = d.result
    reduction = result.get("reduction_vs_virgin")
    recycled = result.get("recycled_content_share")
    return Section(
        t("s_recycled"),
        (
            (
                t("recycled"),
                format_percent_of(recycled) if recycled is not None else t("not_given"),
            ),
            (t("virgin"), format_co2e(result.get("virgin_baseline_kg_co2e"), t.lang)),
            (
                t("reduction"),
                format_percent_of(reduction) if reduction is not None else t("not_given"),
            ),
        ),
    )


def _per_kwh_text(block, t: _Words) -> str:
    """``"17.6 g CO2e/kWh"``: the per-kWh figure, 3 significant digits, in grams."""
    return f"{format_co2e(block['kg_co2e_per_kwh'], t.lang, 'g')}/kWh"


def _per_kwh_sections(d: Disclosure, t: _Words) -> tuple[Section, ...]:
    """The footprint per kWh delivered over the service life, and what it rests on."""
    block = d.result.get("per_kwh_delivered")
    if block is None:
        return ()
    energy = f"{format_decimal(round_significant(block['kwh_per_declared_unit']))} kWh"
    rows = [
        (t("functional_unit"), block["functional_unit"]),
        (t("per_kwh"), _per_kwh_text(block, t)),
        (t("energy_delivered"), f"{energy} = {block['calculation']} ({block['formula']})"),
        (t("energy_rule"), block["rule"]),
    ]
    if block["excluded_stages"]:
        rows.append((t("energy_excluded"), t.join(t(s) for s in block["excluded_stages"])))
    return (Section(t("s_per_kwh"), tuple(rows), notes=tuple(block["choices"])),)


def _integrity_section(d: Disclosure, t: _Words) -> Section:
    """Id, creation time, ids, rounding and the integrity hashes."""
    facts = d.facts
    return Section(
        t("s_integrity"),
        (
            (t("id"), f"{d.id} (v{d.version})"),
            (t("created"), d.created),
            (t("ids"), f"{t.join(facts.company_ids)} / {t.join(facts.product_ids)}"),
            (t("rounding"), DISPLAY_ROUNDING_RULE),
            *((t(k) if k in STRINGS else k, v) for k, v in d.integrity.items()),
        ),
    )
