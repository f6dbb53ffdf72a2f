"""Commands of the PACT host: ``publish`` and ``serve`` (with ``serve clients ...``)."""

from __future__ import annotations

import click

from cfp_engine.cli._base import (
    _calculation_options,
    _warn,
    check_paths,
    cli,
    parameter_errors_as_flags,
)
from cfp_engine.cli.labels import disclosure_from_options, label_fact_options
from cfp_engine.errors import SpecError

_DB_FLAGS = {"db": "--db"}


def db_option(function):
    return click.option(
        "--db",
        "db_url",
        default=None,
        metavar="URL",
        help="Host database as a SQLAlchemy URL (default: SQLite in the engine's store; "
        "e.g. postgresql+psycopg://user@host/cfp).",
    )(function)


def _open(db_url):
    from cfp_engine.exchange.database import open_database

    with parameter_errors_as_flags(_DB_FLAGS):
        return open_database(db_url)


@cli.command()
@click.argument("label_paths", metavar="[LABEL.json]...", nargs=-1)
@click.option(
    "--spec",
    "spec_path",
    default=None,
    metavar="SPEC",
    help="Calculate SPEC and publish its label.",
)
@click.option(
    "--pact-version",
    type=click.Choice(("3", "2")),
    default="3",
    show_default=True,
    help="With --spec: PACT v3.0 or v2.3.",
)
@click.option("--variant", default=None, help="With --spec: a variant defined in the spec.")
@_calculation_options
@label_fact_options
@click.option(
    "--new-id",
    is_flag=True,
    help="If another footprint already has the label's id, publish under a new id "
    "(always so with --spec).",
)
@click.option(
    "--public",
    is_flag=True,
    help="With --spec: give the footprint a public page, /labels/ID, with its readable "
    "label (ja and en) and a QR code of the page's address.",
)
@click.option(
    "--public-url",
    default=None,
    metavar="URL",
    envvar="CFP_EXCHANGE_PUBLIC_URL",
    help="With --public: the host's public https:// address, as its users reach it "
    "(the QR code points to URL/labels/ID) [env: CFP_EXCHANGE_PUBLIC_URL].",
)
@click.option("--list", "list_", is_flag=True, help="List the published footprints.")
@click.option(
    "--deprecate", "deprecate_id", default=None, metavar="ID", help="Mark footprint ID Deprecated."
)
@db_option
def publish(
    label_paths,
    spec_path,
    pact_version,
    variant,
    inventories,
    materials,
    method,
    approach,
    company_name,
    company_ids,
    product_ids,
    product_category_cpc,
    reference_period,
    validity_period,
    created,
    mc,
    seed,
    new_id,
    public,
    public_url,
    list_,
    deprecate_id,
    db_url,
):
    """Publish PACT footprints (LABEL.json from `cfp label`, or --spec) on this host.

    A new footprint of the same product and company deprecates the older one and names
    it in precedingPfIds. With --spec --public, the footprint also gets a public page.
    """
    from cfp_engine.exchange import publishing

    actions = sum((bool(label_paths), spec_path is not None, list_, deprecate_id is not None))
    if actions != 1:
        raise SpecError("publish: give label files, or --spec SPEC, or --list, or --deprecate ID")
    if public:
        _check_public(spec_path, public_url)
    with _open(db_url) as database:
        if list_:
            for row in publishing.list_footprints(database):
                click.echo(
                    f"{row.id}  v{row.spec_version:<6} {row.status:<10} {row.published_at}  "
                    f"{' '.join(row.product_ids)}  {' '.join(row.company_ids)}"
                    + ("  public" if row.public else "")
                )
            return
        if deprecate_id is not None:
            with parameter_errors_as_flags({"footprint_id": "--deprecate"}):
                changed = publishing.deprecate(database, deprecate_id)
            click.echo(
                f"{deprecate_id}: " + ("Deprecated" if changed else "was already Deprecated")
            )
            return
        documents = []
        if spec_path is not None:
            options = {
                "method": method,
                "approach": approach,
                "inventories": inventories,
                "materials": materials,
                "company_name": company_name,
                "company_ids": company_ids,
                "product_ids": product_ids,
                "product_category_cpc": product_category_cpc,
                "reference_period": reference_period,
                "validity_period": validity_period,
                "created": created,
                "mc": mc,
                "seed": seed,
            }
            document, disclosure = _label_of_spec(spec_path, pact_version, variant, options)
            documents.append((spec_path, document))
        else:
            from cfp_engine.verify.reading import read_label

            check_paths(documents=tuple(("LABEL", "label file", p) for p in label_paths))
            documents = [(path, read_label(path)) for path in label_paths]
        pages = None
        if public:
            from cfp_engine.exchange.pages import label_pages

            with parameter_errors_as_flags({"public_url": "--public-url"}):
                pages = label_pages(disclosure, public_url)
        try:
            published = publishing.publish_many(
                database,
                documents,
                public=public,
                renew_id=new_id or spec_path is not None,
                label_pages=pages,
            )
        except publishing.IdTakenError as exc:
            raise SpecError(f"{exc} (--new-id)") from None
        from cfp_engine.exchange.announce import announce

        announced = announce(database, published)
        for done in published:
            if not done.new:
                click.echo(f"{done.id}: already published (unchanged)")
                continue
            renamed = f", new id for {done.renamed_from}" if done.renamed_from else ""
            click.echo(f"{done.id}: published (PACT v{done.api}{renamed})")
            if public:
                from cfp_engine.exchange.pages import label_url

                click.echo(f"  public page: {label_url(public_url, done.id)}")
            for old in done.deprecated:
                click.echo(f"  {old}: Deprecated, now in precedingPfIds")
        if announced:
            click.echo(f"{announced} Published event(s) queued for data recipients", err=True)


def _check_public(spec_path, public_url) -> None:
    """Refuse ``--public`` where no page can be made, before anything is calculated."""
    from cfp_engine.exchange.pages import label_url

    if spec_path is None:
        raise SpecError(
            "--public: the public page shows the readable label, rendered from the "
            "calculation; a PACT file alone does not carry it: publish with --spec SPEC --public"
        )
    if not public_url:
        raise SpecError(
            "--public: give --public-url (the host's https:// address as its users reach "
            "it; the label's QR code points there) or set CFP_EXCHANGE_PUBLIC_URL"
        )
    with parameter_errors_as_flags({"public_url": "--public-url"}):
        label_url(public_url, "")


def _label_of_spec(spec_path, pact_version, variant, options: dict):
    """The PACT document of SPEC, as ``cfp label`` makes it, and its disclosure
    (``options``: the label options)."""
    from cfp_engine.labels.pact import to_pact_v2, to_pact_v3
    from cfp_engine.spec.product import load_spec

    check_paths(
        documents=(("--spec", "spec file", spec_path),),
        inventories=options["inventories"],
        materials=options["materials"],
    )
    spec = load_spec(spec_path)
    disclosure = disclosure_from_options(spec, variant=variant, **options)
    _warn(disclosure.result.get("warnings", []))
    document = to_pact_v3(disclosure) if pact_version == "3" else to_pact_v2(disclosure)
    return document, disclosure


@cli.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8443, show_default=True)
@db_option
@click.option("--tls-cert", default=None, metavar="FILE", help="TLS certificate chain (PEM).")
@click.option("--tls-key", default=None, metavar="FILE", help="TLS private key (PEM).")
@click.option(
    "--dev-tls", is_flag=True, help="Use a self-signed certificate made in the store (local use)."
)
@click.option(
    "--workers", type=click.IntRange(1), default=1, show_default=True, help="Worker processes."
)
@click.option(
    "--public-url",
    default=None,
    metavar="URL",
    help="The host's URL as recipients know it, e.g. behind a reverse proxy "
    "(default https://HOST:PORT).",
)
@click.option(
    "--events-ca",
    default=None,
    metavar="FILE",
    help="CA bundle to verify data recipients' events endpoints (default: the system's).",
)
@click.pass_context
def serve(ctx, host, port, db_url, tls_cert, tls_key, dev_tls, workers, public_url, events_ca):
    """Serve the published footprints (PACT v2.3 and v3.0 API) over HTTPS.

    `cfp serve clients ...` manages the data recipients who may read them.
    """
    ctx.ensure_object(dict)
    ctx.obj["db_url"] = db_url
    if ctx.invoked_subcommand is not None:
        return
    from cfp_engine.exchange.server import ServeOptions
    from cfp_engine.exchange.server import serve as run

    if not dev_tls and not (tls_cert and tls_key):
        raise SpecError(
            "serve: plain HTTP is refused; give --tls-cert FILE and --tls-key FILE, "
            "or --dev-tls for a self-signed certificate (local use only)"
        )
    options = ServeOptions(
        host, port, db_url, tls_cert, tls_key, dev_tls, workers, events_ca, public_url
    )
    flags = {
        "tls_cert": "--tls-cert",
        "tls_key": "--tls-key",
        "dev_tls": "--dev-tls",
        "events_ca": "--events-ca",
        "public_url": "--public-url",
        **_DB_FLAGS,
    }
    with parameter_errors_as_flags(flags):
        run(options)


@serve.group()
def clients():
    """Data recipients: add, list, remove, rotate."""


def _db_of(ctx) -> str | None:
    return ctx.find_object(dict).get("db_url")


@clients.command("add")
@click.argument("name")
@click.option(
    "--companies",
    "companies",
    multiple=True,
    metavar="URN",
    help="Release footprints of this company id; repeatable.",
)
@click.option(
    "--products",
    "products",
    multiple=True,
    metavar="URN",
    help="Release footprints of this product id; repeatable.",
)
@click.option(
    "--events-url",
    default=None,
    metavar="URL",
    help="The recipient's PACT events endpoint (https).",
)
@click.option("--events-client-id", default=None, help="Client id this host uses at --events-url.")
@click.option("--events-client-secret", default=None, help="Its secret.")
@click.pass_context
def clients_add(ctx, name, companies, products, events_url, events_client_id, events_client_secret):
    """Register NAME; print its client id and secret (shown only now).

    Without --companies or --products, everything published is released to it.
    """
    from cfp_engine.exchange.clients import add_client

    if events_url is not None and not (events_client_id and events_client_secret):
        raise SpecError(
            "--events-url: needs --events-client-id and --events-client-secret, the "
            "credentials the recipient gave this host for its events endpoint"
        )
    flags = {"events_url": "--events-url", "name": "NAME"}
    with _open(_db_of(ctx)) as database, parameter_errors_as_flags(flags):
        new = add_client(
            database,
            name,
            companies=companies,
            products=products,
            events_url=events_url,
            events_client_id=events_client_id,
            events_client_secret=events_client_secret,
        )
    _print_secret(new)


def _print_secret(new) -> None:
    click.echo(f"client_id: {new.client_id}")
    click.echo(f"client_secret: {new.client_secret}")
    click.echo("The secret is shown only now; keep it (rotate to get a new one).", err=True)


@clients.command("list")
@click.pass_context
def clients_list(ctx):
    """List the clients and what is released to them."""
    from cfp_engine.exchange.clients import list_clients

    with _open(_db_of(ctx)) as database:
        for info in list_clients(database):
            events = f"  events: {info.events_url}" if info.events_url else ""
            releases = ", ".join(info.releases)
            click.echo(f"{info.name}  {info.client_id}  {info.created_at}  {releases}{events}")


@clients.command("remove")
@click.argument("client")
@click.pass_context
def clients_remove(ctx, client):
    """Remove CLIENT (a name or client id) and revoke its tokens."""
    from cfp_engine.exchange.clients import remove_client

    with _open(_db_of(ctx)) as database:
        remove_client(database, client)
    click.echo(f"{client}: removed")


@clients.command("rotate")
@click.argument("client")
@click.pass_context
def clients_rotate(ctx, client):
    """Give CLIENT a new secret; the old one and its tokens stop working."""
    from cfp_engine.exchange.clients import rotate_secret

    with _open(_db_of(ctx)) as database:
        new = rotate_secret(database, client)
    _print_secret(new)
