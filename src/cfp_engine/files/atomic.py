"""Write files atomically: a reader, or a crash, never sees a half-written file.

Every output the engine writes (score tables, labels, plots, samples) goes through
:func:`atomic_path`: the content is written to a temporary file beside the target and
renamed over it only when complete, so a failed command leaves no partial output.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def atomic_path(path: str | Path, *, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``, else it is removed."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        if fsync:
            with tmp.open("rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomically(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` atomically: ``write`` gets a binary handle on the temporary file.

    For writers that take an open file (``numpy.savez``) as well as plain bytes
    (``lambda f: f.write(data)``).
    """
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        write(handle)


def write_text_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8, ending in a newline) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def save_figure_atomically(figure, path: str | Path) -> None:
    """Save a matplotlib figure as PNG atomically and close it."""
    import matplotlib.pyplot as plt

    try:
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png")
    finally:
        plt.close(figure)
