"""Monte Carlo footprints over the same plans and demand as the engine."""
