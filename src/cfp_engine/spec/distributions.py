"""Uncertainty of amounts: the ecoinvent pedigree method and spec distributions.

Background data (the built-in datasets)
---------------------------------------
Every exchange of a built-in dataset (``inventories/*.yaml``) except its reference
output gets a lognormal distribution in stats_arrays form (uncertainty type 2,
``loc = ln|amount|``, ``scale = ln(GSD)``, ``negative`` for negative amounts), with
the geometric standard deviation from the ecoinvent pedigree method (Frischknecht et
al. 2007, ecoinvent report No. 1 v2.0, section 7.6; Weidema et al. 2013, "Overview and
methodology. Data quality guideline for the ecoinvent database version 3", ecoinvent
report No. 1 (v3), chapter 10):

    GSD^2 = exp( sqrt( ln(U_b)^2 + sum_i ln(U_i)^2 ) )

``U_b`` is the basic uncertainty factor of the kind of exchange (Weidema et al. 2013,
Table 10.4) and ``U_i`` the uncertainty factors of the dataset's five pedigree scores
(Table 10.5). ecoinvent 3 states the same factors as variances of the underlying
normal, ``sigma_i^2 = (ln U_i / 2)^2`` (so U = 1.05 is the variance 0.0006 of the
guideline), and the formula above is ``sigma^2 = sum_i sigma_i^2`` with GSD = exp(sigma).

The factors (:data:`PEDIGREE_FACTORS`) are the default "ecoinvent v2 / v3" set as
transcribed in Chris Mutel's ``pedigree_matrix`` package (``version_1``; MIT licence):
scores 4 of geographical and 2 of technological correlation are "n.a." in the v2 table
and are filled there with the neighbouring factor, as here. The empirically revised
factors of Ciroth et al. (2016, Int J LCA 21:1338) are larger for reliability (1.54 at
score 2) and are not used. Basic factors used (:func:`basic_uncertainty`):

=============================================  ======  ================================
exchange                                        U_b     Table 10.4 row
=============================================  ======  ================================
CO2 to air (fossil or biogenic)                 1.05    air, CO2, combustion/process
CH4 to air                                      1.5     air, CH4, combustion
N2O to air                                      1.5     air, NOx / N2O, combustion
any other elementary flow                       1.5     air, inorganic emissions, others
technosphere input (energy, fuel supply,        1.05    demand of thermal energy,
material, waste treatment)                              electricity, semi-finished
                                                        products, waste treatment
technosphere input of a transport service       2.0     demand of transport services
=============================================  ======  ================================

Many built-in datasets are a published CO2e factor stored as one CO2 flow
(``co2e_only``); the basic factor of CO2 then understates the spread of a whole supply
chain, which the pedigree scores (technological and geographical correlation above
all) are meant to carry. A dataset without a pedigree block is scored 5 on every
indicator (the most uncertain), so missing quality information is never optimistic.

Spec amounts
------------
A spec amount (component mass, stage amount) or share (recycled content, end-of-life
rates) may carry a distribution:

* ``"23 g ± 5 %"`` (or ``+-``, ``+/-``): a normal distribution with standard deviation
  5 % of the amount (a relative sd of 0-100 %, exclusive; ``± 0.5 g`` is an absolute
  sd in the amount's unit). ``"30 % ± 5 %"`` on a share is an absolute sd of 5
  percentage points.
* a mapping: ``{amount: 23 g, distribution: lognormal, gsd: 1.1}``,
  ``{amount: 23 g, distribution: normal, sd: 2 g}`` (or ``sd: 5 %``),
  ``{amount: 23 g, distribution: triangular, min: 20 g, max: 27 g}`` (mode = amount),
  ``{amount: 23 g, distribution: uniform, min: 20 g, max: 27 g}``.

Normal distributions are truncated (not clipped) to amounts >= 0 and shares to [0, 1]:
the draw is made by the inverse CDF on the truncated range, so no probability piles up
at a bound. The deterministic result always uses ``amount`` (for a lognormal, the
median). No Brightway here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from cfp_engine.errors import SpecError, quote_input
from cfp_engine.spec.units import parse_plain_number

PEDIGREE_FIELDS = ("reliability", "completeness", "temporal", "geographical", "technological")

#: Uncertainty factors (contributions to GSD^2) for pedigree scores 1-5.
PEDIGREE_FACTORS: dict[str, tuple[float, ...]] = {
    "reliability": (1.00, 1.05, 1.10, 1.20, 1.50),
    "completeness": (1.00, 1.02, 1.05, 1.10, 1.20),
    "temporal": (1.00, 1.03, 1.10, 1.20, 1.50),
    "geographical": (1.00, 1.01, 1.02, 1.02, 1.10),
    "technological": (1.00, 1.00, 1.20, 1.50, 2.00),
}

#: Basic uncertainty factors (Weidema et al. 2013, Table 10.4), see the module docstring.
BASIC_CO2 = 1.05
BASIC_CH4_N2O = 1.5
BASIC_OTHER_FLOW = 1.5
BASIC_TECHNOSPHERE = 1.05
BASIC_TRANSPORT_SERVICE = 2.0

#: stats_arrays uncertainty type ids.
NO_UNCERTAINTY, LOGNORMAL, NORMAL, UNIFORM, TRIANGULAR = 0, 2, 3, 4, 5
DISTRIBUTIONS = ("normal", "lognormal", "triangular", "uniform")


def basic_uncertainty(
    exchange: Mapping[str, Any], *, input_dataset: Mapping | None = None
) -> float:
    """The basic uncertainty factor ``U_b`` of one built-in exchange (see the table above).

    Parameters
    ----------
    exchange
        The exchange as written in the inventory file (``flow`` or ``activity`` key).
    input_dataset
        For a technosphere input, the dataset it links to.
    """
    if "flow" in exchange:
        name = str(exchange["flow"]).lower()
        if name.startswith("carbon dioxide"):
            return BASIC_CO2
        if name.startswith("methane") or name.startswith("dinitrogen monoxide"):
            return BASIC_CH4_N2O
        return BASIC_OTHER_FLOW
    if input_dataset is not None and _is_transport_service(input_dataset):
        return BASIC_TRANSPORT_SERVICE
    return BASIC_TECHNOSPHERE


def _is_transport_service(dataset: Mapping[str, Any]) -> bool:
    # A well-to-tank fuel supply is counted in t*km but is a fuel demand (1.05).
    return dataset.get("category") == "transport" and str(dataset.get("name", "")).startswith(
        "transport,"
    )


def pedigree_gsd(basic: float, pedigree: Mapping[str, int] | None) -> float:
    """GSD from the basic factor and the five pedigree scores (1-5).

    ``GSD^2 = exp(sqrt(ln(U_b)^2 + sum_i ln(U_i)^2))``. A missing pedigree, or a missing
    indicator, counts as score 5.

    Raises
    ------
    SpecError
        A score outside 1-5 or a basic factor below 1.
    """
    if not basic >= 1.0:
        raise SpecError(f"basic uncertainty factor {basic!r} must be >= 1")
    total = math.log(basic) ** 2
    for name in PEDIGREE_FIELDS:
        score = (pedigree or {}).get(name, 5)
        if isinstance(score, bool) or score not in (1, 2, 3, 4, 5):
            raise SpecError(f"pedigree {name} = {score!r} is not a score 1-5")
        total += math.log(PEDIGREE_FACTORS[name][int(score) - 1]) ** 2
    return math.exp(math.sqrt(total) / 2.0)


def lognormal_fields(amount: float, gsd: float) -> dict[str, Any]:
    """The stats_arrays fields of a lognormal with median ``|amount|`` and ``gsd``.

    A zero amount or a GSD of 1 gets no uncertainty (type 0).
    """
    if amount == 0.0 or gsd <= 1.0:
        return {"uncertainty type": NO_UNCERTAINTY, "loc": amount}
    return {
        "uncertainty type": LOGNORMAL,
        "loc": math.log(abs(amount)),
        "scale": math.log(gsd),
        "negative": amount < 0,
    }


# -- spec amounts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Distribution:
    """The distribution of one spec value, in the value's own unit (or as a share).

    ``kind`` is ``normal`` (``spread`` = sd), ``lognormal`` (``spread`` = GSD; the value
    is the median), ``triangular`` (mode = value) or ``uniform`` (``low``/``high``).
    ``low``/``high`` bound the support (normal: the truncation, e.g. 0 and 1 for a share).
    """

    kind: str
    value: float
    spread: float = 0.0
    low: float = -math.inf
    high: float = math.inf

    def scaled(self, factor: float) -> Distribution:
        """The same distribution in another unit (``factor`` > 0)."""
        spread = self.spread if self.kind == "lognormal" else self.spread * factor
        return Distribution(
            self.kind, self.value * factor, spread, self.low * factor, self.high * factor
        )

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Values at the probabilities ``u`` (inverse CDF): one uniform draw -> one value."""
        from scipy.special import ndtr, ndtri

        if self.kind == "normal":
            if self.spread == 0.0:
                return np.full_like(u, self.value)
            a = ndtr((self.low - self.value) / self.spread)
            b = ndtr((self.high - self.value) / self.spread)
            return self.value + self.spread * ndtri(a + u * (b - a))
        if self.kind == "lognormal":
            return self.value * np.exp(math.log(self.spread) * ndtri(u))
        if self.kind == "uniform":
            return self.low + u * (self.high - self.low)
        # triangular, mode = value
        low, mode, high = self.low, self.value, self.high
        width = high - low
        if width == 0.0:
            return np.full_like(u, mode)
        cut = (mode - low) / width
        left = low + np.sqrt(u * width * (mode - low))
        right = high - np.sqrt((1.0 - u) * width * (high - mode))
        return np.where(u < cut, left, right)

    def describe(self) -> str:
        if self.kind == "normal":
            return f"normal(sd {self.spread:g})"
        if self.kind == "lognormal":
            return f"lognormal(GSD {self.spread:g})"
        return f"{self.kind}({self.low:g}-{self.high:g})"


_PLUS_MINUS = re.compile(r"^(?P<value>.*?)\s*(?:±|\+/-|\+-)\s*(?P<spread>.+)$")


def split_uncertain(value: Any, *, where: str) -> tuple[Any, Any]:
    """``(nominal, uncertainty)`` of a spec value: ``"23 g ± 5 %"``, a mapping, or plain.

    ``uncertainty`` is ``None`` (no distribution), the text after ``±``, or the mapping.
    """
    if isinstance(value, Mapping):
        if "amount" not in value:
            raise SpecError(f"{where}: a distribution mapping needs 'amount' (the central value)")
        unknown = set(value) - {"amount", "distribution", "sd", "gsd", "min", "max"}
        if unknown:
            raise SpecError(
                f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                "(expected amount, distribution, sd, gsd, min, max)"
            )
        return value["amount"], dict(value)
    if isinstance(value, str):
        match = _PLUS_MINUS.match(value.strip())
        if match:
            return match.group("value").strip(), match.group("spread").strip()
    return value, None


def _spread(raw: Any, nominal: float, parse_other, where: str, what: str) -> float:
    """A standard deviation: ``"5 %"`` of the nominal value, or an absolute amount."""
    relative = _relative(raw, where) if isinstance(raw, str) else None
    if relative is not None:
        _check_relative(relative, raw, where)
        return relative * abs(nominal)
    sd = parse_other(raw)
    if not sd > 0:
        raise SpecError(f"{what} must be a positive spread")
    return sd


def _relative(text: str, where: str) -> float | None:
    text = text.strip()
    if not text.endswith("%"):
        return None
    number = parse_plain_number(text[:-1].strip())
    if number is None:
        raise SpecError(
            f"{where}: ± {quote_input(text)} is not a percentage; write e.g. '5 %' or '2.5 %' "
            "(a decimal point, not a comma)"
        )
    return number / 100.0


def parse_amount_distribution(
    uncertainty: Any, nominal: float, parse_other, *, where: str
) -> Distribution | None:
    """The distribution of an amount whose nominal magnitude is ``nominal``.

    ``parse_other(text)`` converts another quantity given in the distribution (an
    absolute sd, a min or max) to the nominal's unit and returns its magnitude.
    """
    if uncertainty is None:
        return None
    if isinstance(uncertainty, str):
        sd = _spread(uncertainty, nominal, parse_other, where, f"{where}: ± {uncertainty!r}")
        return Distribution("normal", nominal, sd, low=0.0)
    kind = uncertainty.get("distribution", "normal")
    if kind not in DISTRIBUTIONS:
        raise SpecError(f"{where}.distribution: {kind!r} is not one of {', '.join(DISTRIBUTIONS)}")
    if kind == "lognormal":
        gsd = _positive_number(uncertainty.get("gsd"), f"{where}.gsd", above=1.0)
        if nominal <= 0:
            raise SpecError(f"{where}: a lognormal needs a positive amount, got {nominal:g}")
        return Distribution("lognormal", nominal, gsd, low=0.0)
    if kind == "normal":
        raw = uncertainty.get("sd")
        if raw is None:
            raise SpecError(f"{where}: a normal distribution needs 'sd' (e.g. '5 %' or '1 g')")
        sd = _spread(raw, nominal, parse_other, where, f"{where}.sd: {raw!r}")
        return Distribution("normal", nominal, sd, low=0.0)
    low, high = _bounds(uncertainty, parse_other, nominal, where, kind)
    if low < 0:
        raise SpecError(f"{where}.min: {uncertainty['min']!r} is negative; amounts are >= 0")
    return Distribution(kind, nominal, 0.0, low, high)


def parse_share_distribution(
    uncertainty: Any, nominal: float, parse_share, *, where: str
) -> Distribution | None:
    """The distribution of a share (recycled content, end-of-life rate), within [0, 1].

    ``± 5 %`` is 5 percentage points; a lognormal is not offered for shares.
    """
    if uncertainty is None:
        return None
    if isinstance(uncertainty, str):
        sd = parse_share(uncertainty, where=f"{where} (± spread)")
        if not sd > 0 or sd >= 1.0:
            raise SpecError(f"{where}: ± {uncertainty!r} must be between 0 and 100 %")
        return Distribution("normal", nominal, sd, low=0.0, high=1.0)
    kind = uncertainty.get("distribution", "normal")
    if kind not in ("normal", "triangular", "uniform"):
        raise SpecError(
            f"{where}.distribution: {kind!r} is not normal, triangular or uniform (for a share)"
        )
    if kind == "normal":
        if uncertainty.get("sd") is None:
            raise SpecError(f"{where}: a normal distribution needs 'sd' (e.g. '5 %')")
        sd = parse_share(uncertainty["sd"], where=f"{where}.sd")
        if not sd > 0:
            raise SpecError(f"{where}.sd: {uncertainty['sd']!r} must be positive")
        return Distribution("normal", nominal, sd, low=0.0, high=1.0)
    low = parse_share(uncertainty.get("min", nominal), where=f"{where}.min")
    high = parse_share(uncertainty.get("max", nominal), where=f"{where}.max")
    if not low <= nominal <= high or low == high:
        raise SpecError(
            f"{where}: need min <= amount <= max and min < max, got "
            f"{low:.1%} / {nominal:.1%} / {high:.1%}"
        )
    return Distribution(kind, nominal, 0.0, low, high)


def _check_relative(relative: float, text: Any, where: str) -> None:
    if not 0.0 < relative < 1.0:
        raise SpecError(
            f"{where}: ± {text!r} must be a relative spread above 0 % and below 100 % "
            "(a normal with a larger spread is mostly negative; use a lognormal with 'gsd')"
        )


def _positive_number(raw: Any, where: str, *, above: float) -> float:
    if (
        isinstance(raw, bool)
        or not isinstance(raw, (int, float))
        or not math.isfinite(raw)
        or not raw > above
    ):
        raise SpecError(f"{where}: expected a finite number above {above:g}, got {raw!r}")
    return float(raw)


def _bounds(uncertainty, parse_other, nominal, where, kind) -> tuple[float, float]:
    if "min" not in uncertainty or "max" not in uncertainty:
        raise SpecError(f"{where}: a {kind} distribution needs 'min' and 'max'")
    low, high = parse_other(uncertainty["min"]), parse_other(uncertainty["max"])
    if not low <= nominal <= high or low == high:
        raise SpecError(
            f"{where}: need min <= amount <= max and min < max, "
            f"got {low:g} / {nominal:g} / {high:g}"
        )
    return low, high


# -- sampling stats_arrays parameter arrays ----------------------------------------------


def sample_parameters(params: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """Draw ``size`` samples of every row of a stats_arrays parameter array.

    Vectorised with a numpy ``Generator`` (one draw of shape ``(size, len(params))``
    per distribution type, in a fixed order), so the draws depend only on ``rng``.
    Supported: 0/1 (fixed at ``amount``/``loc``), 2 lognormal, 3 normal, 4 uniform,
    5 triangular; any other type is an error.

    Returns
    -------
    numpy.ndarray
        Shape ``(size, len(params))``.
    """
    kinds = params["uncertainty_type"]
    amount = params["amount"] if "amount" in params.dtype.names else params["loc"]
    out = np.broadcast_to(np.asarray(amount, dtype=np.float64), (size, len(params))).copy()
    negative = params["negative"].astype(bool) if "negative" in params.dtype.names else None
    for kind in np.unique(kinds):
        cols = np.flatnonzero(kinds == kind)
        p = params[cols]
        if kind in (0, 1):
            continue
        if kind == LOGNORMAL:
            values = np.exp(p["loc"] + p["scale"] * rng.standard_normal((size, cols.size)))
            if negative is not None:
                values[:, negative[cols]] *= -1.0
        elif kind == NORMAL:
            values = p["loc"] + p["scale"] * rng.standard_normal((size, cols.size))
        elif kind == UNIFORM:
            values = p["minimum"] + (p["maximum"] - p["minimum"]) * rng.random((size, cols.size))
        elif kind == TRIANGULAR:
            low, mode, high = p["minimum"], p["loc"], p["maximum"]
            u = rng.random((size, cols.size))
            width = high - low
            cut = np.where(width > 0, (mode - low) / np.where(width > 0, width, 1.0), 0.5)
            left = low + np.sqrt(u * width * (mode - low))
            right = high - np.sqrt((1.0 - u) * width * (high - mode))
            values = np.where(u < cut, left, right)
        else:
            raise SpecError(
                f"uncertainty type {int(kind)} (stats_arrays) is not supported by the "
                "Monte Carlo engine; supported: 0/1 none, 2 lognormal, 3 normal, "
                "4 uniform, 5 triangular"
            )
        out[:, cols] = values
    return out
