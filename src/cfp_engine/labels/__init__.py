"""Labels: a footprint's disclosure and its formats (PACT v3 and v2, Catena-X, readable).

:func:`make_disclosure` calculates a spec and gathers what a label shows;
:func:`render_label` writes it in one of :data:`LABEL_FORMATS`. The writers of each
format (:mod:`.pact`, :mod:`.catenax`, :mod:`.readable`) only re-shape a
:class:`Disclosure`; the rules a label must follow (:mod:`.rules`) are shared with
:mod:`cfp_engine.verify`.
"""

from cfp_engine.labels.formats import LABEL_FORMATS

__all__ = [
    "LABEL_FORMATS",
    "Disclosure",
    "build_disclosure",
    "make_disclosure",
    "render_label",
]


def __getattr__(name):
    # Lazy: these load the engine (numpy, pint, the store) only when a label is made.
    if name in ("Disclosure", "build_disclosure"):
        from cfp_engine.labels import disclosure

        return getattr(disclosure, name)
    if name in ("make_disclosure", "render_label"):
        from cfp_engine.labels import make

        return getattr(make, name)
    raise AttributeError(f"module 'cfp_engine.labels' has no attribute {name!r}")
