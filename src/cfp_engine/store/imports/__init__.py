"""User databases in: readers per format, linking, flow maps, reports, archive and XML safety."""
