"""Disclosure and its formats: PACT, Catena-X and the readable label."""
