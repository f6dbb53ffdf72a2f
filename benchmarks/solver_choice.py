#!/usr/bin/env python3
"""Benchmark sparse solvers for the engine's one-off adjoint solve.

The engine computes per-activity scores ``x`` once per data set and method by solving

    A^T x = B^T c

(``A`` technosphere, ``B`` biosphere, ``c`` characterisation factors) and then scores
products by dot products with ``x``. This script generates a seeded, ecoinvent-sized
synthetic system with numpy/scipy only and times the candidate solvers on that solve:

* SciPy SuperLU (``splu``) on ``A^T`` in CSC, and on ``A`` (the wrong orientation);
* SciPy ``spsolve`` with default settings, given ``A^T`` as CSC and as CSR;
* pypardiso (``PyPardisoSolver`` and ``pypardiso.spsolve``), if importable;
* scikit-umfpack, if importable;
* bw2calc's own path (``LCA(...).lci(); lcia()`` and ``FastScoresOnlyMultiLCA``) on a
  bw_processing datapackage built from the same matrices, once with SuperLU and once
  with PARDISO when pypardiso is installed;
* one additional right-hand side after factorisation (reuse of the factors).

Every case runs in a fresh worker process (the script re-invokes itself with a hidden
``--worker`` option), so that import costs, solver back-ends chosen at import time by
bw2calc, and a cap on slow cases (the process is killed) are all handled cleanly.

Usage::

    python benchmarks/solver_choice.py --size small   # ~2,000 activities, a few seconds
    python benchmarks/solver_choice.py --size full    # ~21,000 activities, a few minutes
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.metadata
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

#: System sizes: activities, technosphere entries (incl. diagonal), biosphere flows,
#: biosphere entries, characterisation factors. "full" matches the perf README anchors.
SIZES = {
    "full": dict(n_activities=21_000, n_tech=297_630, n_flows=2_000, n_bio=505_288, n_cf=200),
    "small": dict(n_activities=2_000, n_tech=28_346, n_flows=2_000, n_bio=48_123, n_cf=200),
}
#: Integer ids used in the bw_processing datapackage (rows/cols of the matrices).
ACTIVITY_ID_OFFSET = 1_000_000
FLOW_ID_OFFSET = 5_000_000
METHOD = ("cfp-benchmark", "GWP100")
#: Agreement tolerances: float64 solvers, and bw2calc (bw_processing stores float32).
TOL_FLOAT64 = 1e-8
TOL_BW2CALC = 1e-6
#: Figures quoted from /work/shared/reference/perf/README.md (not measured here).
README_VENV_NOTE = (
    "perf README: `pip install pypardiso` grows a venv from ~0.63 GB to ~1.6 GB (MKL, ~+1 GB) "
    "and adds ~0.15 s start-up even to a tiny solve; scikit-umfpack has no wheel (needs swig "
    "+ SuiteSparse headers to build)."
)


# --------------------------------------------------------------------------------------
# Synthetic system
# --------------------------------------------------------------------------------------


@dataclass
class System:
    """A synthetic LCA system: technosphere ``A`` (CSC), biosphere ``B`` (CSC, flows x
    activities), and two characterisation vectors ``c1`` (the method benchmarked) and
    ``c2`` (a second method, used as the additional right-hand side)."""

    A: sp.csc_matrix
    B: sp.csc_matrix
    c1: np.ndarray
    c2: np.ndarray
    max_input_column_sum: float

    def save(self, path: Path) -> None:
        """Write the system to one ``.npz`` file."""
        np.savez(
            path,
            A_data=self.A.data,
            A_indices=self.A.indices,
            A_indptr=self.A.indptr,
            A_shape=np.array(self.A.shape),
            B_data=self.B.data,
            B_indices=self.B.indices,
            B_indptr=self.B.indptr,
            B_shape=np.array(self.B.shape),
            c1=self.c1,
            c2=self.c2,
            max_input_column_sum=self.max_input_column_sum,
        )

    @classmethod
    def load(cls, path: Path) -> System:
        """Read a system written by :meth:`save`."""
        with np.load(path) as f:
            A = sp.csc_matrix(
                (f["A_data"], f["A_indices"], f["A_indptr"]), shape=tuple(f["A_shape"])
            )
            B = sp.csc_matrix(
                (f["B_data"], f["B_indices"], f["B_indptr"]), shape=tuple(f["B_shape"])
            )
            return cls(A, B, f["c1"].copy(), f["c2"].copy(), float(f["max_input_column_sum"]))

    def rhs(self, which: int = 1) -> np.ndarray:
        """Right-hand side ``B^T c`` for method 1 or 2 (float64)."""
        c = self.c1 if which == 1 else self.c2
        return np.asarray(self.B.T @ c, dtype=np.float64)

    def rounded_to_float32(self) -> System:
        """The same system with every stored value rounded to float32, as bw_processing
        stores it; used to show that bw2calc's differences are storage precision only."""

        def r(m):
            m = m.copy()
            m.data = m.data.astype(np.float32).astype(np.float64)
            return m

        return System(
            r(self.A),
            r(self.B),
            self.c1.astype(np.float32).astype(np.float64),
            self.c2.astype(np.float32).astype(np.float64),
            self.max_input_column_sum,
        )


def _dedupe_to_target(rows, cols, n_rows, n_fixed, target, rng):
    """Remove duplicate (row, col) pairs, keeping the first occurrence, then drop random
    optional pairs (index >= ``n_fixed`` in the input) until at most ``target`` remain.

    Returns sorted-by-column ``rows, cols``."""
    keys = cols.astype(np.int64) * n_rows + rows.astype(np.int64)
    unique_keys, first = np.unique(keys, return_index=True)
    optional = first >= n_fixed
    surplus = unique_keys.size - target
    if surplus > 0:
        drop = rng.choice(
            np.flatnonzero(optional), size=min(surplus, int(optional.sum())), replace=False
        )
        unique_keys = np.delete(unique_keys, drop)
    cols_out, rows_out = np.divmod(unique_keys, n_rows)
    return rows_out, cols_out


def generate_technosphere(n_activities: int, n_entries: int, rng: np.random.Generator):
    """Generate a market/producer technosphere matrix ``A = I - T`` in CSC.

    * 20 % of activities are markets, 80 % producers. Every producer supplies one market
      (popular markets get many suppliers, like electricity or transport markets); every
      market also takes 1-3 inputs from other markets (transport, losses).
    * Producers take inputs from markets; the number of inputs is lognormal (median ~8,
      heavy tail: a few activities have several hundred inputs) and the markets are
      chosen with Zipf popularity, so a few rows have thousands of entries.
    * Input amounts are lognormal, rescaled so each column's inputs sum to 0.85-0.98
      (markets) or 0.2-0.8 (producers). Every column sum of ``|T|`` is then < 1, so
      ``A`` is a non-singular M-matrix with ``cond_1(A) <= (1 + s) / (1 - s)``.

    Returns ``(A, max_input_column_sum)``.
    """
    n = n_activities
    n_markets = int(round(0.2 * n))
    order = rng.permutation(n)
    markets, producers = np.sort(order[:n_markets]), np.sort(order[n_markets:])
    is_market = np.zeros(n, dtype=bool)
    is_market[markets] = True
    # Markets ranked by popularity (rank 0 is the most used).
    ranked_markets = rng.permutation(markets)
    ranks = np.arange(1, n_markets + 1, dtype=np.float64)
    input_popularity = ranks**-1.0
    input_popularity /= input_popularity.sum()
    supplier_popularity = ranks**-0.8
    supplier_popularity /= supplier_popularity.sum()

    # Mandatory: producer -> its market, and market -> market (transport etc.).
    sup_rows = producers
    sup_cols = ranked_markets[rng.choice(n_markets, size=producers.size, p=supplier_popularity)]
    k_mm = rng.integers(1, 4, size=n_markets)
    mm_rows = ranked_markets[rng.choice(n_markets, size=int(k_mm.sum()), p=input_popularity)]
    mm_cols = np.repeat(markets, k_mm)
    fixed_rows = np.concatenate([sup_rows, mm_rows])
    fixed_cols = np.concatenate([sup_cols, mm_cols])
    keep = fixed_rows != fixed_cols
    fixed_rows, fixed_cols = fixed_rows[keep], fixed_cols[keep]

    # Optional: producer inputs from markets, oversampled then trimmed to the target
    # (more oversampling if duplicates of popular markets leave too few).
    target_off = n_entries - n
    weights = rng.lognormal(np.log(8.0), 0.9, size=producers.size)
    for oversample in (1.35, 1.6, 2.0, 2.5, 3.0):
        budget = max(target_off - fixed_rows.size, 0) * oversample
        counts = np.clip(np.round(weights * budget / weights.sum()), 1, n_markets).astype(np.int64)
        in_rows = ranked_markets[rng.choice(n_markets, size=int(counts.sum()), p=input_popularity)]
        in_cols = np.repeat(producers, counts)
        keep = in_rows != in_cols
        rows = np.concatenate([fixed_rows, in_rows[keep]])
        cols = np.concatenate([fixed_cols, in_cols[keep]])
        rows, cols = _dedupe_to_target(rows, cols, n, fixed_rows.size, target_off, rng)
        if rows.size >= target_off:
            break

    amounts = rng.lognormal(0.0, 1.5, size=rows.size)
    column_totals = np.bincount(cols, weights=amounts, minlength=n)
    wanted = np.where(is_market, rng.uniform(0.85, 0.98, n), rng.uniform(0.2, 0.8, n))
    amounts *= wanted[cols] / column_totals[cols]
    input_sums = np.bincount(cols, weights=amounts, minlength=n)

    diag = np.arange(n)
    A = sp.csc_matrix(
        (
            np.concatenate([-amounts, np.ones(n)]),
            (np.concatenate([rows, diag]), np.concatenate([cols, diag])),
        ),
        shape=(n, n),
    )
    A.sum_duplicates()
    A.sort_indices()
    return A, float(input_sums.max())


def generate_biosphere(n_activities: int, n_flows: int, n_entries: int, rng: np.random.Generator):
    """Generate a biosphere matrix ``B`` (flows x activities, CSC) with Zipf-popular flows
    (flow 0 is like fossil CO2 and appears almost everywhere) and positive lognormal
    amounts spanning many orders of magnitude."""
    ranks = np.arange(1, n_flows + 1, dtype=np.float64)
    popularity = ranks**-1.1
    popularity /= popularity.sum()
    weights = rng.lognormal(0.0, 0.7, size=n_activities)
    # Popular flows are drawn repeatedly for one activity; oversample more until the
    # de-duplicated count reaches the target.
    for oversample in (1.3, 1.6, 2.0, 2.5, 3.0):
        counts = np.clip(np.round(weights * oversample * n_entries / weights.sum()), 1, n_flows)
        cols = np.repeat(np.arange(n_activities), counts.astype(np.int64))
        rows = rng.choice(n_flows, size=cols.size, p=popularity)
        # Every activity emits flow 0 (CO2-like): mandatory entries first.
        rows = np.concatenate([np.zeros(n_activities, dtype=np.int64), rows])
        cols = np.concatenate([np.arange(n_activities), cols])
        rows, cols = _dedupe_to_target(rows, cols, n_flows, n_activities, n_entries, rng)
        if rows.size >= n_entries:
            break
    amounts = rng.lognormal(np.log(1e-4), 2.5, size=rows.size)
    B = sp.csc_matrix((amounts, (rows, cols)), shape=(n_flows, n_activities))
    B.sort_indices()
    return B


def generate_factors(
    n_flows: int, n_cf: int, rng: np.random.Generator, gwp_like: bool
) -> np.ndarray:
    """Characterisation factors: ``n_cf`` non-zero positive values. The GWP-like method has
    CO2 = 1, CH4 = 29.7, N2O = 273 on the three most popular flows, plus lognormal
    factors on random rarer flows (halocarbons); the other method picks random flows."""
    c = np.zeros(n_flows)
    if gwp_like:
        c[:3] = [1.0, 29.7, 273.0]
        rest = rng.choice(np.arange(3, n_flows), size=n_cf - 3, replace=False)
        c[rest] = rng.lognormal(np.log(500.0), 2.0, size=rest.size)
    else:
        chosen = rng.choice(n_flows, size=n_cf, replace=False)
        c[chosen] = rng.lognormal(0.0, 2.0, size=n_cf)
    return c


def generate_system(size: str, seed: int) -> System:
    """Generate the seeded synthetic system for ``size`` ("small" or "full")."""
    spec = SIZES[size]
    rng = np.random.default_rng(seed)
    A, max_colsum = generate_technosphere(spec["n_activities"], spec["n_tech"], rng)
    B = generate_biosphere(spec["n_activities"], spec["n_flows"], spec["n_bio"], rng)
    c1 = generate_factors(spec["n_flows"], spec["n_cf"], rng, gwp_like=True)
    c2 = generate_factors(spec["n_flows"], spec["n_cf"], rng, gwp_like=False)
    if not max_colsum < 1.0:
        raise ValueError(f"Input column sums must be < 1, got {max_colsum}")
    return System(A, B, c1, c2, max_colsum)


# --------------------------------------------------------------------------------------
# Worker side: one case per process
# --------------------------------------------------------------------------------------


class Repeater:
    """Run a timed repetition several times and record phase timings.

    Writes the wall-clock start of each repetition to ``marker`` so that the parent can
    kill the process when one repetition exceeds the cap; stops repeating early once the
    repetitions so far have taken longer than ``cap`` in total."""

    def __init__(self, repeats: int, marker: Path, cap: float):
        self.repeats, self.marker, self.cap = repeats, marker, cap

    def run(self, label: str, func):
        """Call ``func()`` (returning ``(solution, {phase: seconds})``) up to ``repeats``
        times. Returns ``(last solution, {phase: [seconds per repetition]})``."""
        phases: dict[str, list[float]] = {}
        solution, spent = None, 0.0
        for _ in range(self.repeats):
            gc.collect()
            self.marker.write_text(f"{time.time()} {label}")
            start = time.perf_counter()
            try:
                solution, times = func()
            finally:
                self.marker.write_text("idle")
            total = time.perf_counter() - start
            times.setdefault("total", total)
            for key, value in times.items():
                phases.setdefault(key, []).append(value)
            spent += total
            if spent > self.cap:
                break
        return solution, phases


def _tocsc_AT(A):
    """``A^T`` as CSC (the fast orientation for LU of technosphere matrices)."""
    return A.T.tocsc()


def case_splu_AT(system: System, rep: Repeater) -> dict:
    """SuperLU factorising ``A^T`` (CSC); solve, then one extra right-hand side."""
    from scipy.sparse.linalg import splu

    b1, b2 = system.rhs(1), system.rhs(2)
    state = {}

    def once():
        t0 = time.perf_counter()
        M = _tocsc_AT(system.A)
        t1 = time.perf_counter()
        lu = splu(M)
        t2 = time.perf_counter()
        x = lu.solve(b1)
        t3 = time.perf_counter()
        state["lu"] = lu
        return x, {"prep": t1 - t0, "factorise": t2 - t1, "solve": t3 - t2}

    x, phases = rep.run("splu A^T", once)
    lu = state["lu"]
    _, extra = rep.run("extra rhs", lambda: (lu.solve(b2), {}))
    fill = lu.L.nnz + lu.U.nnz
    x2 = lu.solve(b2)
    # Reference on float32-rounded data, to judge bw2calc (not timed).
    r = system.rounded_to_float32()
    x32 = splu(_tocsc_AT(r.A)).solve(r.rhs(1))
    return {
        "phases": phases,
        "extra_rhs": extra["total"],
        "solutions": {"x": x, "x2": x2, "x32": x32},
        "notes": [f"LU fill nnz(L+U) = {fill:,}"],
    }


def case_splu_A(system: System, rep: Repeater) -> dict:
    """SuperLU factorising ``A`` (CSC, wrong orientation), solving with ``trans='T'``."""
    from scipy.sparse.linalg import splu

    b1, b2 = system.rhs(1), system.rhs(2)
    state = {}

    def once():
        t0 = time.perf_counter()
        M = system.A.tocsc()
        t1 = time.perf_counter()
        lu = splu(M)
        t2 = time.perf_counter()
        x = lu.solve(b1, trans="T")
        t3 = time.perf_counter()
        state["lu"] = lu
        return x, {"prep": t1 - t0, "factorise": t2 - t1, "solve": t3 - t2}

    x, phases = rep.run("splu A", once)
    lu = state["lu"]
    _, extra = rep.run("extra rhs", lambda: (lu.solve(b2, trans="T"), {}))
    return {
        "phases": phases,
        "extra_rhs": extra["total"],
        "solutions": {"x": x},
        "notes": [f"LU fill nnz(L+U) = {lu.L.nnz + lu.U.nnz:,}"],
    }


def _importable(module: str) -> bool:
    """Whether ``module`` (possibly dotted) can be found, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _spsolve_backend() -> str:
    """Which back-end ``scipy.sparse.linalg.spsolve`` uses by default here."""
    return "UMFPACK" if _importable("scikits.umfpack") else "SuperLU"


def case_spsolve_csc(system: System, rep: Repeater) -> dict:
    """``scipy.sparse.linalg.spsolve(A^T as CSC, b)`` with default settings."""
    from scipy.sparse.linalg import spsolve

    b1 = system.rhs(1)

    def once():
        t0 = time.perf_counter()
        M = _tocsc_AT(system.A)
        t1 = time.perf_counter()
        x = spsolve(M, b1)
        return x, {"prep": t1 - t0, "solve": time.perf_counter() - t1}

    x, phases = rep.run("spsolve csc", once)
    return {
        "phases": phases,
        "extra_rhs": None,
        "solutions": {"x": x},
        "notes": [
            f"spsolve back-end: {_spsolve_backend()}; no factor reuse, extra RHS = full cost"
        ],
    }


def case_spsolve_csr(system: System, rep: Repeater) -> dict:
    """``spsolve(A^T as CSR, b)``: what ``spsolve(A.T, b)`` does when ``A`` is CSC.
    SciPy then factorises the CSC form of ``A`` (slow orientation)."""
    from scipy.sparse.linalg import spsolve

    b1 = system.rhs(1)

    def once():
        t0 = time.perf_counter()
        M = system.A.T.tocsr()
        t1 = time.perf_counter()
        x = spsolve(M, b1)
        return x, {"prep": t1 - t0, "solve": time.perf_counter() - t1}

    x, phases = rep.run("spsolve csr", once)
    return {
        "phases": phases,
        "extra_rhs": None,
        "solutions": {"x": x},
        "notes": ["spsolve(A.T, b) with CSC A passes a CSR matrix: SciPy factorises A"],
    }


def case_pardiso(system: System, rep: Repeater) -> dict:
    """pypardiso: ``PyPardisoSolver.factorize`` + ``solve`` on ``A^T`` (CSR), extra RHS,
    and the one-shot ``pypardiso.spsolve``."""
    import pypardiso
    from pypardiso import PyPardisoSolver

    b1, b2 = system.rhs(1), system.rhs(2)
    state = {}

    def once():
        if "solver" in state:
            state["solver"].free_memory(everything=True)
        t0 = time.perf_counter()
        M = system.A.T.tocsr()
        solver = PyPardisoSolver()  # locates mkl_rt with ctypes.util.find_library
        t1 = time.perf_counter()
        solver.factorize(M)
        t2 = time.perf_counter()
        x = np.asarray(solver.solve(M, b1)).ravel()
        t3 = time.perf_counter()
        state.update(solver=solver, M=M)
        return x, {"prep": t1 - t0, "factorise": t2 - t1, "solve": t3 - t2}

    x, phases = rep.run("pardiso", once)
    solver, M = state["solver"], state["M"]
    _, extra = rep.run("extra rhs", lambda: (solver.solve(M, b2), {}))
    x2 = np.asarray(solver.solve(M, b2)).ravel()
    solver.free_memory(everything=True)

    def one_shot():
        pypardiso.ps.free_memory(everything=True)  # module-level solver caches by hash
        t0 = time.perf_counter()
        M2 = system.A.T.tocsr()
        t1 = time.perf_counter()
        y = np.asarray(pypardiso.spsolve(M2, b1)).ravel()
        return y, {"prep": t1 - t0, "solve": time.perf_counter() - t1}

    y, one_shot_phases = rep.run("pypardiso.spsolve", one_shot)
    return {
        "phases": phases,
        "extra_rhs": extra["total"],
        "solutions": {"x": x, "x2": x2, "x_spsolve": y},
        "sub": {"pypardiso.spsolve(A^T CSR), one-shot": one_shot_phases},
        "notes": [
            "prep includes PyPardisoSolver() construction, which runs ctypes.util.find_library "
            "(spawns a subprocess); pypardiso.spsolve reuses a module-level solver"
        ],
        "threadpools": _threadpool_info(),
    }


def case_umfpack(system: System, rep: Repeater) -> dict:
    """scikit-umfpack: ``scikits.umfpack.splu`` on ``A^T`` (CSC), extra RHS."""
    import scikits.umfpack as umfpack

    b1, b2 = system.rhs(1), system.rhs(2)
    state = {}

    def once():
        t0 = time.perf_counter()
        M = _tocsc_AT(system.A)
        M.indices, M.indptr = M.indices.astype(np.int64), M.indptr.astype(np.int64)
        t1 = time.perf_counter()
        lu = umfpack.splu(M)
        t2 = time.perf_counter()
        x = lu.solve(b1)
        t3 = time.perf_counter()
        state["lu"] = lu
        return x, {"prep": t1 - t0, "factorise": t2 - t1, "solve": t3 - t2}

    x, phases = rep.run("umfpack", once)
    lu = state["lu"]
    _, extra = rep.run("extra rhs", lambda: (lu.solve(b2), {}))
    return {
        "phases": phases,
        "extra_rhs": extra["total"],
        "solutions": {"x": x, "x2": lu.solve(b2)},
    }


def build_datapackage(system: System, dtype=np.float32):
    """Build an in-memory bw_processing datapackage (technosphere with flip flags,
    biosphere, and the characterisation vector of method 1 labelled ``METHOD``).

    Values are stored as ``dtype``: float32 by default, as in the datapackages bw2data
    writes (``add_persistent_vector_from_iterator`` creates float32 arrays), so that the
    timings and the accuracy match what Brightway does with a real database."""
    import bw_processing as bwp

    dp = bwp.create_datapackage(sum_intra_duplicates=True)
    A = system.A.tocoo()
    idx = np.empty(A.nnz, dtype=bwp.INDICES_DTYPE)
    idx["row"], idx["col"] = ACTIVITY_ID_OFFSET + A.row, ACTIVITY_ID_OFFSET + A.col
    dp.add_persistent_vector(
        matrix="technosphere_matrix",
        name="technosphere",
        indices_array=idx,
        data_array=np.abs(A.data).astype(dtype),
        flip_array=A.data < 0,
    )
    B = system.B.tocoo()
    idx = np.empty(B.nnz, dtype=bwp.INDICES_DTYPE)
    idx["row"], idx["col"] = FLOW_ID_OFFSET + B.row, ACTIVITY_ID_OFFSET + B.col
    dp.add_persistent_vector(
        matrix="biosphere_matrix",
        name="biosphere",
        indices_array=idx,
        data_array=B.data.astype(dtype),
    )
    flows = np.flatnonzero(system.c1)
    idx = np.empty(flows.size, dtype=bwp.INDICES_DTYPE)
    idx["row"] = idx["col"] = FLOW_ID_OFFSET + flows
    dp.add_persistent_vector(
        matrix="characterization_matrix",
        name="cf",
        indices_array=idx,
        data_array=system.c1[flows].astype(dtype),
        identifier=list(METHOD),
    )
    return dp


def _case_bw2calc(system: System, rep: Repeater, block_pypardiso: bool) -> dict:
    """bw2calc's own path. ``block_pypardiso`` hides pypardiso (and scikit-umfpack) so
    that bw2calc falls back to SciPy SuperLU, as on an install without the extras."""
    import warnings

    if block_pypardiso:
        sys.modules["pypardiso"] = None  # makes `import pypardiso` raise ImportError
        sys.modules["scikits.umfpack"] = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        import bw2calc

        import_time = time.perf_counter() - t0
    backend = "PARDISO" if bw2calc.PYPARDISO else ("UMFPACK" if bw2calc.UMFPACK else "SuperLU")

    t0 = time.perf_counter()
    dp = build_datapackage(system)
    dp_time = time.perf_counter() - t0

    n = system.A.shape[0]
    rng = np.random.default_rng(7)
    products = rng.choice(n, size=2 * rep.repeats + 1, replace=False)
    scores: dict[int, float] = {}

    def cold(j=int(products[0])):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lca = bw2calc.LCA({ACTIVITY_ID_OFFSET + j: 1.0}, data_objs=[dp])
            lca.lci()
            lca.lcia()
            scores[j] = float(lca.score)
        if lca.dicts.product[ACTIVITY_ID_OFFSET + j] != j:
            raise RuntimeError("unexpected bw2calc product index")
        return None, {}

    _, phases = rep.run("bw2calc LCA", cold)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lca = bw2calc.LCA({ACTIVITY_ID_OFFSET + int(products[0]): 1.0}, data_objs=[dp])
        lca.lci(factorize=True)
        lca.lcia()
    pending = [int(p) for p in products[1:]]

    def extra_demand():
        j = pending.pop()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lca.lci(demand={ACTIVITY_ID_OFFSET + j: 1.0})
            lca.lcia()
        scores[j] = float(lca.score)
        return None, {}

    _, extra = rep.run("bw2calc extra demand", extra_demand)

    result = {
        "phases": phases,
        "extra_rhs": extra["total"],
        "backend": backend,
        "import_time": import_time,
        "datapackage_time": dp_time,
        "datapackage_dtype": str(dp.get_resource("technosphere.data")[0].dtype),
        "scores": {str(k): v for k, v in scores.items()},
        "solutions": {},
        "sub": {},
        "notes": [],
    }

    # FastScoresOnlyMultiLCA, adjoint direction: the same solve as the engine's.
    demands = {
        str(int(j)): {ACTIVITY_ID_OFFSET + int(j): 1.0}
        for j in rng.choice(n, size=1000, replace=False)
    }
    fast = {}

    def adjoint():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mlca = bw2calc.FastScoresOnlyMultiLCA(
                demands=demands,
                method_config={"impact_categories": [METHOD]},
                data_objs=[dp],
                direction="adjoint",
            )
            mlca.calculate()
        fast["mlca"] = mlca
        return None, {}

    try:
        _, fast_phases = rep.run("FastScoresOnlyMultiLCA", adjoint)
    except ValueError as exc:
        result["notes"].append(f"FastScoresOnlyMultiLCA: {exc}")
    else:
        ps = fast["mlca"].product_scores
        ids = np.asarray([int(i) for i in ps.coords["products"].values]) - ACTIVITY_ID_OFFSET
        x = np.empty(n)
        x[ids] = np.asarray(ps.values)[0]
        result["solutions"]["x_fast"] = x
        result["sub"]["FastScoresOnlyMultiLCA adjoint, 1000 demands"] = fast_phases
    if not block_pypardiso:
        result["threadpools"] = _threadpool_info()
    return result


def case_bw2calc_superlu(system: System, rep: Repeater) -> dict:
    """bw2calc with pypardiso/scikit-umfpack hidden: its SuperLU default."""
    return _case_bw2calc(system, rep, block_pypardiso=True)


def case_bw2calc_default(system: System, rep: Repeater) -> dict:
    """bw2calc as installed (PARDISO when pypardiso is importable)."""
    return _case_bw2calc(system, rep, block_pypardiso=False)


def _threadpool_info() -> list:
    """threadpoolctl's view of the loaded BLAS/OpenMP libraries, if available."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("internal_api", "version", "num_threads", "threading_layer", "filepath")
    return [{k: info.get(k) for k in keys} for info in threadpool_info()]


#: case name -> (label, worker function, module it needs or None)
CASES = {
    "splu_AT": ("SciPy splu(A.T.tocsc()) [A^T, right]", case_splu_AT, None),
    "splu_A": ("SciPy splu(A.tocsc()), trans='T' [wrong]", case_splu_A, None),
    "spsolve_csc": ("SciPy spsolve(A^T CSC) default", case_spsolve_csc, None),
    "spsolve_csr": ("SciPy spsolve(A^T CSR)=spsolve(A.T) [wrong]", case_spsolve_csr, None),
    "pardiso": ("pypardiso factorize+solve (A^T CSR)", case_pardiso, "pypardiso"),
    "umfpack": ("scikit-umfpack splu(A^T CSC)", case_umfpack, "scikits.umfpack"),
    "bw2calc_superlu": ("bw2calc LCA lci+lcia, SuperLU", case_bw2calc_superlu, "bw2calc"),
    "bw2calc_default": ("bw2calc LCA lci+lcia, as installed", case_bw2calc_default, "bw2calc"),
}


def run_worker(case: str, data: Path, out: Path, repeats: int, cap: float) -> None:
    """Worker entry point: run one case and write ``out.json`` and ``out.npz``."""
    system = System.load(data)
    rep = Repeater(repeats, out.with_suffix(".marker"), cap)
    result = CASES[case][1](system, rep)
    solutions = result.pop("solutions", {})
    np.savez(out.with_suffix(".npz"), **solutions)
    out.with_suffix(".json").write_text(json.dumps(result))


# --------------------------------------------------------------------------------------
# Parent side: orchestration, start-up costs, comparison, report
# --------------------------------------------------------------------------------------


def run_case(case: str, data: Path, workdir: Path, repeats: int, cap: float, env: dict) -> dict:
    """Run one case in a worker process, killing it if one repetition exceeds ``cap``
    seconds. Returns the worker's result plus ``status`` and ``solutions``."""
    out = workdir / case
    marker = out.with_suffix(".marker")
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        case,
        "--data",
        str(data),
        "--out",
        str(out),
        "--repeats",
        str(repeats),
        "--cap",
        str(cap),
    ]
    with open(workdir / f"{case}.log", "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        status = "ok"
        while proc.poll() is None:
            time.sleep(0.1)
            try:
                text = marker.read_text().split()
            except (FileNotFoundError, IndexError):
                continue
            if text and text[0] != "idle" and time.time() - float(text[0]) > cap:
                proc.kill()
                proc.wait()
                status = f"killed after {cap:.0f} s ({' '.join(text[1:])})"
    if status == "ok" and proc.returncode != 0:
        tail = (workdir / f"{case}.log").read_text().strip().splitlines()[-3:]
        return {"status": "failed: " + " | ".join(tail), "solutions": {}}
    if status != "ok":
        return {"status": status, "solutions": {}}
    result = json.loads(out.with_suffix(".json").read_text())
    with np.load(out.with_suffix(".npz")) as f:
        result["solutions"] = {k: f[k] for k in f.files}
    result["status"] = "ok"
    return result


def time_startup(snippet: str, repeats: int, env: dict) -> float | None:
    """Median wall time of a fresh ``python -c snippet`` process, or None if it fails."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", snippet], env=env, capture_output=True)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            return None
    return statistics.median(times)


STARTUP_SNIPPETS = {
    "python -c 'import numpy'  (baseline)": "import numpy",
    "import scipy.sparse.linalg + tiny 10x10 splu solve": (
        "import numpy as np, scipy.sparse as sp\nfrom scipy.sparse.linalg import splu\n"
        "splu((2*sp.identity(10)).tocsc()).solve(np.ones(10))"
    ),
    "import pypardiso + tiny 10x10 solve": (
        "import numpy as np, scipy.sparse as sp, pypardiso\n"
        "pypardiso.spsolve((2*sp.identity(10)).tocsr(), np.ones(10))"
    ),
    "import scikits.umfpack + tiny 10x10 solve": (
        "import numpy as np, scipy.sparse as sp, scikits.umfpack as u\n"
        "u.spsolve((2*sp.identity(10)).tocsc(), np.ones(10))"
    ),
    "import bw2calc (SuperLU: pypardiso hidden)": (
        "import sys, warnings\nsys.modules['pypardiso'] = None\n"
        "sys.modules['scikits.umfpack'] = None\nwarnings.simplefilter('ignore')\nimport bw2calc"
    ),
    "import bw2calc (as installed)": (
        "import warnings\nwarnings.simplefilter('ignore')\nimport bw2calc"
    ),
}


def measure_startup(repeats: int, env: dict) -> dict:
    """Fresh-process import (+ tiny solve) costs for each solver that is installed."""
    results = {}
    for label, snippet in STARTUP_SNIPPETS.items():
        if ("pypardiso +" in label and not _importable("pypardiso")) or (
            "umfpack +" in label and not _importable("scikits.umfpack")
        ):
            results[label] = None
            continue
        results[label] = time_startup(snippet, repeats, env)
    return results


def _dist_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _dist_size(name: str) -> int:
    """Bytes on disk of an installed distribution's files (0 if not installed)."""
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return 0
    total = 0
    for f in dist.files or []:
        with contextlib.suppress(OSError):
            total += os.path.getsize(dist.locate_file(f))
    return total


def _tree_size(root: str) -> int:
    """Bytes on disk below ``root`` (files only, symlinks not followed)."""
    total = 0
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def _load_average() -> str:
    """The 1/5/15-minute load averages, to judge timing noise on a shared machine."""
    try:
        return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def print_environment() -> None:
    """Print Python, platform, package versions, BLAS and venv size information."""
    print("== Environment")
    print(
        f"{_load_average()} at start (timings on a busy 2-core machine are noisy, PARDISO's most)"
    )
    print(
        f"python {platform.python_version()} ({sys.executable}), {platform.machine()}, "
        f"{os.cpu_count()} CPUs, {platform.platform()}"
    )
    names = [
        "numpy",
        "scipy",
        "bw2calc",
        "bw2data",
        "bw_processing",
        "matrix_utils",
        "threadpoolctl",
        "pypardiso",
        "mkl",
        "intel-openmp",
        "tbb",
        "scikit-umfpack",
    ]
    print("versions: " + ", ".join(f"{n} {_dist_version(n)}" for n in names))
    for info in _threadpool_info():
        print(
            f"threadpool (parent): {info['internal_api']} {info['version']} "
            f"threads={info['num_threads']} layer={info.get('threading_layer')}"
        )
    extra = sum(
        _dist_size(n) for n in ("pypardiso", "mkl", "intel-openmp", "tbb", "onemkl-license")
    )
    if sys.prefix != sys.base_prefix:
        print(
            f"virtual env {sys.prefix}: {_tree_size(sys.prefix) / 1e9:.2f} GB on disk, of which "
            f"pypardiso+mkl+intel-openmp+tbb {extra / 1e9:.2f} GB"
        )
    elif extra:
        print(f"pypardiso+mkl+intel-openmp+tbb on disk: {extra / 1e9:.2f} GB")
    print(README_VENV_NOTE)
    print()


def max_relative_difference(a: np.ndarray, ref: np.ndarray) -> float:
    """Largest elementwise ``|a - ref| / |ref|``; entries with ``|ref|`` below
    ``1e-12 * max|ref|`` are compared against that floor instead."""
    floor = 1e-12 * float(np.max(np.abs(ref)))
    return float(np.max(np.abs(a - ref) / np.maximum(np.abs(ref), floor)))


def _med(values) -> float | None:
    return statistics.median(values) if values else None


def _fmt(seconds: float | None, width: int = 9) -> str:
    if seconds is None:
        return "-".rjust(width)
    if seconds < 0.1:
        return f"{seconds * 1000:.2f} ms".rjust(width)
    return f"{seconds:.3f} s".rjust(width)


def print_system(system: System, size: str, seed: int, gen_time: float) -> None:
    """Print the shape and conditioning facts of the generated system."""
    A, B = system.A, system.B
    n = A.shape[0]
    s = system.max_input_column_sum
    print(f"== System ({size}, seed {seed}, generated in {gen_time:.2f} s)")
    print(
        f"technosphere: {n:,} activities, {A.nnz:,} entries (max {np.diff(A.indptr).max()} inputs "
        f"in one column, max {np.bincount(A.indices, minlength=n).max():,} entries in one row); "
        f"max input column sum {s:.3f} -> cond_1(A) <= {(1 + s) / (1 - s):.0f}"
    )
    print(
        f"biosphere: {B.shape[0]:,} flows, {B.nnz:,} entries; method: "
        f"{np.count_nonzero(system.c1)} factors (extra RHS: second method, "
        f"{np.count_nonzero(system.c2)} factors)"
    )
    print()


def run_all_cases(system: System, workdir: Path, args, env: dict, cases) -> dict:
    """Save ``system`` and run ``cases`` (skipping unavailable ones); returns results."""
    data = workdir / "system.npz"
    system.save(data)
    results = {}
    for case in cases:
        label, _, requirement = CASES[case]
        if requirement and not _importable(requirement):
            results[case] = {"status": f"skipped: {requirement} not importable", "solutions": {}}
            continue
        print(f"  running {label} ...", flush=True)
        results[case] = run_case(case, data, workdir, args.repeats, args.cap, env)
    return results


def print_results(results: dict, title: str, repeats: int) -> None:
    """Print the timing table (medians), ratios, and agreement checks."""
    ref = results.get("splu_AT", {})
    ref_x = ref.get("solutions", {}).get("x")
    ref_x2 = ref.get("solutions", {}).get("x2")
    ref_x32 = ref.get("solutions", {}).get("x32")
    ref_total = _med(ref.get("phases", {}).get("total", []))
    print(f"== {title}: x = solve(A^T, B^T c), wall clock, median of up to {repeats} repetitions")
    header = (
        f"{'method':46} {'total':>9} {'prep':>9} {'factor':>9} {'solve':>9} {'extra RHS':>9} "
        f"{'vs splu AT':>10} {'max rel diff':>12} {'n':>2}"
    )
    print(header)
    print("-" * len(header))
    agreement = []
    for case, res in results.items():
        label = CASES[case][0]
        if res["status"] != "ok":
            print(f"{label:46} {res['status']}")
            continue
        ph = res.get("phases", {})
        total = _med(ph.get("total"))
        ratio = f"{total / ref_total:.2f}x" if total and ref_total else "-"
        x = res["solutions"].get("x")
        diff = "-"
        if x is not None and ref_x is not None:
            d = max_relative_difference(x, ref_x)
            agreement.append((label, d, TOL_FLOAT64))
            diff = f"{d:.1e}"
        if res.get("scores") and ref_x is not None:
            js = [int(j) for j in res["scores"]]
            got = np.array([res["scores"][str(j)] for j in js])
            d = max_relative_difference(got, ref_x[js])
            agreement.append((f"{label} ({len(js)} scores)", d, TOL_BW2CALC))
            if ref_x32 is not None and res.get("datapackage_dtype") == "float32":
                agreement.append(
                    (
                        "  same, vs float64 solve of float32-rounded data",
                        max_relative_difference(got, ref_x32[js]),
                        TOL_FLOAT64,
                    )
                )
            diff = f"{d:.1e}"
        if "x2" in res["solutions"] and ref_x2 is not None and case != "splu_AT":
            agreement.append(
                (
                    f"{label}, extra RHS",
                    max_relative_difference(res["solutions"]["x2"], ref_x2),
                    TOL_FLOAT64,
                )
            )
        n = len(ph.get("total", []))
        cells = [total, ph.get("prep"), ph.get("factorise"), ph.get("solve"), res.get("extra_rhs")]
        times = " ".join(_fmt(c if c is None or isinstance(c, float) else _med(c)) for c in cells)
        print(f"{label:46} {times} {ratio:>10} {diff:>12} {n:>2}")
        for sub_label, sub in res.get("sub", {}).items():
            st = _med(sub.get("total"))
            sub_ratio = f"{st / ref_total:.2f}x" if st and ref_total else "-"
            print(
                f"  {sub_label:44} {_fmt(st)} {_fmt(_med(sub.get('prep')))} {'':>9} "
                f"{_fmt(_med(sub.get('solve')))} {'':>9} {sub_ratio:>10}"
            )
        if "x_spsolve" in res["solutions"] and ref_x is not None:
            agreement.append(
                (
                    "pypardiso.spsolve one-shot",
                    max_relative_difference(res["solutions"]["x_spsolve"], ref_x),
                    TOL_FLOAT64,
                )
            )
        if "x_fast" in res["solutions"] and ref_x is not None:
            agreement.append(
                (
                    f"FastScoresOnlyMultiLCA product_scores, all {ref_x.size:,} ({res['backend']})",
                    max_relative_difference(res["solutions"]["x_fast"], ref_x),
                    TOL_BW2CALC,
                )
            )
            if ref_x32 is not None and res.get("datapackage_dtype") == "float32":
                agreement.append(
                    (
                        "  same, vs float64 solve of float32-rounded data",
                        max_relative_difference(res["solutions"]["x_fast"], ref_x32),
                        TOL_FLOAT64,
                    )
                )
        extras = []
        if "backend" in res:
            extras.append(
                f"back-end {res['backend']}; import bw2calc {res['import_time']:.2f} s in-process; "
                f"{res['datapackage_dtype']} datapackage built in {res['datapackage_time']:.2f} s"
            )
            extras.append(
                "total = new LCA -> lci -> lcia -> score (a forward solve for one product, "
                "score = x[product]); extra RHS = lci(demand) + lcia() after lci(factorize=True)"
            )
        extras.extend(res.get("notes", []))
        for note in extras:
            print(f"  note: {note}")
    print(
        "columns: prep = orientation/format conversion (and solver object creation);\n"
        "extra RHS = one more solve (second method) reusing the factors;\n"
        "vs splu AT = total / total of SuperLU on A^T; n = repetitions;\n"
        "max rel diff = max elementwise relative difference from SuperLU on A^T"
    )
    print()
    if agreement:
        print("-- Agreement with SciPy splu on A^T (max elementwise relative difference)")
        for label, d, tol in agreement:
            print(f"  {label:70} {d:9.2e}  tol {tol:.0e}  {'OK' if d <= tol else 'FAIL'}")
        solved = [
            res["solutions"]["x"]
            for res in results.values()
            if res["status"] == "ok" and "x" in res["solutions"]
        ]
        if len(solved) > 1:
            pairwise = max(
                max_relative_difference(a, b) for i, a in enumerate(solved) for b in solved[i + 1 :]
            )
            print(
                f"  max pairwise difference among the {len(solved)} float64 solutions: "
                f"{pairwise:.2e}  {'OK' if pairwise <= TOL_FLOAT64 else 'FAIL'}"
            )
        print()
    pools: dict[tuple, list[str]] = {}
    for case, res in results.items():
        for info in res.get("threadpools", []) or []:
            key = (
                info["internal_api"],
                info["version"],
                info["num_threads"],
                info.get("threading_layer"),
                os.path.basename(info["filepath"] or ""),
            )
            pools.setdefault(key, []).append(case)
    for (api, version, threads, layer, lib), where in pools.items():
        print(
            f"threadpool in worker {'+'.join(where)}: {api} {version} threads={threads} "
            f"layer={layer} ({lib})"
        )
    if pools:
        print()


def print_startup(startup: dict) -> None:
    """Print fresh-process start-up costs and deltas against the numpy baseline."""
    print("== Start-up: fresh `python -c` process, wall clock, median")
    base = next(iter(startup.values()))
    for label, t in startup.items():
        if t is None:
            print(f"  {label:52} not installed / failed")
        else:
            delta = (
                f"(+{t - base:.2f} s over numpy)"
                if base is not None and label != next(iter(startup))
                else ""
            )
            print(f"  {label:52} {t:6.2f} s {delta}")
    print()


def print_summary(results: dict) -> None:
    """Print the headline comparison between SuperLU on A^T and the alternatives."""

    def total(case):
        res = results.get(case, {})
        return _med(res.get("phases", {}).get("total", [])) if res.get("status") == "ok" else None

    ref = total("splu_AT")
    if ref is None:
        return
    print("== Summary")
    print(f"  SciPy SuperLU on A^T: {ref:.3f} s for the one-off adjoint solve")
    rows = [
        (CASES[c][0], total(c), results.get(c, {}).get("status", "not run"))
        for c in ("splu_A", "spsolve_csc", "spsolve_csr", "pardiso", "umfpack")
    ]
    one_shot = results.get("pardiso", {}).get("sub", {}).get("pypardiso.spsolve(A^T CSR), one-shot")
    if one_shot:
        rows.insert(4, ("pypardiso.spsolve(A^T CSR), one-shot", _med(one_shot["total"]), "ok"))
    for label, t, status in rows:
        if t is not None:
            word = "faster" if t < ref else "slower"
            factor = ref / t if t < ref else t / ref
            print(f"  {label:46} {t:8.3f} s  {factor:5.1f}x {word} ({t - ref:+.2f} s)")
        else:
            print(f"  {label:46} {status}")
    print()


def main(argv=None) -> int:
    """Parse arguments and run the benchmark (or one worker case)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--size", choices=sorted(SIZES), default="full", help="system size (default: full)"
    )
    parser.add_argument("--seed", type=int, default=20240501, help="random seed")
    parser.add_argument(
        "--repeats", type=int, default=3, help="repetitions per measurement (median)"
    )
    parser.add_argument(
        "--cap",
        type=float,
        default=60.0,
        help="kill a case when one repetition runs longer than this (s)",
    )
    parser.add_argument(
        "--startup-repeats", type=int, default=5, help="fresh processes per start-up figure"
    )
    parser.add_argument(
        "--cases", default=",".join(CASES), help="comma-separated subset of: " + ",".join(CASES)
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        run_worker(args.worker, args.data, args.out, args.repeats, args.cap)
        return 0

    cases = [c for c in args.cases.split(",") if c]
    unknown = set(cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases: {sorted(unknown)}")

    print(
        f"solver_choice benchmark, size={args.size}, repeats={args.repeats}, cap={args.cap:.0f} s\n"
    )
    print_environment()
    with tempfile.TemporaryDirectory(prefix="solver_choice_") as tmp:
        workdir = Path(tmp)
        env = dict(os.environ)
        # Keep bw2data (imported by bw2calc) away from the user's Brightway directory.
        (workdir / "brightway").mkdir()
        env["BRIGHTWAY_DIR"] = str(workdir / "brightway")

        start = time.perf_counter()
        system = generate_system(args.size, args.seed)
        print_system(system, args.size, args.seed, time.perf_counter() - start)

        print("== Running cases (one fresh process each)")
        results = run_all_cases(system, workdir, args, env, cases)
        print()
        print_results(results, f"Adjoint solve, {args.size} system", args.repeats)
        print_summary(results)

        capped = [
            c
            for c in ("splu_A", "spsolve_csr")
            if c in results and results[c]["status"].startswith("killed")
        ]
        if capped and args.size != "small":
            print(
                f"Wrong-orientation cases were killed at the {args.cap:.0f} s cap; "
                "repeating them on the small system:"
            )
            small = generate_system("small", args.seed)
            small_dir = workdir / "small"
            small_dir.mkdir()
            small_results = run_all_cases(
                small, small_dir, args, env, ["splu_AT", "spsolve_csc"] + capped
            )
            print()
            print_results(small_results, "Orientation check, small system", args.repeats)

        print_startup(measure_startup(args.startup_repeats, env))
    print(f"{_load_average()} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
