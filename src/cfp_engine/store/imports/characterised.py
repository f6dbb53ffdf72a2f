"""Elementary flows no method of the engine characterises: left out of an import, listed.

An elementary flow still outside biosphere3 after the flow maps has no characterisation
factor. When it could not change a carbon footprint either (water, metals, particulates,
a pharmaceutical to water, ...), it is left out of the imported database and listed in
the import report and the registry as *not characterised by any method of the engine*;
that is not an error. It still stops the import (unless ``--allow-unlinked``) when it
might be a greenhouse gas:

* its name says so, or a characterised flow has that name
  (:func:`cfp_engine.store.dropped_flows.is_greenhouse_gas`) or that name before its first
  comma (``Carbon monoxide`` for ``Carbon monoxide, fossil``), or
* its CAS number is that of a flow the engine's methods characterise,

except a flow of the US Federal LCA Commons list (FEDEFL context, see
:mod:`cfp_engine.store.imports.fedefl`) when its substance has no GWP factor in the engine's methods
(no characterised flow has its CAS number) or it is not emitted to air: the built-in
FEDEFL map covers every FEDEFL flowable the methods characterise, in every air context,
so such a flow is not characterised by construction. These are still named in the
report as greenhouse gases by name. Only called inside
:func:`cfp_engine.store.session.open_brightway`.
"""

from __future__ import annotations

from typing import Any

from cfp_engine.store.dropped_flows import is_greenhouse_gas
from cfp_engine.store.imports.fedefl import is_fedefl_air_emission, is_fedefl_context
from cfp_engine.store.imports.report import describe_exchange
from cfp_engine.store.session import BIOSPHERE_DATABASE as BIOSPHERE


def characterised_identities(bd) -> tuple[frozenset[str], frozenset[str]]:
    """Names (lower case, also before their first comma) and CAS numbers (no leading
    zeros) of the biosphere3 flows any method of the engine characterises."""
    from cfp_engine.spec.methods import available_methods, read_bw2io_lcia

    source = read_bw2io_lcia()
    keys = {
        (cf["name"], tuple(cf["categories"]))
        for method in available_methods()
        for indicator in method.indicators.values()
        for cf in source.get(tuple(indicator), {}).get("exchanges", ())
    }
    names = frozenset(
        n.casefold() for name, _ in keys for n in (name, name.split(",", 1)[0].strip())
    )
    cas = frozenset(
        _cas(flow.get("CAS number"))
        for flow in bd.Database(BIOSPHERE)
        if (flow["name"], tuple(flow.get("categories") or ())) in keys and flow.get("CAS number")
    )
    return names, cas


def _cas(text: str | None) -> str:
    return (text or "").strip().lstrip("0")


def leave_out_uncharacterised(bd, importer) -> list[dict[str, Any]]:
    """Remove unlinked elementary flows that cannot change a carbon footprint; return them.

    Each returned row is the exchange as :func:`cfp_engine.store.imports.report.describe_exchange`
    writes it, plus ``greenhouse_gas`` (its name says so) and ``cas``.
    """
    names, known = characterised_identities(bd)
    flows_cas = {
        f["code"]: f.get("CAS number") for f in getattr(importer, "biosphere_database", None) or ()
    }
    left_out = []
    for ds in importer.data:
        keep = []
        for exchange in ds.get("exchanges", ()):
            if exchange.get("input") or exchange.get("type") != "biosphere":
                keep.append(exchange)
                continue
            cas = _cas(exchange.get("CAS number") or flows_cas.get(exchange.get("flow") or ""))
            name = str(exchange.get("name", ""))
            context = tuple(exchange.get("cfp_context") or ())  # openLCA's own path
            stops = might_be_characterised(name, cas, context, names=names, known=known)
            if stops:
                keep.append(exchange)
                continue
            row: dict[str, Any] = describe_exchange(ds, exchange)
            row["greenhouse_gas"] = is_greenhouse_gas(name)
            row["cas"] = cas
            left_out.append(row)
        ds["exchanges"] = keep
    return left_out


def might_be_characterised(
    name: str,
    cas: str,
    context: tuple[str, ...],
    *,
    names: frozenset[str],
    known: frozenset[str],
) -> bool:
    """Whether an unlinked elementary flow might have a GWP factor (see the module doc).

    ``cas`` without leading zeros; ``context`` the openLCA category path (empty for
    other formats); ``names`` and ``known`` from :func:`characterised_identities`.
    """
    cas = _cas(cas)
    if is_fedefl_context(context):
        return is_fedefl_air_emission(context) and bool(cas) and cas in known
    return (
        is_greenhouse_gas(name) or name.strip().casefold() in names or (bool(cas) and cas in known)
    )
