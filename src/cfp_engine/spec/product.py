"""Read and validate product specs (YAML or JSON) into frozen dataclasses.

The structure is checked with the JSON Schema in ``schemas/product-spec.schema.json``;
the values (quantities, shares, references) are then parsed with the unit layer, so
every message names the file and the field: ``bottle.yaml: components[1].mass: ...``.
No Brightway here.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfp_engine.errors import SpecError
from cfp_engine.spec.battery import BatterySpec, parse_battery
from cfp_engine.spec.conversion import magnitude_in
from cfp_engine.spec.distributions import (
    Distribution,
    parse_amount_distribution,
    parse_share_distribution,
    split_uncertain,
)
from cfp_engine.spec.documents import DocumentError, load_json, load_yaml
from cfp_engine.spec.pv import PvSpec, parse_pv
from cfp_engine.spec.schema import validate_structure
from cfp_engine.spec.service_life import DeliveredEnergyUnit
from cfp_engine.spec.units import parse_amount, parse_quantity, parse_share

if TYPE_CHECKING:
    import pint

#: Life-cycle stages (ISO 14067 / Japanese CFP guideline), in report order.
STAGES = ("raw_materials", "production", "distribution", "use", "end_of_life")
#: Stages whose entries are activity amounts in the spec.
ACTIVITY_STAGES = STAGES[1:]


@dataclass(frozen=True)
class EndOfLifeSpec:
    """End-of-life overrides of one component; ``None`` means "from the material"."""

    recycling: float | None = None  # R2, share of mass recycled
    energy_recovery: float | None = None  # R3, share of mass incinerated with recovery
    recycling_activity: str | None = None
    disposal_activity: str | None = None
    energy_recovery_activity: str | None = None
    #: Distributions of ``recycling`` and ``energy_recovery`` (shares), where given.
    distributions: Mapping[str, Distribution] = field(default_factory=dict)


@dataclass(frozen=True)
class ComponentSpec:
    """One part of the product: a material (or explicit routes) and its mass."""

    id: str
    mass: pint.Quantity
    material: str | None = None
    virgin: str | None = None
    recycled: str | None = None
    recycled_content: float = 0.0  # R1
    end_of_life: EndOfLifeSpec | None = None
    cff: Mapping[str, float] = field(default_factory=dict)
    packaging: bool = False
    where: str = ""
    #: Distributions of ``mass`` (in kg) and ``recycled_content`` (share), where given.
    distributions: Mapping[str, Distribution] = field(default_factory=dict)

    @cached_property
    def mass_kg(self) -> float:
        """The mass in kg (converted once: the calculation reads it per demand item)."""
        return magnitude_in(self.mass, "kilogram")


@dataclass(frozen=True)
class ActivityAmountSpec:
    """An amount of an activity in a stage (``7.7 t*km`` of ``transport, lorry``)."""

    activity: str
    amount: pint.Quantity
    where: str = ""
    #: Distribution of the amount's magnitude (in the unit written), where given.
    distribution: Distribution | None = None


@dataclass(frozen=True)
class ProductSpec:
    """A validated product spec; ``variant`` names the variant applied, if any."""

    id: str
    name: str
    declared_unit: str
    components: tuple[ComponentSpec, ...]
    stages: Mapping[str, tuple[ActivityAmountSpec, ...]]
    geography: str | None = None
    approach: str | None = None
    inventories: tuple[Path, ...] = ()
    materials: tuple[Path, ...] = ()
    variants: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    variant: str | None = None
    label: Mapping[str, Any] = field(default_factory=dict)
    #: The battery functional unit and Battery Pass facts (``battery:``), if given.
    battery: BatterySpec | None = None
    #: The PV functional unit, kWh delivered (``pv:``), if given.
    pv: PvSpec | None = None
    source: str = "<spec>"
    sha256: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def variant_names(self) -> tuple[str, ...]:
        return tuple(self.variants)

    def delivered_energy(self) -> DeliveredEnergyUnit | None:
        """The functional unit of energy delivered over the service life, if the spec has one.

        A ``battery:`` or ``pv:`` section asks for it; the footprint per declared unit is
        then also given per kWh delivered (:meth:`DeliveredEnergyUnit.per_kwh`).

        Raises
        ------
        SpecError
            The declared unit cannot be turned into energy delivered, or an input it
            needs is missing.
        """
        if self.battery is not None:
            return self.battery.delivered_energy(self.declared_unit, f"{self.source}: battery")
        if self.pv is not None:
            return self.pv.delivered_energy(self.declared_unit, f"{self.source}: pv")
        return None

    def with_variant(self, name: str | None) -> ProductSpec:
        """The spec with the named variant's overrides applied (``None``: unchanged)."""
        if name is None:
            return self
        if name not in self.variants:
            known = ", ".join(self.variants) or "none"
            raise SpecError(f"{self.source}: unknown variant {name!r} (variants: {known})")
        merged = _apply_variant(self.raw, name, self.variants[name], self.source)
        return replace(_parse_document(merged, self.source, self._base_dir()), variant=name)

    def _base_dir(self) -> Path:
        return Path(self.source).parent if self.source != "<spec>" else Path.cwd()


def load_spec(path: str | Path) -> ProductSpec:
    """Read a product spec file (``.yaml``, ``.yml`` or ``.json``).

    Raises
    ------
    SpecError
        The file is missing, malformed, or a field is invalid; the message names the
        file and the field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such spec file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the spec ({exc})") from None
    document = _parse_text(text, path)
    return _parse_document(document, str(path), path.parent)


def spec_from_dict(
    document: Mapping[str, Any], *, source: str = "<spec>", base_dir: Path | None = None
) -> ProductSpec:
    """Validate a spec given as a Python mapping (the structure of a spec file)."""
    return _parse_document(copy.deepcopy(dict(document)), source, base_dir or Path.cwd())


def canonical_json(document: Any) -> str:
    """Canonical JSON (sorted keys, no spaces) used for hashes."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# -- parsing ---------------------------------------------------------------------------


def yaml_load(text: str) -> Any:
    """Parse YAML safely (no Python objects, dates kept as strings, bounded size)."""
    return load_yaml(text)


def _parse_text(text: str, path: Path) -> Any:
    import yaml

    kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
    try:
        return load_json(text) if kind == "JSON" else load_yaml(text)
    except DocumentError as exc:
        line = f":{exc.line}" if exc.line else ""
        raise SpecError(f"{path}{line}: {exc.problem}") from None
    except json.JSONDecodeError as exc:
        raise SpecError(f"{path}:{exc.lineno}: malformed JSON: {exc.msg}") from None
    except RecursionError:  # a safety net: depth is checked before decoding
        raise SpecError(f"{path}: nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{path}{line}: malformed YAML: {problem}") from None


def _parse_document(document: Any, source: str, base_dir: Path) -> ProductSpec:
    validate_structure(document, source)
    product = document["product"]
    declared = product["declared_unit"]
    _check_declared_unit(declared, source)
    components = tuple(
        _parse_component(item, f"{source}: components[{i}]")
        for i, item in enumerate(document.get("components", []))
    )
    ids = [c.id for c in components]
    duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
    if duplicates:
        raise SpecError(f"{source}: components: duplicate id {', '.join(duplicates)}")
    stages = {
        stage: tuple(
            _parse_stage_item(item, f"{source}: stages.{stage}[{i}]")
            for i, item in enumerate(document.get("stages", {}).get(stage, []) or [])
        )
        for stage in ACTIVITY_STAGES
    }
    if not components and not any(stages.values()):
        raise SpecError(f"{source}: the product has no components and no stage activities")
    battery = None
    if document.get("battery") is not None:
        battery = parse_battery(document["battery"], f"{source}: battery")
        unknown = [e.component for e in battery.elements if e.component not in set(ids)]
        if unknown:
            raise SpecError(
                f"{source}: battery.elements: unknown component {', '.join(unknown)} "
                f"(components: {', '.join(ids)})"
            )
    pv = None
    if document.get("pv") is not None:
        if battery is not None:
            raise SpecError(
                f"{source}: give either a 'battery:' or a 'pv:' section, not both (each sets "
                "the energy the product delivers over its life)"
            )
        pv = parse_pv(document["pv"], f"{source}: pv")
    variants = document.get("variants", {}) or {}
    for name, variant in variants.items():
        _check_variant(name, variant, ids, source)
        if variant.get("pv"):
            if pv is None:
                raise SpecError(
                    f"{source}: variants.{name}.pv changes a 'pv:' section the spec does not have"
                )
            parse_pv({**document["pv"], **variant["pv"]}, f"{source}: variants.{name}.pv")
    spec = ProductSpec(
        id=product["id"],
        name=product["name"],
        declared_unit=str(declared).strip(),
        geography=product.get("geography"),
        approach=document.get("approach"),
        inventories=tuple(_resolve(base_dir, p) for p in document.get("inventories", [])),
        materials=tuple(_resolve(base_dir, p) for p in document.get("materials", [])),
        components=components,
        stages=stages,
        variants=variants,
        label=document.get("label", {}) or {},
        battery=battery,
        pv=pv,
        source=source,
        sha256=hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest(),
        raw=document,
    )
    spec.delivered_energy()  # a declared unit that cannot be turned into kWh fails here
    return spec


def _check_declared_unit(declared: str, source: str) -> None:
    quantity = parse_quantity(declared, where=f"{source}: product.declared_unit")
    if quantity.magnitude <= 0:
        raise SpecError(f"{source}: product.declared_unit: {declared!r} must be positive")


def _resolve(base_dir: Path, relative: str) -> Path:
    return (base_dir / relative).resolve()


def _parse_mass(value: Any, where: str) -> tuple[pint.Quantity, Distribution | None]:
    """A mass, possibly with a distribution (in kg): ``23 g ± 5 %`` or a mapping."""
    nominal, uncertainty = split_uncertain(value, where=where)
    mass = parse_amount(nominal, "mass", where=where)
    if mass.magnitude < 0:
        raise SpecError(f"{where}: {nominal!r} is negative; a mass must be >= 0")
    mass_kg = magnitude_in(mass, "kilogram")

    def in_kg(text: Any) -> float:
        return magnitude_in(parse_amount(text, "mass", where=where), "kilogram")

    return mass, parse_amount_distribution(uncertainty, mass_kg, in_kg, where=where)


def _parse_uncertain_share(value: Any, where: str) -> tuple[float, Distribution | None]:
    """A share, possibly with a distribution: ``30 % ± 5 %`` or a mapping."""
    nominal, uncertainty = split_uncertain(value, where=where)
    share = parse_share(nominal, where=where)
    return share, parse_share_distribution(uncertainty, share, parse_share, where=where)


def _parse_component(item: Mapping[str, Any], where: str) -> ComponentSpec:
    mass, mass_distribution = _parse_mass(item["mass"], f"{where}.mass")
    distributions: dict[str, Distribution] = {}
    if mass_distribution is not None:
        distributions["mass"] = mass_distribution
    material = item.get("material")
    virgin = item.get("virgin")
    recycled = item.get("recycled")
    if material and (virgin or recycled):
        raise SpecError(
            f"{where}: give either 'material' or explicit 'virgin'/'recycled' "
            "activity references, not both"
        )
    if not material and not virgin:
        raise SpecError(
            f"{where}: needs a 'material' (a key of the materials table) or a "
            "'virgin' activity reference"
        )
    recycled_content, r1_distribution = _parse_uncertain_share(
        item.get("recycled_content", 0.0), f"{where}.recycled_content"
    )
    if r1_distribution is not None:
        distributions["recycled_content"] = r1_distribution
    if not material and (recycled_content > 0 or r1_distribution) and not recycled:
        raise SpecError(
            f"{where}.recycled_content: {item['recycled_content']!r} needs a "
            "'recycled' activity reference"
        )
    eol = item.get("end_of_life")
    end_of_life = _parse_end_of_life(eol, f"{where}.end_of_life") if eol is not None else None
    return ComponentSpec(
        id=item["id"],
        mass=mass,
        material=material,
        virgin=virgin,
        recycled=recycled,
        recycled_content=recycled_content,
        end_of_life=end_of_life,
        cff=dict(item.get("cff", {}) or {}),
        packaging=bool(item.get("packaging", False)),
        where=where,
        distributions=distributions,
    )


def _parse_end_of_life(eol: Mapping[str, Any], where: str) -> EndOfLifeSpec:
    r2 = r3 = None
    distributions: dict[str, Distribution] = {}
    for key in ("recycling", "energy_recovery"):
        if key in eol:
            share, distribution = _parse_uncertain_share(eol[key], f"{where}.{key}")
            if key == "recycling":
                r2 = share
            else:
                r3 = share
            if distribution is not None:
                distributions[key] = distribution
    if (r2 or 0.0) + (r3 or 0.0) > 1.0 + 1e-12:
        raise SpecError(
            f"{where}: recycling ({r2:.0%}) and energy_recovery ({r3:.0%}) add up "
            "to more than 100 %"
        )
    return EndOfLifeSpec(
        recycling=r2,
        energy_recovery=r3,
        recycling_activity=eol.get("recycling_activity"),
        disposal_activity=eol.get("disposal_activity"),
        energy_recovery_activity=eol.get("energy_recovery_activity"),
        distributions=distributions,
    )


def _parse_stage_item(item: Mapping[str, Any], where: str) -> ActivityAmountSpec:
    field_where = f"{where}.amount"
    nominal, uncertainty = split_uncertain(item["amount"], where=field_where)
    amount = parse_quantity(nominal, where=field_where)
    if amount.magnitude < 0:
        raise SpecError(f"{field_where}: {nominal!r} is negative; amounts must be >= 0")

    def same_unit(text: Any) -> float:
        import pint

        other = parse_quantity(text, where=field_where)
        try:
            return float(other.to(amount.units).magnitude)
        except pint.DimensionalityError:
            raise SpecError(
                f"{field_where}: {text!r} does not have the dimension of {nominal!r}"
            ) from None

    distribution = parse_amount_distribution(
        uncertainty, float(amount.magnitude), same_unit, where=field_where
    )
    return ActivityAmountSpec(
        activity=item["activity"], amount=amount, where=where, distribution=distribution
    )


def _check_variant(name: str, variant: Mapping[str, Any], ids: list[str], source: str) -> None:
    known = set(ids)  # not ``in ids``: a list scan per override is quadratic
    for component_id, override in (variant.get("components") or {}).items():
        if component_id not in known:
            raise SpecError(
                f"{source}: variants.{name}.components: unknown component "
                f"{component_id!r} (components: {', '.join(ids)})"
            )
        where = f"{source}: variants.{name}.components.{component_id}"
        if "mass" in override:
            _parse_mass(override["mass"], f"{where}.mass")
        if "recycled_content" in override:
            _parse_uncertain_share(override["recycled_content"], f"{where}.recycled_content")
        if "end_of_life" in override:
            _parse_end_of_life(override["end_of_life"], f"{where}.end_of_life")


def _apply_variant(
    raw: Mapping[str, Any], name: str, variant: Mapping[str, Any], source: str
) -> dict[str, Any]:
    merged = copy.deepcopy(dict(raw))
    overrides = variant.get("components") or {}
    components = []
    for component in merged.get("components", []):
        override = overrides.get(component["id"])
        if override:
            component = {**component, **copy.deepcopy(override)}
            if "material" in override:
                component.pop("virgin", None)
                component.pop("recycled", None)
            elif "virgin" in override or "recycled" in override:
                component.pop("material", None)
        components.append(component)
    merged["components"] = components
    if variant.get("stages"):
        merged["stages"] = {**(merged.get("stages") or {}), **copy.deepcopy(variant["stages"])}
    if variant.get("approach"):
        merged["approach"] = variant["approach"]
    if variant.get("pv"):
        merged["pv"] = {**(merged.get("pv") or {}), **copy.deepcopy(variant["pv"])}
    return merged
