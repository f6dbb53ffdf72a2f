"""Elementary-flow mapping tables (``--flow-map FILE.csv``) and compartment names.

A flow map row maps a database's own elementary flow onto a biosphere3 flow::

    source_name,source_categories,source_unit,target_name,target_categories,target_unit
    CO2,,kilogram,"Carbon dioxide, fossil",air,kilogram
    "Methane, kiln",air,g,"Methane, fossil",air,kilogram

An optional ``source_flow`` column holds the source flow's UUID (openLCA's flow
``@id``, ecospold2's ``elementaryExchangeId``): a flow with that UUID matches the row
whatever its name; other flows match by name, categories and unit. Other extra columns
(``source_cas``, ``note``) are documentation and ignored.

Categories are written ``air`` or ``air::urban air close to ground`` (``/`` also works);
an empty source category matches the flow in any compartment. Units may be bw2io's names
(``kilogram``) or their abbreviations (``kg``, ``g``); when the source and target units
differ the amounts are converted with the engine's pint registry. The map is applied as a
bw2io strategy, alongside the mappings bw2io ships (SimaPro names, ecoinvent flow
UUIDs), before the flows are linked to biosphere3; every mapped flow is listed in the
import report. No Brightway here.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfp_engine.errors import SpecError, UnitError
from cfp_engine.files.checks import read_text_file

COLUMNS = (
    "source_name",
    "source_categories",
    "source_unit",
    "target_name",
    "target_categories",
    "target_unit",
)

# openLCA and ILCD compartment words -> biosphere3 (ecoinvent) compartments.
_TOP_COMPARTMENTS = {
    "emission to air": "air",
    "emissions to air": "air",
    "air": "air",
    "emission to water": "water",
    "emissions to water": "water",
    "water": "water",
    "emission to soil": "soil",
    "emissions to soil": "soil",
    "soil": "soil",
    "resource": "natural resource",
    "resources": "natural resource",
    "natural resource": "natural resource",
}
_SUBCOMPARTMENTS = {
    "high population density": "urban air close to ground",
    "low population density": "non-urban air or from high stacks",
    "low population density, long-term": "low population density, long-term",
    "lower stratosphere + upper troposphere": "lower stratosphere + upper troposphere",
    "ground water": "ground-",
    "ground water, long-term": "ground-, long-term",
    "sea water": "ocean",
    "fresh water": "surface water",
}


def split_categories(text: str | None) -> tuple[str, ...]:
    """``"air::urban air close to ground"`` (or ``/``-separated) -> a category tuple."""
    if not text:
        return ()
    separator = "::" if "::" in text else "/"
    return tuple(part.strip() for part in text.split(separator) if part.strip())


def normalize_compartments(categories: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """openLCA/ILCD compartment paths in biosphere3's words.

    ``("Elementary flows", "Emission to air", "unspecified")`` -> ``("air",)``;
    ``("Emission to air", "high population density")`` -> ``("air", "urban air close to
    ground")``. Unknown words are kept, so the flow stays unlinked and is reported.
    """
    parts = [p for p in categories if p and p.lower() != "elementary flows"]
    if not parts:
        return ()
    top = _TOP_COMPARTMENTS.get(parts[0].lower(), parts[0])
    rest = [p for p in parts[1:] if p.lower() != "unspecified"]
    if rest:
        sub = _SUBCOMPARTMENTS.get(rest[0].lower(), rest[0])
        return (top, sub, *rest[1:])
    return (top,)


@dataclass
class FlowMapRow:
    """One mapping: the source flow and the biosphere3 flow it becomes."""

    source_name: str
    source_categories: tuple[str, ...]
    source_unit: str
    target_name: str
    target_categories: tuple[str, ...]
    target_unit: str
    factor: float  # target amount per source amount
    where: str
    applied: int = 0
    source_flow: str = ""  # the source flow's UUID, when known


@dataclass
class FlowMap:
    """The rows of one flow map file, with a record of what they mapped."""

    path: Path | None
    rows: list[FlowMapRow] = field(default_factory=list)
    _indexed: tuple | None = field(default=None, repr=False, compare=False)

    def find(
        self, name: str, categories: tuple[str, ...], unit: str, flow: str | None = None
    ) -> FlowMapRow | None:
        """The row for a flow: by its UUID ``flow``, else by name, compartment and unit.

        Compartments compare in biosphere3's words: ``("Emissions to air", "")``
        (SimaPro), ``("Emission to air", "unspecified")`` (openLCA) and ``("air",)`` are
        the same compartment. A flow without compartment matches the first row of its
        name and unit.
        """
        by_flow, by_name = self._index()
        if flow and flow in by_flow:
            return by_flow[flow]
        unit = normalize_unit(unit)
        wanted = normalize_compartments(tuple(categories))
        fallback = None
        for row in by_name.get((name or "").lower(), ()):
            if row.source_unit != unit:
                continue
            if normalize_compartments(row.source_categories) == wanted:
                return row
            if not row.source_categories or not wanted:
                fallback = fallback or row
        return fallback

    def _index(self) -> tuple[dict[str, FlowMapRow], dict[str, list[FlowMapRow]]]:
        """Rows by source UUID and by lower-case name, in file order (rebuilt on change)."""
        if self._indexed is None or self._indexed[0] != len(self.rows):
            by_flow: dict[str, FlowMapRow] = {}
            by_name: dict[str, list[FlowMapRow]] = {}
            for row in self.rows:
                if row.source_flow:
                    by_flow.setdefault(row.source_flow, row)
                by_name.setdefault(row.source_name.lower(), []).append(row)
            self._indexed = (len(self.rows), by_flow, by_name)
        return self._indexed[1], self._indexed[2]

    def apply(self, data: list[dict[str, Any]], *, biosphere: str) -> list[dict[str, Any]]:
        """A bw2io strategy: rewrite the matching biosphere exchanges not yet in biosphere3."""
        for dataset in data:
            for exchange in dataset.get("exchanges", ()):
                if exchange.get("type") != "biosphere" or exchange.get("cfp_flow_map"):
                    continue
                linked = exchange.get("input")
                if linked and linked[0] == biosphere:
                    continue
                row = self.find(
                    exchange.get("name", ""),
                    tuple(exchange.get("categories") or ()),
                    exchange.get("unit", ""),
                    exchange.get("flow"),
                )
                if row is None:
                    continue
                exchange.pop("input", None)
                exchange["cfp_flow_map"] = {
                    "from": [row.source_name, "::".join(row.source_categories), row.source_unit],
                    "map": row.where,
                }
                exchange["name"] = row.target_name
                exchange["categories"] = row.target_categories
                exchange["unit"] = row.target_unit
                if row.factor != 1.0:
                    _scale(exchange, row.factor)
                row.applied += 1
        return data

    def report(self) -> list[dict[str, Any]]:
        return [
            {
                "source": [r.source_name, "::".join(r.source_categories), r.source_unit],
                "target": [r.target_name, "::".join(r.target_categories), r.target_unit],
                "factor": r.factor,
                "exchanges": r.applied,
                "row": r.where,
            }
            for r in self.rows
        ]


# Abbreviations as bw2io's ``normalize_units`` spells them out (bw2io.units).
_ABBREVIATIONS = {
    "kg": "kilogram",
    "g": "gram",
    "t": "ton",
    "tonnes": "ton",
    "kwh": "kilowatt hour",
    "mj": "megajoule",
    "kj": "kilojoule",
    "gj": "gigajoule",
    "wh": "watt hour",
    "m3": "cubic meter",
    "m2": "square meter",
    "m2a": "square meter-year",
    "m": "meter",
    "km": "kilometer",
    "l": "litre",
    "tkm": "ton kilometer",
    "t*km": "ton kilometer",
    "pkm": "person kilometer",
    "kbq": "kilo Becquerel",
    "bq": "Becquerel",
    "p": "unit",
    "h": "hour",
    "ha": "hectare",
}


def normalize_unit(unit: str | None) -> str:
    """bw2io's unit name for ``unit`` (``kg`` -> ``kilogram``)."""
    text = (unit or "").strip()
    return _ABBREVIATIONS.get(text.lower(), text)


def _scale(exchange: dict[str, Any], factor: float) -> None:
    """Scale an exchange's amount and its uncertainty parameters by ``factor``."""
    exchange["amount"] = float(exchange["amount"]) * factor
    kind = exchange.get("uncertainty type", 0)
    if kind == 2:  # lognormal: loc is ln(median)
        if exchange.get("loc") is not None and factor > 0:
            exchange["loc"] = float(exchange["loc"]) + math.log(factor)
    else:
        for key in ("loc", "minimum", "maximum"):
            if exchange.get(key) is not None:
                exchange[key] = float(exchange[key]) * factor
        if kind == 3 and exchange.get("scale") is not None:  # normal: sd scales too
            exchange["scale"] = float(exchange["scale"]) * abs(factor)


def load_flow_map(path: str | Path) -> FlowMap:
    """Read a flow map CSV (UTF-8, with or without BOM); errors name the file and line."""
    from cfp_engine.spec.conversion import pint_unit_for

    path = Path(path)
    # Missing, folder, binary or not UTF-8: a SpecError naming the file.
    text = read_text_file(path, what="flow map file")
    flow_map = FlowMap(path)
    with io.StringIO(text, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SpecError(
                f"{path}:1: missing column(s) {', '.join(missing)} (expected {', '.join(COLUMNS)})"
            )
        try:
            rows = list(reader)
        except csv.Error as exc:
            raise SpecError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
    for line, row in enumerate(rows, start=2):
        where = f"{path.name}:{line}"
        values = {c: (row.get(c) or "").strip() for c in COLUMNS}
        for column in ("source_name", "source_unit", "target_name", "target_categories"):
            if not values[column]:
                raise SpecError(f"{path}:{line}: empty {column}")
        source_unit = normalize_unit(values["source_unit"])
        target_unit = normalize_unit(values["target_unit"] or values["source_unit"])
        try:
            factor = float(
                (1 * pint_unit_for(source_unit)).to(pint_unit_for(target_unit)).magnitude
            )
        except UnitError as exc:
            raise SpecError(f"{path}:{line}: {exc}") from None
        except Exception:  # noqa: BLE001 - pint's DimensionalityError
            raise SpecError(
                f"{path}:{line}: cannot convert {values['source_unit']!r} to "
                f"{values['target_unit']!r} (different dimensions)"
            ) from None
        flow_map.rows.append(
            FlowMapRow(
                source_name=values["source_name"],
                source_categories=split_categories(values["source_categories"]),
                source_unit=source_unit,
                target_name=values["target_name"],
                target_categories=split_categories(values["target_categories"]),
                target_unit=target_unit,
                factor=factor,
                where=where,
                source_flow=(row.get("source_flow") or "").strip(),
            )
        )
    return flow_map
