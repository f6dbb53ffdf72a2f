"""A product's footprint: circularity, component plans and demand, results, scenarios.

The public names load on first use (``from cfp_engine.engine import calculate_footprint``),
so importing the package stays cheap for code that only needs :mod:`.circularity`.
"""

from cfp_engine.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "APPROACHES": "circularity",
        "DEFAULT_APPROACH": "circularity",
        "AllocationParameters": "circularity",
        "allocation_coefficients": "circularity",
        "ComponentPlan": "plan",
        "ProductPlan": "plan",
        "DemandTerm": "plan",
        "plan_product": "plan",
        "product_demand": "plan",
        "calculate_footprint": "footprint",
        "FootprintCalculator": "footprint",
        "FootprintResult": "results",
        "ComponentResult": "results",
        "LineItem": "results",
        "compare_designs": "scenarios",
        "sweep_recycled_content": "scenarios",
        "recycled_content_for_target": "scenarios",
    },
)
