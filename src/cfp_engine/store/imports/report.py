"""What an import found and did: the report; unlinked exchanges described, dropped or listed.

:class:`ImportReport` holds the statistics ``cfp data import`` prints (filled by
:mod:`cfp_engine.store.imports.linking`). Exchanges still unlinked after linking are described
one row each (name, unit, categories, location, type, activity, flow), written as a CSV
report, or dropped on request (``allow_unlinked``) and recorded in the provenance.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfp_engine.store.dropped_flows import emitted_to_air, is_greenhouse_gas

UNLINKED_COLUMNS = ("name", "unit", "categories", "location", "type", "activity", "flow")


@dataclass
class ImportReport:
    """What an import found and did (the statistics ``cfp data import`` prints)."""

    name: str
    format: str
    file: str
    sha256: str
    size_bytes: int
    activities: int = 0
    exchanges: dict[str, int] = field(default_factory=dict)  # by type
    linked_internal: int = 0  # inputs the engine's name/unit/location pass linked
    linked_inputs: int = 0  # all linked technosphere inputs
    linked_flows: int = 0  # biosphere exchanges linked to biosphere3
    linked_external: dict[str, int] = field(default_factory=dict)  # database -> count
    unlinked: list[dict[str, str]] = field(default_factory=list)
    dropped: list[dict[str, str]] = field(default_factory=list)
    mapped_flows: list[dict[str, Any]] = field(default_factory=list)
    unmapped_units: dict[str, int] = field(default_factory=dict)
    parameterised: bool = False
    formulas: dict[str, int] = field(default_factory=dict)  # evaluated / kept (file amount)
    seconds: dict[str, float] = field(default_factory=dict)
    unlinked_report: str | None = None
    allocation: str | None = None  # the property multi-output datasets were split by
    allocated: dict[str, int] = field(default_factory=dict)  # dataset -> co-products
    skipped: list[dict[str, str]] = field(default_factory=list)  # --skip-invalid
    # elementary flows left out: no method of the engine characterises them
    uncharacterised: list[dict[str, Any]] = field(default_factory=list)
    uncharacterised_report: str | None = None
    builtin_flow_map: dict[str, Any] = field(default_factory=dict)  # FEDEFL map, when used

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        # thousands of rows for a real database: they are in the CSV report
        data["uncharacterised"] = summarise_uncharacterised(self.uncharacterised)
        return data

    def render(self) -> str:
        """The report as text for ``cfp data import``."""
        exchanges = ", ".join(f"{n} {k}" for k, n in sorted(self.exchanges.items()))
        external = ", ".join(f"{n} to {db}" for db, n in sorted(self.linked_external.items()))
        lines = [
            f"Imported {self.name} ({self.format}) from {self.file}",
            f"  sha256          {self.sha256}",
            f"  size            {self.size_bytes} bytes",
            f"  activities      {self.activities}",
            f"  exchanges       {exchanges}",
            f"  linked          {self.linked_flows} elementary flows to biosphere3; "
            f"{self.linked_inputs} inputs ({self.linked_internal} by name/unit/location "
            "inside the database" + (f"; {external}" if external else "") + ")",
            f"  unlinked        {len(self.unlinked)}",
        ]
        if self.allocation:
            parts = sum(self.allocated.values())
            lines.append(
                f"  allocation      {len(self.allocated)} multi-output dataset(s) split into "
                f"{parts} by {self.allocation!r} (amount x property, ecoinvent's rule)"
            )
        if self.skipped:
            lines.append(
                f"  SKIPPED         {len(self.skipped)} dataset(s) left out (skip_invalid=True):"
            )
            lines.extend(f"    {r['dataset']}: {r['reason']}" for r in self.skipped)
        for row in self.mapped_flows:
            source, target = row["source"], row["target"]
            lines.append(
                f"  mapped flow     {source[0]} ({source[1] or 'any'}, {source[2]}) -> "
                f"{target[0]} ({target[1]}, {target[2]}) x{row['factor']:g}: "
                f"{row['exchanges']} exchange(s) [{row['row']}]"
            )
        if self.builtin_flow_map:
            used = self.builtin_flow_map
            lines.append(
                f"  mapped flows    {used['exchanges']} exchange(s) by {used['rows']} row(s) "
                f"of the built-in FEDEFL map ({used['file']})"
            )
        if self.uncharacterised:
            lines.extend(_uncharacterised_lines(self.uncharacterised, self.uncharacterised_report))
        if self.dropped:
            lines.append(
                f"  DROPPED         {len(self.dropped)} unlinked exchange(s) (allow_unlinked=True; "
                "every result that uses this database warns of them):"
            )
            lines.extend(_dropped_lines(self.dropped))
        for unit, count in sorted(self.unmapped_units.items()):
            lines.append(
                f"  WARNING         unit {unit!r} ({count} use(s)) has no pint unit: "
                "amounts cannot be given in it"
            )
        if self.parameterised:
            frozen = self.formulas.get("evaluated", 0)
            kept = self.formulas.get("kept", 0)
            lines.append(
                f"  parameters      {frozen} formula(s) evaluated into amounts (bw2parameters)"
                + (f"; {kept} kept at the file's amount (not evaluable)" if kept else "")
            )
        timing = ", ".join(f"{k} {v:.2f} s" for k, v in self.seconds.items())
        lines.append(f"  time            {timing}")
        return "\n".join(lines)


def _dropped_lines(dropped: list[dict[str, Any]]) -> list[str]:
    """Every dropped flow once (none may go unseen), greenhouse gases marked."""
    groups: dict[tuple, list[str]] = {}
    for d in dropped:
        where = d["categories"] or d["location"]
        key = (d["type"], d["name"], d["unit"], where, bool(d.get("greenhouse_gas")))
        groups.setdefault(key, []).append(d["activity"])
    lines = []
    for (kind, name, unit, where, ghg), activities in groups.items():
        shown = ", ".join(dict.fromkeys(activities[:3]))
        more = f" and {len(activities) - 3} more" if len(activities) > 3 else ""
        lines.append(
            f"    {kind} {name!r} [{', '.join(p for p in (unit, where) if p)}]"
            + (" GREENHOUSE GAS" if ghg else "")
            + f": {len(activities)} exchange(s), in {shown}{more}"
        )
    return lines


def _uncharacterised_lines(rows: list[dict[str, Any]], listed: str | None) -> list[str]:
    """The left-out flows in two lines, plus each one named a greenhouse gas by name."""
    flows = {(r["name"], r["unit"], r["categories"] or r["flow"]) for r in rows}
    lines = [
        f"  left out        not characterised by any method of the engine: {len(flows)} "
        f"flow(s), {len(rows)} exchange(s) (they have no effect on a carbon footprint)"
        + (f"; listed in {listed}" if listed else "")
    ]
    # Emitted to air (or compartment unknown): a fluorinated drug to water warms nothing.
    ghg = sorted(
        {
            (r["name"], r["categories"])
            for r in rows
            if r.get("greenhouse_gas") and emitted_to_air(r["categories"])
        }
    )
    if ghg:
        named = "; ".join(f"{name!r} [{where or 'no compartment'}]" for name, where in ghg[:10])
        more = f"; and {len(ghg) - 10} more" if len(ghg) > 10 else ""
        lines.append(
            f"  NOTE            {len(ghg)} of them are emitted to air and greenhouse gases by "
            f"name, with no GWP factor in the engine's methods: {named}{more}"
        )
    return lines


def write_uncharacterised_report(report: ImportReport, path: Path) -> Path:
    """The left-out, uncharacterised elementary flows as CSV (one row per exchange)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=(*UNLINKED_COLUMNS, "cas", "greenhouse_gas"), extrasaction="ignore"
        )
        writer.writeheader()
        writer.writerows(report.uncharacterised)
    return path


def describe_exchange(ds: dict[str, Any], exchange: dict[str, Any]) -> dict[str, str]:
    """One row of the import reports for ``exchange`` of dataset ``ds`` (all fields text)."""
    categories = exchange.get("categories") or ()
    return {
        "name": str(exchange.get("name", "")),
        "unit": str(exchange.get("unit", "")),
        "categories": "::".join(categories) if isinstance(categories, (list, tuple)) else "",
        "location": str(exchange.get("location") or ""),
        "type": str(exchange.get("type", "")),
        "activity": f"{ds.get('name', '')} [{ds.get('location', '')}]",
        "flow": str(exchange.get("flow") or ""),
    }


def drop_unlinked(importer) -> list[dict[str, Any]]:
    """Remove every unlinked exchange (``allow_unlinked``); return what was dropped."""
    dropped = []
    for ds in importer.data:
        keep = []
        for exchange in ds.get("exchanges", ()):
            if exchange.get("input"):
                keep.append(exchange)
            else:
                row: dict[str, Any] = describe_exchange(ds, exchange)
                # Recorded so every later result can name the dropped greenhouse gases.
                row["greenhouse_gas"] = row["type"] == "biosphere" and is_greenhouse_gas(
                    row["name"]
                )
                dropped.append(row)
        ds["exchanges"] = keep
    return dropped


def write_unlinked_report(report: ImportReport, path: Path) -> Path:
    """The unlinked exchanges as CSV (name, unit, categories, location, type, ...)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=UNLINKED_COLUMNS)
        writer.writeheader()
        writer.writerows(report.unlinked)
    return path


def summarise_uncharacterised(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The registry's record: counts, and each greenhouse gas by name emitted to air (or
    without compartment) once, with its number of exchanges; results warn of those."""
    flows = {(r["name"], r["unit"], r["categories"] or r["flow"]) for r in rows}
    ghg: dict[tuple, int] = {}
    for r in rows:
        if r["greenhouse_gas"] and emitted_to_air(r["categories"]):
            key = (r["name"], r["unit"], r["categories"], r["cas"])
            ghg[key] = ghg.get(key, 0) + 1
    return {
        "exchanges": len(rows),
        "flows": len(flows),
        "greenhouse_gases_to_air": [
            {"name": n, "unit": u, "categories": c, "cas": cas, "exchanges": count}
            for (n, u, c, cas), count in sorted(ghg.items())
        ],
    }
