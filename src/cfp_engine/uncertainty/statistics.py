"""Monte Carlo statistics folded in part by part, in memory that does not grow with ``n``.

:class:`StreamingSummary` takes a Monte Carlo output (a product's total, a stage, a
paired difference) a part of the iterations at a time. Up to :data:`EXACT_LIMIT`
iterations it keeps every sample, and its statistics are exactly those of
:func:`summarise` over all of them, bit for bit.
Beyond that it keeps:

* the count, mean and sum of squared deviations, merged part by part (Chan, Golub and
  LeVeque's pairwise update): mean and sd to float rounding;
* the exact minimum and maximum;
* a histogram of :data:`BINS` equal bins over the range of the first
  :data:`EXACT_LIMIT` samples (values outside it are counted below or above).

A quantile is then read from the histogram (linear within its bin, like
``numpy.percentile``'s interpolation between order statistics), so it is within one bin
width of the exact one: ``quantile_error`` = (max - min of the first EXACT_LIMIT
samples) / BINS, about 1.5e-5 of that range. A quantile that falls below or above the
histogram's range (not seen in practice: the 2.5th percentile of 10^6 samples has
~25,000 samples below it) is bounded by the exact minimum or maximum instead.
Memory per output: EXACT_LIMIT x 8 bytes while filling, then BINS x 8 bytes.

:attr:`StreamingSummary.finite` tells whether the statistics are sure to be finite
numbers: a sample that is infinite or NaN, or samples so large that the sums
behind the mean and the sd overflow, make it False, and the caller names the input.
"""

from __future__ import annotations

import math
import sys

import numpy as np

#: Iterations whose samples are kept (statistics exact); 8 MB per output.
EXACT_LIMIT = 1_000_000
#: Histogram bins beyond :data:`EXACT_LIMIT` (512 KiB per output).
BINS = 1 << 16
#: The percentiles of a summary (contract section 9: median and the 95 % interval).
PERCENTILES = {"median": 50.0, "p2_5": 2.5, "p97_5": 97.5}


def summarise(samples: np.ndarray) -> dict[str, float]:
    """Mean, median, sd (n-1), 2.5th and 97.5th percentiles of ``samples``."""
    samples = np.asarray(samples, dtype=np.float64)
    low, median, high = np.percentile(samples, [2.5, 50.0, 97.5])
    return {
        "mean": float(samples.mean()),
        "median": float(median),
        "sd": float(samples.std(ddof=1)) if samples.size > 1 else 0.0,
        "p2_5": float(low),
        "p97_5": float(high),
    }


class StreamingSummary:
    """Mean, sd, median and 95 % interval of samples added part by part.

    Parameters
    ----------
    exact_limit
        Samples kept before switching to the histogram (default :data:`EXACT_LIMIT`,
        read when the summary is made).
    bins
        Histogram bins after the switch.
    """

    def __init__(self, *, exact_limit: int | None = None, bins: int = BINS):
        self.exact_limit = EXACT_LIMIT if exact_limit is None else exact_limit
        self.bins = bins
        self.n = 0
        self._parts: list[np.ndarray] | None = []
        self._mean = 0.0
        self._m2 = 0.0
        self._min = math.inf
        self._max = -math.inf
        self._edges: tuple[float, float] | None = None
        self._counts: np.ndarray | None = None  # [below, bin 0 .. bin B-1, above]

    @property
    def exact(self) -> bool:
        """True while every sample is kept (the statistics are exact)."""
        return self._parts is not None

    @property
    def samples(self) -> np.ndarray:
        """All samples (only while :attr:`exact`)."""
        if self._parts is None:
            raise ValueError("the samples were folded into a histogram")
        return np.concatenate(self._parts) if self._parts else np.zeros(0)

    def add(self, values: np.ndarray) -> None:
        """Fold in the next ``values`` (1-D, float64)."""
        values = np.asarray(values, dtype=np.float64)
        if not values.size:
            return
        # An overflow shows as inf or NaN in the running figures (see ``finite``), not as
        # a RuntimeWarning on the user's terminal.
        with np.errstate(over="ignore", invalid="ignore"):
            self._add(values)

    def _add(self, values: np.ndarray) -> None:
        count = values.size
        mean = float(values.mean())
        m2 = float(np.square(values - mean).sum())
        total = self.n + count
        delta = mean - self._mean
        self._mean += delta * count / total
        self._m2 += m2 + delta * delta * self.n * count / total
        self.n = total
        self._min = min(self._min, float(values.min()))
        self._max = max(self._max, float(values.max()))
        if self._parts is not None:
            self._parts.append(values)
            if self.n > self.exact_limit:
                kept = np.concatenate(self._parts)
                self._parts = None
                first = kept[: self.exact_limit]
                self._edges = (float(first.min()), float(first.max()))
                self._counts = np.zeros(self.bins + 2, dtype=np.int64)
                self._count(kept)
        else:
            self._count(values)

    @property
    def finite(self) -> bool:
        """Whether every statistic of the samples so far is sure to be a finite number.

        False when a sample is infinite or NaN, or when the samples are so large that a
        sum behind the mean or the sd may overflow: ``n x (2 x the largest |sample|)^2``
        must stay below the largest float, so samples up to about 6.7e150 (10^6 samples)
        are fine, far beyond any real footprint.
        """
        if self.n == 0:
            return True
        peak = max(abs(self._min), abs(self._max))
        if not (math.isfinite(self._mean) and math.isfinite(self._m2) and math.isfinite(peak)):
            return False
        return peak <= math.sqrt(sys.float_info.max / self.n) / 2.0

    def _count(self, values: np.ndarray) -> None:
        values = values[~np.isnan(values)]  # no bin; ``finite`` is False from now on
        low, high = self._edges
        if high > low:
            position = np.floor((values - low) / (high - low) * self.bins)
            index = np.clip(position, -1, self.bins).astype(np.int64) + 1
            # The top edge belongs to the last bin, as in numpy.histogram.
            index[values == high] = self.bins
        else:
            index = np.where(values < low, 0, np.where(values > high, self.bins + 1, 1))
        self._counts += np.bincount(index, minlength=self.bins + 2)

    def _bounds(self, slot: int) -> tuple[float, float]:
        """The interval of histogram slot ``slot`` (0: below the range, B + 1: above)."""
        low, high = self._edges
        width = (high - low) / self.bins
        if slot == 0:
            return self._min, low
        if slot > self.bins:
            return high, self._max
        return low + (slot - 1) * width, low + slot * width

    def _quantile(self, percent: float) -> tuple[float, float]:
        """A quantile from the histogram and a bound on its difference to the exact one."""
        rank = (self.n - 1) * percent / 100.0  # numpy.percentile's "linear" position
        cumulative = np.cumsum(self._counts)
        # The slots holding the order statistics floor(rank) and ceil(rank): the exact
        # quantile lies between them, so in the union of their intervals.
        first = int(np.searchsorted(cumulative, math.floor(rank), side="right"))
        last = int(np.searchsorted(cumulative, math.ceil(rank), side="right"))
        start, stop = self._bounds(first)
        inside = int(self._counts[first])
        before = int(cumulative[first - 1]) if first else 0
        fraction = min(max((rank - before + 0.5) / inside, 0.0), 1.0) if inside else 0.5
        value = start + fraction * (stop - start)
        low, high = start, self._bounds(last)[1]
        return value, max(value - low, high - value)

    def statistics(self) -> dict[str, float]:
        """The :func:`summarise` keys; past the limit also ``quantile_error``.

        ``quantile_error`` bounds the difference of each reported percentile to the exact
        one (about one bin width; 0 is never reported, the statistics are then exact).
        """
        if self.n == 0:
            raise ValueError("no samples")
        if self._parts is not None:
            return summarise(self.samples)
        quantiles = {key: self._quantile(percent) for key, percent in PERCENTILES.items()}
        return {
            "mean": self._mean,
            "median": quantiles["median"][0],
            "sd": math.sqrt(self._m2 / (self.n - 1)),
            "p2_5": quantiles["p2_5"][0],
            "p97_5": quantiles["p97_5"][0],
            "quantile_error": max(error for _, error in quantiles.values()),
        }
