"""Recycled content and end-of-life allocation, as pure functions of the rates.

Each approach turns the rates of one component (R1 recycled content, R2 end-of-life
recycling, R3 energy recovery) into the amount of each *role* per kg of material:
``virgin`` and ``recycled`` production in the raw-material stage, ``disposal`` and
``energy_recovery`` treatment at end of life. The engine multiplies these by the
component mass and by the per-unit scores of the role's activity, so the formula here
is the whole of the allocation (contract section 4). No Brightway here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import SpecError

ROLES_BY_STAGE = {
    "raw_materials": ("virgin", "recycled"),
    "end_of_life": ("eol_recycling", "energy_recovery", "disposal"),
}


@dataclass(frozen=True)
class CircularityRates:
    """R1, R2, R3 of one component, checked on creation (shares in [0, 1])."""

    R1: float = 0.0
    R2: float = 0.0
    R3: float = 0.0

    def __post_init__(self):
        for name in ("R1", "R2", "R3"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise SpecError(f"{name} = {value:g} is outside [0, 1]")
        if self.R2 + self.R3 > 1.0 + 1e-12:
            raise SpecError(f"R2 + R3 = {self.R2 + self.R3:g} is more than 1")


def cut_off(rates: CircularityRates) -> dict[str, dict[str, float]]:
    """Cut-off (recycled-content) approach, per kg of material.

    ``(1-R1)·Ev + R1·Erec`` in raw materials; ``R3·E_ER + (1-R2-R3)·ED`` at end of
    life. Recycling at end of life carries no burden and earns no credit here: the
    recycling process belongs to the next life cycle (ISO 14067 §6.4.6.3, GHG
    Protocol Product Standard "recycled content" method).
    """
    return {
        "raw_materials": {"virgin": 1.0 - rates.R1, "recycled": rates.R1},
        "end_of_life": {
            "energy_recovery": rates.R3,
            "disposal": max(0.0, 1.0 - rates.R2 - rates.R3),
        },
    }


APPROACHES = {"cut-off": cut_off}


def allocation_coefficients(approach: str, rates: CircularityRates) -> dict[str, dict[str, float]]:
    """Role amounts per kg of material under ``approach``."""
    try:
        return APPROACHES[approach](rates)
    except KeyError:
        raise SpecError(
            f"approach {approach!r} is not available in this version "
            f"(available: {', '.join(APPROACHES)})"
        ) from None
