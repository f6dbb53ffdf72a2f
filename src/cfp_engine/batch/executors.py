"""Where chunks are scored: in this process, in a process pool, or on a Dask cluster.

Each executor takes the :class:`~cfp_engine.batch.model.ScoringModel` once and then
accepts chunks with ``submit(table, source, first_line)``, returning an object with
``result()`` (a future, or the finished value); ``close()`` releases the workers.
"""

from __future__ import annotations

from cfp_engine.batch.model import ScoringModel
from cfp_engine.batch.scoring import score_line_items
from cfp_engine.errors import SpecError

_WORKER_MODEL: ScoringModel | None = None


def _init_worker(model: ScoringModel) -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = model


def _score_in_worker(table, source: str, first_line: bool):
    return score_line_items(_WORKER_MODEL, table, source=source, first_line=first_line)


class _Done:
    def __init__(self, value):
        self._value = value

    def result(self):
        return self._value


class InlineExecutor:
    """Score each chunk in this process when it is submitted."""

    def __init__(self, model: ScoringModel):
        self.model = model

    def submit(self, table, source: str, first_line: bool = False):
        """Score ``table`` now; the returned object's ``result()`` gives the scores."""
        return _Done(score_line_items(self.model, table, source=source, first_line=first_line))

    def close(self) -> None:
        """Nothing to release."""


class PoolExecutor:
    """A process pool; the model is pickled once per worker (``initargs``)."""

    def __init__(self, model: ScoringModel, workers: int):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: the parent runs Arrow's thread pools, and forking a process
        # with live threads can deadlock the child.
        self.pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(model,),
        )

    def submit(self, table, source: str, first_line: bool = False):
        """Send ``table`` to a worker; returns its future."""
        return self.pool.submit(_score_in_worker, table, source, first_line)

    def close(self) -> None:
        """Stop the workers, cancelling the chunks not started."""
        self.pool.shutdown(cancel_futures=True)


class DaskExecutor:
    """Dask distributed: the model is scattered to every worker once (broadcast)."""

    def __init__(self, model: ScoringModel, address: str, workers: int):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise SpecError(
                "dask: scoring on Dask needs dask.distributed: pip install 'cfp-engine[dask]'"
            ) from None
        self.cluster = None
        try:
            if address == "local":
                self.cluster = LocalCluster(
                    n_workers=max(workers, 1), threads_per_worker=1, processes=True
                )
                self.client = Client(self.cluster)
            else:
                self.client = Client(address, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise SpecError(f"dask: {address}: cannot connect to the scheduler ({exc})") from None
        self.model = self.client.scatter(model, broadcast=True, hash=False)

    def submit(self, table, source: str, first_line: bool = False):
        """Scatter ``table`` to the cluster and score it there; returns its future."""
        data = self.client.scatter(table, hash=False)
        return self.client.submit(
            score_line_items, self.model, data, source=source, first_line=first_line, pure=False
        )

    def close(self) -> None:
        """Close the client, and the cluster if this executor started it."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def open_executor(model: ScoringModel, *, dask: str | None, workers: int):
    """The executor for the options: Dask if ``dask`` is given, else a pool if ``workers > 1``."""
    if dask:
        return DaskExecutor(model, dask, workers)
    if workers > 1:
        return PoolExecutor(model, workers)
    return InlineExecutor(model)
