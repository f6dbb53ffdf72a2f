"""Optional end-of-life treatments: a blank one in a materials table is "not modelled".

Contract section 5: a blank ``eol_recycling``, ``disposal`` or
``energy_recovery`` counts nothing for that role, and the result says so, naming the
component, material, role and the share of the mass it concerns; labels list it among
the exemptions. Only the treatments an approach needs are reported: cut-off has no
recycling process (recycling belongs to the next life cycle), and a treatment with a
zero share needs no activity. No Brightway here.
"""

from __future__ import annotations

from collections.abc import Sequence

from cfp_engine.engine.circularity import AllocationParameters, allocation_coefficients
from cfp_engine.spec.materials import MaterialSpec

#: End-of-life treatments a materials table may leave blank ("not modelled", contract
#: section 5), each with the credit roles that belong to the same term of the formula.
OPTIONAL_TREATMENTS = {
    "eol_recycling": ("virgin_substituted",),
    "energy_recovery": ("substituted_heat", "substituted_electricity"),
    "disposal": (),
}
#: How messages name the activity of each role.
ROLE_NAMES = {
    "recycled": "recycled route",
    "disposal": "disposal activity",
    "energy_recovery": "energy-recovery activity",
    "eol_recycling": "end-of-life recycling activity (ErecEoL)",
    "virgin": "virgin route",
}


def unmodelled_treatments(
    blank: Sequence[str], parameters: AllocationParameters, approach: str
) -> list[tuple[str, float]]:
    """The blank treatments ``approach`` would need, each with its share of the mass.

    Cut-off needs no recycling process (recycling belongs to the next life cycle), and
    a treatment with a zero share is not needed either.
    """
    needed = allocation_coefficients(approach, parameters)["end_of_life"]
    shares = {
        "eol_recycling": parameters.R2,
        "energy_recovery": parameters.R3,
        "disposal": max(0.0, 1.0 - parameters.R2 - parameters.R3),
    }
    return [(role, shares[role]) for role in blank if needed.get(role, 0.0) != 0.0]


def describe_unmodelled(
    material: MaterialSpec, role: str, share: float, approach: str, mass_kg: float | None = None
) -> str:
    """What a blank treatment leaves out, for warnings and label exemptions."""
    mass = f" ({share * mass_kg:.3g} kg)" if mass_kg is not None else ""
    text = (
        f"material {material.material!r} has no {ROLE_NAMES[role]} ({role} is blank in "
        f"{material.origin or 'its materials table'}): {role} of {share:.3g} of its "
        f"mass{mass} is not modelled and counts 0 kg CO2e"
    )
    if role == "eol_recycling":
        text += (
            f"; under {approach} the whole R2 term, (1-A)·R2·(ErecEoL - E*v·Qsout/Qp), "
            "is not modelled either: no recycling burden and no credit for the virgin "
            "material it replaces"
        )
    elif role == "energy_recovery" and approach != "cut-off":
        text += "; nor is the credit for the heat and electricity it would replace"
    return text
