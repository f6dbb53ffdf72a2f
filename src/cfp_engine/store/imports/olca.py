"""openLCA JSON-LD as bw2io 0.9 reads it: the schema and field fixes the engine applies.

bw2io's ``JSONLDImporter`` reads the openLCA 2 schema (olca-schema 2), with gaps these
functions fill, as the first strategies of the importer or, for 1.x exports, on the copy
of the export in the work folder (the user's files are never written):

* :func:`is_olca1` / :func:`upgrade_olca1`: openLCA 1.x exports rewritten in the 2.x
  schema (field names, categories as paths);
* :func:`olca_parameters_as_dict`: process parameters in the shape bw2io expects;
* :func:`olca_waste_as_service`: waste flows as treatment services;
* :func:`olca1_exchange_fields`: the 1.x names bw2io's allocation still reads;
* :func:`olca_location_codes`: locations as codes;
* :func:`olca_flow_contexts`: each exchange keeps its flow's category path.

No Brightway import here: these work on the export's JSON as dictionaries.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def is_olca1(folder: Path) -> bool:
    """Whether an export is in the openLCA 1.x JSON-LD schema.

    openLCA 2 writes ``openlca.json`` with ``schemaVersion`` 2 and categories as paths
    (``"category": "A/B"``); openLCA 1.x wrote categories as references and ``"input"``
    instead of ``"isInput"`` on exchanges.
    """
    meta = folder / "openlca.json"
    if meta.is_file():
        try:
            if int(json.loads(meta.read_text(encoding="utf-8")).get("schemaVersion", 0)) >= 2:
                return False
        except (ValueError, AttributeError, TypeError):
            pass
    for path in sorted((folder / "processes").glob("*.json"))[:5]:
        try:
            process = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue  # reported with its position by the reader
        exchanges = process.get("exchanges") or []
        if isinstance(process.get("category"), dict) or any(
            "input" in e and "isInput" not in e for e in exchanges
        ):
            return True
    return False


#: openLCA 1.x field names and their openLCA 2 (olca-schema 2) names.
OLCA1_FIELDS = {
    "input": "isInput",
    "quantitativeReference": "isQuantitativeReference",
    "avoidedProduct": "isAvoidedProduct",
    "referenceFlowProperty": "isRefFlowProperty",
    "referenceUnit": "isRefUnit",
    "inputParameter": "isInputParameter",
    "infrastructureProcess": "isInfrastructureProcess",
    "infrastructureFlow": "isInfrastructureFlow",
}


def upgrade_olca1(folder: Path) -> None:
    """Rewrite an openLCA 1.x export (a copy in the work folder) in the 2.x schema.

    Only what bw2io's reader uses differs: field names (:data:`OLCA1_FIELDS`) and
    categories, references in 1.x (``{"name", "categoryPath"}``), paths in 2.x.
    """

    def upgrade(value):
        if isinstance(value, list):
            return [upgrade(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {}
        for key, item in value.items():
            if key == "category" and isinstance(item, dict):
                out[key] = "/".join([*(item.get("categoryPath") or []), item.get("name", "")])
            else:
                out[OLCA1_FIELDS.get(key, key)] = upgrade(item)
        return out

    for path in folder.rglob("*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue  # left as is: the reader reports it with its position
        path.write_text(json.dumps(upgrade(data)), encoding="utf-8")


def olca_parameters_as_dict(data: dict[str, Any]) -> dict[str, Any]:
    """openLCA 2 process parameters (a list) as the ``{name: {...}}`` bw2io expects.

    Their values and formulas are frozen later with the rest
    (:mod:`cfp_engine.store.imports.parameters`).
    """
    for process in data["processes"].values():
        params = process.get("parameters")
        if isinstance(params, list):
            process["parameters"] = {
                p["name"]: {
                    "amount": p.get("value"),
                    "formula": p.get("formula"),
                    "description": p.get("description"),
                }
                for p in params
                if p.get("name")
            }
    return data


def olca_waste_as_service(data: dict[str, Any]) -> dict[str, Any]:
    """openLCA waste flows as treatment services, so every score stays positive.

    In openLCA a waste treatment's reference is a waste *input* and a process sends
    waste to treatment as an *output*; bw2io 0.9 rejects the first and reads the second
    as a second product. Here the direction is reversed: the treatment produces one unit
    of "treatment of that waste" (production +1) and the sender takes that service as an
    input of the same amount. The matrix is openLCA's (the sender's burden includes the
    treatment), and a spec that names the treatment per kg gets its burden per kg with
    a positive sign (Brightway's ecoinvent convention, production -1, would give a credit).
    """
    for flow in data.get("flows", {}).values():
        if flow.get("flowType") == "WASTE_FLOW":
            flow["flowType"] = "PRODUCT_FLOW"
            flow["cfp_waste_flow"] = True
    for process in data["processes"].values():
        for exchange in process.get("exchanges") or ():
            flow = exchange.get("flow") or {}
            if flow.get("flowType") == "WASTE_FLOW":
                exchange["flow"] = {**flow, "flowType": "PRODUCT_FLOW"}
                exchange["isInput"] = not exchange.get("isInput", False)
                exchange["cfp_waste_flow"] = True
    return data


def olca1_exchange_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Also give exchanges the openLCA 1.x field names bw2io's allocation still reads.

    bw2io reads openLCA 2 exports but allocates multi-output processes
    (``json_ld_allocate_datasets``, with the process's own allocation factors) by the
    1.x names: ``input``, ``quantitativeReference``, ``avoidedProduct`` for 2's
    ``isInput``, ``isQuantitativeReference``, ``isAvoidedProduct``.
    """
    names = {
        "isInput": "input",
        "isQuantitativeReference": "quantitativeReference",
        "isAvoidedProduct": "avoidedProduct",
    }
    for process in data["processes"].values():
        for exchange in process.get("exchanges") or ():
            for new, old in names.items():
                exchange.setdefault(old, bool(exchange.get(new, False)))
            if exchange["avoidedProduct"]:
                # openLCA stores an avoided product on the input side; bw2io wants an
                # output it labels "substitution" (a credit, as openLCA computes it).
                exchange["input"] = False
    return data


def olca_location_codes(data: dict[str, Any]) -> dict[str, Any]:
    """Locations as their codes (``JP``), not names (``Japan``); GLO when missing."""
    codes = {loc["@id"]: loc.get("code") or loc.get("name") for loc in data["locations"].values()}
    for process in data["processes"].values():
        ref = process.get("location")
        if not ref:
            process["location"] = {"name": "GLO"}
        else:
            process["location"] = {**ref, "name": codes.get(ref.get("@id"), ref.get("name"))}
    return data


def olca_flow_contexts(data: dict[str, Any]) -> dict[str, Any]:
    """Keep each exchange's flow category path (``Elementary flows/emission/air``).

    bw2io drops the exchange's flow reference; the category is kept as
    ``cfp_context`` for the flows an export references without defining them in its
    ``flows/`` folder, and to tell FEDEFL contexts (:mod:`cfp_engine.store.imports.fedefl`) from the
    biosphere3 words they are normalised to. Removed before writing.
    """
    for process in data["processes"].values():
        for exchange in process.get("exchanges") or ():
            category = (exchange.get("flow") or {}).get("category")
            if category:
                exchange["cfp_context"] = category
    return data
