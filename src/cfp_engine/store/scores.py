"""Per-activity scores: the score of one unit of every activity, for every indicator.

They come from one adjoint solve per indicator on the Brightway project
(``A^T x = B^T c``, see :mod:`cfp_engine.store.score_solve`), after which the footprint of any
demand ``d`` is the dot product ``x . d``: exactly what bw2calc's ``LCA(d).score`` is,
without factorising again. A table is saved as ``scores.npz`` plus ``activities.json``
beside the project, so a calculation reads two small files and imports no Brightway.

A table is written into a temporary folder and moved into place complete, with the
sha256 of each file recorded in ``manifest.json`` (written last); :meth:`ScoreTable.load`
checks them and raises :class:`~cfp_engine.errors.CorruptCacheError` on a missing,
truncated or changed file, which :mod:`cfp_engine.store.build_cache` answers by rebuilding.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cfp_engine.errors import CorruptCacheError, DataError
from cfp_engine.files.atomic import write_bytes_atomically
from cfp_engine.spec.documents import dump_json
from cfp_engine.spec.methods import INDICATORS
from cfp_engine.store.kill_points import kill_point
from cfp_engine.store.references import REFERENCE_SEPARATOR, ReferenceIndex


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
    pedigree: Mapping[str, float] = field(default_factory=dict)  # ecoinvent pedigree, 1-5
    # Other names references may use in this database (a supplier footprint's product
    # ids and footprint id), and the mass of one unit (kg) where the data state it.
    aliases: tuple[str, ...] = ()
    mass_per_unit_kg: float | None = None

    def __post_init__(self):
        if not isinstance(self.aliases, tuple):  # a list when read from activities.json
            object.__setattr__(self, "aliases", tuple(self.aliases))

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
        """Write the table to ``directory`` atomically, with a checksum of every file.

        The files go into a temporary sibling folder, the manifest (with the checksums)
        last; the folder then replaces ``directory``. A kill at any point leaves the old
        table, no table, or the new one, never a mix; a temporary folder it leaves is
        removed by the next save or by ``cfp data doctor``.
        """
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = directory.with_name(f".{directory.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            records = [dict(a.__dict__) for a in self.activities]
            where = str(directory / "activities.json")
            activities = dump_json(records, what=where, ensure_ascii=False)
            write_bytes_atomically(tmp / "scores.npz", lambda f: np.savez(f, **self.scores))
            kill_point("cache-half-written")
            write_bytes_atomically(tmp / "activities.json", lambda f: f.write(activities.encode()))
            self.manifest["files"] = {name: _sha256(tmp / name) for name in CACHE_FILES}
            manifest = dump_json(self.manifest, what=str(directory / "manifest.json"), indent=2)
            write_bytes_atomically(tmp / "manifest.json", lambda f: f.write(manifest.encode()))
            _replace_dir(tmp, directory)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> ScoreTable:
        """Read a saved table, checking every file against the manifest's checksums.

        Raises
        ------
        CorruptCacheError
            A file is missing, unreadable, or differs from what was written.
        """
        try:
            manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
            recorded = manifest["files"]
            for name in CACHE_FILES:
                if _sha256(directory / name) != recorded[name]:
                    raise CorruptCacheError(
                        f"{directory / name}: the score cache changed since it was written "
                        "(checksum mismatch)"
                    )
            records = json.loads((directory / "activities.json").read_text(encoding="utf-8"))
            with np.load(directory / "scores.npz") as data:
                scores = {name: data[name] for name in data.files}
            activities = [ActivityInfo(**r) for r in records]
        except CorruptCacheError:
            raise
        except FileNotFoundError as exc:
            raise CorruptCacheError(
                f"{directory}: the score cache is incomplete ({Path(exc.filename).name} is missing)"
            ) from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # json.JSONDecodeError and UnicodeDecodeError are ValueErrors; a manifest
            # without checksums (an older engine's) is a KeyError.
            raise CorruptCacheError(
                f"{directory}: the score cache is unreadable ({type(exc).__name__})"
            ) from None
        return cls(activities, scores, manifest)

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
    resolves through here or through the same :class:`~cfp_engine.store.references.ReferenceIndex`;
    the rules are in :mod:`cfp_engine.store.references`.

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


#: The files of a saved table whose checksums the manifest records.
CACHE_FILES = ("scores.npz", "activities.json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _replace_dir(new: Path, target: Path) -> None:
    """Move folder ``new`` to ``target``, replacing it (two renames; no mixed state)."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
        kill_point("cache-swapped")
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)
