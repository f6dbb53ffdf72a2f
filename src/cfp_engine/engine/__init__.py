"""A product's footprint: circularity, component plans and demand, results, scenarios."""
