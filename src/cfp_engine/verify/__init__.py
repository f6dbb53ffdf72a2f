"""Verify a published label: re-compute it from its spec and check every figure and rule.

:func:`verify_label` returns a :class:`VerificationReport` of :class:`Check` s (figures,
integrity hashes, structure, official schema, rules, Monte Carlo re-run); it raises only
when the label cannot be used at all.
"""

__all__ = ["Check", "VerificationReport", "verify_label"]


def __getattr__(name):
    # Lazy: a verification re-computes the label, which loads the whole engine.
    if name == "Check":
        from cfp_engine.verify.common import Check

        return Check
    if name in ("VerificationReport", "verify_label"):
        from cfp_engine.verify import recompute

        return getattr(recompute, name)
    raise AttributeError(f"module 'cfp_engine.verify' has no attribute {name!r}")
