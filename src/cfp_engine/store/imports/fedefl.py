"""The built-in flow map from the US Federal LCA Commons flow list (FEDEFL) to biosphere3.

openLCA databases of the Federal LCA Commons (USLCI, USEPA's WMLCI, ...) name their
elementary flows after FEDEFL (``Carbon dioxide`` in context ``emission/air/troposphere/
rural``), not biosphere3, the flow list the engine's methods characterise. The engine
ships a flow map (``inventories/flowmaps/fedefl-biosphere3-ghg.csv``, written by
``scripts/make_fedefl_flow_map.py``; see ``inventories/flowmaps/README.md``) for every
FEDEFL flowable a GWP method of the engine characterises, in every FEDEFL air context.
It is applied after the user's ``--flow-map`` (whose rows win) to the elementary flows
of openLCA JSON-LD exports whose flows use FEDEFL contexts, and of ecospold2 datasets,
whose elementary flows that bw2io could not link to biosphere3 are matched by UUID or
name. No Brightway here.
"""

from __future__ import annotations

from collections.abc import Iterable

from cfp_engine.paths import inventories_dir
from cfp_engine.store.imports.flowmaps import FlowMap, load_flow_map

FLOW_MAP_FILE = "fedefl-biosphere3-ghg.csv"
#: FEDEFL's directionality words, the first level of its contexts (``emission/air``).
_DIRECTIONS = ("emission", "resource")


def load_fedefl_flow_map() -> FlowMap:
    """The built-in FEDEFL -> biosphere3 map, fresh (its rows count what they map)."""
    return load_flow_map(inventories_dir() / "flowmaps" / FLOW_MAP_FILE)


def is_fedefl_context(categories: Iterable[str]) -> bool:
    """Whether a flow's category path is a FEDEFL context (``emission/air/...``).

    openLCA writes them under ``Elementary flows/``; flows a FEDEFL-based database adds
    itself sit under ``emission/non-FEDEFL/...`` and are not FEDEFL's.
    """
    parts = [p for p in categories if p and p.lower() != "elementary flows"]
    return bool(parts) and parts[0] in _DIRECTIONS and "non-FEDEFL" not in parts


def is_fedefl_air_emission(categories: Iterable[str]) -> bool:
    """A FEDEFL context under ``emission/air``."""
    parts = [p for p in categories if p and p.lower() != "elementary flows"]
    return is_fedefl_context(parts) and len(parts) > 1 and parts[1] == "air"
