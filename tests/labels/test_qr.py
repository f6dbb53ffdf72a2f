"""The label's QR code: the SVG draws exactly the code segno makes of the URL."""

from __future__ import annotations

import pytest
import segno
from qr_helpers import svg_modules

from cfp_engine.labels.readable.qr import qr_svg

URL = "https://cfp.example.jp/labels/0000abcd-0000-0000-0000-000000000001"


@pytest.mark.parametrize("url", [URL, "https://a.example/labels/x?lang=ja"])
def test_the_svg_draws_the_code_of_the_url(url):
    svg = qr_svg(url, title="the label online")
    drawn = svg_modules(svg)
    expected = segno.make(url, error="m", micro=False)
    border = 4
    assert len(drawn) == expected.symbol_size(scale=1, border=border)[0]
    inner = [row[border:-border] for row in drawn[border:-border]]
    assert inner == [[bool(bit) for bit in row] for row in expected.matrix]
    # the quiet zone is empty
    assert not any(drawn[0]) and not any(row[0] for row in drawn)


def test_a_different_url_draws_a_different_code():
    assert svg_modules(qr_svg(URL)) != svg_modules(qr_svg(URL + "2"))


def test_the_svg_is_inline_and_titled():
    svg = qr_svg(URL, title="Label & report")
    assert svg.startswith("<svg ") and "<?xml" not in svg
    assert "<title>Label &amp; report</title>" in svg


FACTS = (
    "--company-name",
    "Example Co.",
    "--company-id",
    "urn:example:company:1",
    "--product-id",
    "urn:example:product:pet-500",
    "--reference-period",
    "2025-01-01:2025-12-31",
)


def test_cfp_label_html_shows_the_qr_code_of_qr_url(builtin_table):
    from click.testing import CliRunner

    from cfp_engine.cli import cli

    from conftest import EXAMPLES

    spec = str(EXAMPLES / "pet-bottle.yaml")
    args = ["label", spec, *FACTS, "--format", "html", "--lang", "ja"]
    result = CliRunner().invoke(cli, [*args, "--qr-url", URL])
    assert result.exit_code == 0, result.output
    page = result.stdout
    svg = page[page.index('<svg xmlns="http://www.w3.org/2000/svg" width=') :]
    svg = svg[: svg.index("</svg>") + 6]
    assert 'class="qr"' in svg
    inner = [row[4:-4] for row in svg_modules(svg)[4:-4]]
    assert inner == [[bool(bit) for bit in row] for row in segno.make(URL, error="m").matrix]
    assert f'<a href="{URL}">{URL}</a>' in page
    assert "この表示と算定報告はこちら" in page
    plain = CliRunner().invoke(cli, args)
    assert plain.exit_code == 0 and 'class="qr"' not in plain.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--format", "pact", "--qr-url", URL], "--qr-url: only the html label shows a QR code"),
        (["--format", "html", "--qr-url", "javascript:alert(1)"], "is not an http(s) address"),
    ],
)
def test_cfp_label_refuses_a_qr_url_it_cannot_show(tmp_path, options, message):
    from click.testing import CliRunner

    from cfp_engine.cli import cli

    out = tmp_path / "label.html"
    result = CliRunner().invoke(cli, ["label", "missing.yaml", *options, "-o", str(out)])
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()
