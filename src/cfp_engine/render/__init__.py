"""Tables and views of results for people."""
