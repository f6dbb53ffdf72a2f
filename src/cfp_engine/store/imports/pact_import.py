"""Import supplier PACT footprints into the user store as a database of one activity each.

:func:`import_footprints` validates every footprint of a file
(:mod:`cfp_engine.store.imports.pact_footprints`), and writes the valid ``Active`` ones as
database ``name``: one activity per footprint, its code the footprint id, measured in the
footprint's declared unit, referenced as ``name::<productId>`` (any of its product ids) or
``name::<footprint id>``. Each activity emits, per unit, biosphere3 flows chosen so that the
engine's methods give back the footprint's figures:

- fossil: ``Carbon dioxide, fossil`` to air (GWP 1, the fossil sub-indicator);
- land-use change: ``Carbon dioxide, from soil or biomass stock`` to air (GWP 1, the
  "climate change: land use" sub-indicator of IPCC 2021);
- biogenic non-CO2: ``Methane, non-fossil`` to air, the figure divided by that flow's
  factor in the method of the footprint's IPCC report (AR6: 27.0, IPCC 2021; AR5: IPCC
  2013's). Under another method that part differs by the ratio of the factors; the
  report says so.

The import runs like every import: on a staging copy of the store, scored, then committed
by the registry (:mod:`cfp_engine.store.registry`), whose record of ``name`` holds each
footprint's provenance (source, id, version, specVersion, status, created/updated, import
time, sha256 of the canonical payload). The payloads are kept by hash
(:mod:`cfp_engine.store.imports.pact_payloads`). Importing again under the same name
replaces the database; the earlier footprints' records move to ``earlier`` and their
payloads stay, so labels made with them still verify.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cfp_engine.errors import SpecError
from cfp_engine.store import staging
from cfp_engine.store.build import build_builtin
from cfp_engine.store.build_cache import builtin_fingerprint, ensure_built, scores_dir
from cfp_engine.store.imports.pact_footprints import (
    Rejected,
    SupplierFootprint,
    extension_summaries,
    footprint_problems,
    read_footprint,
    read_footprint_file,
)
from cfp_engine.store.imports.pact_payloads import save_payload
from cfp_engine.store.registry import (
    commit,
    read_registry,
    refresh_user_store,
    save_scores,
    store_lock,
)
from cfp_engine.store.scores import ScoreTable
from cfp_engine.store.session import BIOSPHERE_DATABASE, BUILTIN_PROJECT, open_brightway

FORMAT = "pact"
#: The biosphere3 flow (name, categories) each sub-indicator's figure is emitted as.
FLOWS = {
    "fossil": ("Carbon dioxide, fossil", ("air",)),
    "land_use_change": ("Carbon dioxide, from soil or biomass stock", ("air",)),
    "biogenic": ("Methane, non-fossil", ("air",)),
}
#: IPCC report -> the engine's method with its GWP values.
_METHOD_OF_REPORT = {"AR6": "IPCC 2021 GWP100", "AR5": "IPCC 2013 GWP100"}
#: Relative tolerance of the check that the scored activity gives back the footprint:
#: Brightway keeps exchange amounts as float32 (stats_arrays' ``amount``), 1.8 is stored
#: as 1.79999995, so a figure comes back to about 1e-7, never exactly.
SCORE_TOLERANCE = 1e-6


@dataclass
class PactImportReport:
    """What an import of supplier footprints did (``cfp data import --format pact``)."""

    name: str
    file: str
    sha256: str
    size_bytes: int
    format: str = FORMAT
    activities: int = 0
    imported: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # footprint ids of the earlier import
    changes: list[str] = field(default_factory=list)  # what changed since the earlier import
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def render(self) -> str:
        """The report as text."""
        lines = [
            f"Imported {self.name} ({self.format}) from {self.file}",
            f"  sha256          {self.sha256}",
            f"  footprints      {len(self.imported)} imported, {len(self.rejected)} rejected",
        ]
        if self.replaced:
            lines.append(
                f"  replaced        {len(self.replaced)} footprint(s) of the earlier import "
                "(their payloads are kept for verification)"
            )
        lines += [f"  changed         {change}" for change in self.changes]
        for item in self.imported:
            figures = item["figures_per_unit"]
            lines.append(
                f"  + {item['id']} {item['product_name']!r}{_version(item)} "
                f"(PACT {item['specVersion']}): {figures['total']:.6g} kg CO2e per "
                f"{item['unit']} (fossil {figures['fossil']:.6g}, biogenic "
                f"{figures['biogenic']:.6g}, land use change {figures['land_use_change']:.6g}); "
                f"references {self.name}::{item['product_ids'][0]}"
            )
            lines += [f"      note: {note}" for note in item["notes"]]
            lines += [f"      extension: {text}" for text in item["extensions"]]
        for item in self.rejected:
            lines.append(f"  - footprint {item['position']} ({item['id']}) rejected:")
            lines += [f"      {reason}" for reason in item["reasons"][:10]]
            if len(item["reasons"]) > 10:
                lines.append(f"      ... and {len(item['reasons']) - 10} more")
        return "\n".join(lines)


def check_footprints(
    path: str | Path, *, schema_dir: str | Path | None = None
) -> tuple[list[SupplierFootprint], list[Rejected]]:
    """The valid ``Active`` footprints of a file, and the others with the reasons.

    A footprint id given twice keeps its first occurrence; ``Deprecated`` footprints are
    valid PACT but superseded, so they are reported and not imported.
    """
    valid: list[SupplierFootprint] = []
    rejected: list[Rejected] = []
    seen: set[str] = set()
    for position, footprint in enumerate(read_footprint_file(path), start=1):
        fid = str(footprint.get("id", "?")) if isinstance(footprint, dict) else "?"
        problems = footprint_problems(footprint, schema_dir=schema_dir)
        if not problems and footprint["status"] != "Active":
            problems = [f"status is {footprint['status']}: superseded, not used"]
        if not problems and fid in seen:
            problems = ["the same footprint id comes earlier in the file"]
        if problems:
            rejected.append(Rejected(position, fid, tuple(problems)))
            continue
        seen.add(fid)
        valid.append(read_footprint(footprint))
    return valid, rejected


def import_footprints(
    path: str | Path, *, name: str, schema_dir: str | Path | None = None
) -> PactImportReport:
    """Import the supplier footprints of ``path`` as database ``name`` (see the module doc).

    Parameters
    ----------
    path
        A PACT ProductFootprint JSON file (v2.x or v3.0): one footprint, a list, or a
        host's ``{"data": [...]}`` response.
    name
        The database name; references are ``name::<productId>`` or ``name::<footprint id>``.
    schema_dir
        A folder with the official PACT OpenAPI files (``v2/openapi-2.3.3.yaml``,
        ``v3/openapi-3.0.3.yaml``) to validate against as well.

    Raises
    ------
    SpecError
        No footprint of the file is valid (nothing is imported; the message lists why),
        or ``name`` is a database of another format.
    """
    started = time.perf_counter()
    source = Path(path)
    data = source.read_bytes()
    valid, rejected = check_footprints(source, schema_dir=schema_dir)
    report = PactImportReport(
        name=name,
        file=str(source.resolve()),
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        rejected=[r.__dict__ | {"reasons": list(r.reasons)} for r in rejected],
    )
    if not valid:
        first = rejected[0]
        raise SpecError(
            f"{source}: no valid footprint, nothing imported ({len(rejected)} rejected; "
            f"footprint {first.position} ({first.id}): {first.reasons[0]})"
        )
    imported_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    # The file's name, not its path: the record travels in labels, which are shared.
    records = {f.id: footprint_record(f, f"file:{source.name}", imported_at) for f in valid}
    record, earlier, notes = store_footprints(report, valid, records, imported_at=imported_at)
    report.activities = len(valid)
    report.replaced = sorted((earlier or {}).get("footprints", {}))
    report.changes = describe_changes((earlier or {}).get("footprints", {}), record["footprints"])
    report.imported = [
        {
            **record["footprints"][f.id],
            "product_name": f.product_name,
            "notes": [*f.notes, *notes.get(f.id, ())],
            "extensions": extension_summaries(f.payload),
        }
        for f in valid
    ]
    report.seconds["total"] = time.perf_counter() - started
    return report


def store_footprints(
    report: PactImportReport,
    valid: list[SupplierFootprint],
    records: dict[str, dict[str, Any]],
    *,
    imported_at: str,
    extra: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, list[str]]]:
    """Write ``valid`` as database ``report.name``, replacing it; all or nothing.

    ``records`` holds each footprint's provenance record by id
    (:func:`footprint_record`); ``extra`` is added to the database's registry record.
    Returns the new registry record, the earlier one (None) and the notes by footprint id.

    Raises
    ------
    SpecError
        ``report.name`` is a database of another format, or a footprint does not score
        its own figures.
    """
    name = report.name
    ensure_built(BUILTIN_PROJECT, builtin_fingerprint(), build_builtin, ())
    with store_lock():
        registry = read_registry()
        earlier = registry["databases"].get(name)
        if earlier is not None and earlier.get("format") != FORMAT:
            raise SpecError(
                f"database {name!r} is already imported (format {earlier.get('format')}); "
                f"`cfp data remove {name}` first or choose another name"
            )
        if registry["databases"] and registry["builtin_fingerprint"] != builtin_fingerprint():
            registry = refresh_user_store(registry)
        record = {**_registry_record(report, records, earlier, imported_at), **(extra or {})}
        with open_brightway() as bd:
            base = registry["project"] if registry["databases"] else None
            staging.collect_garbage(bd, base)
            project = staging.new_staging_project(builtin_fingerprint())
            try:
                staging.stage_project(bd, base, project)
                if name in bd.databases:
                    del bd.databases[name]
                notes = _write_database(bd, name, valid, imported_at)
                registry = {
                    **registry,
                    "project": project,
                    "builtin_fingerprint": builtin_fingerprint(),
                    "databases": {**registry["databases"], name: record},
                }
                save_scores(bd, project, registry)
                _check_scores(ScoreTable.load(scores_dir(project)), name, valid)
            except BaseException:
                staging.discard(bd, project)
                raise
            for footprint in valid:
                save_payload(footprint.payload)
            commit(bd, registry)
    return record, earlier, notes


def describe_changes(before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    """What a re-import changed, by product id: new, gone, or a new footprint and total."""

    def by_product(records):
        return {p: r for r in records.values() for p in r["product_ids"]}

    old, new = by_product(before), by_product(after)
    changes = []
    for product in sorted(old.keys() | new.keys()):
        was, now = old.get(product), new.get(product)
        if was is None:
            changes.append(f"{product}: new, footprint {now['id']}")
        elif now is None:
            changes.append(f"{product}: no longer supplied (footprint {was['id']})")
        elif was["sha256"] != now["sha256"]:
            changes.append(
                f"{product}: footprint {was['id']} -> {now['id']}, "
                f"{was['figures_per_unit']['total']:.6g} -> "
                f"{now['figures_per_unit']['total']:.6g} kg CO2e per {now['unit']}"
            )
    return changes


def footprint_record(footprint: SupplierFootprint, source: str, imported_at: str) -> dict:
    """The provenance of one footprint, as the registry and a result's provenance keep it."""
    payload = footprint.payload
    return {
        "id": footprint.id,
        "version": footprint.version,
        "specVersion": footprint.spec_version,
        "status": footprint.status,
        "created": footprint.created,
        "updated": footprint.updated,
        "source": source,
        "imported_at": imported_at,
        "sha256": footprint.sha256,
        "company_name": footprint.company_name,
        "product_ids": list(footprint.product_ids),
        "unit": footprint.unit,
        "declared": f"{_declared_amount(payload)} {footprint.declared_unit}",
        "figures_per_unit": footprint.figures(),
        "primary_data_share": footprint.primary_data_share,
    }


def _declared_amount(payload) -> str:
    pcf = payload["pcf"]
    return str(pcf.get("declaredUnitAmount") or pcf.get("unitaryProductAmount"))


def _registry_record(report, footprints: dict, earlier, imported_at: str) -> dict[str, Any]:
    current = {r["sha256"] for r in footprints.values()}
    history = list((earlier or {}).get("earlier", ()))
    history += list((earlier or {}).get("footprints", {}).values())
    history = [r for r in history if r.get("sha256") not in current]
    return {
        "file": report.file,
        "sha256": report.sha256,
        "format": FORMAT,
        "size_bytes": report.size_bytes,
        "activities": len(footprints),
        "imported_at": imported_at,
        "links_to": {},
        "footprints": footprints,
        "earlier": history,
        "rejected": report.rejected,
    }


def _write_database(bd, name: str, valid, imported_at: str) -> dict[str, list[str]]:
    """Write one activity per footprint into the current project; notes by footprint id."""
    from cfp_engine.spec.methods import available_methods, resolve_method

    flows = {
        (f["name"], tuple(f.get("categories") or ())): f for f in bd.Database(BIOSPHERE_DATABASE)
    }
    keys = {}
    for indicator, flow in FLOWS.items():
        if flow not in flows:
            raise SpecError(f"biosphere3 has no flow {flow[0]!r} {flow[1]}: cannot import PACT")
        keys[indicator] = flows[flow].key
    notes: dict[str, list[str]] = {}
    data = {}
    for fp in valid:
        method = resolve_method(_METHOD_OF_REPORT.get(fp.ipcc[0] if fp.ipcc else ""))
        factor = _factor(bd, method, "biogenic", flows[FLOWS["biogenic"]].id)
        exchanges = [{"input": (name, fp.id), "amount": 1.0, "type": "production"}]
        for indicator, amount in fp.ghg_kg_co2e.items():
            if amount == 0:
                continue
            divisor = factor if indicator == "biogenic" else 1.0
            exchanges.append(
                {"input": keys[indicator], "amount": amount / divisor, "type": "biosphere"}
            )
        if fp.ghg_kg_co2e["biogenic"]:
            others = [
                m.name
                for m in available_methods()
                if m.name != method.name
                and _factor(bd, m, "biogenic", flows[FLOWS["biogenic"]].id) != factor
            ]
            if others:
                notes.setdefault(fp.id, []).append(
                    f"biogenic non-CO2 emissions are exact under {method.name} (the footprint's "
                    f"{', '.join(fp.ipcc) or 'default'} factors); under {', '.join(others)} "
                    "they scale with that method's factor for non-fossil methane"
                )
        data[(name, fp.id)] = {
            "name": fp.product_name,
            "unit": fp.unit,
            "location": fp.location,
            "type": "process",
            "reference product": fp.product_name,
            "exchanges": exchanges,
            "cfp": {
                "category": "supplier",
                "pedigree": dict(fp.pedigree),
                "aliases": [*fp.product_ids, fp.id],
                "mass_per_unit_kg": fp.mass_per_unit_kg,
                "source": {
                    "organisation": fp.company_name,
                    "document": f"PACT footprint {fp.id} (version {fp.version})",
                    "year": int(fp.created[:4]) if fp.created[:4].isdigit() else None,
                    "url": "",
                    "licence": "supplier PACT footprint (see the supplier's terms)",
                    "geography": fp.location,
                    "sha256": fp.sha256,
                    "format": FORMAT,
                    "imported_at": imported_at,
                    "pact": {
                        "id": fp.id,
                        "version": fp.version,
                        "specVersion": fp.spec_version,
                        "status": fp.status,
                        "sha256": fp.sha256,
                        "primary_data_share": fp.primary_data_share,
                        "figures_per_unit": fp.figures(),
                        "notes": [*fp.notes, *notes.get(fp.id, ())],
                    },
                },
            },
        }
    database = bd.Database(name)
    database.register(format=FORMAT)
    database.write(data)
    return notes


def _factor(bd, method, indicator: str, flow_id: int) -> float:
    for row in bd.Method(method.brightway_name(indicator)).load():
        flow = row[0] if isinstance(row[0], int) else bd.get_id(row[0])
        if flow == flow_id:
            return float(row[1])
    raise SpecError(f"{method.name}: no {indicator} factor for non-fossil methane")


def _check_scores(table: ScoreTable, name: str, valid) -> None:
    """Each activity scores the footprint's figures under its own method (a self-check)."""
    from cfp_engine.spec.methods import INDICATORS, resolve_method

    columns = {a.code: a.index for a in table.activities if a.database == name}
    for fp in valid:
        method = resolve_method(_METHOD_OF_REPORT.get(fp.ipcc[0] if fp.ipcc else ""))
        scores = table.vector(method.name)[:, columns[fp.id]]
        expected = fp.figures()
        got = dict(zip(INDICATORS, scores, strict=True))
        for key, value in expected.items():
            if not math.isclose(got[key], value, rel_tol=SCORE_TOLERANCE, abs_tol=1e-12):
                raise SpecError(
                    f"footprint {fp.id}: the engine scores {key} {got[key]:.9g}, the footprint "
                    f"says {value:.9g} kg CO2e per {fp.unit}; not imported"
                )


def _version(item: dict[str, Any]) -> str:
    return "" if item.get("version") is None else f" v{item['version']}"
