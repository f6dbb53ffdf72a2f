"""Commands for labels: ``label`` and ``verify``."""

from __future__ import annotations

from pathlib import Path

import click

from cfp_engine.cli._base import (
    _calculation_options,
    _warn,
    check_paths,
    cli,
    format_option,
    in_cli_terms,
    inventory_option,
    materials_option,
    parameter_errors_as_flags,
)
from cfp_engine.errors import SpecError, VerificationError, quote_input
from cfp_engine.files.checks import check_input_path
from cfp_engine.labels.catenax_model import LATEST_RELEASE, MODEL_VERSIONS
from cfp_engine.labels.formats import LABEL_FORMATS
from cfp_engine.spec.documents import dump_json

_LABEL_FACT_OPTIONS = [
    click.option("--company-name", default=None, help="Overrides label.company_name."),
    click.option(
        "--company-id",
        "company_ids",
        multiple=True,
        metavar="URN",
        help="Overrides label.company_ids; repeatable.",
    ),
    click.option(
        "--product-id",
        "product_ids",
        multiple=True,
        metavar="URN",
        help="Overrides label.product_ids; repeatable.",
    ),
    click.option("--product-category-cpc", default=None, help="UN CPC code (PACT v2)."),
    click.option(
        "--reference-period",
        default=None,
        metavar="START:END",
        help="Reference period, e.g. 2025-01-01:2025-12-31.",
    ),
    click.option(
        "--validity-period",
        default=None,
        metavar="START:END",
        help="Validity period (at most 3 years after the reference period).",
    ),
    click.option(
        "--created",
        default=None,
        metavar="ISO-8601",
        help="Creation time to record (default now); fixes it for reproducible labels.",
    ),
    click.option(
        "--mc",
        type=click.IntRange(1),
        default=None,
        metavar="N",
        help="Monte Carlo with N iterations for the uncertainty statement.",
    ),
    click.option(
        "--seed",
        type=click.IntRange(0),
        default=None,
        help="With --mc: random seed (default: drawn and recorded in the label).",
    ),
]


def label_fact_options(function):
    """The options giving a label's facts (company, product ids, periods, --mc); shared with
    ``cfp publish --spec``."""
    for option in reversed(_LABEL_FACT_OPTIONS):
        function = option(function)
    return function


def disclosure_from_options(
    spec,
    *,
    variant,
    method,
    approach,
    inventories,
    materials,
    company_name,
    company_ids,
    product_ids,
    product_category_cpc,
    reference_period,
    validity_period,
    created,
    mc,
    seed,
):
    """Calculate ``spec`` and build its disclosure from the label options' values."""
    from datetime import datetime

    from cfp_engine.labels.make import make_disclosure

    created_at = None
    if created:
        try:
            created_at = datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            raise SpecError(f"--created {created!r} is not an ISO 8601 date-time") from None
        if created_at.tzinfo is None:
            raise SpecError(f"--created {created!r} needs a time zone, e.g. ...Z")
    facts = {
        "company_name": company_name,
        "company_ids": tuple(company_ids),
        "product_ids": tuple(product_ids),
        "product_category_cpc": product_category_cpc,
        "reference_period": reference_period,
        "validity_period": validity_period,
        "created": created_at,
    }
    return make_disclosure(
        spec,
        variant=variant,
        method=method,
        approach=approach,
        inventories=inventories,
        materials=materials,
        facts=facts,
        mc=mc,
        seed=seed,
    )


@cli.command()
@click.argument("spec_path", metavar="SPEC")
@format_option(*LABEL_FORMATS, default="pact")
@click.option(
    "-o",
    "--output",
    "output",
    default=None,
    metavar="FILE",
    help="Write the label here (default: standard output).",
)
@click.option("--variant", default=None, help="Label a variant defined in the spec.")
@_calculation_options
@click.option(
    "--lang",
    type=click.Choice(("en", "ja")),
    default="en",
    show_default=True,
    help="Language of the md/html label.",
)
@click.option(
    "--catena-x-version",
    type=click.Choice(MODEL_VERSIONS),
    default=LATEST_RELEASE,
    show_default=True,
    help="Catena-X PCF aspect model version (10.0.0 is a release candidate).",
)
@click.option(
    "--study-url",
    default=None,
    metavar="URL",
    help="battery-passport, eu-battery: URL of the public carbon footprint study "
    "(overrides battery.carbon_footprint_study).",
)
@click.option(
    "--qr-url",
    default=None,
    metavar="URL",
    help="html: show a QR code of URL (the label's page, where its report can be read).",
)
@label_fact_options
def label(
    spec_path,
    fmt,
    output,
    variant,
    inventories,
    materials,
    method,
    approach,
    lang,
    catena_x_version,
    study_url,
    qr_url,
    company_name,
    company_ids,
    product_ids,
    product_category_cpc,
    reference_period,
    validity_period,
    created,
    mc,
    seed,
):
    """Labelling-ready disclosure of SPEC: PACT, Catena-X, or a readable label."""
    from cfp_engine.files.atomic import write_text_atomically
    from cfp_engine.labels.make import check_qr_url, render_label
    from cfp_engine.spec.product import load_spec

    if qr_url is not None:
        with parameter_errors_as_flags({"qr_url": "--qr-url"}):
            check_qr_url(qr_url, fmt)
    check_paths(
        documents=(("SPEC", "spec file", spec_path),),
        inventories=inventories,
        materials=materials,
        outputs={"--output": output},
    )
    spec = load_spec(spec_path)
    if fmt == "eu-battery" and approach is None and spec.with_variant(variant).approach is None:
        approach = "cff"  # the draft delegated act's rule; a different one is refused
    disclosure = disclosure_from_options(
        spec,
        variant=variant,
        method=method,
        approach=approach,
        inventories=inventories,
        materials=materials,
        company_name=company_name,
        company_ids=company_ids,
        product_ids=product_ids,
        product_category_cpc=product_category_cpc,
        reference_period=reference_period,
        validity_period=validity_period,
        created=created,
        mc=mc,
        seed=seed,
    )
    _warn(disclosure.result.get("warnings", []))
    with parameter_errors_as_flags({"qr_url": "--qr-url"}):
        text = render_label(
            disclosure,
            fmt,
            lang=lang,
            catena_x_version=catena_x_version,
            product=spec.with_variant(variant),
            study_url=study_url,
            qr_url=qr_url,
        )
    if output:
        write_text_atomically(output, text)
        click.echo(f"Label written to {output}", err=True)
    else:
        click.echo(text)


@cli.command()
@click.argument("label_path", metavar="LABEL")
@click.option(
    "--spec",
    "spec_path",
    required=True,
    metavar="SPEC",
    help="The product spec the label was made from.",
)
@inventory_option("Extra inventory file the spec needs; repeatable.")
@materials_option("Extra materials table the spec needs; repeatable.")
@click.option(
    "--schema-dir",
    default=None,
    metavar="DIR",
    help="Folder with the official schemas (e.g. PACT's v3/openapi-3.0.3.yaml, Catena-X's "
    "v9.0.0/Pcf-schema.json, the Battery Pass's io.BatteryPass.*/1.2.0/gen/*-schema.json) to "
    "validate against as well.",
)
@click.option(
    "--online",
    is_flag=True,
    help="Also ask each supplier's PACT host whether the footprints used are still Active "
    "(credentials of your last `cfp pull`; the secret in CFP_PULL_SECRET_<NAME>).",
)
@format_option("table", "json", default="table")
def verify(label_path, spec_path, inventories, materials, schema_dir, online, fmt):
    """Re-compute LABEL from its spec and check figures, hashes, schema and rules.

    Exit code 0 when every check passes, 1 when one fails, 2 when the input is unusable.
    """
    from cfp_engine.spec.product import load_spec
    from cfp_engine.verify.recompute import verify_label

    check_paths(
        documents=(("LABEL", "label file", label_path), ("--spec", "spec file", spec_path)),
        inventories=inventories,
        materials=materials,
    )
    if schema_dir is not None:
        check_input_path(schema_dir, what="schema folder", option="--schema-dir", folder_ok=True)
        if not Path(schema_dir).is_dir():
            raise SpecError(f"--schema-dir {quote_input(schema_dir)}: is a file, not a folder")
    report = verify_label(
        label_path,
        load_spec(spec_path),
        inventories=inventories,
        materials=materials,
        schema_dir=schema_dir,
        online=online,
    )
    if fmt == "json":
        document = report.to_dict()
        for check in document["checks"]:
            check["detail"] = in_cli_terms(check["detail"])
        click.echo(dump_json(document, what=label_path, indent=2, ensure_ascii=False))
    else:
        click.echo(f"Verification of {report.label} ({report.label_format})")
        for check in report.checks:
            click.echo(f"  [{check.status:>7}] {check.name}: {in_cli_terms(check.detail)}")
        click.echo("RESULT: " + ("all checks pass" if report.passed else "FAILED"))
    if not report.passed:
        failed = [check.name for check in report.checks if check.passed is False]
        raise VerificationError(
            f"{quote_input(label_path)}: {len(failed)} of {len(report.checks)} checks failed "
            f"({', '.join(failed)}); the report is on standard output"
        )
