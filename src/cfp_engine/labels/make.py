"""Make a label: calculate, build the disclosure, render it in the asked format.

The formats: ``pact`` (PACT v3), ``pact-v2``, ``catena-x`` (Catena-X PCF aspect model),
``json`` (the disclosure itself), ``md`` and ``html`` (human-readable label and report),
``battery-passport`` (Battery Pass carbon footprint and recycled content) and
``eu-battery`` (Regulation (EU) 2023/1542 Art. 7 declaration) and ``ouranos`` (the CFP
records of Japan's Ouranos Ecosystem data platform, per part); these three need the spec.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cfp_engine.engine.footprint import FootprintCalculator
from cfp_engine.errors import SpecError, quote_input
from cfp_engine.labels.catenax_model import LATEST_RELEASE
from cfp_engine.labels.disclosure import Disclosure, build_disclosure
from cfp_engine.labels.facts import label_facts
from cfp_engine.labels.formats import LABEL_FORMATS, READABLE_FORMATS, SPEC_FORMATS
from cfp_engine.spec.documents import dump_json
from cfp_engine.spec.product import ProductSpec


def make_disclosure(
    spec: ProductSpec,
    *,
    variant: str | None = None,
    method: str | None = None,
    approach: str | None = None,
    inventories: Sequence[str | Path] = (),
    materials: Sequence[str | Path] = (),
    facts: Mapping[str, Any] | None = None,
    mc: int | None = None,
    seed: int | None = None,
) -> Disclosure:
    """Calculate ``spec`` and build its disclosure (label facts from the spec + ``facts``).

    With ``mc`` iterations, a Monte Carlo run (:mod:`cfp_engine.uncertainty.analysis`)
    gives the label's uncertainty statement.
    """
    product = spec.with_variant(variant)
    label = label_facts(product, facts)
    calculator = FootprintCalculator(method=method, inventories=inventories, materials=materials)
    result = calculator.calculate(product, approach=approach)
    uncertainty = None
    if mc is not None:
        from cfp_engine.uncertainty.analysis import sample_footprints

        (sampled,) = sample_footprints(
            [(product, None)], calculator, iterations=mc, seed=seed, approach=approach
        )
        uncertainty = sampled.statistics()
    table = calculator.table_for(product)
    return build_disclosure(result, product, table, label, uncertainty=uncertainty)


def disclosure_document(disclosure: Disclosure) -> dict[str, Any]:
    """The disclosure as JSON-ready data (``--format json``)."""
    document = asdict(disclosure)
    document["facts"] = {
        k: (list(v) if isinstance(v, tuple) else v) for k, v in document["facts"].items()
    }
    what = f"the disclosure of {disclosure.product_id!r}"
    return json.loads(dump_json(document, what=what, default=str))


def check_qr_url(qr_url: str, fmt: str) -> None:
    """:class:`SpecError` unless ``qr_url`` is an http(s) address and ``fmt`` shows it."""
    if fmt != "html":
        raise SpecError(f"qr_url: only the html label shows a QR code, not {fmt}")
    if not qr_url.startswith(("https://", "http://")) or len(qr_url) > 1000:
        raise SpecError(f"qr_url: {quote_input(qr_url)} is not an http(s) address")


def render_label(
    disclosure: Disclosure,
    fmt: str,
    *,
    lang: str = "en",
    catena_x_version: str = LATEST_RELEASE,
    product: ProductSpec | None = None,
    study_url: str | None = None,
    qr_url: str | None = None,
) -> str:
    """The label text in ``fmt``.

    Parameters
    ----------
    disclosure
        The label's values.
    fmt
        One of :data:`cfp_engine.labels.formats.LABEL_FORMATS`.
    lang
        ``"en"`` or ``"ja"``, for the readable formats.
    catena_x_version
        One of :data:`cfp_engine.labels.catenax_model.MODEL_VERSIONS`, for ``catena-x``.
    product
        The spec the disclosure was made from, variant applied; needed by the battery
        formats (its ``battery:`` section and components) and ``ouranos`` (its components).
    study_url
        For the battery formats: the carbon footprint study URL (overrides the spec's).
    qr_url
        For ``html``: the address of the label's page; the label shows its QR code.

    Raises
    ------
    SpecError
        An unknown format or Catena-X version, or a fact the format needs is missing.
    CalculationError
        A figure of a JSON format is not a finite number.
    """
    what = f"the {fmt} label of {disclosure.product_id!r}"
    if qr_url is not None:
        check_qr_url(qr_url, fmt)
    if fmt == "pact":
        from cfp_engine.labels.pact import to_pact_v3

        return dump_json(to_pact_v3(disclosure), what=what, indent=2, ensure_ascii=False)
    if fmt == "pact-v2":
        from cfp_engine.labels.pact import to_pact_v2

        return dump_json(to_pact_v2(disclosure), what=what, indent=2, ensure_ascii=False)
    if fmt == "catena-x":
        from cfp_engine.labels.catenax import to_catenax

        document = to_catenax(disclosure, version=catena_x_version)
        return dump_json(document, what=what, indent=2, ensure_ascii=False)
    if fmt == "json":
        document = disclosure_document(disclosure)
        return dump_json(document, what=what, indent=2, ensure_ascii=False)
    if fmt in SPEC_FORMATS:
        if product is None:
            raise SpecError(f"the {fmt} format needs the product spec (product=...)")
        if fmt == "eu-battery":
            from cfp_engine.labels.eu_battery import to_eu_battery as convert
        elif fmt == "ouranos":
            from cfp_engine.labels.ouranos import to_ouranos as convert
        else:
            from cfp_engine.labels.battery import to_battery_passport as convert
        document = convert(disclosure, product, study_url=study_url)
        return dump_json(document, what=what, indent=2, ensure_ascii=False)
    if fmt in READABLE_FORMATS:
        from cfp_engine.labels.readable import render as label_render

        if fmt == "md":
            return label_render.render_markdown(disclosure, lang=lang)
        return label_render.render_html(disclosure, lang=lang, qr_url=qr_url)
    raise SpecError(f"unknown label format {fmt!r} (formats: {', '.join(LABEL_FORMATS)})")
