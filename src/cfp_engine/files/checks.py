"""Checks on the files a command reads and writes, made before any work starts.

Every command that takes a path runs its inputs through :func:`check_input_path` (or
reads a text table with :func:`read_text_file`) and its outputs through
:func:`check_output_path`, so a missing folder, a directory given as a file, binary
data, an unreadable file or a read-only target is a :class:`~cfp_engine.errors.SpecError`
naming the option and the path (exit 2), not an internal error after minutes of work.
Messages that echo user input use
:func:`~cfp_engine.errors.quote_input` (one line, escaped); the command line also passes
every message through :func:`~cfp_engine.errors.escape_controls`, so a hostile file name or field
cannot forge further output lines or reorder the text on a terminal.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cfp_engine.errors import SpecError, quote_input

#: Bytes looked at to tell a text file from binary data (a NUL byte never occurs in text).
SNIFF_BYTES = 64 * 1024
#: Files read whole into memory (specs, labels, materials tables, flow maps): a spec with
#: 100,000 components is ~8 MB, so 64 MiB leaves room and refuses a runaway or sparse file.
MAX_DOCUMENT_BYTES = 64 * 1024**2


def _a(what: str) -> str:
    return ("an " if what[:1] in "aeiou" else "a ") + what


def _label(path: str | Path, option: str | None) -> str:
    shown = quote_input(path)
    return f"{option} {shown}" if option else shown


def check_input_path(
    path: str | Path,
    *,
    what: str,
    option: str | None = None,
    folder_ok: bool = False,
    max_bytes: int | None = None,
) -> Path:
    """Check that ``path`` names a readable file (or folder if ``folder_ok``); return it.

    Parameters
    ----------
    path
        The path as the user gave it.
    what
        What the file is, for the message ("materials table").
    option
        The command-line option it came from, for the message ("--materials").
    folder_ok
        Accept a folder as well (imports of ecospold2 or JSON-LD folders).
    max_bytes
        Refuse a larger file (bytes); ``None`` for files that are streamed.

    Raises
    ------
    SpecError
        The path is empty, missing, a folder (unless allowed), too large, or cannot be read.
    """
    label = _label(path, option)
    if str(path).strip() == "":
        raise SpecError(f"{option or what}: an empty path; name {_a(what)}")
    path = Path(path)
    if not path.exists():
        raise SpecError(f"{label}: no such {what}")
    if path.is_dir():
        if folder_ok:
            if not os.access(path, os.R_OK | os.X_OK):
                raise SpecError(f"{label}: the folder cannot be read (permission denied)")
            return path
        raise SpecError(f"{label}: is a folder, but {_a(what)} is a file")
    if not path.is_file():
        raise SpecError(f"{label}: not a regular file; {_a(what)} is a file")
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise SpecError(
            f"{label}: {size} bytes, more than the limit of {max_bytes} bytes for {_a(what)}"
        )
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise SpecError(f"{label}: cannot be read ({exc.strerror or exc})") from None
    return path


def read_text_file(path: str | Path, *, what: str, option: str | None = None) -> str:
    """The UTF-8 text (BOM removed) of a text input file, checked as above.

    Raises
    ------
    SpecError
        As :func:`check_input_path` (at most :data:`MAX_DOCUMENT_BYTES`), or the file holds
        binary data or is not UTF-8.
    """
    path = check_input_path(path, what=what, option=option, max_bytes=MAX_DOCUMENT_BYTES)
    label = _label(path, option)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"{label}: cannot be read ({exc.strerror or exc})") from None
    nul = data.find(b"\x00", 0, SNIFF_BYTES)
    if nul >= 0:
        raise SpecError(
            f"{label}: binary data (a NUL byte at offset {nul}); {_a(what)} is a UTF-8 text file"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SpecError(
            f"{label}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); save the {what} as UTF-8"
        ) from None


def check_output_path(path: str | Path, *, option: str) -> Path:
    """Check, before any work, that a file can be written at ``path``; return it.

    The file itself is written later, atomically (:mod:`cfp_engine.files.atomic`), beside its
    final name, so what matters is that the path is not a folder and that its folder
    exists and accepts a new file (tried for real: permission bits say nothing to root,
    and a read-only mount says nothing through them).

    Raises
    ------
    SpecError
        The path is empty or a folder, its folder is missing, or nothing can be written there.
    """
    label = _label(path, option)
    if str(path).strip() == "":
        raise SpecError(f"{option}: an empty path; name the file to write")
    path = Path(path)
    if path.is_dir():
        raise SpecError(f"{label}: is a folder; name a file to write inside it")
    parent = path.parent
    if not parent.exists():
        raise SpecError(
            f"{label}: the folder {quote_input(parent)} does not exist; create it first"
        )
    if not parent.is_dir():
        raise SpecError(f"{label}: {quote_input(parent)} is not a folder")
    _probe_writable(parent, label)
    return path


def check_output_folder(path: str | Path, *, option: str) -> Path:
    """Check that ``path`` is a folder that can be written, or can be created; return it."""
    label = _label(path, option)
    if str(path).strip() == "":
        raise SpecError(f"{option}: an empty path; name a folder")
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SpecError(f"{label}: is a file, but a folder is needed")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise SpecError(f"{label}: {quote_input(existing)} is not a folder")
    _probe_writable(existing, label)
    return path


def _probe_writable(folder: Path, label: str) -> None:
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".cfp-write-probe-"):
            pass
    except OSError as exc:
        raise SpecError(
            f"{label}: cannot write in the folder {quote_input(folder)} ({exc.strerror or exc})"
        ) from None
