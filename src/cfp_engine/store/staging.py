"""Atomic changes to the user store: stage a copy, commit with the registry, collect garbage.

``cfp data import`` and ``cfp data remove`` never change the project calculations read.
They copy it (or the built-in project) into a *staging project* with a name of its own
(``cfp-store-<built-in fingerprint>-<random>``), change the copy, build its score table
under ``scores/<staging project>``, and only then write the registry
(``imports/registry.json``, replaced atomically) naming the staging project as the store.
That one rename is the commit point: a failure or a ``kill -9`` before it leaves the
registry, and so everything calculations see, as it was; after it, the old project is
garbage.

Garbage (store projects the registry does not name, their score tables, and the staging
folders ``imports/staging/<project>/`` that mark a change in progress and hold its
extracted archives) is collected under the store lock by the next import or remove, and
by the next calculation when a staging folder shows that a run was cut short
(:func:`cfp_engine.store.registry.collect_garbage_if_idle`; skipped while another process
holds the lock).

Tests kill a run at named stages (:mod:`cfp_engine.store.kill_points`) to check this.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

from cfp_engine.errors import DataError
from cfp_engine.paths import data_home
from cfp_engine.store.build_cache import LOCK_TIMEOUT_S, scores_dir
from cfp_engine.store.session import BUILTIN_PROJECT, STORE_PROJECT_PREFIX


def store_lock(*, timeout: float = LOCK_TIMEOUT_S):
    """The lock every change of the user store (and its garbage collection) holds."""
    from filelock import FileLock

    lock_dir = data_home() / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(lock_dir / "cfp-user-store.lock"), timeout=timeout)


def staging_root() -> Path:
    """The folder of staging folders, ``imports/staging/`` in the engine home."""
    return data_home() / "imports" / "staging"


def new_staging_project(builtin_fingerprint: str) -> str:
    """A fresh staging project name, marked in progress before anything is created."""
    project = f"{STORE_PROJECT_PREFIX}{builtin_fingerprint[:16]}-{secrets.token_hex(4)}"
    (staging_root() / project).mkdir(parents=True)
    return project


def staging_work_dir(project: str) -> Path:
    """A scratch folder for the staging run (extracted archives); collected with it."""
    path = staging_root() / project / "work"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stage_project(bd, base: str | None, project: str) -> None:
    """Copy ``base`` (the built-in project when None) to ``project`` and make it current."""
    if base and base not in bd.projects:  # set_current would create it empty
        raise DataError(
            f"the user store's project {base!r} is missing from {bd.projects._base_data_dir}; "
            f"re-import your databases after deleting {data_home() / 'imports'}"
        )
    bd.projects.set_current(base or BUILTIN_PROJECT)
    bd.projects.copy_project(project, switch=True)


def discard(bd, project: str) -> None:
    """Throw a staging project away (after a failure, before the commit)."""
    drop_project(bd, project)
    shutil.rmtree(scores_dir(project), ignore_errors=True)
    shutil.rmtree(staging_root() / project, ignore_errors=True)


def reset_project(bd, project: str) -> None:
    """Drop ``project`` (if it exists) so that a build starts from an empty one.

    Not bw2data's ``delete_project``: it refuses a project whose folder a killed build
    already removed, which would break every later build.
    """
    if bd.projects.current == project:
        bd.projects.set_current("default")
    drop_project(bd, project)


def drop_project(bd, project: str) -> None:
    """Delete a Brightway project and its folders; safe on one a kill left half-made.

    The folders go first and the project's row last, so a run killed in between leaves
    a row the next collection still finds (bw2data's ``delete_project`` does it the other
    way round and refuses a row whose folder is missing).
    """
    from bw2data.project import ProjectDataset
    from bw_processing import safe_filename

    row = ProjectDataset.get_or_none(ProjectDataset.name == project)
    if row is None:
        return
    if bd.projects.current == project:
        bd.projects.set_current(BUILTIN_PROJECT)
    folder = safe_filename(project, full=row.full_hash)
    shutil.rmtree(bd.projects._base_data_dir / folder, ignore_errors=True)
    shutil.rmtree(bd.projects._base_logs_dir / folder, ignore_errors=True)
    ProjectDataset.delete().where(ProjectDataset.name == project).execute()


def collect_garbage(bd, keep: str | None) -> None:
    """Delete every store project but ``keep``, their score tables and staging folders.

    Call under :func:`store_lock` only: without it a running import's staging project
    would be taken for garbage.
    """
    for project in [p.name for p in bd.projects]:
        if project.startswith(STORE_PROJECT_PREFIX) and project != keep:
            drop_project(bd, project)
    for folder in (data_home() / "scores").glob(STORE_PROJECT_PREFIX + "*"):
        if folder.name != keep:
            shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(staging_root(), ignore_errors=True)


def garbage_pending() -> bool:
    """Whether a staging folder is left (a change in progress, or one cut short). Cheap."""
    root = staging_root()
    return root.is_dir() and any(root.iterdir())
