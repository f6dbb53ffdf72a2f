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
    format_mass,
    format_percent,
    format_percent_of,
    format_period,
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
        (t("period"), format_period(facts.reference_period, lang)),
    ]
    if facts.validity_period:
        label_rows.append((t("validity"), format_date(facts.validity_period[1], lang)))
    label_rows += [
        (t("report_at"), facts.report_url or t("report_none")),
        (t("company"), facts.company_name),
    ]

    def share(value: float) -> str:
        return format_percent_of(value, total) if total else "—"

    stage_table = [(t("stage"), t("value"), t("share"))]
    for s in STAGES:
        if s in d.stages_covered:
            value = d.stages_kg_co2e.get(s, 0.0)
            stage_table.append((t(s), format_co2e(value, lang, unit), share(value)))
        else:
            stage_table.append((t(s), t("excluded"), "—"))
    stage_table.append((t("total"), format_co2e(total, lang, unit), "100.0 %" if total else "—"))
    scale = 10.0 ** UNIT_SCALE[unit]
    bars = tuple(
        Bar(
            s,
            t(s),
            d.stages_kg_co2e.get(s, 0.0) * scale,
            format_co2e(d.stages_kg_co2e.get(s, 0.0), lang, unit),
        )
        for s in d.stages_covered
    )

    figures = d.figures
    figure_rows = [
        (t(key), format_co2e(figures[key], lang, unit))
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
        (t(key), format_carbon(figures[key], lang, unit))
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
    if d.dqi:  # the pedigree scale, as PACT v3 and Catena-X state it (1 best - 5 worst)
        data_rows.append((t("coverage"), f"{format_percent(d.dqi['coveragePercent'])} %"))
        data_rows += [(t(k), format_percent(v, 2)) for k, v in d.dqi.items() if k.endswith("DQR")]
    else:
        data_rows.append((t("dqr_none_label"), t("dqr_none")))

    result = d.result
    reduction = result.get("reduction_vs_virgin")
    recycled = result.get("recycled_content_share")
    integrity = d.integrity
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
                    format_percent_of(recycled) if recycled is not None else t("not_given"),
                ),
                (t("virgin"), format_co2e(result.get("virgin_baseline_kg_co2e"), lang)),
                (
                    t("reduction"),
                    format_percent_of(reduction) if reduction is not None else t("not_given"),
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
