"""Multi-output ecospold2 datasets split by a property the file carries (``--allocation``).

An unallocated ecospold2 dataset has several products; each product exchange carries
properties (``<property><name>price</name>`` with an amount per unit of product: price,
true value relation, dry mass ...). :func:`allocate_by_property` splits such a dataset
into one single-output dataset per co-product, with every input and emission multiplied
by the product's allocation factor

    f_p = (amount_p x property_p) / sum over co-products (amount_i x property_i)

which is ecoinvent's rule for economic and physical allocation (ecoinvent 3 data quality
guideline, section 14.5; ISO 14044:2006 section 4.3.4.2, allocation by an underlying
physical relationship or by economic value). The factors add up to 1, so the co-products'
burdens add up to the unallocated dataset's: allocation conserves the total.

The split runs on bw2io's extracted data, before its strategies, so each part then goes
through the usual ecospold2 strategies as a single-output dataset (its own code, from the
activity and product ids, which is what other datasets' ``activityLinkId`` inputs link
to). Brightway's ``multifunctional`` package applies the same rule on a *written*
database, as a backend with node types of its own (``multifunctional``,
``readonly_process``, with random codes) that the engine's score table, references,
linking and staging copies would each have to learn; splitting the importer's data keeps
every activity a plain process and the import all-or-nothing. Checked once by hand
against ``multifunctional`` 1.1.2's ``property_allocation`` on the Ocelot CHP dataset
(price and true value relation): the same allocated amounts, to the last digit.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from cfp_engine.errors import SpecError

#: How many datasets an allocation error names before "... and N more".
LISTED = 10


def products_of(ds: dict[str, Any]) -> list[dict[str, Any]]:
    """The dataset's product exchanges with a non-zero amount."""
    return [e for e in ds.get("exchanges", ()) if e.get("type") == "production" and e.get("amount")]


def where_of(ds: dict[str, Any]) -> str:
    """How a dataset is named in messages: name [location] (file)."""
    return f"{ds.get('name')} [{ds.get('location') or 'GLO'}] ({ds.get('filename', '')})"


def offered_properties(datasets: list[dict[str, Any]]) -> tuple[dict[str, int], int]:
    """The property names the products of ``datasets`` carry: how many products carry
    each, and how many products there are (a name all of them carry allocates them all).
    """
    counts: dict[str, int] = {}
    total = 0
    for ds in datasets:
        for product in products_of(ds):
            total += 1
            for name in product.get("properties") or {}:
                counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))), total


def allocate_by_property(
    data: list[dict[str, Any]], prop: str, source: str, *, skip_invalid: bool = False
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Split every multi-output dataset of ``data`` by the property ``prop``.

    Parameters
    ----------
    data
        bw2io's extracted ecospold2 datasets (before strategies).
    prop
        The property name, as the file writes it (``price``, ``true value relation``,
        ``dry mass`` ...); matched without regard to case.
    source
        The imported file, for messages.
    skip_invalid
        Leave out the datasets that cannot be allocated by ``prop`` instead of refusing.

    Returns
    -------
    data : list of dict
        Single-output datasets unchanged; each multi-output one replaced by one dataset
        per co-product, named ``product | activity``, with its inputs and emissions
        scaled by the product's allocation factor (dimensionless) and the allocation
        recorded in ``cfp.allocation``.
    skipped : list of dict
        ``{"dataset", "reason"}`` of the datasets left out (``skip_invalid`` only).

    Raises
    ------
    SpecError
        A product lacks the property, or amount x property is negative or sums to zero
        in a dataset; the message lists the datasets and products.
    """
    wanted = " ".join(prop.split()).casefold()
    problems: list[tuple[str, str]] = []
    result: list[dict[str, Any]] = []
    for ds in data:
        products = products_of(ds)
        if len(products) < 2:
            result.append(ds)
            continue
        values, bad = {}, []
        for product in products:
            value, _ = _property(product, wanted)
            if value is None or not math.isfinite(value):
                bad.append(f"{product.get('name')!r} has no {prop!r}")
            elif product["amount"] * value < 0:
                bad.append(
                    f"{product.get('name')!r}: amount {product['amount']:g} x {prop} "
                    f"{value:g} is negative"
                )
            values[id(product)] = value
        total = sum(p["amount"] * values[id(p)] for p in products if values[id(p)] is not None)
        if not bad and total <= 0:
            bad.append(f"amount x {prop} sums to {total:g}")
        if bad:
            problems.append((where_of(ds), "; ".join(bad)))
            continue
        for product in products:
            factor = product["amount"] * values[id(product)] / total
            result.append(_split(ds, product, factor, prop, values[id(product)], products))
    if problems and skip_invalid:
        skipped = [
            {"dataset": d, "reason": f"not allocatable by {prop!r}: {r}"} for d, r in problems
        ]
        return result, skipped
    if problems:
        listed = "\n  ".join(f"{d}: {r}" for d, r in problems[:LISTED])
        more = f"\n  ... and {len(problems) - LISTED} more" if len(problems) > LISTED else ""
        raise SpecError(
            f"{source}: allocation={prop!r}: {len(problems)} multi-output dataset(s) "
            f"cannot be allocated by it; nothing was imported:\n  {listed}{more}\n"
            "Hint: choose a property every co-product carries, or leave these datasets "
            "out with skip_invalid=True"
        )
    return result, []


def _property(product: dict[str, Any], wanted: str) -> tuple[float | None, str]:
    """The product's property ``wanted`` (normalised name): amount per unit, and unit."""
    for name, value in (product.get("properties") or {}).items():
        if " ".join(str(name).split()).casefold() == wanted:
            try:
                return float(value.get("amount")), str(value.get("unit") or "")
            except (TypeError, ValueError):
                return None, ""
    return None, ""


def _split(
    ds: dict[str, Any],
    product: dict[str, Any],
    factor: float,
    prop: str,
    value: float,
    products: list[dict[str, Any]],
) -> dict[str, Any]:
    """The part of ``ds`` that makes ``product``: other products out, the rest x factor."""
    part = copy.deepcopy({k: v for k, v in ds.items() if k != "exchanges"})
    exchanges = []
    for exchange in ds["exchanges"]:
        if exchange.get("type") == "production":
            if exchange is not product:
                continue  # a co-product: its own part carries it
            kept = copy.deepcopy(exchange)
        else:
            kept = _scaled(exchange, factor)
        # Amounts are the file's evaluated ones; a formula evaluated again would undo
        # the allocation, so it is kept beside the amount for the record only.
        if "formula" in kept:
            kept["unallocated formula"] = kept.pop("formula")
        exchanges.append(kept)
    part["exchanges"] = exchanges
    part["name"] = f"{product.get('name')} | {ds.get('name')}"
    part.setdefault("cfp", {})["allocation"] = {
        "property": prop,
        "factor": factor,
        "activity": ds.get("name"),
        "product": product.get("name"),
        "property_amount": value,
        "property_unit": _property(product, " ".join(prop.split()).casefold())[1],
        "co_products": [p.get("name") for p in products],
    }
    return part


def _scaled(exchange: dict[str, Any], factor: float) -> dict[str, Any]:
    """A copy of ``exchange`` with its amount and uncertainty scaled by ``factor`` (> 0)."""
    scaled = copy.deepcopy(exchange)
    scaled["amount"] = exchange["amount"] * factor
    kind = exchange.get("uncertainty type")
    if kind == 2 and exchange.get("loc") is not None:  # lognormal: loc is ln(amount)
        scaled["loc"] = exchange["loc"] + math.log(factor)
    elif exchange.get("loc") is not None:
        scaled["loc"] = exchange["loc"] * factor
    if kind != 2 and exchange.get("scale") is not None:  # lognormal sigma has no unit
        scaled["scale"] = exchange["scale"] * factor
    for key in ("minimum", "maximum"):
        if exchange.get(key) is not None:
            scaled[key] = exchange[key] * factor
    return scaled
