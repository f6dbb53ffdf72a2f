"""Datasets the engine cannot use as they are, found before linking: refused with a list.

A database whose datasets have no product, or several products and nothing to allocate
them with, cannot give a score per unit of product. Rather than let bw2io fail deep in a
strategy (``KeyError: 'flow'``) or write a dataset with no reference product, the import
stops with one message naming the file, the first datasets and their count, the reason in
LCA terms, and what to do.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import SpecError

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


def check_simapro_products(source: str, data: list[dict]) -> None:
    """Every SimaPro process names at least one product (its 'Products' section)."""
    missing = [
        ds.get("simapro metadata", {}).get("Process name") or ds.get("code", "?")
        for ds in data
        if ds.get("type", "process") == "process"
        and not any(e.get("type") == "production" for e in ds.get("exchanges", ()))
    ]
    if missing:
        raise refuse_datasets(
            source,
            missing,
            "have no product (an empty 'Products' section), so no amount to score per unit",
            "give each process its product and amount in SimaPro and export again, or "
            "leave these processes out of the export",
        )


def check_ecospold2_single_output(source: str, data: list[dict]) -> None:
    """Every ecospold2 dataset has exactly one reference product with a non-zero amount.

    Unallocated (multi-output) datasets and datasets with no reference product cannot
    give a score per unit of product; bw2io stops on them with ``KeyError: 'flow'``.
    Unallocated ("undefined") ecospold2 datasets may carry properties (price, mass, true
    value relation), but not which one to allocate by, nor the system model's rules for
    waste treatments and by-products (ecoinvent's cut-off, APOS, consequential differ);
    allocating by a guess would change results, so they are refused.
    """
    multi, none = [], []
    for ds in data:
        products = [
            e for e in ds.get("exchanges", ()) if e.get("type") == "production" and e.get("amount")
        ]
        where = f"{ds.get('name')} [{ds.get('location') or 'GLO'}] ({ds.get('filename', '')})"
        if len(products) > 1:
            multi.append(where)
        elif not products:
            none.append(where)
    if multi:
        raise refuse_datasets(
            source,
            multi,
            "are multi-output (several products, not allocated)",
            "export the allocated (system-model or 'unit process, allocated') datasets, "
            "allocate them in the LCA software first, or (from openLCA) export openLCA "
            "JSON-LD, which carries the allocation factors"
            + (f"; {len(none)} more dataset(s) have no reference product" if none else ""),
        )
    if none:
        raise refuse_datasets(
            source,
            none,
            "have no reference product with a non-zero amount",
            "give each dataset its reference product, or leave these datasets out of the export",
        )
