"""Catalogue scoring: reading, vectorised scoring, chunks, resume, Dask."""
