"""The ``cfp`` group, its error handling and the options commands share.

Errors: every :class:`~cfp_engine.errors.CfpError` is turned into ``Error: ...`` on
stderr and the class's exit code in one place (:meth:`CfpGroup.invoke`); ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator, Mapping

import click

from cfp_engine.engine.circularity import APPROACHES
from cfp_engine.errors import CfpError, escape_controls
from cfp_engine.files.checks import (
    MAX_DOCUMENT_BYTES,
    check_input_path,
    check_output_folder,
    check_output_path,
    read_text_file,
)
from cfp_engine.version import __version__

APPROACH_CHOICES = tuple(APPROACHES)
INTERNAL_ERROR_EXIT = 70


class CfpGroup(click.Group):
    """A group that turns library errors into one-line messages and exit codes."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CfpError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            # Messages may quote hostile input: no control or bidi characters on the terminal.
            message = escape_controls(in_cli_terms(str(exc)), keep_newlines=True)
            click.echo(f"Error: {message}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # noqa: BLE001 - a bug: say so, without a traceback
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(
                f"Error: internal error ({type(exc).__name__}: {escape_controls(str(exc))}); "
                "rerun with --debug for the traceback",
                err=True,
            )
            ctx.exit(INTERNAL_ERROR_EXIT)


@click.group(cls=CfpGroup)
@click.option("--debug", is_flag=True, help="Show tracebacks and Brightway build logs.")
@click.version_option(__version__, prog_name="cfp")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Carbon footprint of products (ISO 14067, PACT) by LCA on Brightway."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.call_on_close(_log_to_stderr(logging.DEBUG if debug else logging.INFO))


def _log_to_stderr(level: int):
    """Show the engine's log records on stderr for one command; returns the undo.

    The handler is added beside any the caller has (pytest's ``caplog``, an application
    calling the command in process), and the logger's level is put back when the
    command ends, so running ``cfp`` inside another program leaves its logging as it was.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("cfp_engine")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    return restore


#: The library's parameter names, and the options every command that has them uses.
#: Library messages name a parameter as a Python caller writes it (``skip_invalid=True``,
#: ``allocation='price'``, ``the company_name fact``); :func:`in_cli_terms` puts the
#: option in its place, so a Python caller never reads about flags it cannot pass.
OPTIONS = {
    "format": "--format",
    "name": "--name",
    "allocation": "--allocation",
    "skip_invalid": "--skip-invalid",
    "allow_unlinked": "--allow-unlinked",
    "flow_map": "--flow-map",
    "approach": "--approach",
    "materials": "--materials",
    "inventories": "--inventory",
    "study_url": "--study-url",
    "schema_dir": "--schema-dir",
    "ca_file": "--ca-file",
    "company_name": "--company-name",
    "company_ids": "--company-id",
    "product_ids": "--product-id",
    "product_category_cpc": "--product-category-cpc",
    "reference_period": "--reference-period",
    "validity_period": "--validity-period",
}


def in_cli_terms(message: str, options: Mapping[str, str] = OPTIONS) -> str:
    """``message`` with the library's parameters (see :data:`OPTIONS`) named by their options.

    ``name: ...`` at the start, ``name=True`` (a switch), ``name=VALUE`` and
    ``the name fact`` become ``--option: ...``, ``--option``, ``--option VALUE`` and
    ``--option``; names not in ``options`` are left as they are.
    """
    names = "|".join(sorted(map(re.escape, options), key=len, reverse=True))

    def option(match: re.Match) -> str:
        flag = options[match.group("name")]
        if match.group("switch"):
            return flag
        return f"{flag} " if match.group("eq") else flag

    pattern = re.compile(
        rf"(?<![\w/.\\-])(?:the (?P<fact>{names}) fact\b"
        rf"|(?P<name>{names})(?:(?P<switch>=True\b)|(?P<eq>=)))"
    )
    message = pattern.sub(
        lambda m: options[m.group("fact")] if m.group("fact") else option(m), message
    )
    name, colon, rest = message.partition(": ")
    if colon and name in options:
        return f"{options[name]}: {rest}"
    return message


@contextlib.contextmanager
def parameter_errors_as_flags(flags: Mapping[str, str]) -> Iterator[None]:
    """Name this command's own options (``flags``, beside :data:`OPTIONS`) in its errors.

    ``{"chunk_rows": "--chunk-size"}`` turns ``chunk_rows: must be at least 1`` into
    ``--chunk-size: must be at least 1``; other errors pass to the group, which puts
    the shared options in (:func:`in_cli_terms`).
    """
    try:
        yield
    except CfpError as exc:
        message = in_cli_terms(str(exc), {**OPTIONS, **flags})
        if message != str(exc):
            raise type(exc)(message) from exc
        raise


def check_paths(
    *,
    inventories=(),
    materials=(),
    inputs: tuple[tuple[str, str, str | None], ...] = (),
    documents: tuple[tuple[str, str, str | None], ...] = (),
    outputs: dict[str, str | None] | None = None,
    folders: dict[str, str | None] | None = None,
) -> None:
    """Check a command's input and output paths before any work.

    ``inputs`` holds ``(option, what, path)``; ``documents`` the same for files read
    whole into memory (specs, labels), which are also held to
    :data:`~cfp_engine.files.checks.MAX_DOCUMENT_BYTES`; ``outputs`` and ``folders`` map an option
    name to a path; ``None`` paths (option not given) are skipped.
    """
    for path in inventories:
        check_input_path(path, what="inventory file", option="--inventory")
    for path in materials:  # small text tables: binary data is refused here, before any work
        read_text_file(path, what="materials table", option="--materials")
    for option, what, path in documents:
        if path is not None:
            check_input_path(path, what=what, option=option, max_bytes=MAX_DOCUMENT_BYTES)
    for option, what, path in inputs:
        if path is not None:
            check_input_path(path, what=what, option=option)
    for option, path in (outputs or {}).items():
        if path is not None:
            check_output_path(path, option=option)
    for option, path in (folders or {}).items():
        if path is not None:
            check_output_folder(path, option=option)


def inventory_option(help: str = "Extra inventory file (Brightway Excel/CSV); repeatable."):
    """``--inventory PATH`` (repeatable, stored as ``inventories``)."""
    return click.option("--inventory", "inventories", multiple=True, metavar="PATH", help=help)


def materials_option(help: str = "Extra materials table (CSV); repeatable."):
    """``--materials PATH`` (repeatable, stored as ``materials``)."""
    return click.option("--materials", "materials", multiple=True, metavar="PATH", help=help)


def method_option(
    help: str = "Impact method (default IPCC 2021 GWP100; AR5: 'IPCC 2013 GWP100').",
):
    """``--method NAME`` (default: the engine's default method)."""
    return click.option("--method", default=None, help=help)


def _calculation_options(command=None, *, approach_all: bool = False):
    """The options shared by the calculating commands (contract section 1)."""
    choices = (*APPROACH_CHOICES, "all") if approach_all else APPROACH_CHOICES
    approach_help = "End-of-life allocation (default: the spec's, else cut-off)."
    if approach_all:
        approach_help += " 'all' shows the three approaches side by side."
    options = [
        inventory_option(),
        materials_option(),
        method_option(),
        click.option("--approach", type=click.Choice(choices), default=None, help=approach_help),
    ]

    def decorate(function):
        for option in reversed(options):
            function = option(function)
        return function

    return decorate(command) if command is not None else decorate


def format_option(*choices: str, default: str):
    """``--format`` with the given choices (stored as ``fmt``)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )


def _mc_options(function):
    """--mc N, --seed S, --workers W (Monte Carlo; see README, Uncertainty)."""
    function = click.option(
        "--workers",
        type=click.IntRange(1),
        default=1,
        show_default=True,
        help="With --mc: worker processes (the samples do not depend on it).",
    )(function)
    function = click.option(
        "--seed",
        type=click.IntRange(0),
        default=None,
        help="With --mc: random seed (default: drawn, and reported so the run can be repeated).",
    )(function)
    return click.option(
        "--mc",
        type=click.IntRange(1),
        default=None,
        metavar="N",
        help="Monte Carlo with N iterations: data and spec uncertainty.",
    )(function)


def _warn(warnings) -> None:
    for note in dict.fromkeys(warnings):
        click.echo(f"Warning: {in_cli_terms(note)}", err=True)
