"""Link an imported database and check it: biosphere3 flows, technosphere inputs, statistics.

:func:`link_and_check` applies the importer's strategies, then links what they left:
every elementary flow must end in biosphere3 (by UUID, then by name, compartment and
unit, after the user's flow map and the built-in FEDEFL map of
:mod:`cfp_engine.store.imports.fedefl`),
and technosphere inputs are linked by name, unit and location inside the database, then
to the other imported databases and the built-in data. Elementary flows still unlinked
that cannot change a carbon footprint are left out and listed
(:mod:`cfp_engine.store.imports.characterised`). It fills the
:class:`cfp_engine.store.imports.report.ImportReport`; nothing is written.
"""

from __future__ import annotations

from collections import Counter

from cfp_engine.errors import DataError, SpecError, UnitError
from cfp_engine.store.imports.characterised import leave_out_uncharacterised
from cfp_engine.store.imports.fedefl import FLOW_MAP_FILE, is_fedefl_context, load_fedefl_flow_map
from cfp_engine.store.imports.flowmaps import FlowMap, normalize_compartments
from cfp_engine.store.imports.report import ImportReport, describe_exchange
from cfp_engine.store.references import normalise_part
from cfp_engine.store.session import BIOSPHERE_DATABASE as BIOSPHERE


def link_and_check(
    bd,
    importer,
    report: ImportReport,
    *,
    flow_map: FlowMap,
    external: list[str],
) -> None:
    """Apply the strategies, link what is left, and fill ``report`` (nothing written)."""
    import time

    started = time.perf_counter()
    try:
        importer.apply_strategies()
    except (SpecError, DataError):
        raise
    except Exception as exc:  # noqa: BLE001 - a strategy failing on odd data
        raise SpecError(
            f"{report.file}: bw2io could not process the data ({type(exc).__name__}: {exc})"
        ) from None
    report.seconds["strategies"] = time.perf_counter() - started
    started = time.perf_counter()
    if report.format == "olca-jsonld":
        _olca_relink(importer)
    _keep_processes(bd, importer)
    flow_map.apply(importer.data, biosphere=BIOSPHERE)
    builtin = _builtin_flow_map(importer, report.format)
    if builtin is not None:  # after the user's map: its rows win
        builtin.apply(importer.data, biosphere=BIOSPHERE)
    _link_biosphere(bd, importer)
    _link_technosphere(bd, importer, report, external)
    report.uncharacterised = leave_out_uncharacterised(bd, importer)
    report.seconds["linking"] = time.perf_counter() - started
    _statistics(importer, report, flow_map)
    if builtin is not None:
        used = [row for row in builtin.report() if row["exchanges"]]
        report.builtin_flow_map = {
            "file": FLOW_MAP_FILE,
            "rows": len(used),
            "exchanges": sum(row["exchanges"] for row in used),
            "mapped": used,
        }


def _builtin_flow_map(importer, fmt: str) -> FlowMap | None:
    """The FEDEFL map for openLCA exports with FEDEFL flows, and for ecospold2 datasets.

    ecospold2 flows bw2io linked to biosphere3 by UUID are left alone (the map only
    rewrites unlinked ones), so ecoinvent datasets are unaffected.
    """
    if fmt == "ecospold2":
        return load_fedefl_flow_map()
    if fmt == "olca-jsonld" and any(
        is_fedefl_context(exchange.get("cfp_context") or ())
        for ds in importer.data
        for exchange in ds.get("exchanges", ())
        if exchange.get("type") == "biosphere"
    ):
        return load_fedefl_flow_map()
    return None


def _olca_relink(importer) -> None:
    """openLCA: processes produce their products; elementary flows go to biosphere3."""
    flows = {f["code"]: f for f in importer.biosphere_database}
    producers: dict[str, list[str]] = {}
    processes = [ds for ds in importer.data if ds.get("type") == "process"]
    for ds in processes:
        for exchange in ds["exchanges"]:
            if exchange["type"] == "production":
                producers.setdefault(exchange["code"], []).append(ds["code"])
    for ds in processes:
        for exchange in ds["exchanges"]:
            kind = exchange["type"]
            if kind == "production":
                exchange["input"] = (ds["database"], ds["code"])
            elif kind in ("technosphere", "substitution"):
                exchange.pop("input", None)
                provider = (exchange.get("defaultProvider") or {}).get("@id")
                candidates = producers.get(exchange["code"], [])
                if provider in candidates or (provider is None and len(candidates) == 1):
                    exchange["input"] = (ds["database"], provider or candidates[0])
                exchange["location"] = (exchange.get("defaultProvider") or {}).get("location")
            elif kind == "biosphere":
                exchange.pop("input", None)
                flow = flows.get(exchange["code"], {})
                exchange["flow"] = exchange["code"]
                # a flow the export references but does not define: its reference's path
                context = flow.get("categories") or exchange.get("cfp_context", "").split("/")
                exchange["cfp_context"] = tuple(p for p in context if p)
                exchange["categories"] = normalize_compartments(exchange["cfp_context"])
    importer.data = processes


def _keep_processes(bd, importer) -> None:
    """Drop the database's own biosphere/product nodes: flows must end in biosphere3."""
    keep = set(bd.labels.process_node_types) | {None}
    importer.data = [ds for ds in importer.data if ds.get("type") in keep]
    for ds in importer.data:
        ds.setdefault("type", "process")
        for exchange in ds.get("exchanges", ()):
            linked = exchange.get("input")
            if exchange.get("type") == "biosphere" and linked and linked[0] != BIOSPHERE:
                exchange.pop("input")  # a flow of its own has no characterisation factor


def _link_biosphere(bd, importer) -> None:
    by_uuid, by_fields = {}, {}
    for flow in bd.Database(BIOSPHERE):
        by_uuid[flow["code"]] = flow["code"]
        by_fields[(flow["name"].lower(), tuple(flow.get("categories") or ()), flow["unit"])] = flow[
            "code"
        ]
    for ds in importer.data:
        for exchange in ds.get("exchanges", ()):
            if exchange.get("type") != "biosphere" or exchange.get("input"):
                continue
            code = by_uuid.get(exchange.get("flow") or "")
            if code is None:
                key = (
                    str(exchange.get("name", "")).lower(),
                    tuple(exchange.get("categories") or ()),
                    exchange.get("unit"),
                )
                code = by_fields.get(key)
            if code is not None:
                exchange["input"] = (BIOSPHERE, code)


def _index(nodes) -> tuple[dict, dict]:
    # Names and locations compared as activity references compare them (case and
    # spacing ignored: cfp_engine.store.references), so 'GLO' links to 'glo'.
    full, loose = {}, {}
    for node in nodes:
        key = (node["database"], node["code"])
        name, unit = normalise_part(node.get("name", "")), node.get("unit")
        location = normalise_part(node.get("location") or "")
        full.setdefault((name, unit, location), []).append(key)
        loose.setdefault((name, unit), []).append(key)
        product = normalise_part(node.get("reference product") or "")
        if product and product != name:
            full.setdefault((product, unit, location), []).append(key)
            loose.setdefault((product, unit), []).append(key)
    return full, loose


def _find(indexes, exchange) -> tuple[str, str] | None:
    full, loose = indexes
    name, unit = normalise_part(exchange.get("name", "")), exchange.get("unit")
    location = normalise_part(exchange.get("location") or "")
    found = full.get((name, unit, location), []) if location else loose.get((name, unit), [])
    return found[0] if len(found) == 1 else None


def _link_technosphere(bd, importer, report: ImportReport, external: list[str]) -> None:
    """Inputs by name, unit and location: same database, other imports, built-in data."""
    internal = _index(importer.data)
    others = [(db, _index(bd.Database(db))) for db in external]
    for ds in importer.data:
        for exchange in ds.get("exchanges", ()):
            kind = exchange.get("type")
            if exchange.get("input") or kind == "biosphere":
                continue
            if kind == "production":
                exchange["input"] = (ds["database"], ds["code"])
                continue
            key = _find(internal, exchange)
            if key is not None:
                exchange["input"] = key
                report.linked_internal += 1
                continue
            for db, indexes in others:
                key = _find(indexes, exchange)
                if key is not None:
                    exchange["input"] = key
                    report.linked_external[db] = report.linked_external.get(db, 0) + 1
                    break


def _statistics(importer, report: ImportReport, flow_map: FlowMap) -> None:
    from cfp_engine.spec.conversion import pint_unit_for

    report.activities = len(importer.data)
    kinds: Counter = Counter()
    units: Counter = Counter()
    unlinked = {}
    for ds in importer.data:
        units[ds.get("unit") or ""] += 1  # an activity's own unit is checked too
        for exchange in ds.get("exchanges", ()):
            kinds[exchange.get("type", "?")] += 1
            units[exchange.get("unit") or ""] += 1
            if "formula" in exchange:
                report.parameterised = True
            if exchange.get("input") and exchange.get("type") == "biosphere":
                report.linked_flows += 1
            elif exchange.get("input") and exchange.get("type") != "production":
                report.linked_inputs += 1
            if not exchange.get("input"):
                row = describe_exchange(ds, exchange)
                unlinked.setdefault(tuple(row.values()), row)
    report.exchanges = dict(kinds)
    report.unlinked = sorted(unlinked.values(), key=lambda r: (r["type"], r["name"]))
    report.mapped_flows = [row for row in flow_map.report() if row["exchanges"]]
    bad = {}
    for unit, count in units.items():
        try:
            pint_unit_for(unit)
        except UnitError:
            bad[unit or "(none)"] = count
    report.unmapped_units = bad
