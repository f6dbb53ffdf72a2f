"""Exchanges dropped at import (``--allow-unlinked``), said aloud in every result using them.

``cfp data import --allow-unlinked`` removes the exchanges it cannot link and records them
in the user store's registry, which the score table's manifest carries
(``manifest["databases"][NAME]["allow_unlinked"]``). A footprint that uses such a
database, directly or through the databases it links to, leaves those flows out: a
SimaPro process whose only CO2 flow was dropped scores 0. This module finds the
databases a result used, and words the warning that names how many exchanges were
dropped and which of them are greenhouse gases. No Brightway here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

#: Greenhouse gases by name or formula (IPCC AR6 WG1, Table 7.SM.7: CO2, CH4, N2O,
#: SF6, NF3, the HFCs, PFCs, CFCs, HCFCs and halons, i.e. fluorinated compounds).
_GHG_PATTERN = re.compile(
    r"carbon dioxide|\bmethane\b|dinitrogen monoxide|nitrous oxide|hexafluoride|"
    r"nitrogen (?:tri)?fluoride|fluoro|\bhalon\b|"
    r"\b(?:co2|ch4|n2o|sf6|nf3|cf4|c2f6|c3f8|c4f10|c6f14|chf3|ch2f2|so2f2)\b|"
    r"\b(?:hfc|pfc|cfc|hcfc)s?\b|\b(?:hfc|pfc|cfc|hcfc|hfe)-?\d",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def _characterised_names() -> frozenset[str]:
    """Names of the flows any catalogued method characterises (bw2io's LCIA data)."""
    from cfp_engine.errors import CfpError
    from cfp_engine.spec.methods import available_methods, read_bw2io_lcia

    try:
        source = read_bw2io_lcia()
        return frozenset(
            cf["name"].casefold()
            for method in available_methods()
            for indicator in method.indicators.values()
            for cf in source.get(indicator, {}).get("exchanges", ())
        )
    except (CfpError, OSError):  # no bw2io data: the name patterns alone decide
        return frozenset()


def names_greenhouse_gas(name: str) -> bool:
    """Whether a flow's name or formula is one of IPCC AR6's greenhouse gases.

    Carbon dioxide, methane, dinitrogen monoxide, SF6, NF3 and the fluorinated
    compounds (HFCs, PFCs, CFCs, HCFCs, halons), by name or formula.
    """
    return bool(_GHG_PATTERN.search(name))


def is_greenhouse_gas(name: str) -> bool:
    """:func:`names_greenhouse_gas`, or a flow of exactly that name has a GWP factor.

    The second test reads bw2io's LCIA data once per process (~3 s), so imports use
    it and record the answer with each dropped exchange; results read that record.
    """
    name = name.strip()
    return names_greenhouse_gas(name) or name.casefold() in _characterised_names()


def used_databases(
    direct: Iterable[str],
    sources: Mapping[str, Any],
    depends: Mapping[str, Iterable[str]] | None = None,
) -> list[str]:
    """The databases a demand uses: those of its activities and all they link to.

    ``sources`` is the score table's ``manifest["databases"]`` and ``depends`` its
    ``manifest["depends"]`` (bw2data's record of what each database links to); a table
    built before that was recorded falls back on an imported database's ``links_to``.
    Returned in ``sources`` order.
    """
    depends = depends or {}
    seen: set[str] = set()
    pending = list(direct)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in depends:
            pending.extend(depends[name])
        else:
            pending.extend(((sources.get(name) or {}).get("links_to") or {}).keys())
    return [name for name in sources if name in seen] + sorted(seen - set(sources))


def dropped_flow_warnings(databases: Iterable[str], sources: Mapping[str, Any]) -> list[str]:
    """One warning per used database that was imported with exchanges dropped, and one
    per used database whose left-out, uncharacterised flows include greenhouse gases by
    name emitted to air (:mod:`cfp_engine.store.imports.characterised`)."""
    warnings = []
    for name in databases:
        record = sources.get(name) or {}
        dropped = record.get("allow_unlinked") or ()
        if dropped:
            warnings.append(describe_dropped(name, dropped))
        left_out = record.get("uncharacterised") or {}
        if left_out.get("greenhouse_gases_to_air"):
            warnings.append(describe_uncharacterised(name, left_out))
    return warnings


def describe_uncharacterised(database: str, left_out: Mapping[str, Any]) -> str:
    """The warning for greenhouse gases by name that no method of the engine characterises."""
    gases = list(left_out.get("greenhouse_gases_to_air") or ())
    named = ", ".join(repr(g["name"]) for g in gases[:5]) + (", ..." if len(gases) > 5 else "")
    return (
        f"database {database!r}: {len(gases)} flow(s) emitted to air are greenhouse gases by "
        f"name but have no GWP factor in the engine's methods ({named}); they were left out "
        f"at import among its {left_out.get('flows', 0)} uncharacterised flow(s) "
        "(`cfp data list` shows the import)"
    )


def emitted_to_air(categories: str) -> bool:
    """Whether ``air::...`` or FEDEFL's ``emission::air::...``, or no compartment at all."""
    parts = [p for p in categories.split("::") if p and p != "emission"]
    return not parts or parts[0] == "air"


def describe_dropped(database: str, dropped: Iterable[Mapping[str, str]]) -> str:
    """The warning for one database's dropped exchanges, greenhouse gases by name.

    Each greenhouse gas is named once, with the activities it was dropped from (the first
    three, and how many in all).
    """
    dropped = list(dropped)
    elementary = sum(1 for d in dropped if d.get("type") == "biosphere")
    ghg: dict[str, list[str]] = {}
    for d in dropped:
        if _recorded_ghg(d):
            ghg.setdefault(_flow_label(d), []).append(str(d.get("activity", "")))
    text = (
        f"database {database!r} was imported with its unlinked exchanges left out: "
        f"{len(dropped)} unlinked exchange(s) dropped ({elementary} of them elementary "
        "flows), so the footprint leaves them out"
    )
    if ghg:
        named = "; ".join(f"{flow} in {_activities(where)}" for flow, where in ghg.items())
        text += f"; greenhouse gases among them: {named}"
    else:
        text += "; none is a greenhouse gas by name"
    return text + " (the import report lists them; import it again with a flow map to link them)"


def _activities(names: list[str]) -> str:
    distinct = list(dict.fromkeys(names))
    if len(distinct) == 1:
        return distinct[0]
    shown = ", ".join(distinct[:3]) + (", ..." if len(distinct) > 3 else "")
    return f"{len(distinct)} activities ({shown})"


def _recorded_ghg(dropped: Mapping[str, Any]) -> bool:
    recorded = dropped.get("greenhouse_gas")
    return bool(recorded) if recorded is not None else names_greenhouse_gas(dropped.get("name", ""))


def _flow_label(dropped: Mapping[str, str]) -> str:
    where = dropped.get("categories") or dropped.get("location") or ""
    detail = ", ".join(p for p in (dropped.get("unit", ""), where) if p)
    return f"{dropped.get('name', '')!r} [{detail}]"
