"""Monte Carlo sampling of the background: per-activity scores for every iteration.

The background is the Brightway project's technosphere ``A`` and biosphere ``B`` with
their stats_arrays distributions (read once through bw2calc, :func:`cfp_engine.store.queries.
load_background`) and the method's characterisation factors ``c``. One iteration draws
every uncertain exchange once and solves the adjoint system ``A_s^T x_s = B_s^T c``;
``x_s`` are the scores of one unit of every activity in that iteration, against which
the product and all its variants are scored (common random numbers: the same draw of
every shared exchange in each iteration, :mod:`cfp_engine.uncertainty.analysis`).

How it is fast (benchmarks/mc_speed.py):

* Sampling is vectorised: one numpy draw per distribution type for a whole block of
  iterations instead of bw2calc's one ``next()`` per iteration.
* The solve reuses the deterministic factorisation. ``A_s = A + dA_s`` differs from
  the mean ``A`` only in the uncertain entries, so the preconditioned fixed-point
  iteration ``X <- X + M^{-1} (R_s - A_s^T X)`` with ``M = A^T`` (factorised once)
  converges in a few steps, for a whole chunk of iterations at once: a multi-right-hand
  side triangular solve (SuperLU; or a dense inverse times a matrix for small systems,
  one BLAS call) plus a batched sparse product per step. A sample that does not reach
  the tolerance in :data:`MAX_SWEEPS` steps (a wild draw) is solved directly
  (dense LAPACK for small systems, a fresh SuperLU factorisation for large ones), so no
  sample is approximate beyond :data:`RTOL`.
* Reproducible by construction: the random numbers of iteration ``i`` come from the
  block ``i // BLOCK_SIZE``, seeded by ``SeedSequence(seed, spawn_key=(0, block))``,
  whatever the chunk size or the number of worker processes, and a run of ``n``
  iterations repeats the first ``n`` of a longer run.

No Brightway here: a :class:`BackgroundSystem` is plain numpy arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from cfp_engine.errors import CalculationError
from cfp_engine.files.atomic import write_bytes_atomically
from cfp_engine.spec.distributions import sample_parameters

#: Iterations per random-number block (the unit of reproducibility and of parallel work).
BLOCK_SIZE = 500
#: Relative residual ||R - A^T X|| / ||R|| at which a sample counts as solved.
RTOL = 1e-12
#: Fixed-point steps before a sample is solved directly.
MAX_SWEEPS = 40
#: Up to this many activities the preconditioner is a dense inverse (one GEMM per step).
DENSE_LIMIT = 2500
#: Default number of iterations solved together (memory: chunk x entries x 8 bytes).
DEFAULT_CHUNK = 250


@dataclass(frozen=True)
class BackgroundSystem:
    """The matrices of a project with their distributions, as numpy arrays.

    ``tech_*`` are the technosphere entries (``rows`` = product, ``cols`` = activity
    indices of ``A``), ``bio_*`` the biosphere entries (``rows`` = flow); ``*_params``
    stats_arrays parameter arrays (``bw_processing.UNCERTAINTY_DTYPE``) of the values as
    stored (before the sign flip), ``*_amounts`` the deterministic matrix values (after
    it), ``*_flip`` the entries negated on insertion (technosphere inputs).
    ``characterization`` is ``c`` per biosphere row (kg CO2e per unit of flow), and
    ``activity_rows[i]`` the index in ``x`` of activity ``i`` of the score table.
    """

    size: int
    tech_rows: np.ndarray
    tech_cols: np.ndarray
    tech_amounts: np.ndarray
    tech_params: np.ndarray
    tech_flip: np.ndarray
    bio_rows: np.ndarray
    bio_cols: np.ndarray
    bio_amounts: np.ndarray
    bio_params: np.ndarray
    bio_flip: np.ndarray
    characterization: np.ndarray
    activity_rows: np.ndarray

    def save(self, path: Path) -> None:
        """Write to one ``.npz`` (atomically)."""
        write_bytes_atomically(path, lambda f: np.savez(f, **self.__dict__))

    @classmethod
    def load(cls, path: Path) -> BackgroundSystem:
        with np.load(path) as data:
            fields = {name: data[name] for name in data.files}
        fields["size"] = int(fields["size"])
        return cls(**fields)

    def without_uncertainty(self) -> BackgroundSystem:
        """The same system with every distribution removed (type 0 at the amount)."""

        def fixed(params, amounts, flip):
            out = np.zeros_like(params)
            out["loc"] = np.where(flip, -amounts, amounts)
            for name in ("scale", "shape", "minimum", "maximum"):
                out[name] = np.nan
            return out

        return replace(
            self,
            tech_params=fixed(self.tech_params, self.tech_amounts, self.tech_flip),
            bio_params=fixed(self.bio_params, self.bio_amounts, self.bio_flip),
        )

    @property
    def uncertain_entries(self) -> int:
        return int(
            np.count_nonzero(self.tech_params["uncertainty_type"] > 1)
            + np.count_nonzero(self.bio_params["uncertainty_type"] > 1)
        )


def block_rng(seed: int, block: int) -> np.random.Generator:
    """The generator of the background draws of one block of iterations."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(0, block))))


class BackgroundSampler:
    """Samples per-unit activity scores of a :class:`BackgroundSystem`, block by block.

    Parameters
    ----------
    system
        The background.
    columns
        Indices (into ``x``) of the activities whose scores are wanted; all when None.
    chunk
        Iterations solved together (does not change the results).
    """

    def __init__(self, system: BackgroundSystem, *, columns=None, chunk: int = DEFAULT_CHUNK):
        self.system = system
        self.n = system.size
        self.chunk = max(1, int(chunk))
        self.columns = np.arange(self.n) if columns is None else np.asarray(columns)
        tech_sign = np.where(system.tech_flip, -1.0, 1.0)
        bio_sign = np.where(system.bio_flip, -1.0, 1.0)
        # A^T in CSR: row = activity (col of A), column = product (row of A).
        keys = system.tech_cols.astype(np.int64) * self.n + system.tech_rows.astype(np.int64)
        positions, self._tech_pos = np.unique(keys, return_inverse=True)
        self._indices = (positions % self.n).astype(np.int32)
        self._indptr = np.concatenate(
            [[0], np.cumsum(np.bincount(positions // self.n, minlength=self.n))]
        ).astype(np.int32)
        self._tech_sign = tech_sign
        self._tech_unc = np.flatnonzero(system.tech_params["uncertainty_type"] > 1)
        fixed = np.ones(len(keys), dtype=bool)
        fixed[self._tech_unc] = False
        base = np.asarray(system.tech_amounts, dtype=np.float64)  # already signed
        self._data_mean = np.bincount(self._tech_pos, weights=base, minlength=len(positions))
        self._data_fixed = np.bincount(
            self._tech_pos[fixed], weights=base[fixed], minlength=len(positions)
        ).astype(np.float64)
        # Right-hand side r = B^T c: only flows with a factor matter.
        weight = system.characterization[system.bio_rows] * bio_sign
        relevant = weight != 0.0
        self._bio_cols = system.bio_cols[relevant]
        self._bio_weight = weight[relevant]
        bio_params = system.bio_params[relevant]
        self._bio_params = bio_params
        self._bio_unc = np.flatnonzero(bio_params["uncertainty_type"] > 1)
        bio_amounts = np.asarray(system.bio_amounts, dtype=np.float64)[relevant]
        self._bio_sign = bio_sign[relevant]
        weighted = bio_amounts * self._bio_weight * self._bio_sign  # amounts already signed
        self._rhs_mean = np.bincount(self._bio_cols, weights=weighted, minlength=self.n)
        bio_fixed = np.ones(len(bio_params), dtype=bool)
        bio_fixed[self._bio_unc] = False
        self._rhs_fixed = np.bincount(  # float even when no entry is fixed
            self._bio_cols[bio_fixed], weights=weighted[bio_fixed], minlength=self.n
        ).astype(np.float64)
        mean = self._matrix(self._data_mean)
        self._mean_matrix = mean
        unc_positions = np.unique(self._tech_pos[self._tech_unc])
        self._unc_positions = unc_positions
        self._unc_rows = np.searchsorted(self._indptr, unc_positions, side="right") - 1
        self._unc_cols = self._indices[unc_positions]
        self._unique_unc = unc_positions.size == self._tech_unc.size
        self.dense = self.n <= DENSE_LIMIT
        try:
            if self.dense:
                self._inverse = np.linalg.inv(mean.toarray())
            else:
                from scipy.sparse.linalg import splu

                self._lu = splu(mean.tocsc())
        except (np.linalg.LinAlgError, RuntimeError) as exc:
            raise CalculationError(f"the mean technosphere matrix is singular ({exc})") from None
        self.fallbacks = 0
        self.sweeps = 0

    # -- sampling --------------------------------------------------------------------
    def _matrix(self, data: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((data, self._indices, self._indptr), shape=(self.n, self.n))

    def draw(self, seed: int, block: int) -> tuple[np.ndarray, np.ndarray]:
        """Technosphere and biosphere draws of one full block: (BLOCK_SIZE, n_uncertain)."""
        rng = block_rng(seed, block)
        tech = sample_parameters(self.system.tech_params[self._tech_unc], rng, BLOCK_SIZE)
        bio = sample_parameters(self._bio_params[self._bio_unc], rng, BLOCK_SIZE)
        return tech, bio

    def scores_for_block(self, seed: int, block: int, count: int = BLOCK_SIZE) -> np.ndarray:
        """Per-unit scores of ``columns`` in the first ``count`` iterations of ``block``.

        Returns
        -------
        numpy.ndarray
            Shape ``(count, len(columns))``, kg CO2e per unit of each activity.
        """
        tech, bio = self.draw(seed, block)
        out = np.empty((count, len(self.columns)))
        for start in range(0, count, self.chunk):
            stop = min(start + self.chunk, count)
            out[start:stop] = self._solve_chunk(tech[start:stop], bio[start:stop])
        return out

    # -- solving ---------------------------------------------------------------------
    def _chunk_system(self, tech: np.ndarray, bio: np.ndarray):
        k = tech.shape[0]
        data = np.broadcast_to(self._data_fixed, (k, self._data_fixed.size)).copy()
        if self._tech_unc.size:
            pos = self._tech_pos[self._tech_unc]
            values = tech * self._tech_sign[self._tech_unc]
            if self._unique_unc:
                data[:, pos] += values
            else:
                flat = (np.arange(k)[:, None] * data.shape[1] + pos[None, :]).ravel()
                np.add.at(data.reshape(-1), flat, values.ravel())
        rhs = np.broadcast_to(self._rhs_fixed, (k, self.n)).copy()
        if self._bio_unc.size:
            cols = self._bio_cols[self._bio_unc]
            values = bio * self._bio_weight[self._bio_unc]
            flat = (np.arange(k)[:, None] * self.n + cols[None, :]).ravel()
            np.add.at(rhs.reshape(-1), flat, values.ravel())
        return data, rhs

    def _precondition(self, residual: np.ndarray) -> np.ndarray:
        """M^{-1} applied to each row of ``residual`` (k, n)."""
        if self.dense:
            return residual @ self._inverse.T
        return self._lu.solve(np.ascontiguousarray(residual.T)).T

    def _apply(self, data: np.ndarray, x: np.ndarray) -> np.ndarray:
        """A_s^T x_s for each sample s (rows of ``data`` and ``x``)."""
        # Mean part as one sparse x dense product, then the uncertain entries' deviations.
        y = np.ascontiguousarray((self._mean_matrix @ x.T).T)
        if self._unc_positions.size:
            positions = self._unc_positions
            delta = data[:, positions] - self._data_mean[positions]
            contribution = delta * x[:, self._unc_cols]
            k = x.shape[0]
            flat = (np.arange(k)[:, None] * self.n + self._unc_rows[None, :]).ravel()
            y.reshape(-1)[:] += np.bincount(flat, weights=contribution.ravel(), minlength=y.size)
        return y

    def _solve_chunk(self, tech: np.ndarray, bio: np.ndarray) -> np.ndarray:
        data, rhs = self._chunk_system(tech, bio)
        x = self._precondition(rhs)
        norms = np.linalg.norm(rhs, axis=1)
        norms[norms == 0] = 1.0
        active = np.arange(x.shape[0])
        for _ in range(MAX_SWEEPS):
            residual = rhs[active] - self._apply(data[active], x[active])
            done = np.linalg.norm(residual, axis=1) <= RTOL * norms[active]
            keep = ~done
            if not keep.any():
                active = active[:0]
                break
            active, residual = active[keep], residual[keep]
            self.sweeps += 1
            x[active] += self._precondition(residual)
            if not np.all(np.isfinite(x[active])):
                break
        for s in active:  # stragglers: solve directly
            self.fallbacks += 1
            x[s] = self._direct(data[s], rhs[s])
        return x[:, self.columns]

    def _direct(self, data: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        matrix = self._matrix(data)
        try:
            if self.dense:
                return np.linalg.solve(matrix.toarray(), rhs)
            from scipy.sparse.linalg import splu

            return splu(matrix.tocsc()).solve(rhs)
        except (np.linalg.LinAlgError, RuntimeError) as exc:
            raise CalculationError(
                f"a sampled technosphere matrix is singular ({exc}); the distributions "
                "of the data allow a system that cannot supply its products"
            ) from None


_WORKER_SAMPLER: BackgroundSampler | None = None


def _init_worker(system, columns, chunk) -> None:
    global _WORKER_SAMPLER  # one factorisation per worker process
    _WORKER_SAMPLER = BackgroundSampler(system, columns=columns, chunk=chunk)


def _block_worker(args):
    seed, block, count = args
    return _WORKER_SAMPLER.scores_for_block(seed, block, count)


def iter_scores(
    system: BackgroundSystem,
    columns: Sequence[int],
    iterations: int,
    seed: int,
    *,
    chunk: int = DEFAULT_CHUNK,
    workers: int = 1,
    part: int = 200 * BLOCK_SIZE,
):
    """Per-unit scores of ``columns`` for ``iterations`` iterations, ``part`` at a time.

    Yields arrays of shape ``(count, len(columns))`` for consecutive iterations (``count``
    is ``part``, a multiple of :data:`BLOCK_SIZE`, except for the last), so a caller can
    fold them into statistics without holding every iteration. The
    factorisation (or the worker pool) is set up once for all parts.
    """
    if iterations < 1:
        raise CalculationError(
            f"the number of Monte Carlo iterations must be >= 1, got {iterations}"
        )
    if part < BLOCK_SIZE or part % BLOCK_SIZE:
        raise CalculationError(f"part must be a multiple of {BLOCK_SIZE}, got {part}")
    blocks = [
        (b, min(BLOCK_SIZE, iterations - b * BLOCK_SIZE))
        for b in range(math.ceil(iterations / BLOCK_SIZE))
    ]
    per_part = part // BLOCK_SIZE
    groups = [blocks[i : i + per_part] for i in range(0, len(blocks), per_part)]
    if workers > 1 and len(blocks) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(
            max_workers=workers, initializer=_init_worker, initargs=(system, columns, chunk)
        ) as pool:
            for group in groups:
                parts = pool.map(_block_worker, [(seed, b, count) for b, count in group])
                yield np.concatenate(list(parts), axis=0)
    else:
        sampler = BackgroundSampler(system, columns=columns, chunk=chunk)
        for group in groups:
            yield np.concatenate(
                [sampler.scores_for_block(seed, b, count) for b, count in group], axis=0
            )


def sample_scores(
    system: BackgroundSystem,
    columns: Sequence[int],
    iterations: int,
    seed: int,
    *,
    chunk: int = DEFAULT_CHUNK,
    workers: int = 1,
) -> np.ndarray:
    """Per-unit scores of ``columns`` (indices into ``x``) for ``iterations`` iterations.

    Identical results for any ``chunk`` and ``workers`` (up to floating-point rounding
    of BLAS calls, ~1e-15 relative).

    Returns
    -------
    numpy.ndarray
        Shape ``(iterations, len(columns))``, kg CO2e per unit of each activity.
    """
    parts = iter_scores(
        system,
        columns,
        iterations,
        seed,
        chunk=chunk,
        workers=workers,
        part=math.ceil(iterations / BLOCK_SIZE) * BLOCK_SIZE,
    )
    return np.concatenate(list(parts), axis=0)
