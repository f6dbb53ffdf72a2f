"""Datasets the engine cannot use as they are, found before linking: refused with a list,
or left out and listed (``--skip-invalid``).

A database whose datasets have no product, or several products and nothing to allocate
them with, cannot give a score per unit of product. Rather than let bw2io fail deep in a
strategy (``KeyError: 'flow'``) or write a dataset with no reference product, the import
stops with one message naming the file, the first datasets and their count, the reason in
LCA terms, and what to do. With ``skip_invalid`` the usable datasets go on and the
others are returned as ``{"dataset", "reason"}`` records for the report and registry.
"""

from __future__ import annotations

from collections.abc import Sequence

from cfp_engine.errors import SpecError

#: How many datasets a refusal names before "... and N more".
LISTED = 10


def refuse_datasets(source: str, names: Sequence[str], reason: str, hint: str) -> SpecError:
    """The error for ``names`` (datasets) of ``source`` that share one problem."""
    listed = "\n  ".join(sorted(names)[:LISTED])
    more = f"\n  ... and {len(names) - LISTED} more" if len(names) > LISTED else ""
    return SpecError(
        f"{source}: {len(names)} dataset(s) {reason}; nothing was imported:\n"
        f"  {listed}{more}\nHint: {hint}"
    )


def skipped_record(dataset: str, reason: str) -> dict[str, str]:
    """One dataset left out by ``skip_invalid``: as the report and the registry list it."""
    return {"dataset": dataset, "reason": reason}


SKIP_HINT = "or import the usable datasets only with skip_invalid=True (the others are listed)"


def check_simapro_products(
    source: str, data: list[dict], *, skip_invalid: bool = False
) -> tuple[list[dict], list[dict[str, str]]]:
    """Every SimaPro process names at least one product (its 'Products' section).

    Returns the usable datasets and, with ``skip_invalid``, the processes left out;
    without it, a process with no product stops the import.
    """
    reason = "no product (an empty 'Products' section)"
    keep, missing = [], []
    for ds in data:
        if ds.get("type", "process") == "process" and not any(
            e.get("type") == "production" for e in ds.get("exchanges", ())
        ):
            missing.append(
                ds.get("simapro metadata", {}).get("Process name") or ds.get("code", "?")
            )
        else:
            keep.append(ds)
    if missing and not skip_invalid:
        raise refuse_datasets(
            source,
            missing,
            f"have {reason}, so no amount to score per unit",
            "give each process its product and amount in SimaPro and export again, or "
            f"leave these processes out of the export, {SKIP_HINT}",
        )
    return keep, [skipped_record(name, reason) for name in sorted(missing)]


def check_ecospold2_single_output(
    source: str, data: list[dict], *, skip_invalid: bool = False
) -> tuple[list[dict], list[dict[str, str]]]:
    """Every ecospold2 dataset has exactly one reference product with a non-zero amount.

    Unallocated (multi-output) datasets and datasets with no reference product cannot
    give a score per unit of product; bw2io stops on them with ``KeyError: 'flow'``.
    Unallocated ("undefined") ecospold2 datasets may carry properties (price, mass, true
    value relation), but not which one to allocate by: allocating by a guess would
    change results, so they are allocated only by the property the user names
    (``--allocation``, :mod:`cfp_engine.store.imports.allocation`, run before this check),
    otherwise refused, or left out with ``skip_invalid``.

    Returns the usable datasets and the ones left out (``skip_invalid``).
    """
    from cfp_engine.store.imports.allocation import offered_properties, products_of, where_of

    keep, multi, none = [], [], []
    for ds in data:
        products = products_of(ds)
        if len(products) > 1:
            multi.append(ds)
        elif not products:
            none.append(ds)
        else:
            keep.append(ds)
    offered, products = offered_properties(multi)
    allocate = (
        "allocate them with allocation=NAME, a property of their products in the file: "
        + ", ".join(f"{name!r} ({n} of {products} products)" for name, n in offered.items())
        if offered
        else "their products carry no properties in the file to allocate them by"
    )
    if not skip_invalid and multi:
        raise refuse_datasets(
            source,
            [where_of(ds) for ds in multi],
            "are multi-output (several products, not allocated)",
            f"{allocate}; export the allocated (system-model or 'unit process, allocated') "
            "datasets, allocate them in the LCA software first, or (from openLCA) export "
            f"openLCA JSON-LD, which carries the allocation factors; {SKIP_HINT}"
            + (f"; {len(none)} more dataset(s) have no reference product" if none else ""),
        )
    if not skip_invalid and none:
        raise refuse_datasets(
            source,
            [where_of(ds) for ds in none],
            "have no reference product with a non-zero amount",
            "give each dataset its reference product, or leave these datasets out of the "
            f"export, {SKIP_HINT}",
        )
    skipped = [
        skipped_record(where_of(ds), "multi-output, not allocated (no allocation property given)")
        for ds in multi
    ] + [skipped_record(where_of(ds), "no reference product with a non-zero amount") for ds in none]
    return keep, sorted(skipped, key=lambda r: r["dataset"])
