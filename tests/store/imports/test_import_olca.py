"""openLCA 2 JSON-LD details: waste flows as treatment services, avoided products, bin/.

Built on the hand-made export of ``make_databases.write_jsonld`` (widget assembly 0.3 kg
steel, steel 2 kWh electricity; its scores are ``dbs.ASSEMBLY`` etc.).
"""

from __future__ import annotations

import json

import pytest

import make_databases as dbs

WASTE_FLOW = "b0000000-0000-4000-8000-0000000000e1"
TREATMENT = "a0000000-0000-4000-8000-0000000000e1"


@pytest.fixture
def home(fresh_home):
    return fresh_home


def _add_waste_treatment(root) -> None:
    """Assembly sends 0.1 kg of 'widget scrap' (a waste flow) to a treatment emitting
    0.2 kg CO2 per kg treated: openLCA's waste convention (output at the sender, input
    as the treatment's reference)."""
    mass = {"@type": "FlowProperty", "@id": dbs.PROPS["kg"], "name": "Mass"}
    kg = {"@type": "Unit", "@id": dbs.UNIT_IDS["kg"], "name": "kg"}
    flow = {"@type": "Flow", "@id": WASTE_FLOW, "name": "widget scrap", "flowType": "WASTE_FLOW"}
    (root / "flows" / f"{WASTE_FLOW}.json").write_text(
        json.dumps(
            {
                **flow,
                "category": "Waste/Test",
                "flowProperties": [
                    {"flowProperty": mass, "conversionFactor": 1.0, "isRefFlowProperty": True}
                ],
            }
        ),
        "utf-8",
    )

    def exchange(i, flow_ref, amount, *, is_input, reference=False, provider=None):
        data = {
            "@type": "Exchange",
            "internalId": i,
            "amount": amount,
            "isInput": is_input,
            "isQuantitativeReference": reference,
            "isAvoidedProduct": False,
            "flow": flow_ref,
            "unit": kg,
            "flowProperty": mass,
        }
        if provider:
            data["defaultProvider"] = {"@type": "Process", "@id": provider, "name": ""}
        return data

    co2 = {
        "@type": "Flow",
        "@id": dbs.CO2_FOSSIL,
        "name": "Carbon dioxide, fossil",
        "category": "Elementary flows/Emission to air/unspecified",
        "flowType": "ELEMENTARY_FLOW",
        "refUnit": "kg",
    }
    treatment = {
        "@type": "Process",
        "@id": TREATMENT,
        "name": "widget scrap treatment",
        "processType": "UNIT_PROCESS",
        "location": {"@type": "Location", "@id": "e0000000-0000-4000-8000-0000000000a2"},
        "exchanges": [
            exchange(1, {**flow, "refUnit": "kg"}, 1.0, is_input=True, reference=True),
            exchange(2, co2, 0.2, is_input=False),
        ],
    }
    (root / "processes" / f"{TREATMENT}.json").write_text(json.dumps(treatment), "utf-8")
    path = root / "processes" / f"{dbs.ACT['assembly']}.json"
    assembly = json.loads(path.read_text("utf-8"))
    assembly["exchanges"].append(
        exchange(9, {**flow, "refUnit": "kg"}, 0.1, is_input=False, provider=TREATMENT)
    )
    path.write_text(json.dumps(assembly), "utf-8")


def test_waste_flows_become_treatment_services_with_positive_scores(home, tmp_path):
    from cfp_engine.store.access import open_store
    from cfp_engine.store.imports import import_database

    root = dbs.write_jsonld(tmp_path / "olca")
    _add_waste_treatment(root)
    import_database(root, format="olca-jsonld", name="olca")
    table = open_store()
    gwp = "IPCC 2021 GWP100"

    def score(reference):
        return float(table.indicator(gwp, "total")[table.find(reference).index])

    # treatment: 0.2 kg CO2 per kg treated; assembly: its own burden + 0.1 kg treated.
    assert score("olca::widget scrap treatment") == pytest.approx(0.2, rel=1e-6)
    assert score("olca::widget assembly") == pytest.approx(dbs.ASSEMBLY + 0.1 * 0.2, rel=1e-6)


def _downgrade_to_olca1(root) -> None:
    """Rewrite the hand-made openLCA 2 export in the openLCA 1.x schema (field names,
    categories as references) - what openLCA 1.x wrote."""
    from cfp_engine.store.imports.olca import OLCA1_FIELDS

    old_names = {new: old for old, new in OLCA1_FIELDS.items()}

    def downgrade(value):
        if isinstance(value, list):
            return [downgrade(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {}
        for key, item in value.items():
            if key == "category" and isinstance(item, str):
                *path, name = item.split("/")
                out[key] = {"@type": "Category", "name": name, "categoryPath": path}
            else:
                out[old_names.get(key, key)] = downgrade(item)
        return out

    for path in root.rglob("*.json"):
        path.write_text(json.dumps(downgrade(json.loads(path.read_text("utf-8")))), "utf-8")


def test_openlca_1_exports_are_read_as_openlca_2(home, tmp_path):
    from cfp_engine.store.access import open_store
    from cfp_engine.store.imports import import_database

    root = dbs.write_jsonld(tmp_path / "olca")
    _downgrade_to_olca1(root)
    assert '"input": true' in (root / "processes" / f"{dbs.ACT['steel']}.json").read_text()
    before = {p: p.read_bytes() for p in root.rglob("*.json")}
    import_database(root, format="olca-jsonld", name="olca1")
    assert {p: p.read_bytes() for p in root.rglob("*.json")} == before  # a copy was upgraded
    table = open_store()
    index = table.find("olca1::widget assembly").index
    assert float(table.indicator("IPCC 2021 GWP100", "total")[index]) == pytest.approx(
        dbs.ASSEMBLY, rel=1e-6
    )
