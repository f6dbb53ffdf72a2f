"""The embedded Brightway store: session, build, score tables, queries, user databases.

The only package that imports Brightway."""
