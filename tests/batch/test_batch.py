"""cfp batch: agreement with cfp calc, row errors, formats, chunking, resume, Dask, CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cfp_engine.batch.manifest import MANIFEST_VERSION
from cfp_engine.batch.model import build_scoring_model
from cfp_engine.batch.run import OUTPUT_COLUMNS, score_catalogue
from cfp_engine.cli import cli
from cfp_engine.engine.footprint import calculate_footprint
from cfp_engine.errors import SpecError
from cfp_engine.spec.product import spec_from_dict

HEADER = ["product_id", "stage", "item", "ref", "amount", "unit", "recycled_content"]

# Hand-written products covering unit variants and recycled-content spellings.
PRODUCTS = {
    "bottle": [
        ("raw_materials", "body", "PET", "23", "g", "30%"),
        ("raw_materials", "cap", "pp", "2", "g", ""),
        ("production", "", "electricity, grid, jp", "0.1", "kWh", ""),
        ("production", "", "heat, natural gas", "0.36", "MJ", ""),
        ("distribution", "", "transport, lorry", "500", "kg*km", ""),
        ("end_of_life", "", "landfill, pp", "3", "g", ""),
    ],
    "beam": [
        ("raw_materials", "web", "steel", "0.012", "t", "0.25"),
        ("raw_materials", "coat", "aluminium", "1.5", "kg", "45 %"),
        ("use", "", "electricity, grid, jp", "3.6", "MJ", ""),
        ("distribution", "", "transport, freight train", "1.2", "t*km", ""),
    ],
    "crate": [
        ("raw_materials", "box", "wood", "2", "kg", ""),
        ("raw_materials", "lid", "cardboard", "300", "g", "100%"),
        ("production", "", "cfp-builtin::electricity, grid, jp::JP", "2", "kWh", ""),
    ],
    "energy-only": [("use", "", "electricity, grid, us", "12", "kWh", "")],
}


def _rows(products: dict) -> list[list[str]]:
    return [[pid, *row] for pid, items in products.items() for row in items]


def _write_csv(path: Path, rows, *, bom: bool = False, header=HEADER) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8")
    return path


def _read(path: Path) -> list[dict]:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    types = {name: "string" for name in OUTPUT_COLUMNS[:3]}
    types.update({name: "double" for name in OUTPUT_COLUMNS[3:]})
    options = pacsv.ConvertOptions(column_types=types, strings_can_be_null=False)
    return pacsv.read_csv(path, convert_options=options).to_pylist()


def _spec_for(pid: str, items) -> dict:
    components, stages = [], {}
    for stage, item, ref, amount, unit, share in items:
        if stage == "raw_materials":
            component = {"id": item, "material": ref, "mass": f"{amount} {unit}"}
            if share:
                component["recycled_content"] = share
            components.append(component)
        else:
            stages.setdefault(stage, []).append({"activity": ref, "amount": f"{amount} {unit}"})
    return {
        "product": {"id": pid, "name": pid, "declared_unit": "1 piece"},
        "components": components,
        "stages": stages,
    }


def _generated(n_products: int, seed: int = 7) -> list[list[str]]:
    """A deterministic random catalogue over the built-in data (~6 rows a product)."""
    rng = np.random.default_rng(seed)
    materials = ["pet", "hdpe", "steel", "aluminium", "glass", "wood", "cardboard", "pp"]
    activities = [
        ("production", "electricity, grid, jp", "kWh"),
        ("production", "heat, natural gas", "MJ"),
        ("distribution", "transport, lorry", "t*km"),
        ("use", "electricity, grid, eu-27", "kWh"),
        ("end_of_life", "landfill, pp", "kg"),
    ]
    rows = []
    for p in range(n_products):
        pid = f"P{p:06d}"
        for c in range(int(rng.integers(1, 5))):
            material = materials[int(rng.integers(len(materials)))]
            share = "" if material == "wood" else f"{int(rng.integers(0, 101))}%"
            mass = f"{rng.uniform(0.001, 3):.6g}"
            rows.append([pid, "raw_materials", f"c{c}", material, mass, "kg", share])
        for _ in range(int(rng.integers(0, 4))):
            stage, ref, unit = activities[int(rng.integers(len(activities)))]
            rows.append([pid, stage, "", ref, f"{rng.uniform(0, 10):.6g}", unit, ""])
    return rows


@pytest.fixture(scope="module")
def model(builtin_table):
    return build_scoring_model()


@pytest.fixture(scope="module")
def big_catalogue(tmp_path_factory) -> Path:
    return _write_csv(tmp_path_factory.mktemp("cat") / "big.csv", _generated(400))


# -- agreement with cfp calc -------------------------------------------------------------


@pytest.mark.parametrize("approach", ["cut-off", "cff"])
def test_agrees_with_cfp_calc(tmp_path, builtin_table, approach):
    model = build_scoring_model(approach=approach)
    source = _write_csv(tmp_path / "cat.csv", _rows(PRODUCTS))
    score_catalogue(source, tmp_path / "out.csv", model=model)
    rows = {r["product_id"]: r for r in _read(tmp_path / "out.csv")}
    assert list(rows) == list(PRODUCTS)
    for pid, items in PRODUCTS.items():
        expected = calculate_footprint(spec_from_dict(_spec_for(pid, items)), approach=approach)
        got = rows[pid]
        assert got["status"] == "ok", got["error"]
        figures = {
            "total_kg_co2e": expected.total_kg_co2e,
            "recycled_content_share": expected.recycled_content_share,
            "virgin_baseline_kg_co2e": expected.virgin_baseline_kg_co2e,
            **{f"{s}_kg_co2e": v for s, v in expected.stages_kg_co2e.items()},
        }
        if expected.reduction_vs_virgin is not None:
            figures["reduction_vs_virgin"] = expected.reduction_vs_virgin
        for name, value in figures.items():
            assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-15), (pid, name)


# -- row errors ----------------------------------------------------------------------------

BAD_ROWS = [
    (["raw_materials", "c", "unobtainium", "1", "kg", ""], "line 4: ref: unknown material"),
    (["production", "", "no such activity", "1", "kWh", ""], "line 4: ref: no activity"),
    (["raw_materials", "c", "pet", "1", "kWh", ""], "line 4: unit: 'kWh' is not a mass"),
    (["production", "", "transport, lorry", "1", "kWh", ""], "line 4: unit: 'kWh' does not fit"),
    (["production", "", "transport, lorry", "1", "furlongs", ""], "line 4: unit:"),
    (["production", "", "transport, lorry", "-2", "t*km", ""], "line 4: amount: '-2' is negative"),
    (["production", "", "transport, lorry", "two", "t*km", ""], "line 4: amount: 'two' is not"),
    (["raw_materials", "c", "pet", "1", "kg", "150%"], "line 4: recycled_content: '150%' is outs"),
    (["raw_materials", "c", "pet", "1", "kg", "-0.1"], "line 4: recycled_content:"),
    (["raw_materials", "c", "wood", "1", "kg", "20%"], "line 4: recycled_content: '20%', but"),
    (["raw_materials", "c", "pet", "", "kg", ""], "line 4: amount: the field is empty"),
    (["raw_materials", "c", "pet", "1", "", ""], "line 4: unit: the field is empty"),
    (["raw_materials", "c", "", "1", "kg", ""], "line 4: ref: the field is empty"),
    (["raw_materials", "", "pet", "1", "kg", ""], "line 4: item:"),
    (["packaging", "", "pet", "1", "kg", ""], "line 4: stage: 'packaging' is not one of"),
]


@pytest.mark.parametrize(("row", "message"), BAD_ROWS)
def test_a_bad_row_makes_its_product_an_error_and_others_are_scored(tmp_path, model, row, message):
    rows = [
        ["good1", "raw_materials", "c", "pet", "1", "kg", ""],
        ["bad", "raw_materials", "c", "pet", "1", "kg", ""],
        ["bad", *row],
        ["good2", "use", "", "electricity, grid, jp", "1", "kWh", ""],
    ]
    source = _write_csv(tmp_path / "cat.csv", rows)
    summary = score_catalogue(source, tmp_path / "out.csv", model=model)
    out = _read(tmp_path / "out.csv")
    assert [r["product_id"] for r in out] == ["good1", "bad", "good2"]
    assert (summary.products, summary.errors) == (3, 1)
    bad = out[1]
    assert bad["status"] == "error"
    assert bad["error"].startswith("cat.csv: ")
    assert message in bad["error"]
    assert "\n" not in bad["error"]
    assert all(bad[name] is None for name in OUTPUT_COLUMNS[3:])
    assert out[0]["status"] == out[2]["status"] == "ok"
    assert out[0]["total_kg_co2e"] > 0 and out[2]["total_kg_co2e"] > 0


def test_empty_product_id_is_an_error(tmp_path, model):
    rows = [
        ["", "raw_materials", "c", "pet", "1", "kg", ""],
        ["ok", "use", "", "x", "1", "kWh", ""],
    ]
    source = _write_csv(tmp_path / "cat.csv", rows)
    score_catalogue(source, tmp_path / "out.csv", model=model)
    out = _read(tmp_path / "out.csv")
    assert "line 2: product_id: the field is empty" in out[0]["error"]


def test_a_product_whose_rows_come_back_is_scored_once(tmp_path, model):
    rows = [
        ["a", "raw_materials", "c", "pet", "1", "kg", ""],
        ["b", "raw_materials", "c", "pet", "1", "kg", ""],
        ["a", "use", "", "electricity, grid, jp", "1", "kWh", ""],
        ["c", "raw_materials", "c", "pet", "1", "kg", ""],
    ]
    source = _write_csv(tmp_path / "cat.csv", rows)
    grouped = _write_csv(tmp_path / "grouped.csv", [rows[0], rows[2], rows[1], rows[3]])
    score_catalogue(grouped, tmp_path / "grouped-out.csv", model=model)
    expected = _read(tmp_path / "grouped-out.csv")
    for chunk_rows in (1, 2, 100):
        out_path = tmp_path / f"out{chunk_rows}.csv"
        summary = score_catalogue(source, out_path, model=model, chunk_rows=chunk_rows)
        assert _read(out_path) == expected, chunk_rows
        assert (summary.products, summary.errors) == (3, 0)
        assert not (tmp_path / f"{out_path.name}.work").exists()
    assert [r["product_id"] for r in expected] == ["a", "b", "c"]


def test_zero_baseline_leaves_reduction_empty(tmp_path, model):
    source = _write_csv(
        tmp_path / "cat.csv", [["z", "use", "", "transport, lorry", "0", "t*km", ""]]
    )
    score_catalogue(source, tmp_path / "out.csv", model=model)
    (row,) = _read(tmp_path / "out.csv")
    assert row["total_kg_co2e"] == 0.0 and row["recycled_content_share"] == 0.0
    assert row["reduction_vs_virgin"] is None


# -- formats, order, chunking ---------------------------------------------------------------


def test_output_columns_and_order(tmp_path, model, big_catalogue):
    score_catalogue(big_catalogue, tmp_path / "out.csv", model=model)
    header = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(f'"{c}"' for c in OUTPUT_COLUMNS)
    ids = [r["product_id"] for r in _read(tmp_path / "out.csv")]
    assert ids == [f"P{p:06d}" for p in range(400)]


def test_bom_makes_no_difference(tmp_path, model):
    rows = _rows(PRODUCTS)
    plain = _write_csv(tmp_path / "plain.csv", rows)
    bom = _write_csv(tmp_path / "bom.csv", rows, bom=True)
    assert bom.read_bytes().startswith(b"\xef\xbb\xbf")
    score_catalogue(plain, tmp_path / "a.csv", model=model)
    score_catalogue(bom, tmp_path / "b.csv", model=model)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_csv_and_parquet_round_trips(tmp_path, model, big_catalogue):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pacsv.read_csv(
        big_catalogue,
        convert_options=pacsv.ConvertOptions(
            strings_can_be_null=False, column_types=dict.fromkeys(HEADER, "string")
        ),
    )
    pq.write_table(table, tmp_path / "cat.parquet")
    score_catalogue(big_catalogue, tmp_path / "a.csv", model=model)
    score_catalogue(big_catalogue, tmp_path / "a.parquet", model=model)
    score_catalogue(tmp_path / "cat.parquet", tmp_path / "b.csv", model=model, chunk_rows=333)
    score_catalogue(tmp_path / "cat.parquet", tmp_path / "b.parquet", model=model)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert pq.read_table(tmp_path / "a.parquet").equals(pq.read_table(tmp_path / "b.parquet"))
    from_csv = _read(tmp_path / "a.csv")
    assert _read(tmp_path / "a.parquet") == from_csv
    assert pq.read_schema(tmp_path / "a.parquet").names == list(OUTPUT_COLUMNS)


def test_parquet_with_numeric_amounts_and_nulls(tmp_path, model):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "product_id": ["p", "p"],
            "stage": ["raw_materials", "use"],
            "item": ["c", None],
            "ref": ["pet", "electricity, grid, jp"],
            "amount": [0.25, 2.0],
            "unit": ["kg", "kWh"],
            "recycled_content": [0.5, None],
        }
    )
    pq.write_table(table, tmp_path / "cat.parquet")
    rows = [["p", "raw_materials", "c", "pet", "0.25", "kg", "0.5"]]
    rows.append(["p", "use", "", "electricity, grid, jp", "2", "kWh", ""])
    _write_csv(tmp_path / "cat.csv", rows)
    score_catalogue(tmp_path / "cat.parquet", tmp_path / "a.csv", model=model)
    score_catalogue(tmp_path / "cat.csv", tmp_path / "b.csv", model=model)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_chunk_size_and_workers_do_not_change_the_output(tmp_path, model, big_catalogue):
    small = _write_csv(tmp_path / "small.csv", _generated(40, seed=3))
    for source in (small, big_catalogue):
        reference_path = tmp_path / f"{source.stem}-ref.csv"
        score_catalogue(source, reference_path, model=model)
        reference = reference_path.read_bytes()
        settings = ((1, 1), (2, 2)) if source is small else ((7, 1), (250, 2))
        for chunk_rows, workers in settings:
            out = tmp_path / f"{source.stem}-{chunk_rows}-{workers}.csv"
            score_catalogue(source, out, model=model, chunk_rows=chunk_rows, workers=workers)
            assert out.read_bytes() == reference, (source.name, chunk_rows, workers)
            assert not (tmp_path / f"{out.name}.work").exists()


# -- rows in any order (contract section 7) ---------------------------------------------------


def _interleaved(rows: list[list[str]], seed: int) -> list[list[str]]:
    """The rows in a random order that keeps each product's own rows in their order."""
    rng = np.random.default_rng(seed)
    slots = rng.permutation(len(rows))
    by_product: dict[str, list[int]] = {}
    for k, row in enumerate(rows):
        by_product.setdefault(row[0], []).append(k)
    placed: list = [None] * len(rows)
    for members in by_product.values():
        for k, slot in zip(members, sorted(slots[members]), strict=True):
            placed[slot] = rows[k]
    return placed


def _lines_by_product(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return {line.split(",", 1)[0].strip('"'): line for line in lines}


def test_hand_computed_scores_of_a_shuffled_catalogue(tmp_path):
    # p's rows at the start, middle and end; q's and r's between (hand model, no Brightway)
    rows = [
        ["p", "raw_materials", "c", "tin", "2", "kg", "25%"],
        ["q", "production", "", "steam", "1.", "kg", ""],
        ["r", "production", "", "heat", "250", "g", ""],
        ["p", "production", "", "heat", "500", "g", ""],
        ["q", "use", "", "heat", "3", "kg", ""],
        ["p", "use", "", "Steam", " 4e0 ", "kg", ""],
    ]
    source = _write_csv(tmp_path / "cat.csv", rows)
    for chunk_rows in (1, 2, 4, 1000):
        out = tmp_path / f"out-{chunk_rows}.csv"
        summary = score_catalogue(source, out, model=_hand_model(), chunk_rows=chunk_rows)
        p, q, r = _read(out)
        assert [p["product_id"], q["product_id"], r["product_id"]] == ["p", "q", "r"]
        assert summary.products == 3 and summary.errors == 0
        # p as in test_hand_computed_scores_without_brightway: 5.5 + 1 + 2 + 0.5 = 9.0
        assert p["total_kg_co2e"] == pytest.approx(9.0, rel=1e-12)
        assert p["raw_materials_kg_co2e"] == pytest.approx(5.5, rel=1e-12)
        assert p["virgin_baseline_kg_co2e"] == pytest.approx(9.5, rel=1e-12)
        assert p["recycled_content_share"] == pytest.approx(0.25, rel=1e-12)
        # q: steam 1 x 0.5 in production, heat 3 x 2 in use; r: heat 0.25 x 2
        assert q["production_kg_co2e"] == pytest.approx(0.5, rel=1e-12)
        assert q["use_kg_co2e"] == pytest.approx(6.0, rel=1e-12)
        assert q["total_kg_co2e"] == pytest.approx(6.5, rel=1e-12)
        assert r["total_kg_co2e"] == pytest.approx(0.5, rel=1e-12)


def test_a_product_at_the_start_and_the_end_of_the_file(tmp_path, model):
    middle = _generated(60, seed=4)
    first = ["edge", "raw_materials", "c", "pet", "1", "kg", "50%"]
    last = ["edge", "use", "", "electricity, grid, jp", "2", "kWh", ""]
    source = _write_csv(tmp_path / "cat.csv", [first, *middle, last])
    grouped = _write_csv(tmp_path / "grouped.csv", [first, last, *middle])
    score_catalogue(grouped, tmp_path / "grouped.csv.out.csv", model=model)
    expected = (tmp_path / "grouped.csv.out.csv").read_bytes()
    for chunk_rows in (3, 50, 10_000):
        out = tmp_path / f"out-{chunk_rows}.csv"
        summary = score_catalogue(source, out, model=model, chunk_rows=chunk_rows)
        assert out.read_bytes() == expected, chunk_rows
        assert summary.products == 61
    edge = _read(out)[0]
    spec = _spec_for("edge", [tuple(first[1:]), tuple(last[1:])])
    footprint = calculate_footprint(spec_from_dict(spec))
    assert edge["product_id"] == "edge"
    assert edge["total_kg_co2e"] == pytest.approx(footprint.total_kg_co2e, rel=1e-9)
    assert edge["use_kg_co2e"] == pytest.approx(footprint.stages_kg_co2e["use"], rel=1e-9)


@pytest.mark.parametrize(("chunk_rows", "workers"), [(7, 1), (250, 2), (500_000, 1)])
def test_shuffled_catalogue_gives_the_grouped_scores_in_first_appearance_order(
    tmp_path, model, chunk_rows, workers
):
    rows = _generated(400, seed=9)
    grouped = _write_csv(tmp_path / "grouped.csv", rows)
    score_catalogue(grouped, tmp_path / "grouped-out.csv", model=model, chunk_rows=chunk_rows)
    reference = _lines_by_product(tmp_path / "grouped-out.csv")
    shuffled_rows = _interleaved(rows, seed=2)
    assert shuffled_rows != rows
    shuffled = _write_csv(tmp_path / "shuffled.csv", shuffled_rows)
    out = tmp_path / "shuffled-out.csv"
    summary = score_catalogue(shuffled, out, model=model, chunk_rows=chunk_rows, workers=workers)
    got = _lines_by_product(out)
    # one row per product, in order of first appearance, each row byte for byte the same
    assert list(got) == list(dict.fromkeys(row[0] for row in shuffled_rows))
    assert got == reference
    assert summary.products == 400 and summary.errors == 0
    assert not (tmp_path / "shuffled-out.csv.work").exists()


def test_any_permutation_gives_the_same_numbers(tmp_path, model):
    rows = _generated(200, seed=12)
    rng = np.random.default_rng(8)
    shuffled_rows = [rows[k] for k in rng.permutation(len(rows))]
    score_catalogue(_write_csv(tmp_path / "g.csv", rows), tmp_path / "g-out.csv", model=model)
    source = _write_csv(tmp_path / "s.csv", shuffled_rows)
    score_catalogue(source, tmp_path / "s-out.csv", model=model, chunk_rows=100)
    grouped = {r["product_id"]: r for r in _read(tmp_path / "g-out.csv")}
    got = _read(tmp_path / "s-out.csv")
    assert [r["product_id"] for r in got] == list(dict.fromkeys(r[0] for r in shuffled_rows))
    for row in got:
        # a product's own rows in another order: sums may differ in the last bits only,
        # and a figure that is zero one way may be a rounding residue (1e-16) the other
        for name in OUTPUT_COLUMNS[3:]:
            expected = grouped[row["product_id"]][name]
            assert row[name] == pytest.approx(expected, rel=1e-12, abs=1e-14), name


def test_shuffled_csv_and_parquet_give_the_same_output(tmp_path, model):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _interleaved(_generated(300, seed=6), seed=5)
    rows[10] = [rows[10][0], "raw_materials", "c", "unobtainium", "1", "kg", ""]
    source = _write_csv(tmp_path / "cat.csv", rows)
    table = pa.table({name: [r[k] for r in rows] for k, name in enumerate(HEADER)})
    pq.write_table(table, tmp_path / "cat.parquet", row_group_size=100)
    score_catalogue(source, tmp_path / "a.parquet", model=model, chunk_rows=90)
    score_catalogue(tmp_path / "cat.parquet", tmp_path / "b.parquet", model=model, chunk_rows=90)
    a, b = pq.read_table(tmp_path / "a.parquet"), pq.read_table(tmp_path / "b.parquet")
    assert a.drop_columns(["error"]).equals(b.drop_columns(["error"]))
    assert a["product_id"].to_pylist() == list(dict.fromkeys(r[0] for r in rows))
    (bad,) = [k for k, status in enumerate(a["status"].to_pylist()) if status == "error"]
    assert a["product_id"][bad].as_py() == rows[10][0]
    # the CSV names line 12 (header + 11), the Parquet file row 11
    assert a["error"][bad].as_py().startswith("cat.csv: line 12: ref: unknown material")
    assert b["error"][bad].as_py().startswith("cat.parquet: line 11: ref: unknown material")


def test_a_late_repeat_switches_a_grouped_run_to_partitions(tmp_path, model):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _generated(100, seed=15)
    late = ["P000000", "production", "", "heat, natural gas", "2", "MJ", ""]
    first_rows = [r for r in rows if r[0] == "P000000"]
    grouped = [*first_rows, late, *[r for r in rows if r[0] != "P000000"]]
    for name, table_rows in (("late", [*rows, late]), ("grouped", grouped)):
        table = pa.table({h: [r[k] for r in table_rows] for k, h in enumerate(HEADER)})
        pq.write_table(table, tmp_path / f"{name}.parquet", row_group_size=20)
    # batches of 20 rows: the first is grouped, the repeat is found by the splitter later
    score_catalogue(tmp_path / "late.parquet", tmp_path / "late.csv", model=model, chunk_rows=20)
    score_catalogue(tmp_path / "grouped.parquet", tmp_path / "g.csv", model=model, chunk_rows=20)
    late_out = _read(tmp_path / "late.csv")
    assert late_out == _read(tmp_path / "g.csv")
    assert [r["product_id"] for r in late_out] == [f"P{p:06d}" for p in range(100)]
    assert not (tmp_path / "late.csv.work").exists()


def test_score_line_items_groups_rows_that_are_not_adjacent():
    import pyarrow as pa

    from cfp_engine.batch.scoring import FIRST_COLUMN, LINE_COLUMN, score_line_items

    rows = [
        ["q", "production", "", "heat", "1", "kg", ""],
        ["p", "production", "", "steam", "2", "kg", ""],
        ["q", "use", "", "steam", "4", "kg", ""],
        ["p", "use", "", "heat", "x", "kg", ""],
        ["r", "use", "", "heat", "3", "kg", ""],
    ]
    table = pa.table({h: [r[k] for r in rows] for k, h in enumerate(HEADER)})
    table = table.append_column(LINE_COLUMN, pa.array([10, 11, 12, 13, 14], pa.int64()))
    out = score_line_items(_hand_model(), table, source="s", first_line=True).to_pylist()
    assert [r["product_id"] for r in out] == ["q", "p", "r"]
    assert [r[FIRST_COLUMN] for r in out] == [10, 11, 14]
    # q: heat 1 x 2 + steam 4 x 0.5 = 4; p: its line 13 is bad; r: heat 3 x 2 = 6
    assert out[0]["production_kg_co2e"] == pytest.approx(2.0, rel=1e-12)
    assert out[0]["total_kg_co2e"] == pytest.approx(4.0, rel=1e-12)
    assert out[1]["status"] == "error" and out[1]["error"].startswith("s: line 13: amount:")
    assert out[2]["total_kg_co2e"] == pytest.approx(6.0, rel=1e-12)


def test_merge_by_first_line_over_small_blocks(tmp_path):
    import pyarrow as pa

    from cfp_engine.batch.partition import FIRST_COLUMN, merged_by_first_line

    firsts = [[1, 4, 5, 9, 20, 21, 22], [2, 3, 30], [], [6, 7, 8, 10, 11, 12, 13, 14]]
    paths = []
    for k, values in enumerate(firsts):
        table = pa.table(
            {"product_id": [f"p{v}" for v in values], FIRST_COLUMN: pa.array(values, pa.int64())}
        )
        path = tmp_path / f"part{k}.arrow"
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=2)
        paths.append(path)
    blocks = list(merged_by_first_line(paths, block_rows=3))
    ids = [v for block in blocks for v in block["product_id"].to_pylist()]
    assert ids == [f"p{v}" for v in sorted(sum(firsts, []))]
    assert len(blocks) > 1 and all(FIRST_COLUMN not in b.column_names for b in blocks)


# -- crash safety ---------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["grouped", "shuffled"])
def test_kill_and_resume_gives_the_same_bytes(tmp_path, model, builtin_table, order):
    rows = _generated(3000, seed=11)
    if order == "shuffled":
        rows = _interleaved(rows, seed=3)
    source = _write_csv(tmp_path / "cat.csv", rows)
    score_catalogue(source, tmp_path / "clean.csv", model=model, chunk_rows=40)
    out = tmp_path / "out.csv"
    work = tmp_path / "out.csv.work"
    command = [sys.executable, "-m", "cfp_engine", "batch", str(source), "-o", str(out)]
    command += ["--chunk-size", "40", "--quiet"]
    process = subprocess.Popen(command, env=dict(os.environ))
    deadline = time.monotonic() + 120
    second_chunk = work / "chunk-000001.arrow"  # chunk 0 is then in the manifest
    while not second_chunk.exists() and time.monotonic() < deadline:
        if process.poll() is not None:
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not out.exists(), "the run finished before it could be killed"
    done = len(list(work.glob("chunk-*.arrow")))
    assert 2 <= done < 256  # 256: the partitions of the shuffled file (MAX_PARTITIONS)
    mode = json.loads((work / "manifest.json").read_text(encoding="utf-8"))["mode"]
    assert mode == ("grouped" if order == "grouped" else "partitioned")
    result = CliRunner().invoke(cli, [*command[3:-1], "--resume"])
    assert result.exit_code == 0, result.output
    assert "resumed" in result.output
    assert out.read_bytes() == (tmp_path / "clean.csv").read_bytes()
    assert not work.exists()


class _Interrupt(BaseException):
    """Stands for a crash (``kill -9`` leaves the work folder as it is at that point)."""


def test_resume_after_a_crash_in_the_spill_pass(tmp_path, model, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    import cfp_engine.batch.run as batch_module

    rows = _interleaved(_generated(300, seed=13), seed=1)
    table = pa.table({name: [r[k] for r in rows] for k, name in enumerate(HEADER)})
    pq.write_table(table, tmp_path / "cat.parquet", row_group_size=50)
    source, out = tmp_path / "cat.parquet", tmp_path / "out.csv"
    score_catalogue(source, tmp_path / "clean.csv", model=model, chunk_rows=50)
    spill = batch_module.spill_partitions

    def crashing_spill(reader, work, n_partitions, *, on_rows):
        def crash(rows: int) -> None:
            if rows >= 200:
                raise _Interrupt
            on_rows(rows)

        spill(reader, work, n_partitions, on_rows=crash)

    monkeypatch.setattr(batch_module, "spill_partitions", crashing_spill)
    with pytest.raises(_Interrupt):
        score_catalogue(source, out, model=model, chunk_rows=50)
    work = tmp_path / "out.csv.work"
    manifest = json.loads((work / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["mode"] == "partitioned" and "spilled" not in manifest
    assert not list(work.glob("spill-*")) and not list(work.glob(".spill-*"))
    monkeypatch.setattr(batch_module, "spill_partitions", spill)
    summary = score_catalogue(source, out, model=model, chunk_rows=50, resume=True)
    assert summary.resumed_chunks == 0 and summary.chunks == manifest["partitions"] > 1
    assert out.read_bytes() == (tmp_path / "clean.csv").read_bytes()
    assert not work.exists()


def test_resume_after_a_crash_while_scoring_partitions(tmp_path, model, monkeypatch):
    import cfp_engine.batch.run as batch_module

    source = _write_csv(tmp_path / "cat.csv", _interleaved(_generated(300, seed=14), seed=2))
    out = tmp_path / "out.csv"
    score_catalogue(source, tmp_path / "clean.csv", model=model, chunk_rows=60)
    read = batch_module.read_partition
    calls = []

    def crashing_read(path):
        calls.append(path)
        if len(calls) == 6:
            raise _Interrupt
        return read(path)

    monkeypatch.setattr(batch_module, "read_partition", crashing_read)
    with pytest.raises(_Interrupt):
        score_catalogue(source, out, model=model, chunk_rows=60)
    work = tmp_path / "out.csv.work"
    finished = sorted(work.glob("chunk-*.arrow"))
    # five partitions were read; those still in flight (two, inline) are lost
    assert 1 <= len(finished) <= 5 and not out.exists()
    monkeypatch.setattr(batch_module, "read_partition", read)
    summary = score_catalogue(source, out, model=model, chunk_rows=60, resume=True)
    assert summary.resumed_chunks == len(finished) and summary.chunks > 5
    assert out.read_bytes() == (tmp_path / "clean.csv").read_bytes()
    assert not work.exists()


def test_resume_after_a_crash_while_merging_partitions(tmp_path, model, monkeypatch):
    import cfp_engine.batch.run as batch_module

    source = _write_csv(tmp_path / "cat.csv", _interleaved(_generated(200, seed=16), seed=3))
    out = tmp_path / "out.parquet"
    score_catalogue(source, tmp_path / "clean.parquet", model=model, chunk_rows=80)
    assemble = batch_module._assemble

    def crashing_assemble(*args, **kwargs):
        raise _Interrupt

    monkeypatch.setattr(batch_module, "_assemble", crashing_assemble)
    with pytest.raises(_Interrupt):
        score_catalogue(source, out, model=model, chunk_rows=80)
    work = tmp_path / "out.parquet.work"
    assert not list(work.glob("spill-*"))  # freed once every partition was scored
    monkeypatch.setattr(batch_module, "_assemble", assemble)
    summary = score_catalogue(source, out, model=model, chunk_rows=80, resume=True)
    assert summary.resumed_chunks == summary.chunks > 1
    assert out.read_bytes() == (tmp_path / "clean.parquet").read_bytes()


def test_resume_refuses_a_changed_input(tmp_path, model):
    source = _write_csv(tmp_path / "cat.csv", _rows(PRODUCTS))
    work = tmp_path / "w"
    score_catalogue(source, tmp_path / "o.csv", model=model, work_dir=work)
    work.mkdir()
    (work / "manifest.json").write_text(
        json.dumps(
            {"version": MANIFEST_VERSION, "input": {"size": 1}, "options": {}, "chunks": {}}
        ),
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match="another input or other options"):
        score_catalogue(source, tmp_path / "o2.csv", model=model, work_dir=work, resume=True)
    assert not (tmp_path / "o2.csv").exists()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"chunk_rows": 0}, "^chunk_rows: must be at least 1, not 0$"),
        ({"workers": -2}, "^workers: must be at least 1, not -2$"),
    ],
)
def test_the_library_names_its_parameters_not_flags(tmp_path, model, option, message):
    source = _write_csv(tmp_path / "cat.csv", _rows(PRODUCTS))
    with pytest.raises(SpecError, match=message):
        score_catalogue(source, tmp_path / "o.csv", model=model, **option)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cat.csv"]


def test_cli_names_the_flag_of_a_library_error(tmp_path, builtin_table):
    source = _write_csv(tmp_path / "cat.csv", _rows(PRODUCTS))
    work = tmp_path / "w"
    work.mkdir()
    manifest = {"version": MANIFEST_VERSION, "input": {"size": 1}, "options": {}, "chunks": {}}
    (work / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    out = tmp_path / "o.csv"
    args = ["batch", str(source), "-o", str(out), "--work-dir", str(work), "--resume"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: --resume: {work}: the interrupted run was made")
    assert not out.exists()


# -- Dask -------------------------------------------------------------------------------------


def test_dask_local_cluster_gives_the_same_output(tmp_path, model, big_catalogue):
    distributed = pytest.importorskip("dask.distributed")
    shuffled = _write_csv(tmp_path / "shuffled.csv", _interleaved(_generated(400), seed=4))
    sources = {"grouped": big_catalogue, "shuffled": shuffled}
    for name, source in sources.items():
        score_catalogue(source, tmp_path / f"local-{name}.parquet", model=model, chunk_rows=300)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        for name, source in sources.items():
            score_catalogue(
                source,
                tmp_path / f"dask-{name}.parquet",
                model=model,
                chunk_rows=300,
                dask=cluster.scheduler_address,
            )
    for name in sources:
        local = (tmp_path / f"local-{name}.parquet").read_bytes()
        assert (tmp_path / f"dask-{name}.parquet").read_bytes() == local, name


# -- command line -----------------------------------------------------------------------------


def test_cli_batch_writes_the_scores(tmp_path, builtin_table):
    source = _write_csv(tmp_path / "cat.csv", _rows(PRODUCTS))
    result = CliRunner().invoke(cli, ["batch", str(source), "-o", str(tmp_path / "out.parquet")])
    assert result.exit_code == 0, result.output
    assert "Scored 4 products (0 with errors)" in result.output
    assert len(_read(tmp_path / "out.parquet")) == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("product_id,stage,ref,amount,unit\np,use,x,1,kWh\n", "line 1: missing column(s) item"),
        (
            ",".join(HEADER) + "\np,use,,x,1,kWh,\np,use,,x,1,kWh,,extra\n",
            "line 3: malformed CSV: expected 7 fields, got 8",
        ),
    ],
)
def test_cli_unusable_catalogue_exit_2_and_no_output(tmp_path, builtin_table, text, message):
    source = tmp_path / "cat.csv"
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(cli, ["batch", str(source), "-o", str(out)])
    assert result.exit_code == 2
    assert result.output.startswith("Error: ")
    assert message in result.output
    assert not out.exists()
    assert not (tmp_path / "out.csv.work").exists()


@pytest.mark.parametrize(
    ("name", "output", "message"),
    [
        ("missing.csv", "out.csv", "no such catalogue file"),
        ("cat.csv", "out.xlsx", "the output is a .csv or .parquet file"),
        ("cat.txt", "out.csv", "a catalogue is a .csv or .parquet file"),
    ],
)
def test_cli_bad_paths_exit_2(tmp_path, builtin_table, name, output, message):
    for present in ("cat.csv", "cat.txt"):
        _write_csv(tmp_path / present, _rows(PRODUCTS))
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / name), "-o", str(tmp_path / output)])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / output).exists()


def test_parquet_missing_columns_is_an_error(tmp_path, model):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"product_id": ["a"]}), tmp_path / "cat.parquet")
    with pytest.raises(SpecError, match=r"cat.parquet: schema: missing column\(s\) stage"):
        score_catalogue(tmp_path / "cat.parquet", tmp_path / "o.csv", model=model)
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(SpecError, match="not a readable Parquet file"):
        score_catalogue(tmp_path / "bad.parquet", tmp_path / "o.csv", model=model)
    assert not (tmp_path / "o.csv").exists()


# -- the vectorised scoring without Brightway, and the streaming machinery -------------------


def _hand_model():
    """Two activities (per kg: 2 and 0.5 kg CO2e) and one material (a=3, b=-1, c=0.25)."""
    from cfp_engine.batch.model import N_INDICATORS, ScoringModel
    from cfp_engine.store.references import ReferenceIndex

    scores = np.zeros((N_INDICATORS, 2))
    scores[0] = [2.0, 0.5]
    material = np.zeros((1, N_INDICATORS))
    return ScoringModel(
        method="hand",
        approach="cut-off",
        references=ReferenceIndex([("hand", "heat", "GLO"), ("hand", "steam", "GLO")]),
        activity_units=["kilogram", "kilogram"],
        activity_scores=scores,
        material_index={"tin": 0},
        raw_base=material + 3.0,
        raw_slope=material - 1.0,
        end_of_life=material + 0.25,
        _factors={("kg", "kilogram"): 1.0, ("g", "kilogram"): 0.001},
    )


def test_hand_computed_scores_without_brightway(tmp_path):
    rows = [
        ["p", "raw_materials", "c", "tin", "2", "kg", "25%"],
        ["p", "production", "", "heat", "500", "g", ""],
        ["p", "use", "", "Steam", " 4e0 ", "kg", ""],
        ["q", "production", "", "steam", "1.", "kg", ""],
    ]
    source = _write_csv(tmp_path / "cat.csv", rows)
    score_catalogue(source, tmp_path / "out.csv", model=_hand_model())
    p, q = _read(tmp_path / "out.csv")
    # raw: 2 kg x (3 - 1 x 0.25) = 5.5; end of life 2 x 0.25 = 0.5; heat 0.5 x 2 = 1;
    # steam 4 x 0.5 = 2. Virgin: 2 x (3 + 0.25) + 1 + 2 = 9.5.
    assert p["status"] == "ok", p["error"]
    assert p["raw_materials_kg_co2e"] == pytest.approx(5.5, rel=1e-12)
    assert p["end_of_life_kg_co2e"] == pytest.approx(0.5, rel=1e-12)
    assert p["production_kg_co2e"] == pytest.approx(1.0, rel=1e-12)
    assert p["use_kg_co2e"] == pytest.approx(2.0, rel=1e-12)
    assert p["total_kg_co2e"] == pytest.approx(9.0, rel=1e-12)
    assert p["virgin_baseline_kg_co2e"] == pytest.approx(9.5, rel=1e-12)
    assert p["recycled_content_share"] == pytest.approx(0.25, rel=1e-12)
    assert p["reduction_vs_virgin"] == pytest.approx(1 - 9.0 / 9.5, rel=1e-12)
    assert q["total_kg_co2e"] == pytest.approx(0.5, rel=1e-12)


@pytest.mark.parametrize(
    ("amount", "message"),
    [("nan", "'nan' is not a number"), ("inf", "'inf' is not a number"), ("1e", "not a number")],
)
def test_amounts_arrow_would_parse_but_are_not_numbers(tmp_path, amount, message):
    rows = [
        ["p", "production", "", "heat", "1", "kg", ""],
        ["q", "use", "", "heat", amount, "kg", ""],
    ]
    source = _write_csv(tmp_path / "cat.csv", rows)
    score_catalogue(source, tmp_path / "out.csv", model=_hand_model())
    p, q = _read(tmp_path / "out.csv")
    assert p["total_kg_co2e"] == pytest.approx(2.0, rel=1e-12)
    assert q["status"] == "error" and message in q["error"]


def test_model_pickles_with_its_unit_factors():
    import pickle

    model = pickle.loads(pickle.dumps(_hand_model()))
    assert model.conversion_factor("g", "kilogram") == 0.001
    assert model._factors[("kg", "kilogram")] == 1.0


def test_hash_of_an_id_does_not_depend_on_the_others():
    import pyarrow as pa

    from cfp_engine.batch.reader import hash_strings

    values = ["", "a", "a\x00", "P00000001", "P00000002", "x" * 8, "x" * 9, "x" * 40, "é"]
    hashes = hash_strings(pa.array(values))
    assert len(set(hashes.tolist())) == len(values)
    for start in range(len(values)):
        for length in range(1, len(values) - start + 1):
            part = hash_strings(pa.array(values).slice(start, length))
            assert part.tolist() == hashes[start : start + length].tolist()


def test_prefetch_holds_at_most_two_items_and_passes_errors_on():
    from cfp_engine.batch.reader import _Prefetched

    made = []

    def items():
        for k in range(6):
            made.append(k)
            yield k
        raise SpecError("bad input")

    prefetched = _Prefetched(items())
    seen = []
    with pytest.raises(SpecError, match="bad input"):
        for item in prefetched:
            time.sleep(0.02)  # the producer has time to run ahead if it can
            assert len(made) <= item + 2  # this item and the one being prepared
            seen.append(item)
    prefetched.close()
    assert seen == list(range(6))


def test_a_malformed_line_deep_in_the_file_is_reported(tmp_path, model):
    rows = _generated(3000, seed=5) * 12  # > 2 MB: beyond the first blocks the reader reads
    rows = [[f"P{k}", *row[1:]] for k, row in enumerate(rows)]
    text = "\n".join(",".join(f'"{v}"' for v in r) for r in rows)
    source = tmp_path / "cat.csv"
    source.write_text(",".join(HEADER) + "\n" + text + '\n"x","use"\n', encoding="utf-8")
    assert source.stat().st_size > 2 << 20
    out = tmp_path / "out.parquet"
    with pytest.raises(SpecError, match=rf"line {len(rows) + 2}: malformed CSV"):
        score_catalogue(source, out, model=model, chunk_rows=10_000)
    assert not out.exists()
    assert not (tmp_path / "out.parquet.work").exists()
