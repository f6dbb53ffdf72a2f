"""Read a built project back through Brightway: full LCAs, Monte Carlo matrices, details.

Calculations only read the cached score table and import no Brightway. These are the
reads that go back to the project: a full bw2calc LCA of a demand (``cfp calc
--check-brightway``), the matrices with their distributions for Monte Carlo sampling
(cached beside the score table), and one activity's pedigree and exchanges (``cfp data
show``).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from cfp_engine.errors import CalculationError
from cfp_engine.spec.methods import INDICATORS
from cfp_engine.store.build_cache import scores_dir
from cfp_engine.store.scores import ActivityInfo, ScoreTable
from cfp_engine.store.session import open_brightway

logger = logging.getLogger("cfp_engine")


def lca_scores(table: ScoreTable, demand: dict[int, float], method: str) -> dict[str, float]:
    """Score ``demand`` (activity index -> amount) with a full bw2calc LCA per indicator.

    The engine normally uses the cached per-activity scores; this runs Brightway's own
    ``LCA.lci()``/``lcia()`` on the same project, for cross-checks and audits.
    """
    from cfp_engine.spec.methods import resolve_method

    spec = resolve_method(method)
    with open_brightway() as bd:
        import bw2calc as bc

        bd.projects.set_current(table.manifest["project"])
        nodes = {}
        for index, amount in demand.items():
            info = table.activities[index]
            node = bd.get_node(database=info.database, code=info.code)
            nodes[node.id] = nodes.get(node.id, 0.0) + amount
        results = {}
        for indicator in INDICATORS:
            lca = bc.LCA(nodes, method=spec.brightway_name(indicator))
            lca.lci()
            lca.lcia()
            results[indicator] = float(lca.score)
    return results


def load_background(table: ScoreTable, method: str):
    """The project's matrices with their distributions, for Monte Carlo sampling.

    Read once through bw2calc (``LCA(..., use_distributions=True)``: the technosphere,
    biosphere and characterisation matrices with the stats_arrays arrays bw2data
    stored) and cached as ``background-<method>.npz`` beside the score table, so a
    later ``--mc`` run imports no Brightway. Characterisation factors are taken as
    certain (GWP values carry no distribution in the method files).

    Returns
    -------
    cfp_engine.store.sampled_scores.BackgroundSystem
    """
    import numpy as np

    from cfp_engine.spec.methods import resolve_method
    from cfp_engine.store.sampled_scores import BackgroundSystem

    spec = resolve_method(method)
    digest = hashlib.sha256(spec.name.encode()).hexdigest()[:12]
    # v2: float64 characterisation factors (older caches held float32 ones).
    cache = scores_dir(table.manifest["project"]) / f"background-v2-{digest}.npz"
    if cache.is_file():
        try:
            return BackgroundSystem.load(cache)
        except (OSError, ValueError, KeyError):
            pass
    with open_brightway() as bd:
        import bw2calc as bc

        bd.projects.set_current(table.manifest["project"])
        node_ids = _node_ids(bd, table)
        # The demand names every scored activity, as the score table's solve does: bw2calc
        # loads only the databases a demand reaches, and the first activity alone (a
        # built-in one) misses the imported and --inventory databases.
        demand = dict.fromkeys(node_ids, 1.0)
        # Two reads: with distributions the data vectors already hold a random draw,
        # so the deterministic amounts come from a plain LCA (same packages, same order).
        lca = bc.LCA(demand, method=spec.brightway_name("total"), use_distributions=True)
        lca.load_lci_data()
        lca.load_lcia_data()
        plain = bc.LCA(demand, method=spec.brightway_name("total"))
        plain.load_lci_data()
        tech, bio = lca.technosphere_mm, lca.biosphere_mm
        tech_rc, bio_rc = tech.input_row_col_indices(), bio.input_row_col_indices()
        if not (
            np.array_equal(tech_rc, plain.technosphere_mm.input_row_col_indices())
            and np.array_equal(bio_rc, plain.biosphere_mm.input_row_col_indices())
        ):
            raise CalculationError("bw2calc returned the matrices in different orders")
        # The factors as the method stores them (float64), as the score table's solve reads
        # them: bw2calc's characterisation matrix holds them as float32 (29.8 becomes
        # 29.799999), which moved the Monte Carlo figures ~1e-9 off the deterministic ones.
        characterization = np.zeros(lca.biosphere_matrix.shape[0])
        for row in bd.Method(spec.brightway_name("total")).load():
            flow, factor = row[0], row[1]
            flow_id = flow if isinstance(flow, int) else bd.get_id(flow)
            if flow_id in lca.dicts.biosphere:
                characterization[lca.dicts.biosphere[flow_id]] += factor
        rows = [lca.dicts.product[node_id] for node_id in node_ids]
        system = BackgroundSystem(
            size=int(lca.technosphere_matrix.shape[0]),
            tech_rows=tech_rc["row"].astype(np.int64),
            tech_cols=tech_rc["col"].astype(np.int64),
            tech_amounts=np.asarray(plain.technosphere_mm.input_data_vector(), dtype=np.float64),
            tech_params=tech.input_uncertainties(),
            tech_flip=tech.input_flip_vector(),
            bio_rows=bio_rc["row"].astype(np.int64),
            bio_cols=bio_rc["col"].astype(np.int64),
            bio_amounts=np.asarray(plain.biosphere_mm.input_data_vector(), dtype=np.float64),
            bio_params=bio.input_uncertainties(),
            bio_flip=bio.input_flip_vector(),
            characterization=characterization,
            activity_rows=np.asarray(rows, dtype=np.int64),
        )
    try:
        system.save(cache)
    except OSError:
        logger.debug("could not cache the background arrays in %s", cache)
    return system


def _node_ids(bd, table: ScoreTable) -> list[int]:
    """Brightway node ids of the score table's activities, in table order (one query)."""
    from bw2data.backends import ActivityDataset

    databases = table.databases
    query = ActivityDataset.select(
        ActivityDataset.id, ActivityDataset.database, ActivityDataset.code
    ).where(ActivityDataset.database.in_(databases))
    ids = {(row.database, row.code): row.id for row in query}
    missing = [a.reference for a in table.activities if (a.database, a.code) not in ids]
    if missing:
        raise CalculationError(
            f"project {table.manifest['project']}: {len(missing)} scored activities are "
            f"missing from Brightway (first: {missing[0]}); run 'cfp data build'"
        )
    return [ids[(a.database, a.code)] for a in table.activities]


def activity_details(table: ScoreTable, info: ActivityInfo) -> dict[str, Any]:
    """Pedigree, comment and exchanges of one activity, read from its Brightway project."""
    with open_brightway() as bd:
        bd.projects.set_current(table.manifest["project"])
        node = bd.get_node(database=info.database, code=info.code)
        exchanges = []
        for edge in node.exchanges():
            other = edge.input
            where = other.get("location") or "::".join(other.get("categories") or ())
            exchanges.append(
                {
                    "type": edge["type"],
                    "name": other["name"],
                    "where": where,
                    "database": other["database"],
                    "amount": float(edge["amount"]),
                    "unit": other.get("unit", ""),
                }
            )
        meta = node.get("cfp") or {}
        return {
            "pedigree": meta.get("pedigree", {}),
            "comment": node.get("comment", ""),
            "exchanges": exchanges,
        }
