"""Per-activity scores: the score of one unit of every activity, for every indicator.

They come from one adjoint solve per indicator on the Brightway project
(``A^T x = B^T c``, see :mod:`cfp_engine.score_solve`), after which the footprint of any
demand ``d`` is the dot product ``x . d``: exactly what bw2calc's ``LCA(d).score`` is,
without factorising again. A table is saved as ``scores.npz`` plus ``activities.json``
beside the project, so a calculation reads two small files and imports no Brightway.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError
from .methods import INDICATORS

REFERENCE_SEPARATOR = "::"


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
        self._by_name: dict[str, list[int]] | None = None

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
        """Resolve ``name``, ``database::name`` or ``database::name::location``.

        A plain name looks in the built-in data first, then in user databases. No match,
        or several, is a :class:`DataError` listing candidates.
        """
        from .inventories import BUILTIN_DATABASE

        prefix = f"{where}: " if where else ""
        parts = [p.strip() for p in reference.split(REFERENCE_SEPARATOR)]
        if len(parts) > 3 or not all(parts):
            raise DataError(
                f"{prefix}{reference!r} is not 'name', 'database::name' or "
                "'database::name::location'"
            )
        database, location = None, None
        if len(parts) == 1:
            name = parts[0]
        elif len(parts) == 2:
            database, name = parts
        else:
            database, name, location = parts
        candidates = [self.activities[i] for i in self._name_index().get(name.lower(), [])]
        if database is not None:
            if database not in self.databases:
                raise DataError(
                    f"{prefix}{reference!r}: unknown database {database!r} "
                    f"(databases: {', '.join(self.databases)})"
                )
            candidates = [a for a in candidates if a.database == database]
        elif len({a.database for a in candidates}) > 1:
            builtin = [a for a in candidates if a.database == BUILTIN_DATABASE]
            candidates = builtin or candidates
        if location is not None:
            candidates = [a for a in candidates if a.location == location]
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            listed = "; ".join(a.reference for a in candidates[:8])
            raise DataError(
                f"{prefix}{reference!r} matches {len(candidates)} activities: "
                f"{listed}. Write 'database::name::location'"
            )
        names = sorted({a.name for a in self.activities})
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.4)
        hint = f"; closest: {'; '.join(close)}" if close else ""
        raise DataError(f"{prefix}no activity matches {reference!r}{hint}")

    @property
    def databases(self) -> list[str]:
        return list(dict.fromkeys(a.database for a in self.activities))

    def _name_index(self) -> dict[str, list[int]]:
        if self._by_name is None:
            index: dict[str, list[int]] = {}
            for activity in self.activities:
                index.setdefault(activity.name.lower(), []).append(activity.index)
            self._by_name = index
        return self._by_name


def _atomic_write(path: Path, write) -> None:
    from .atomic import atomic_path

    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        write(handle)
