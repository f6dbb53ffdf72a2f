"""The ``cfp`` command line: each command parses options, calls the library, prints.

The commands live in submodules by topic (:mod:`.calc`, :mod:`.labels`, :mod:`.batch`,
:mod:`.data`); importing them registers them on the :data:`cli` group. This package is
the only place that imports click.
"""

from __future__ import annotations

from cfp_engine.cli import batch, calc, data, exchange, labels, pull  # noqa: F401 - registers the commands
from cfp_engine.cli._base import cli

__all__ = ["cli", "main"]


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="cfp")
