"""Re-compute a published label and check its figures, hashes, structure and rules."""
