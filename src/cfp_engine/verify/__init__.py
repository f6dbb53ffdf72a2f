"""Verify a published label: re-compute it from its spec and check every figure and rule.

:func:`verify_label` returns a :class:`VerificationReport` of :class:`Check` s (figures,
integrity hashes, structure, official schema, rules, Monte Carlo re-run); it raises only
when the label cannot be used at all.
"""

from cfp_engine.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "Check": "common",
        "VerificationReport": "recompute",
        "verify_label": "recompute",
    },
)
