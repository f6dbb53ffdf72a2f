"""Freeze an imported database's parameters: every formula evaluated into its amount.

Brightway can keep parameters live (``bw2data.parameters`` groups, recalculated on
change), but the engine never changes them after import, and live parameter tables make
an import hard to undo: a failed import used to leave its group behind and break every
later parameterised import. So :func:`freeze_parameters` evaluates, at import time and
with Brightway's own formula interpreter (``bw2parameters``, the one
``bw2data.parameters`` uses), the project, database and activity parameters and every
exchange formula, writes the values into the amounts, and keeps the formulas and
parameter values as plain data (``ds["cfp_parameters"]``, the exchange's ``"formula"``
text). The database is then written with no parameter tables at all.

ecospold2 and openLCA files carry every amount already evaluated by the program that
wrote them; a formula the interpreter cannot read there (openLCA functions, a name it
does not know) keeps the file's amount and is counted in the report. For Excel and
SimaPro files the amount beside a formula is often a placeholder, so such a formula is
an error that names the file, dataset, exchange and formula.
"""

from __future__ import annotations

import math
from typing import Any

from cfp_engine.errors import SpecError

#: Formats whose exchange amounts are the writer's evaluated values (a formula that
#: cannot be evaluated keeps the amount in the file).
EVALUATED_FORMATS = ("ecospold2", "olca-jsonld")


def freeze_parameters(importer, *, source: str, fmt: str) -> dict[str, int]:
    """Evaluate every formula of ``importer.data`` into its amount; drop parameter tables.

    Parameters
    ----------
    importer
        A bw2io importer after its strategies ran (``data`` a list of datasets).
    source
        The imported file, for messages.
    fmt
        The engine's format name (see :data:`EVALUATED_FORMATS`).

    Returns
    -------
    dict
        ``{"evaluated": n, "kept": m}``: exchange formulas evaluated, and formulas kept at
        the file's amount because they could not be evaluated (ecospold2/openLCA only).

    Raises
    ------
    SpecError
        A parameter or formula that cannot be evaluated, in a format whose amounts are
        not already evaluated (Excel, CSV, SimaPro).
    """
    lenient = fmt in EVALUATED_FORMATS
    shared = _global_values(importer, source, lenient)
    counts = {"evaluated": 0, "kept": 0}
    for ds in importer.data:
        params = _as_list(ds.get("parameters"))
        params += [
            {"name": e["variable name"], "amount": e.get("amount"), "formula": e.get("formula")}
            for e in ds.get("exchanges", ())
            if e.get("variable name")
        ]
        formulas = [e for e in ds.get("exchanges", ()) if _text(e.get("formula"))]
        if not params and not formulas:
            continue
        where = f"{source}: dataset {ds.get('name')!r}"
        values = _evaluate(params, shared, where, lenient)
        for exchange in formulas:
            formula = _text(exchange["formula"])
            value = _evaluate_formula(formula, values, lenient)
            if value is None:
                if not lenient:
                    raise SpecError(
                        f"{where}: exchange {exchange.get('name')!r}: formula {formula!r} "
                        "cannot be evaluated (unknown name or syntax); fix the formula or "
                        "give the amount as a number"
                    )
                counts["kept"] += 1
                continue
            _set_amount(exchange, value)
            counts["evaluated"] += 1
        if params:
            ds["cfp_parameters"] = {k: v for k, v in values.items() if k not in shared}
        ds.pop("parameters", None)
    if shared:
        importer.metadata["cfp_parameters"] = shared
    # Nothing left for bw2io to write as parameter tables.
    importer.project_parameters = None
    importer.database_parameters = None
    if hasattr(importer, "global_parameters"):
        importer.global_parameters = {}
    return counts


def _text(formula: Any) -> str | None:
    if isinstance(formula, str) and formula.strip():
        return formula.strip().lstrip("=").strip()
    return None


def _as_list(params: Any) -> list[dict[str, Any]]:
    if not params:
        return []
    if isinstance(params, dict):
        return [{**value, "name": key} for key, value in params.items()]
    return [dict(p) for p in params]


def _global_values(importer, source: str, lenient: bool) -> dict[str, float]:
    """Project parameters first, then database parameters (which may use them)."""
    values: dict[str, float] = {}
    groups = [
        ("project", getattr(importer, "project_parameters", None)),
        ("project", getattr(importer, "global_parameters", None)),
        ("database", getattr(importer, "database_parameters", None)),
    ]
    for kind, params in groups:
        params = _as_list(params)
        if params:
            values.update(_evaluate(params, values, f"{source}: {kind} parameters", lenient))
    return values


def _evaluate(
    params: list[dict[str, Any]], shared: dict[str, float], where: str, lenient: bool
) -> dict[str, float]:
    """Values of ``params`` (a list of ``{"name", "amount", "formula"}``) given ``shared``."""
    from bw2parameters import ParameterSet
    from bw2parameters.errors import ValidationError

    table = {}
    for param in params:
        name = str(param.get("name") or "").strip()
        if not name or param.get("unnamed"):
            continue
        entry = {"amount": _number(param.get("amount"))}
        formula = _text(param.get("formula"))
        if formula:
            entry["formula"] = formula
        if entry["amount"] is None and "formula" not in entry:
            raise SpecError(f"{where}: parameter {name!r} has neither an amount nor a formula")
        table[name] = entry
    try:
        values = ParameterSet(table, dict(shared)).evaluate()
    except (ValidationError, ValueError, TypeError, ArithmeticError, SyntaxError) as exc:
        if not lenient:
            raise SpecError(
                f"{where}: the parameters cannot be evaluated ({_short(exc)}); fix the "
                "named parameters or formulas in the file"
            ) from None
        # The file's own amounts stand in for the formulas the interpreter cannot read.
        values = {**shared, **{k: v["amount"] for k, v in table.items() if v["amount"] is not None}}
    return {k: float(v) for k, v in values.items() if _number(v) is not None}


def _evaluate_formula(formula: str, values: dict[str, float], lenient: bool) -> float | None:
    from bw2parameters import Interpreter

    interpreter = Interpreter()
    interpreter.add_symbols(values)
    try:
        if interpreter.get_unknown_symbols(formula):
            return None
        value = interpreter(formula, raise_errors=True)
    except Exception:  # noqa: BLE001 - asteval raises any error the formula provokes
        return None
    return _number(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _set_amount(exchange: dict[str, Any], value: float) -> None:
    """The evaluated amount; a lognormal's ``loc`` follows it, as bw2io sets it on import."""
    exchange["amount"] = value
    if exchange.get("uncertainty type") == 2 and value != 0:  # lognormal
        exchange["loc"] = math.log(abs(value))
        exchange["negative"] = value < 0
    elif exchange.get("uncertainty type") in (0, 1, 3, None):  # undefined, none, normal
        exchange["loc"] = value


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}"
