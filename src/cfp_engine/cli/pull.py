"""The command ``pull``: supplier footprints from PACT hosts into the user store."""

from __future__ import annotations

from pathlib import Path

import click

from cfp_engine.cli._base import cli, format_option, parameter_errors_as_flags
from cfp_engine.errors import SpecError, quote_input
from cfp_engine.files.checks import check_input_path
from cfp_engine.spec.documents import dump_json

_FLAGS = {
    "url": "URL",
    "name": "--name",
    "client_id": "--client-id",
    "client_secret": "--client-secret",
    "product_ids": "--product-id",
    "company_ids": "--company-id",
    "ca_file": "--ca-file",
    "schema_dir": "--schema-dir",
    "source": "--source",
}


@cli.command()
@click.argument("url", required=False)
@click.option("--name", default=None, help="The supplier's database name (specs: NAME::productId).")
@click.option("--client-id", default=None, help="The client id the supplier's host gave you.")
@click.option(
    "--client-secret",
    default=None,
    help="Its secret (default: the environment variable CFP_PULL_SECRET_<NAME>); never stored.",
)
@click.option(
    "--product-id", "product_ids", multiple=True, help="Pull only this product; repeatable."
)
@click.option(
    "--company-id", "company_ids", multiple=True, help="Pull only this company; repeatable."
)
@click.option(
    "--version",
    "api_version",
    type=click.Choice(("3", "2")),
    default="3",
    show_default=True,
    help="PACT API: v3.0 or v2.3.",
)
@click.option("--ca-file", default=None, metavar="PEM", help="Trust this certificate (PEM).")
@click.option(
    "--schema-dir",
    default=None,
    metavar="DIR",
    help="Validate against the official PACT OpenAPI files in DIR as well.",
)
@click.option(
    "--request",
    "send_request",
    is_flag=True,
    help="Ask the host for --product-id / --company-id it does not list yet (a "
    "RequestCreated event); the answer arrives at your own `cfp serve`.",
)
@click.option(
    "--source", default=None, metavar="URL", help="With --request: your own host's base URL."
)
@click.option(
    "--answers",
    is_flag=True,
    help="Store the footprints of the answers to your requests that your `cfp serve` "
    "received (no URL).",
)
@click.option("--db", "db_url", default=None, metavar="URL", help="With --answers: host database.")
@format_option("table", "json", default="table")
def pull(
    url,
    name,
    client_id,
    client_secret,
    product_ids,
    company_ids,
    api_version,
    ca_file,
    schema_dir,
    send_request,
    source,
    answers,
    db_url,
    fmt,
):
    """Pull supplier footprints from the PACT host at URL into the store as NAME.

    Reports what is new, changed, unchanged, deprecated and rejected since the last pull.
    """
    if answers:
        if url or send_request:
            raise SpecError("--answers takes no URL and no --request")
        from cfp_engine.exchange.database import open_database
        from cfp_engine.exchange.inbox import import_answers

        with parameter_errors_as_flags({"db": "--db"}):
            database = open_database(db_url)
        with database:
            report = import_answers(database)
        click.echo(report.render())
        return
    if not url:
        raise SpecError("URL: the supplier host's base URL is needed (or --answers)")
    if not name or not client_id:
        raise SpecError("--name and --client-id are needed")
    if ca_file is not None:
        check_input_path(ca_file, what="CA certificate file", option="--ca-file")
    if schema_dir is not None:
        check_input_path(schema_dir, what="schema folder", option="--schema-dir", folder_ok=True)
        if not Path(schema_dir).is_dir():
            raise SpecError(f"--schema-dir {quote_input(schema_dir)}: is a file, not a folder")
    options = {
        "name": name,
        "client_id": client_id,
        "client_secret": client_secret,
        "product_ids": product_ids,
        "company_ids": company_ids,
        "version": int(api_version),
        "ca_file": ca_file,
    }
    with parameter_errors_as_flags(_FLAGS):
        if send_request:
            from cfp_engine.store.imports.pact_pull import request_footprints

            event_id = request_footprints(url, source=source or "", **options)
            click.echo(
                f"Sent footprint request {event_id} to {url.rstrip('/')}; the answer arrives "
                "at your `cfp serve`, then `cfp pull --answers` stores it"
            )
            return
        from cfp_engine.store.imports.pact_pull import pull_footprints

        report = pull_footprints(url, schema_dir=schema_dir, **options)
    if fmt == "json":
        click.echo(dump_json(report.to_dict(), what="the pull report", indent=2))
    else:
        click.echo(report.render())
