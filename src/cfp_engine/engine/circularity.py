"""Recycled content and end-of-life allocation, as pure functions of the parameters.

Each approach turns the parameters of one component into the amount of each *role* per
kg of material (contract section 4):

============================  =====================================================
role                          what it stands for in the formulas
============================  =====================================================
``virgin``                    Ev, virgin material production (per kg)
``recycled``                  Erec, recycled material production (per kg)
``eol_recycling``             ErecEoL, recycling of the material at end of life
``virgin_substituted``        E*v, the virgin material that recycled output replaces
``energy_recovery``           E_ER, incineration with energy recovery
``substituted_heat``          E_SE,heat: MJ of heat replaced per kg (a credit)
``substituted_electricity``   E_SE,elec: MJ of electricity replaced per kg (a credit)
``disposal``                  ED, disposal (landfill, incineration without recovery)
============================  =====================================================

The engine multiplies these amounts by the component mass and by the per-unit scores of
each role's activity, so the formula here is the whole of the allocation. Recycled-
content terms go to raw materials, the R2, R3 and disposal terms to end of life. No
Brightway here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from cfp_engine.errors import SpecError

#: Roles whose amount is an energy in MJ per kg of material (the others: kg per kg).
ENERGY_ROLES = ("substituted_heat", "substituted_electricity")
#: PEF's range for A (Recommendation (EU) 2021/2279, Annex I, 4.4.8.1, Annex C).
PEF_A_RANGE = (0.2, 0.8)
#: The PEF rule when Annex C lists no A for a material.
DEFAULT_A = 0.5


@dataclass(frozen=True)
class AllocationParameters:
    """The parameters of one component, checked on creation.

    R1, R2, R3, A, B are shares in [0, 1] with R2 + R3 <= 1; the quality ratios are
    > 0. ``heat_MJ_per_kg`` and ``electricity_MJ_per_kg`` are the energy recovered per kg
    of material (LHV x X_ER,heat and LHV x X_ER,elec), 0 where the data define none.
    """

    R1: float = 0.0
    R2: float = 0.0
    R3: float = 0.0
    A: float = DEFAULT_A
    B: float = 0.0
    Qsin_Qp: float = 1.0
    Qsout_Qp: float = 1.0
    heat_MJ_per_kg: float = 0.0
    electricity_MJ_per_kg: float = 0.0

    def __post_init__(self):
        for name in ("R1", "R2", "R3", "A", "B"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise SpecError(f"{name} = {value:g} is outside [0, 1]")
        if self.R2 + self.R3 > 1.0 + 1e-12:
            raise SpecError(f"R2 + R3 = {self.R2 + self.R3:g} is more than 1")
        for name in ("Qsin_Qp", "Qsout_Qp"):
            if not 0.0 < getattr(self, name) < math.inf:
                raise SpecError(f"{name} = {getattr(self, name):g} must be > 0 and finite")
        for name in ("heat_MJ_per_kg", "electricity_MJ_per_kg"):
            if not 0.0 <= getattr(self, name) < math.inf:
                raise SpecError(f"{name} = {getattr(self, name):g} must be >= 0 and finite")

    def warnings(self) -> list[str]:
        """Values allowed but outside what PEF expects (not errors)."""
        notes = []
        low, high = PEF_A_RANGE
        if not low <= self.A <= high:
            notes.append(f"A = {self.A:g} is outside PEF's range {low:g}-{high:g}")
        for name in ("Qsin_Qp", "Qsout_Qp"):
            if getattr(self, name) > 1.0:
                notes.append(
                    f"{name} = {getattr(self, name):g} is above 1 (recycling that improves quality)"
                )
        return notes

    def as_dict(self) -> dict[str, float]:
        # The fields by name, as dataclasses.asdict gives them, without its deep copy
        # of each float (a tenth of a 10^5-component calculation).
        return {name: getattr(self, name) for name in _PARAMETER_NAMES}


_PARAMETER_NAMES = tuple(f.name for f in fields(AllocationParameters))
Coefficients = dict[str, dict[str, float]]


def cut_off(p: AllocationParameters) -> Coefficients:
    """Cut-off (recycled-content) approach, per kg of material.

    ``(1-R1)·Ev + R1·Erec`` in raw materials; ``R3·E_ER + (1-R2-R3)·ED`` at end of
    life. Recycling at end of life carries no burden and earns no credit: it belongs to
    the next life cycle (ISO 14067 §6.4.6.3; GHG Protocol Product Standard).
    """
    return {
        "raw_materials": {"virgin": 1.0 - p.R1, "recycled": p.R1},
        "end_of_life": {"energy_recovery": p.R3, "disposal": max(0.0, 1.0 - p.R2 - p.R3)},
    }


def circular_footprint_formula(p: AllocationParameters) -> Coefficients:
    """The PEF Circular Footprint Formula (Recommendation (EU) 2021/2279, Annex I 4.4.8).

    ``(1-R1)·Ev + R1·(A·Erec + (1-A)·Ev·Qsin/Qp)`` in raw materials;
    ``(1-A)·R2·(ErecEoL - E*v·Qsout/Qp) + (1-B)·R3·(E_ER - LHV·X_heat·E_SE,heat -
    LHV·X_elec·E_SE,elec) + (1-R2-R3)·ED`` at end of life.
    """
    energy = (1.0 - p.B) * p.R3
    return {
        "raw_materials": {
            "virgin": (1.0 - p.R1) + p.R1 * (1.0 - p.A) * p.Qsin_Qp,
            "recycled": p.R1 * p.A,
        },
        "end_of_life": {
            "eol_recycling": (1.0 - p.A) * p.R2,
            "virgin_substituted": -(1.0 - p.A) * p.R2 * p.Qsout_Qp,
            "energy_recovery": energy,
            "substituted_heat": -energy * p.heat_MJ_per_kg,
            "substituted_electricity": -energy * p.electricity_MJ_per_kg,
            "disposal": max(0.0, 1.0 - p.R2 - p.R3),
        },
    }


def avoided_burden(p: AllocationParameters) -> Coefficients:
    """Avoided burden (end-of-life recycling approach): the CFF with A = 0, Q ratios 1.

    Recycled content then earns nothing in raw materials; recycling at end of life is
    credited with the virgin material it replaces.
    """
    return circular_footprint_formula(replace(p, A=0.0, Qsin_Qp=1.0, Qsout_Qp=1.0))


#: The allocation approaches by name: the one list of them (the CLI's choices, ``all``).
APPROACHES = {
    "cut-off": cut_off,
    "avoided-burden": avoided_burden,
    "cff": circular_footprint_formula,
}
#: The approach when neither the caller nor the spec names one.
DEFAULT_APPROACH = "cut-off"


def allocation_coefficients(approach: str, parameters: AllocationParameters) -> Coefficients:
    """Role amounts per kg of material under ``approach`` (see the module docstring)."""
    try:
        return APPROACHES[approach](parameters)
    except KeyError:
        raise SpecError(
            f"unknown approach {approach!r} (available: {', '.join(APPROACHES)})"
        ) from None


def burden_per_kg(
    approach: str, parameters: AllocationParameters, factors: Mapping[str, float]
) -> dict[str, float]:
    """kg CO2e per kg of material by stage, from per-unit factors of each role.

    ``factors`` maps a role to its kg CO2e per kg (per MJ for the energy roles); a role
    missing from it counts 0. This is the formula on plain numbers, for checks and
    worked examples; the engine applies the same coefficients to Brightway scores.
    """
    coefficients = allocation_coefficients(approach, parameters)
    return {
        stage: sum(amount * factors.get(role, 0.0) for role, amount in roles.items())
        for stage, roles in coefficients.items()
    }
