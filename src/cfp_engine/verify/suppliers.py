"""Check the supplier PACT footprints a label was calculated with against the stored copies.

A result names each supplier footprint it used in ``provenance.supplier_footprints``
(:func:`cfp_engine.engine.provenance.supplier_footprints`): its id, version, source, the
sha256 of its canonical payload and its figures per unit. :func:`supplier_checks` checks,
for each, that the store still holds that payload unchanged (its hash is the recorded one)
and that the payload's figures are the ones the calculation used. With ``online``,
:func:`online_check` asks the supplier's host whether the footprint is still ``Active``
and the only ``Active`` one of its product; a superseded footprint fails, naming the newer
one. The host is the footprint's ``source``; the credentials are those of the last
``cfp pull`` of that supplier into this store (its client id is in the registry, the
secret in the environment variable
:func:`~cfp_engine.store.imports.pact_pull.secret_variable` names).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from cfp_engine.errors import CfpError
from cfp_engine.store.imports.pact_footprints import footprint_problems, read_footprint
from cfp_engine.store.imports.pact_payloads import load_payload
from cfp_engine.verify.common import Check

#: Relative tolerance between recorded and stored figures (both read from the same
#: decimal strings: any difference is a changed figure).
FIGURE_TOLERANCE = 1e-12


def _name(record: Mapping[str, Any]) -> str:
    return f"supplier footprint {record.get('id', '?')} ({record.get('activity', '?')})"


def check_stored_footprint(record: Mapping[str, Any]) -> Check:
    """One supplier footprint of a label's provenance against its stored copy."""
    name = f"{_name(record)}: stored copy and figures"
    sha = str(record.get("sha256", ""))
    try:
        payload, stored_sha = load_payload(sha)
    except CfpError as exc:
        return Check(name, False, f"{exc}; import the supplier's footprint again")
    if stored_sha != sha:
        return Check(
            name,
            False,
            f"the stored copy changed since it was imported: sha256 {stored_sha}, the "
            f"label used {sha}",
        )
    problems = footprint_problems(payload)
    if problems or payload.get("id") != record.get("id"):
        detail = problems[0] if problems else f"the stored payload is footprint {payload.get('id')}"
        return Check(name, False, detail)
    stored = read_footprint(payload).figures()
    used = record.get("figures_per_unit") or {}
    differing = [
        f"{key}: used {used.get(key)!r}, stored {value:.12g}"
        for key, value in stored.items()
        if not isinstance(used.get(key), int | float)
        or not math.isclose(used[key], value, rel_tol=FIGURE_TOLERANCE, abs_tol=1e-15)
    ]
    if differing:
        return Check(name, False, "; ".join(differing))
    return Check(
        name,
        True,
        f"sha256 {sha[:12]}... matches; {stored['total']:.6g} kg CO2e per {record.get('unit')}",
    )


def online_check(record: Mapping[str, Any]) -> Check:
    """Whether the supplier's host still lists the footprint as ``Active``, and no newer one."""
    from cfp_engine.store.imports.pact_client import PactClient
    from cfp_engine.store.imports.pact_pull import secret_from_environment, secret_variable
    from cfp_engine.store.registry import read_registry

    name = f"{_name(record)}: status at the supplier's host"
    source, database = str(record.get("source", "")), str(record.get("database", ""))
    if not source.startswith("https://"):
        return Check(name, None, f"imported from {source or 'a file'}: no host to ask")
    pull = (read_registry()["databases"].get(database) or {}).get("pull") or {}
    if pull.get("url") != source:
        return Check(
            name,
            False,
            f"cannot ask {source}: this store has no pull of {database} from it "
            "(cfp pull it first, for the client id)",
        )
    secret = secret_from_environment(database)
    if not secret:
        return Check(name, False, f"cannot ask {source}: set {secret_variable(database)}")
    footprint_id = str(record.get("id"))
    try:
        with PactClient(
            source,
            pull["client_id"],
            secret,
            version=int(pull.get("version") or 3),
            ca_file=pull.get("ca_file"),
        ) as client:
            current = client.get_footprint(footprint_id)
            products = [("productId", p) for p in record.get("product_ids") or ()]
            same_product = list(client.list_footprints(products)) if products else []
    except CfpError as exc:
        return Check(name, False, str(exc))
    newer = [
        f"{f.get('id')} (created {f.get('created')})"
        for f in same_product
        if isinstance(f, dict) and f.get("status") == "Active" and f.get("id") != footprint_id
    ]
    if current is None:
        detail = f"{source} no longer lists footprint {footprint_id}"
        return Check(name, False, detail + (f"; newer: {', '.join(newer)}" if newer else ""))
    status = current.get("status")
    if status != "Active" or newer:
        return Check(
            name,
            False,
            f"superseded: the host lists it as {status}"
            + (f", and a newer footprint of its product: {', '.join(newer)}" if newer else ""),
        )
    return Check(name, True, f"Active at {source}; no newer footprint of its product")


def supplier_checks(result: Mapping[str, Any], *, online: bool = False) -> list[Check]:
    """The checks of every supplier footprint in ``result``'s provenance (none: no checks)."""
    provenance = result.get("provenance") if isinstance(result, Mapping) else None
    records = provenance.get("supplier_footprints") if isinstance(provenance, Mapping) else None
    if not isinstance(records, list):
        return []
    checks = []
    for record in records:
        if not isinstance(record, Mapping):
            checks.append(Check("supplier footprint", False, f"{record!r} is no object"))
            continue
        checks.append(check_stored_footprint(record))
        if online:
            checks.append(online_check(record))
    return checks
