"""Labels: a footprint's disclosure and its formats (PACT v3 and v2, Catena-X, readable).

:func:`make_disclosure` calculates a spec and gathers what a label shows;
:func:`render_label` writes it in one of :data:`LABEL_FORMATS`. The writers of each
format (:mod:`.pact`, :mod:`.catenax`, :mod:`.readable`) only re-shape a
:class:`Disclosure`; the rules a label must follow (:mod:`.rules`) are shared with
:mod:`cfp_engine.verify`.
"""

from cfp_engine.labels.formats import LABEL_FORMATS
from cfp_engine.lazy import lazy_exports

__getattr__, __dir__, _lazy_names = lazy_exports(
    __name__,
    {
        "Disclosure": "disclosure",
        "build_disclosure": "disclosure",
        "make_disclosure": "make",
        "render_label": "make",
    },
)
__all__ = ["LABEL_FORMATS", *_lazy_names]
