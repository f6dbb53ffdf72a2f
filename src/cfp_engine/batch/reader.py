"""Read a catalogue (CSV or Parquet) in chunks of whole products, for ``cfp batch``.

Streams the input with pyarrow (1 MB CSV blocks: Arrow's reader holds many blocks in
flight), cuts it into chunks of about ``chunk_rows`` line items that never split a
product (the last product of a chunk is carried into the next), stops with
:class:`NotGrouped` at the first product whose rows come back later (64-bit hashes of
the ids; such a catalogue is grouped by :mod:`.catalogue_partition` instead), and reads
the next chunk in a background thread while the current one is scored.
"""

from __future__ import annotations

import csv
import queue
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from cfp_engine.batch.scoring import LINE_COLUMN, segment_starts
from cfp_engine.errors import SpecError

CATALOGUE_COLUMNS = ("product_id", "stage", "item", "ref", "amount", "unit", "recycled_content")
INPUT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
# CSV block size. Arrow's streaming reader holds many blocks in flight: peak memory grew
# by ~45 MB per MB of block (8 MB blocks: 520 MB to read 10^7 rows; 1 MB: 145 MB, and
# no slower).
_CSV_BLOCK_BYTES = 1 << 20


# -- reading the catalogue in chunks --------------------------------------------------------


class _Catalogue:
    """A catalogue file opened for streaming: record batches of the seven text columns."""

    def __init__(self, path: Path, *, batch_rows: int):
        self.path = path
        self.name = path.name
        suffix = path.suffix.lower()
        if suffix not in INPUT_FORMATS:
            raise SpecError(f"{path}: a catalogue is a .csv or .parquet file")
        self.format = INPUT_FORMATS[suffix]
        if not path.is_file():
            raise SpecError(f"{path}: no such catalogue file")
        self.size = path.stat().st_size
        self.line_base = 2 if self.format == "csv" else 1  # header line; rows count from 1
        self._batch_rows = batch_rows
        self._handle = None
        self._rows_total: int | None = None
        if self.format == "parquet":
            self._open_parquet()
        else:
            self._check_csv_header()

    # progress: bytes of the CSV read so far, or Parquet rows
    @property
    def progress_total(self) -> int:
        return self._rows_total if self._rows_total is not None else self.size

    def progress_done(self, rows: int) -> int:
        if self._rows_total is not None:
            return rows
        try:
            return min(self._handle.tell(), self.size) if self._handle else self.size
        except (OSError, ValueError):
            return self.size

    def _missing(self, names: Sequence[str]) -> None:
        missing = [c for c in CATALOGUE_COLUMNS if c not in names]
        if missing:
            where = "line 1" if self.format == "csv" else "schema"
            raise SpecError(
                f"{self.path}: {where}: missing column(s) {', '.join(missing)}; a catalogue "
                f"has the columns {', '.join(CATALOGUE_COLUMNS)}"
            )

    def _check_csv_header(self) -> None:
        try:
            with self.path.open(encoding="utf-8-sig", newline="") as handle:
                header = next(csv.reader(handle), [])
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"{self.path}: line 1: cannot read the catalogue ({exc})") from None
        self._missing([h.strip() for h in header])

    def _open_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            self._parquet = pq.ParquetFile(self.path)
        except (OSError, pa.ArrowException) as exc:
            raise SpecError(f"{self.path}: not a readable Parquet file ({exc})") from None
        self._missing(self._parquet.schema_arrow.names)
        self._rows_total = self._parquet.metadata.num_rows

    def batches(self) -> Iterator:
        """Record batches with the catalogue columns as (non-null) strings."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.format == "parquet":
            for batch in self._parquet.iter_batches(
                batch_size=self._batch_rows, columns=list(CATALOGUE_COLUMNS)
            ):
                arrays = [
                    pc.fill_null(pc.cast(batch.column(name), pa.string()), "")
                    for name in CATALOGUE_COLUMNS
                ]
                yield pa.RecordBatch.from_arrays(arrays, names=list(CATALOGUE_COLUMNS))
            return
        yield from self._csv_batches()

    def _csv_batches(self) -> Iterator:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        try:
            self._handle = self.path.open("rb")
            reader = pacsv.open_csv(
                self._handle,
                read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK_BYTES),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in CATALOGUE_COLUMNS},
                    include_columns=list(CATALOGUE_COLUMNS),
                    strings_can_be_null=False,
                ),
            )
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                yield batch
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise SpecError(self._malformed(str(exc))) from None
        except OSError as exc:
            raise SpecError(f"{self.path}: cannot read the catalogue ({exc})") from None
        finally:
            if self._handle is not None:
                self._handle.close()

    def _malformed(self, problem: str) -> str:
        """Find the first malformed line with the csv module (only on the error path)."""
        problem = problem.splitlines()[0] if problem else "malformed CSV"
        try:
            with self.path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.reader(handle)
                width = len(next(reader, []))
                for row in reader:
                    if len(row) != width:
                        return (
                            f"{self.path}: line {reader.line_num}: malformed CSV: expected "
                            f"{width} fields, got {len(row)}"
                        )
        except UnicodeDecodeError as exc:
            before = self.path.read_bytes()[: exc.start].count(b"\n") if exc.start else 0
            return f"{self.path}: line {before + 1}: not UTF-8 text ({exc.reason})"
        except csv.Error as exc:
            return f"{self.path}: line {reader.line_num}: malformed CSV ({exc})"
        return f"{self.path}: malformed CSV ({problem})"


def check_first_batch_grouped(reader: _Catalogue) -> None:
    """Raise :class:`NotGrouped` if a product comes back within the first batch of rows.

    Reads one batch (a 1 MB block of a CSV), so a shuffled catalogue is recognised
    before a whole chunk is read and cut.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    batches = reader.batches()
    try:
        batch = next(batches, None)
    finally:
        batches.close()
    if batch is None or batch.num_rows < 2:
        return
    ids = batch.column(0)
    starts = segment_starts(ids)
    if len(pc.unique(ids)) < len(starts):
        names = ids.take(pa.array(starts)).to_pylist()
        seen: set[str] = set()
        for start, name in zip(starts, names, strict=True):
            if name in seen:
                raise NotGrouped(reader.line_base + int(start))
            seen.add(name)


def _row_chunks(batches: Iterator, chunk_rows: int) -> Iterator:
    """Tables of exactly ``chunk_rows`` rows (the last may be shorter)."""
    import pyarrow as pa

    pending: list = []
    held = 0
    schema = None
    for batch in batches:
        schema = batch.schema
        offset = 0
        while offset < batch.num_rows:
            take = min(chunk_rows - held, batch.num_rows - offset)
            pending.append(batch.slice(offset, take))
            held += take
            offset += take
            if held == chunk_rows:
                yield pa.Table.from_batches(pending, schema=schema)
                pending, held = [], 0
    if held:
        yield pa.Table.from_batches(pending, schema=schema)


class NotGrouped(Exception):
    """The catalogue's rows are not grouped by product (not an input error: the rows
    are then grouped out of core). Carries the line where a product came back."""

    def __init__(self, line: int):
        super().__init__(f"line {line}: a product's rows come back after other products")
        self.line = line


class _Splitter:
    """Cut the row chunks at product boundaries; stop when a product's rows are split.

    The last product of each chunk is carried into the next. ``seen`` holds sorted runs
    of 64-bit hashes of the products already handed out (8 bytes a product; a run is
    merged with the one before when it grows to half its size, so there are O(log n)
    runs and each hash is copied O(log n) times). A product found again later raises
    :class:`NotGrouped` (so does a hash collision, ~2^-64 a pair: the slower grouping
    path then gives the same output).
    """

    def __init__(self, line_base: int):
        self.line = line_base
        self.carry = None  # the rows of the last product seen, until its end is known
        self.seen: list[np.ndarray] = []

    def feed(self, table):
        """The complete products of ``table`` after the carry (all of them for ``None``).

        The result is one contiguous table (the copy is made here, in the reading
        thread, rather than by the scorer).
        """
        import pyarrow as pa

        last = table is None
        if last:
            table, self.carry = self.carry, None
        else:
            lines = np.arange(self.line, self.line + table.num_rows, dtype=np.int64)
            self.line += table.num_rows
            table = table.append_column(LINE_COLUMN, pa.array(lines))
            if self.carry is not None:
                table = pa.concat_tables([self.carry, table])
        if table.num_rows == 0:
            return table.combine_chunks()
        ids = table["product_id"].combine_chunks()  # the other columns are not copied
        starts = segment_starts(ids)
        if not last:
            self.carry = table.slice(int(starts[-1]))
            table = table.slice(0, int(starts[-1]))
            starts = starts[:-1]
        if len(starts) == 0:
            return table.combine_chunks()
        names = ids.take(pa.array(starts))
        hashes = hash_strings(names)
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]  # sorted queries: searchsorted walks the runs in order
        again = np.zeros(len(ordered), dtype=bool)
        again[1:] = ordered[1:] == ordered[:-1]  # stable: the first occurrence is kept
        for run in self.seen:
            position = np.minimum(np.searchsorted(run, ordered), len(run) - 1)
            again |= run[position] == ordered
        if again.any():
            repeated = np.zeros(len(hashes), dtype=bool)
            repeated[order] = again
            first = starts[int(np.argmax(repeated))]
            raise NotGrouped(int(table[LINE_COLUMN].combine_chunks()[int(first)].as_py()))
        self._remember(ordered)
        return table.combine_chunks()

    def _remember(self, fresh: np.ndarray) -> None:
        if not len(fresh):
            return
        self.seen.append(fresh)
        while len(self.seen) > 1 and len(self.seen[-2]) <= 2 * len(self.seen[-1]):
            merged = np.concatenate(self.seen[-2:])
            merged.sort(kind="stable")  # timsort: linear on two sorted runs
            self.seen[-2:] = [merged]


def hash_strings(strings) -> np.ndarray:
    """64-bit hashes of the values of a pyarrow string array, vectorised over the values.

    Each value is read as 8-byte words (the last padded with zeros) and folded with the
    splitmix64 finaliser, starting from its length, so a hash does not depend on the
    other values; Python runs once per byte position, not per value. Not cryptographic:
    two given ids collide with probability ~2^-64.
    """
    import pyarrow as pa

    n = len(strings)
    offset_type = np.int64 if pa.types.is_large_string(strings.type) else np.int32
    buffers = strings.buffers()
    offsets = np.frombuffer(buffers[1], dtype=offset_type)[strings.offset : strings.offset + n + 1]
    offsets = offsets.astype(np.int64)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else None
    starts, lengths = offsets[:-1], np.diff(offsets)
    hashes = _mix64(lengths.astype(np.uint64) ^ np.uint64(0x9E3779B97F4A7C15))
    width = int(lengths.max(initial=0))
    shortest = int(lengths.min(initial=0))
    for word_start in range(0, width, 8):
        word = np.zeros(n, dtype=np.uint64)
        for b in range(word_start, min(word_start + 8, width)):
            shift = np.uint64(8 * (b % 8))
            if b < shortest:  # every value has this byte (the usual fixed-width ids)
                word |= data[starts + b].astype(np.uint64) << shift
            else:
                has = np.flatnonzero(lengths > b)
                word[has] |= data[starts[has] + b].astype(np.uint64) << shift
        mixed = _mix64(hashes ^ word)
        hashes = mixed if word_start < shortest else np.where(lengths > word_start, mixed, hashes)
    return hashes


def _mix64(z: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser (a bijection of uint64 with good avalanche)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _prepared_chunks(reader: _Catalogue, splitter: _Splitter, chunk_rows: int) -> Iterator:
    """(index, line items cut at product boundaries, rows read so far) per chunk.

    Chunk k holds the products whose end is seen in input rows [k * chunk_rows,
    (k + 1) * chunk_rows) (a product is carried over until the next one starts); the
    last product is a chunk of its own. So chunks do not depend on how the reader
    blocks the file. Every chunk goes through the splitter, also one a resumed run
    skips: the carry and the products seen depend on all the chunks before.
    """
    rows_read = n_chunks = 0
    for table in _row_chunks(reader.batches(), chunk_rows):
        rows_read += table.num_rows
        yield n_chunks, splitter.feed(table), rows_read
        n_chunks += 1
    if splitter.carry is not None:
        yield n_chunks, splitter.feed(None), rows_read


class _Prefetched:
    """Iterate ``items`` in a background thread, preparing the next while one is used.

    Arrow's streaming CSV reader parses on one core without holding the GIL, so on a
    2-core machine reading and cutting the next chunk overlaps scoring this one. At
    most ``ahead + 1`` items exist at a time (the one in use and those prepared ahead):
    the producer takes a slot before it starts an item and the consumer frees it when
    it asks for the next one.
    """

    _END = object()

    def __init__(self, items: Iterator, *, ahead: int = 1):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._slots = threading.Semaphore(ahead + 1)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._produce, args=(items,), name="cfp-batch-reader", daemon=True
        )
        self._thread.start()

    def _produce(self, items: Iterator) -> None:
        try:
            while self._take_slot():
                try:
                    item = next(items)
                except StopIteration:
                    break
                self._queue.put((item, None))
                del item
            self._queue.put((self._END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            self._queue.put((self._END, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # runs the generators' finally blocks (the open file) here

    def _take_slot(self) -> bool:
        while not self._stop.is_set():
            if self._slots.acquire(timeout=0.05):
                return True
        return False

    def __iter__(self) -> Iterator:
        while True:
            item, error = self._queue.get()
            if item is self._END:
                if error is not None:
                    raise error
                return
            yield item
            del item
            self._slots.release()

    def close(self) -> None:
        """Stop the producer (it may be waiting for a slot) and wait for it."""
        self._stop.set()
        self._thread.join()
