"""Write ``inventories/flowmaps/fedefl-biosphere3-ghg.csv`` from the substance table below.

Each substance is one FEDEFL flowable (name and CAS number as the Federal LCA Commons
Elementary Flow List v1.3 writes them) and the biosphere3 flow the engine's GWP
methods characterise for the same CAS number; it is emitted to air in every FEDEFL air
context (the 18 of FEDEFL's ``Contexts.csv``: emission/air and its troposphere,
indoor, stratosphere and subterranean sub-contexts). The FEDEFL flow UUIDs seen in
real exports (``--uuids``: openLCA JSON-LD ``flows/`` folders) are written beside the
rows they match. Run from the repository root::

    PYTHONPATH=src python scripts/make_fedefl_flow_map.py --uuids EXPORT/flows [...]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

TARGET = Path("inventories/flowmaps/fedefl-biosphere3-ghg.csv")
COLUMNS = (
    "source_flow",
    "source_name",
    "source_cas",
    "source_categories",
    "source_unit",
    "target_name",
    "target_categories",
    "target_unit",
    "note",
)
FOSSIL = (
    "FEDEFL has one flowable for this substance (no biogenic variant): counted fossil, "
    "as ecoinvent counts an emission of unstated origin"
)
#: (FEDEFL flowable, CAS, biosphere3 name, note); biosphere3 names as bw2io 0.9 ships them.
SUBSTANCES = [
    ("Carbon dioxide", "124-38-9", "Carbon dioxide, fossil", FOSSIL),
    ("Methane", "74-82-8", "Methane, fossil", FOSSIL),
    ("Carbon monoxide", "630-08-0", "Carbon monoxide, fossil", FOSSIL),
    ("Nitrous oxide", "10024-97-2", "Dinitrogen monoxide", ""),
    ("Sulfur hexafluoride", "2551-62-4", "Sulfur hexafluoride", ""),
    ("Nitrogen trifluoride", "7783-54-2", "Nitrogen fluoride", ""),
    ("HFC-23", "75-46-7", "Methane, trifluoro-, HFC-23", ""),
    ("HFC-32", "75-10-5", "Methane, difluoro-, HFC-32", ""),
    ("HFC-125", "354-33-6", "Ethane, pentafluoro-, HFC-125", ""),
    ("HFC-134a", "811-97-2", "Ethane, 1,1,1,2-tetrafluoro-, HFC-134a", ""),
    ("HFC-143a", "420-46-2", "Ethane, 1,1,1-trifluoro-, HFC-143a", ""),
    ("HFC-152a", "75-37-6", "Ethane, 1,1-difluoro-, HFC-152a", ""),
    ("Carbon tetrafluoride", "75-73-0", "Methane, tetrafluoro-, R-14", "PFC-14"),
    ("Hexafluoroethane", "76-16-4", "Ethane, hexafluoro-, HFC-116", "PFC-116"),
    ("Perfluoropentane", "678-26-2", "Perfluoropentane", "PFC-41-12"),
    ("CFC-11", "75-69-4", "Methane, trichlorofluoro-, CFC-11", ""),
    ("CFC-12", "75-71-8", "Methane, dichlorodifluoro-, CFC-12", ""),
    ("CFC-13", "75-72-9", "Methane, chlorotrifluoro-, CFC-13", ""),
    ("CFC-113", "76-13-1", "Ethane, 1,1,2-trichloro-1,2,2-trifluoro-, CFC-113", ""),
    ("CFC-114", "76-14-2", "Ethane, 1,2-dichloro-1,1,2,2-tetrafluoro-, CFC-114", ""),
    ("CFC-115", "76-15-3", "Ethane, chloropentafluoro-, CFC-115", ""),
    ("HCFC-21", "75-43-4", "Methane, dichlorofluoro-, HCFC-21", ""),
    ("HCFC-22", "75-45-6", "Methane, chlorodifluoro-, HCFC-22", ""),
    ("HCFC-31", "593-70-4", "Methane, chloro-fluoro-, HCFC-31", ""),
    ("HCFC-123", "306-83-2", "Ethane, 2,2-dichloro-1,1,1-trifluoro-, HCFC-123", ""),
    ("HCFC-124", "2837-89-0", "Ethane, 2-chloro-1,1,1,2-tetrafluoro-, HCFC-124", ""),
    ("HCFC-141b", "1717-00-6", "Ethane, 1,1-dichloro-1-fluoro-, HCFC-141b", ""),
    ("HCFC-142b", "75-68-3", "Ethane, 1-chloro-1,1-difluoro-, HCFC-142b", ""),
    ("Halon 1211", "353-59-3", "Methane, bromochlorodifluoro-, Halon 1211", ""),
    ("Halon 1301", "75-63-8", "Methane, bromotrifluoro-, Halon 1301", ""),
    ("Methyl bromide", "74-83-9", "Methane, bromo-, Halon 1001", ""),
    ("Carbon tetrachloride", "56-23-5", "Methane, tetrachloro-, R-10", ""),
    ("1,1,1-Trichloroethane", "71-55-6", "Ethane, 1,1,1-trichloro-, HCFC-140", ""),
    ("Chloromethane", "74-87-3", "Methane, monochloro-, R-40", ""),
    ("Methylene chloride", "75-09-2", "Methane, dichloro-, HCC-30", ""),
    ("Chloroform", "67-66-3", "Chloroform", ""),
    ("Chloroethane", "75-00-3", "Monochloroethane", ""),
    ("1,2-Dichloroethane", "107-06-2", "Ethane, 1,2-dichloro-", ""),
    ("Trichloroethylene", "79-01-6", "Trichloroethylene", ""),
    ("Tetrachloroethylene", "127-18-4", "Tetrachloroethylene", ""),
    ("1-Bromopropane", "106-94-5", "Bromopropane", ""),
    ("Ethane", "74-84-0", "Ethane", ""),
    ("Propane", "74-98-6", "Propane", ""),
    ("Butane", "106-97-8", "Butane", ""),
    ("Nitric oxide", "10102-43-9", "Nitric oxide", "characterised by IPCC 2013 (AR5) only"),
    (
        "Volatile organic compounds",
        "",
        "VOC, volatile organic compounds",
        "FEDEFL group flowable; characterised by IPCC 2013 (AR5) only",
    ),
]
#: Names outside FEDEFL that FEDEFL-based databases carry (USLCI's non-FEDEFL flows).
EXTRA = [
    (
        "Carbon dioxide, biogenic",
        "124-38-9",
        "Carbon dioxide, non-fossil",
        "USLCI name (non-FEDEFL); biogenic CO2 is not counted by the engine's methods",
    ),
    ("Methane, biogenic", "74-82-8", "Methane, non-fossil", "USLCI name (non-FEDEFL)"),
    ("Carbon monoxide, biogenic", "630-08-0", "Carbon monoxide, non-fossil", "USLCI name"),
]
#: USLCI's own spellings of biosphere3 flows (openLCA 1.5 ecospold2 export, no compartment).
USLCI_SPELLINGS = [
    ("Methane, tetrachloro-, CFC-10", "56-23-5", "Methane, tetrachloro-, R-10", "USLCI name"),
    ("Methane, tetrafluoro-, CFC-14", "75-73-0", "Methane, tetrafluoro-, R-14", "USLCI name"),
    ("Methane, tetrafluoro-, FC-14", "75-73-0", "Methane, tetrafluoro-, R-14", "USLCI name"),
    (
        "Ethane, 2-chloro-1,1,1,2-tetra-fluoro-, HCFC-124",
        "2837-89-0",
        "Ethane, 2-chloro-1,1,1,2-tetrafluoro-, HCFC-124",
        "USLCI name",
    ),
    (
        "Methane, difluromonochloro-, HCFC-22",
        "75-45-6",
        "Methane, chlorodifluoro-, HCFC-22",
        "USLCI name",
    ),
    ("Methane, monochloro, R-40", "74-87-3", "Methane, monochloro-, R-40", "USLCI name"),
    ("Methane, chloro-", "74-87-3", "Methane, monochloro-, R-40", "USLCI name"),
    ("Methane, dichloro, HCC-30", "75-09-2", "Methane, dichloro-, HCC-30", "USLCI name"),
    (
        "Ethane, 1,1,1-trifluoro-2,2-dichloro-, HCFC-123",
        "306-83-2",
        "Ethane, 2,2-dichloro-1,1,1-trifluoro-, HCFC-123",
        "USLCI name",
    ),
    (
        "Carbon dioxide, land transformation",
        "124-38-9",
        "Carbon dioxide, from soil or biomass stock",
        "USLCI name",
    ),
]
#: FEDEFL air contexts -> biosphere3 air compartments (the GWP factors are the same in all).
AIR_CONTEXTS = {
    "emission/air": ("air",),
    "emission/air/troposphere/low": ("air",),
    "emission/air/troposphere/high": ("air",),
    "emission/air/troposphere/very high": ("air",),
    "emission/air/troposphere/ground-level": ("air",),
    "emission/air/indoor": ("air",),
    "emission/air/subterranean": ("air",),
    "emission/air/stratosphere": ("air", "lower stratosphere + upper troposphere"),
}
for _density, _compartment in (
    ("urban", "urban air close to ground"),
    ("rural", "non-urban air or from high stacks"),
):
    for _height in ("", "/low", "/high", "/very high", "/ground-level"):
        AIR_CONTEXTS[f"emission/air/troposphere/{_density}{_height}"] = ("air", _compartment)
#: Only in biosphere3's unspecified air compartment.
AIR_ONLY = {"Bromopropane", "Nitric oxide", "Perfluoropentane", "VOC, volatile organic compounds"}


def _uuids(folders: list[Path]) -> dict[tuple[str, str, str], str]:
    found = {}
    for folder in folders:
        for path in folder.glob("*.json"):
            flow = json.loads(path.read_text(encoding="utf-8"))
            if flow.get("flowType") != "ELEMENTARY_FLOW":
                continue
            unit = next(
                (
                    p["flowProperty"].get("refUnit", "")
                    for p in flow.get("flowProperties", ())
                    if p.get("isRefFlowProperty")
                ),
                "",
            )
            context = flow.get("category", "").removeprefix("Elementary flows/")
            found[(flow["name"], context, unit)] = flow["@id"]
    return found


def _biosphere3_air_names(rows: list[dict[str, str]]) -> list[tuple[str, str, str, str]]:
    """Every biosphere3 flow a method of the engine characterises in air, by its own name
    (unless a FEDEFL flowable has that name already)."""
    from bw2io.importers import Ecospold2BiosphereImporter

    from cfp_engine.spec.methods import available_methods, read_bw2io_lcia

    source = read_bw2io_lcia()
    names = {
        cf["name"]
        for method in available_methods()
        for indicator in method.indicators.values()
        for cf in source[tuple(indicator)]["exchanges"]
        if tuple(cf["categories"]) == ("air",)
    }
    importer = Ecospold2BiosphereImporter()
    importer.apply_strategies()
    cas = {
        f["name"]: (f.get("CAS number") or "").lstrip("0")
        for f in importer.data
        if tuple(f["categories"]) == ("air",)
    }
    taken = {r["source_name"] for r in rows}
    return [(n, cas.get(n, ""), n, "") for n in sorted(names - taken)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uuids", nargs="*", type=Path, default=[])
    uuids = _uuids(parser.parse_args().uuids)
    rows = []
    for name, cas, target, note in [*SUBSTANCES, *EXTRA]:
        for context, compartment in AIR_CONTEXTS.items():
            if target in AIR_ONLY:
                compartment = ("air",)
            rows.append(
                {
                    "source_flow": uuids.get((name, context, "kg"), ""),
                    "source_name": name,
                    "source_cas": cas,
                    "source_categories": context,
                    "source_unit": "kg",
                    "target_name": target,
                    "target_categories": "::".join(compartment),
                    "target_unit": "kg",
                    "note": note,
                }
            )
    # biosphere3's own names, for databases that use them without a compartment (USLCI's
    # ecospold2 export): one row each, to unspecified air; only flows bw2io left
    # unlinked are rewritten, so ecoinvent data (linked by UUID) is untouched.
    for name, cas, target, note in [*_biosphere3_air_names(rows), *USLCI_SPELLINGS]:
        rows.append(
            {
                "source_flow": "",
                "source_name": name,
                "source_cas": cas,
                "source_categories": "emission/air",
                "source_unit": "kg",
                "target_name": target,
                "target_categories": "air",
                "target_unit": "kg",
                "note": note or "biosphere3 name without compartment",
            }
        )
    # CO2 taken up from air: FEDEFL's resource/air context. Not characterised: the
    # engine's methods leave biogenic uptake out (methods/methods.yaml).
    uptake = [("Carbon dioxide", c) for c in ("resource/air", "resource/air/troposphere")]
    uptake.append(("Carbon dioxide, in air", "resource/air"))  # USLCI's name
    for name, context in uptake:
        rows.append(
            {
                "source_flow": uuids.get((name, context, "kg"), ""),
                "source_name": name,
                "source_cas": "124-38-9",
                "source_categories": context,
                "source_unit": "kg",
                "target_name": "Carbon dioxide, in air",
                "target_categories": "natural resource::in air",
                "target_unit": "kg",
                "note": "uptake from air; not counted by the engine's methods (biogenic)",
            }
        )
    with TARGET.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{TARGET}: {len(rows)} rows, {sum(1 for r in rows if r['source_flow'])} with a UUID")


if __name__ == "__main__":
    main()
