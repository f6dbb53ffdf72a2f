"""Where cfp-engine keeps its data: the built-in files it ships and the per-user store.

The per-user store (Brightway projects, cached per-activity scores, locks) lives in
``platformdirs.user_data_dir("cfp-engine")`` unless ``CFP_ENGINE_HOME`` names another
directory. Brightway's own directory is set inside it, so the engine never reads or
writes the user's other Brightway projects.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV_VAR = "CFP_ENGINE_HOME"

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_home() -> Path:
    """The per-user store directory (created on demand)."""
    override = os.environ.get(HOME_ENV_VAR)
    if override:
        home = Path(override).expanduser()
    else:
        import platformdirs

        home = Path(platformdirs.user_data_dir("cfp-engine", appauthor=False))
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, a read-only disk, no permission
        from cfp_engine.errors import StoreError

        raise StoreError(
            f"{home}: cannot create the engine's store ({exc.strerror or exc}); set "
            f"{HOME_ENV_VAR} to a writable folder"
        ) from None
    return home.resolve()


def builtin_data_dir() -> Path:
    """The folder holding ``inventories/`` and ``methods/``.

    In a wheel they are shipped as ``cfp_engine/_data/``; in a source checkout (editable
    install) they are read from the repository root.
    """
    packaged = _PACKAGE_DIR / "_data"
    if (packaged / "methods").is_dir():
        return packaged
    return _PACKAGE_DIR.parent.parent


def inventories_dir() -> Path:
    return builtin_data_dir() / "inventories"


def methods_dir() -> Path:
    return builtin_data_dir() / "methods"
