"""Product specs and what they are made of: units, distributions, materials tables, methods.

No Brightway here."""
