"""Per-activity scores: the score of one unit of every activity, for every indicator.

They come from one adjoint solve per indicator on the Brightway project
(``A^T x = B^T c``, see :mod:`cfp_engine.score_solve`), after which the footprint of any
demand ``d`` is the dot product ``x . d``: exactly what bw2calc's ``LCA(d).score`` is,
without factorising again. A table is saved as ``scores.npz`` plus ``activities.json``
beside the project, so a calculation reads two small files and imports no Brightway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError
from .methods import INDICATORS
from .references import REFERENCE_SEPARATOR, ReferenceIndex


@dataclass(frozen=True)
class ActivityInfo:
    """What the engine needs to know about one activity of the project."""

    index: int
    database: str
    code: str
    name: str
    location: str
    unit: str
    reference_product: str = ""
    category: str = "other"
    air_freight: bool = False
    co2e_only: bool = False
    source: Mapping[str, Any] = field(default_factory=dict)
    pedigree: Mapping[str, int] = field(default_factory=dict)  # ecoinvent pedigree, 1-5

    @property
    def reference(self) -> str:
        return REFERENCE_SEPARATOR.join((self.database, self.name, self.location))


class ScoreTable:
    """Activities of a Brightway project with their per-unit scores by method."""

    def __init__(
        self,
        activities: list[ActivityInfo],
        scores: dict[str, np.ndarray],
        manifest: dict[str, Any],
    ):
        self.activities = activities
        self.scores = scores  # method name -> array (len(INDICATORS), n_activities)
        self.manifest = manifest
        self._references: ReferenceIndex | None = None

    # -- persistence ---------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write atomically: a reader never sees a half-written table."""
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {name: values for name, values in self.scores.items()}
        records = [{k: v for k, v in a.__dict__.items()} for a in self.activities]
        _atomic_write(directory / "scores.npz", lambda f: np.savez(f, **arrays))
        _atomic_write(
            directory / "activities.json",
            lambda f: f.write(json.dumps(records, ensure_ascii=False).encode()),
        )
        _atomic_write(
            directory / "manifest.json",
            lambda f: f.write(json.dumps(self.manifest, indent=2).encode()),
        )

    @classmethod
    def load(cls, directory: Path) -> ScoreTable:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        records = json.loads((directory / "activities.json").read_text(encoding="utf-8"))
        with np.load(directory / "scores.npz") as data:
            scores = {name: data[name] for name in data.files}
        return cls([ActivityInfo(**r) for r in records], scores, manifest)

    # -- lookups -------------------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        return self.manifest["fingerprint"]

    def vector(self, method: str) -> np.ndarray:
        """Scores of ``method``: shape (len(INDICATORS), n_activities)."""
        try:
            return self.scores[method]
        except KeyError:
            raise DataError(f"method {method!r} is not in the built project") from None

    def indicator(self, method: str, indicator: str) -> np.ndarray:
        return self.vector(method)[INDICATORS.index(indicator)]

    def find(self, reference: str, *, where: str = "") -> ActivityInfo:
        """The activity ``reference`` names: :func:`resolve_reference` of this table."""
        return resolve_reference(self, reference, where=where)

    @property
    def references(self) -> ReferenceIndex:
        """The index that resolves activity references (built on first use)."""
        if self._references is None:
            self._references = ReferenceIndex.from_activities(self.activities)
        return self._references

    @property
    def databases(self) -> list[str]:
        return list(dict.fromkeys(a.database for a in self.activities))


def resolve_reference(table: ScoreTable, reference: str, *, where: str = "") -> ActivityInfo:
    """The one activity of ``table`` that ``reference`` names.

    Every caller (specs, materials tables, catalogues, Monte Carlo, ``cfp data show``)
    resolves through here or through the same :class:`~cfp_engine.references.ReferenceIndex`;
    the rules are in :mod:`cfp_engine.references`.

    Parameters
    ----------
    table
        The score table of the project.
    reference
        ``name``, ``database::name`` or ``database::name::location``.
    where
        Where the reference was written (file and field), put before an error message.

    Raises
    ------
    DataError
        No activity matches, or several do; the message lists the candidates.
    """
    return table.activities[table.references.resolve(reference, where=where)]


def _atomic_write(path: Path, write) -> None:
    from .atomic import atomic_path

    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        write(handle)
