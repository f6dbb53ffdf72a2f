"""Characterisation factors as installed from bw2io, checked against independent IPCC tables."""

import csv
import math

import pytest

from cfp_engine.errors import DataError
from cfp_engine.spec.methods import INDICATORS, resolve_method
from cfp_engine.store.access import open_store

from conftest import SHARED_REFERENCE
from make_inventories import write_inventory

GASES = {  # activity name: biosphere3 flow emitted to air (1 kg)
    "1 kg CO2": "Carbon dioxide, fossil",
    "1 kg CH4 fossil": "Methane, fossil",
    "1 kg CH4 non-fossil": "Methane, non-fossil",
    "1 kg N2O": "Dinitrogen monoxide",
    "1 kg SF6": "Sulfur hexafluoride",
    "1 kg CO2 non-fossil": "Carbon dioxide, non-fossil",
    "1 kg CO2 land use": "Carbon dioxide, from soil or biomass stock",
}


def _independent_gwp100() -> dict[str, dict[str, float]]:
    """AR6 and AR5 GWP100 from the globalwarmingpotentials table (CC0), not from bw2io."""
    path = SHARED_REFERENCE / "gwp" / "globalwarmingpotentials_0.13.2.csv"
    if path.exists():
        lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
        rows = {r["Species"]: r for r in csv.DictReader(lines)}
    else:
        import globalwarmingpotentials

        frame = globalwarmingpotentials.as_frame()
        rows = {species: row for species, row in frame.to_dict("index").items()}
    pick = {"CO2": None, "N2O": "N2O", "SF6": "SF6"}
    table = {"AR6": {}, "AR5": {}}
    for gas, species in pick.items():
        for report in table:
            value = 1.0 if species is None else float(rows[species][f"{report}GWP100"])
            table[report][gas] = value
    return table


@pytest.fixture(scope="module")
def gas_table(builtin_table, tmp_path_factory):
    activities = {
        name: ("kilogram", "GLO", [(flow, 1.0, "kilogram", "biosphere", "air")])
        for name, flow in GASES.items()
    }
    path = write_inventory(tmp_path_factory.mktemp("gases") / "gases.xlsx", activities, "gases")
    return open_store([path])


def score(table, method, activity, indicator="total"):
    info = table.find(f"gases::{activity}")
    return float(table.indicator(resolve_method(method).name, indicator)[info.index])


def test_ar6_key_gases_match_the_independent_ipcc_table(gas_table):
    ipcc = _independent_gwp100()["AR6"]
    assert score(gas_table, "AR6", "1 kg CO2") == pytest.approx(ipcc["CO2"], rel=1e-6)
    assert score(gas_table, "AR6", "1 kg N2O") == pytest.approx(ipcc["N2O"], rel=1e-6)
    assert score(gas_table, "AR6", "1 kg SF6") == pytest.approx(ipcc["SF6"], rel=1e-6)
    # IPCC AR6 WG1 Table 7.15: CH4-fossil 29.8, CH4-non-fossil 27.0 (7.SM.7 has no split).
    assert score(gas_table, "AR6", "1 kg CH4 fossil") == pytest.approx(29.8, rel=1e-6)
    assert score(gas_table, "AR6", "1 kg CH4 non-fossil") == pytest.approx(27.0, rel=1e-6)


def test_ar5_key_gases_match_the_independent_ipcc_table(gas_table):
    ipcc = _independent_gwp100()["AR5"]
    # ecoinvent's IPCC 2013 uses unrounded AR5 values (N2O 264.8, SF6 23506.82); the
    # GHG Protocol table rounds them (265, 23500): agreement to 0.1 %.
    for gas in ("CO2", "N2O", "SF6"):
        assert score(gas_table, "AR5", f"1 kg {gas}") == pytest.approx(ipcc[gas], rel=1e-3)
    assert score(gas_table, "AR5", "1 kg CH4 fossil") == pytest.approx(29.7, rel=1e-6)
    assert score(gas_table, "AR5", "1 kg CH4 non-fossil") == pytest.approx(28.5, rel=1e-6)


def test_biogenic_co2_is_not_counted_and_land_use_is_separate(gas_table):
    assert score(gas_table, "AR6", "1 kg CO2 non-fossil") == 0.0
    assert score(gas_table, "AR6", "1 kg CO2 land use") == pytest.approx(1.0, rel=1e-6)
    assert score(gas_table, "AR6", "1 kg CO2 land use", "land_use_change") == pytest.approx(
        1.0, rel=1e-6
    )
    assert score(gas_table, "AR6", "1 kg CO2 land use", "fossil") == 0.0
    assert score(gas_table, "AR6", "1 kg CH4 non-fossil", "biogenic") == pytest.approx(
        27.0, rel=1e-6
    )


@pytest.mark.parametrize("method", ["IPCC 2021 GWP100", "IPCC 2013 GWP100"])
def test_sub_indicators_partition_the_total(gas_table, method):
    scores = gas_table.vector(method)
    for column in range(scores.shape[1]):
        parts = [scores[INDICATORS.index(i), column] for i in INDICATORS[1:]]
        assert math.fsum(parts) == pytest.approx(scores[0, column], rel=1e-9, abs=1e-12)


def test_method_names_and_aliases():
    assert resolve_method(None).name == "IPCC 2021 GWP100"
    assert resolve_method("ar6").name == "IPCC 2021 GWP100"
    assert resolve_method("AR5").name == "IPCC 2013 GWP100"
    with pytest.raises(DataError, match="unknown method 'AR4'; available: IPCC 2021 GWP100"):
        resolve_method("AR4")


def test_the_catalogued_lcia_data_are_cached_with_a_checksum(tmp_path, monkeypatch):
    """A second process reads the small cache; a flipped digit in it is never used."""
    from cfp_engine.spec import methods

    monkeypatch.setenv("CFP_ENGINE_HOME", str(tmp_path))
    methods._catalogued_lcia.cache_clear()
    try:
        first = methods.read_bw2io_lcia()
        (cache,) = (tmp_path / "cache").glob("lcia-*.json")
        text = cache.read_text(encoding="utf-8")
        at = text.index('"amount": ') + len('"amount": ')
        cache.write_text(text[:at] + ("9" if text[at] != "9" else "8") + text[at + 1 :])
        methods._catalogued_lcia.cache_clear()
        assert methods.read_bw2io_lcia() == first  # decoded from bw2io again, not the cache
        assert cache.read_text(encoding="utf-8") == text  # and the cache written anew
        methods._catalogued_lcia.cache_clear()
        assert methods.read_bw2io_lcia() == first
        wanted = {n for m in methods.available_methods() for n in m.indicators.values()}
        assert set(first) == {tuple(n) for n in wanted}
    finally:
        methods._catalogued_lcia.cache_clear()
