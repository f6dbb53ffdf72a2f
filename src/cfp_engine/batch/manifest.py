"""The work directory of a run: chunk results and the manifest that lets a run resume.

Every chunk's result is written to the work directory as an Arrow IPC file (atomically,
:func:`cfp_engine.files.atomic.atomic_path`), then recorded in ``manifest.json`` (also
replaced atomically) beside the input's fingerprint, the options and the mode (grouped
or partitioned). A resumed run reads the manifest back and skips the chunks it lists,
provided the input and the options are the same.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

from cfp_engine.batch.partition import MERGE_BLOCK_ROWS
from cfp_engine.errors import SpecError
from cfp_engine.files.atomic import atomic_path
from cfp_engine.spec.documents import dump_json

# 2: the last product is a chunk of its own (version 1 chunks cannot be mixed with these)
# 3: a "mode" (grouped, or partitioned: spill files, then one chunk per partition)
# 4: the input fingerprint is the sha256 of the whole file
MANIFEST_VERSION = 4

# Everything a run may leave in the work directory (only these are removed: it may be a
# user's folder). Temporary files are named by atomic_path: ".chunk-000001.<pid>.tmp.arrow".
_WORK_PATTERNS = (
    "chunk-*.arrow",
    "spill-*.arrow",
    "manifest.json",
    ".chunk-*.tmp.arrow",
    ".spill-*.tmp.arrow",
    ".manifest.*.tmp.json",
)


def file_fingerprint(path: Path) -> dict[str, Any]:
    """Size and the sha256 of all the bytes, read in 1 MiB blocks.

    The whole file is hashed: a change anywhere (even one that keeps size and
    modification time) must not let a resumed run mix old chunks with new rows. Hashing
    runs at disk speed, far below the cost of parsing the same bytes. The modification
    time is left out on purpose: touching a file does not change what it says.
    """
    size = path.stat().st_size
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path.resolve()), "size": size, "sha256": digest.hexdigest()}


def start_manifest(work: Path, fingerprint: dict, options: dict, *, resume: bool) -> dict:
    """The manifest of the run: the interrupted run's (``resume``) or a new one.

    Raises
    ------
    SpecError
        ``resume`` is set and the interrupted run was made from another input or with
        other options.
    """
    path = work / "manifest.json"
    if resume and path.is_file():
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            manifest = None
        if manifest and manifest.get("version") == MANIFEST_VERSION:
            if manifest.get("input") != fingerprint or manifest.get("options") != options:
                raise SpecError(
                    f"resume: {work}: the interrupted run was made from another input or "
                    "other options; run again without resuming to start again"
                )
            return manifest
    clear_work(work)
    work.mkdir(parents=True, exist_ok=True)
    manifest = {"version": MANIFEST_VERSION, "input": fingerprint, "options": options}
    manifest.update(mode="grouped", chunks={})
    write_manifest(work, manifest)
    return manifest


def write_manifest(work: Path, manifest: dict) -> None:
    """Replace ``work/manifest.json`` atomically."""
    path = work / "manifest.json"
    data = dump_json(manifest, what=str(path), indent=1).encode()
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def clear_work(work: Path) -> None:
    """Remove the files a run put in ``work`` (only those: it may be a user's folder)."""
    if not work.is_dir():
        return
    for pattern in _WORK_PATTERNS:
        for path in work.glob(pattern):
            path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        work.rmdir()  # only when empty


def chunk_path(work: Path, index: int) -> Path:
    """Where chunk ``index``'s result is kept."""
    return work / f"chunk-{index:06d}.arrow"


def finished_chunks(work: Path, manifest: dict) -> set[int]:
    """The chunks the manifest records whose result file is present."""
    return {int(k) for k in manifest["chunks"] if chunk_path(work, int(k)).is_file()}


def record_chunk(work: Path, manifest: dict, index: int, result) -> None:
    """Write a chunk's scores (a ``pyarrow.Table``), then record it in the manifest."""
    import pyarrow as pa

    with (
        atomic_path(chunk_path(work, index)) as tmp,
        pa.OSFile(str(tmp), "wb") as sink,
        pa.ipc.new_file(sink, result.schema) as writer,
    ):
        writer.write_table(result, max_chunksize=MERGE_BLOCK_ROWS)
    manifest["chunks"][str(index)] = {"products": result.num_rows}
    write_manifest(work, manifest)
