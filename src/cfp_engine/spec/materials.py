"""Materials tables (contract section 5): one row per material key.

A row names the activities of a material's routes (``virgin``, ``recycled``) and of its
end-of-life treatments (``eol_recycling``, ``disposal``, ``energy_recovery``), all per kg
of material, with default end-of-life rates (R2, R3) and PEF Circular Footprint Formula
defaults (A, Qsin/Qp, Qsout/Qp). The built-in table ships with the engine; user tables
add to it, and a key defined twice is an error. No Brightway here.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cfp_engine.errors import DataError, SpecError, quote_input
from cfp_engine.files.checks import read_text_file
from cfp_engine.spec.units import parse_plain_number

REQUIRED_COLUMNS = ("material", "virgin")
KNOWN_COLUMNS = (
    "material",
    "virgin",
    "recycled",
    "eol_recycling",
    "disposal",
    "energy_recovery",
    "R2",
    "R3",
    "A",
    "Qsin_Qp",
    "Qsout_Qp",
    "source",
    "description",
    "notes",
    "priority_product",
)
# The product groups the recycled-content strategy names as priorities; a
# material tagged with one is listed by `cfp data materials --priority GROUP` and in the
# table of examples/README.md, so the list lives in the data, not in a script.
PRIORITY_PRODUCTS = ("battery", "pv", "clothing")


@dataclass(frozen=True)
class MaterialSpec:
    """One material: activity references per kg and default end-of-life parameters."""

    material: str
    virgin: str
    recycled: str | None = None
    eol_recycling: str | None = None
    disposal: str | None = None
    energy_recovery: str | None = None
    R2: float = 0.0
    R3: float = 0.0
    A: float | None = None
    Qsin_Qp: float | None = None
    Qsout_Qp: float | None = None
    B: float | None = None
    virgin_substituted: str | None = None  # E*v; the virgin route when not given
    LHV_MJ_per_kg: float | None = None  # lower heating value of the material
    X_ER_heat: float | None = None  # efficiency of heat recovery (share of LHV)
    X_ER_elec: float | None = None  # efficiency of electricity recovery (share of LHV)
    substituted_heat: str | None = None  # activity per MJ of heat replaced
    substituted_electricity: str | None = None  # activity per kWh of electricity replaced
    fossil_carbon_content: float | None = None  # kg C per kg of material
    biogenic_carbon_content: float | None = None  # kg C per kg of material
    source: str = ""
    description: str = ""
    priority_product: str = ""  # one of PRIORITY_PRODUCTS, or "" for none
    origin: str = ""  # file:line the row came from


def _number(row: Mapping[str, str], column: str, where: str, *, share: bool) -> float | None:
    text = (row.get(column) or "").strip()
    if not text:
        return None
    number = parse_plain_number(text[:-1].strip() if text.endswith("%") else text)
    if number is None:
        raise SpecError(
            f"{where}: column {column}: {quote_input(text)} is not a plain number; write "
            "e.g. 0.5, 1.2e3 or 30 % (a decimal point, no thousand separators)"
        )
    value = number / 100 if text.endswith("%") else number
    if (share and not 0.0 <= value <= 1.0) or value < 0:
        bound = "a share in 0-1" if share else "a number >= 0"
        raise SpecError(f"{where}: column {column}: {quote_input(text)} must be {bound}")
    return value


def _text(row: Mapping[str, str], column: str) -> str | None:
    return (row.get(column) or "").strip() or None


def _priority(row: Mapping[str, str], where: str) -> str:
    text = (row.get("priority_product") or "").strip()
    if text and text.lower() not in PRIORITY_PRODUCTS:
        raise SpecError(
            f"{where}: column priority_product: {quote_input(text)} is not one of "
            f"{', '.join(PRIORITY_PRODUCTS)} (or empty)"
        )
    return text.lower()


def load_materials_table(path: str | Path) -> dict[str, MaterialSpec]:
    """Read one materials table (CSV, UTF-8 with or without BOM)."""
    path = Path(path)
    # Missing, folder, binary or not UTF-8: a SpecError naming the file.
    text = read_text_file(path, what="materials table")
    with io.StringIO(text, newline="") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise SpecError(
                f"{path}: missing column(s) {', '.join(missing)} "
                f"(expected {', '.join(KNOWN_COLUMNS)})"
            )
        table: dict[str, MaterialSpec] = {}
        try:
            rows = list(reader)
        except csv.Error as exc:
            raise SpecError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
        for index, row in enumerate(rows, start=2):
            where = f"{path}:{index}"
            key = (row.get("material") or "").strip()
            if not key:
                raise SpecError(f"{where}: empty 'material' key")
            if not (row.get("virgin") or "").strip():
                raise SpecError(f"{where}: material {key!r} has no 'virgin' activity")
            if key.lower() in {k.lower() for k in table}:
                raise SpecError(f"{where}: material {key!r} is defined twice in this table")
            r2 = _number(row, "R2", where, share=True) or 0.0
            r3 = _number(row, "R3", where, share=True) or 0.0
            if r2 + r3 > 1.0 + 1e-12:
                raise SpecError(f"{where}: R2 + R3 = {r2 + r3:g} is more than 1")
            table[key] = MaterialSpec(
                material=key,
                virgin=row["virgin"].strip(),
                recycled=(row.get("recycled") or "").strip() or None,
                eol_recycling=(row.get("eol_recycling") or "").strip() or None,
                disposal=(row.get("disposal") or "").strip() or None,
                energy_recovery=(row.get("energy_recovery") or "").strip() or None,
                R2=r2,
                R3=r3,
                A=_number(row, "A", where, share=True),
                Qsin_Qp=_number(row, "Qsin_Qp", where, share=False),
                Qsout_Qp=_number(row, "Qsout_Qp", where, share=False),
                B=_number(row, "B", where, share=True),
                virgin_substituted=_text(row, "virgin_substituted"),
                LHV_MJ_per_kg=_number(row, "LHV_MJ_per_kg", where, share=False),
                X_ER_heat=_number(row, "X_ER_heat", where, share=True),
                X_ER_elec=_number(row, "X_ER_elec", where, share=True),
                substituted_heat=_text(row, "substituted_heat"),
                substituted_electricity=_text(row, "substituted_electricity"),
                fossil_carbon_content=_number(row, "fossil_carbon_content", where, share=True),
                biogenic_carbon_content=_number(row, "biogenic_carbon_content", where, share=True),
                source=(row.get("source") or "").strip(),
                description=(row.get("description") or "").strip(),
                priority_product=_priority(row, where),
                origin=where,
            )
    return table


class MaterialsTable:
    """Several materials tables merged; lookups are case-insensitive."""

    def __init__(self, tables: Iterable[dict[str, MaterialSpec]]):
        self._by_key: dict[str, MaterialSpec] = {}
        for table in tables:
            for key, material in table.items():
                folded = key.lower()
                if folded in self._by_key:
                    first = self._by_key[folded]
                    raise SpecError(
                        f"{material.origin}: material {key!r} is already defined "
                        f"at {first.origin}; a key may be defined only once"
                    )
                self._by_key[folded] = material

    def __contains__(self, key: str) -> bool:
        return key.lower() in self._by_key

    def __iter__(self):
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def get(self, key: str, *, where: str = "") -> MaterialSpec:
        """The material ``key``; an unknown key is a :class:`DataError` with suggestions."""
        try:
            return self._by_key[key.lower()]
        except KeyError:
            names = [m.material for m in self._by_key.values()]
            close = difflib.get_close_matches(key, names, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            prefix = f"{where}: " if where else ""
            raise DataError(
                f"{prefix}unknown material {key!r}{hint} "
                "(`cfp data materials` lists them; materials=TABLE.csv adds a table)"
            ) from None


def load_materials(paths: Iterable[str | Path]) -> MaterialsTable:
    """Merge the built-in table with the given user tables."""
    from cfp_engine.paths import inventories_dir

    builtin = inventories_dir() / "materials.csv"
    return MaterialsTable(load_materials_table(p) for p in [builtin, *paths])
