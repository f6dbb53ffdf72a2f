"""The public label page: /labels/{id} over real TLS, in ja and en, with its QR code.

The footprint is the PET bottle example, calculated on the built-in store; the page must
show its total as the readable label rounds it (three significant digits, half up, in g
below 1 kg), worked out here from the disclosure's unrounded figure.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Context, Decimal

import pytest
import segno
from qr_helpers import svg_modules

from cfp_engine.errors import SpecError
from cfp_engine.exchange.pages import label_pages, page_language
from cfp_engine.exchange.publishing import publish

from conftest import EXAMPLES
from exchange_helpers import COMPANY, Host, footprint, footprint_id

PUBLIC_URL = "https://labels.example.jp/cfp"


@pytest.fixture(scope="module")
def disclosure(builtin_table):
    from cfp_engine.labels.make import make_disclosure
    from cfp_engine.spec.product import load_spec

    facts = {
        "company_name": "Acme",
        "company_ids": (COMPANY,),
        "product_ids": ("urn:gtin:4012345000009",),
        "reference_period": "2025-01-01:2025-12-31",
        "created": datetime(2026, 1, 1, tzinfo=timezone.utc),
    }
    return make_disclosure(load_spec(EXAMPLES / "pet-bottle.yaml"), facts=facts)


def shown_total(disclosure) -> str:
    """The headline figure, rounded by hand: 3 significant digits, half up, in g."""
    grams = Decimal(repr(disclosure.total_kg_co2e)) * 1000
    assert 1 <= grams < 1000  # the example's total is shown in g
    rounded = Context(prec=3, rounding=ROUND_HALF_UP).create_decimal(grams)
    return format(rounded, "f")


def _pact(disclosure):
    from cfp_engine.labels.pact import to_pact_v3

    return to_pact_v3(disclosure)


@pytest.fixture
def page_host(database, tls_files, disclosure):
    running = Host(database, tls_files)
    pages = label_pages(disclosure, running.url)
    running.public = publish(database, _pact(disclosure), public=True, label_pages=pages)
    running.private = publish(database, footprint(7))
    yield running
    running.stop()


def _number(html: str) -> str:
    return re.search(r'<span class="number">([^<]+)</span>', html).group(1)


def test_the_page_shows_the_label_in_english_and_japanese_without_a_token(page_host, disclosure):
    url = f"/labels/{page_host.public.id}"
    with page_host.http() as http:
        english = http.get(url)
        japanese = http.get(url, params={"lang": "ja"})
        by_header = http.get(url, headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.8"})
        upper = http.get(url.upper().replace("/LABELS/", "/labels/"))
    total = shown_total(disclosure)
    for response, lang in ((english, "en"), (japanese, "ja"), (by_header, "ja")):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["content-language"] == lang
        assert f'<html lang="{lang}">' in response.text
        assert _number(response.text) == total
        assert "<script" not in response.text.lower()
    assert "g CO<sub>2</sub>e" in english.text and "g-CO<sub>2</sub>e" in japanese.text
    assert "Calculation report" in english.text and "算定報告" in japanese.text
    assert '<a href="?lang=ja" hreflang="ja" lang="ja">日本語</a>' in english.text
    assert '<a href="?lang=en" hreflang="en" lang="en">English</a>' in japanese.text
    assert "default-src 'none'" in english.headers["content-security-policy"]
    assert upper.status_code == 200


def test_the_qr_code_points_to_the_page(page_host):
    with page_host.http() as http:
        html = http.get(f"/labels/{page_host.public.id}").text
    page_url = f"{page_host.url}/labels/{page_host.public.id}"
    svg = re.search(r'<svg xmlns="http://www.w3.org/2000/svg" width=.*?</svg>', html).group(0)
    assert 'class="qr"' in svg
    inner = [row[4:-4] for row in svg_modules(svg)[4:-4]]
    assert inner == [[bool(b) for b in row] for row in segno.make(page_url, error="m").matrix]
    assert f'<a href="{page_url}">{page_url}</a>' in html


@pytest.mark.parametrize("which", ["private", "unknown", "injection", "long"])
def test_other_ids_get_the_same_404(page_host, which):
    ids = {
        "private": page_host.private.id,
        "unknown": footprint_id(99),
        "injection": "x' OR '1'='1",
        "long": "a" * 5000,
    }
    with page_host.http() as http:
        response = http.get(f"/labels/{ids[which]}", params={"lang": "ja"})
        reference = http.get(f"/labels/{footprint_id(98)}")
    assert response.status_code == 404
    assert response.text == reference.text
    assert "Acme" not in response.text and ids[which][:36] not in response.text


def test_a_public_page_needs_its_rendered_label(database):
    with pytest.raises(SpecError, match="public: a public footprint's page shows its readable"):
        publish(database, footprint(1), public=True)
    assert publish(database, footprint(1)).new  # nothing was stored by the refusal


def test_a_bad_public_url_is_refused_before_publishing(disclosure):
    with pytest.raises(SpecError, match=r"public_url: 'http://plain.example' is not an https"):
        label_pages(disclosure, "http://plain.example")


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        ("ja", None, "ja"),
        ("en", "ja", "en"),
        ("fr", "ja-JP", "ja"),
        (None, "fr-FR, en;q=0.5, ja;q=0.8", "ja"),
        (None, "ja;q=0.1, en;q=0.2", "en"),
        (None, "ja;q=bogus", "en"),
        (None, "de", "en"),
        (None, None, "en"),
    ],
)
def test_page_language(query, header, expected):
    assert page_language(query, header) == expected


def test_the_api_still_needs_a_token_for_a_public_footprint(page_host):
    with page_host.http() as http:
        response = http.get(f"/3/footprints/{page_host.public.id}")
    assert response.status_code == 400


def test_chromium_shows_the_total_over_tls(page_host, disclosure, tmp_path):
    """A real browser opens the page over TLS (a test certificate, hence
    --ignore-certificate-errors), shows the total, and its QR code reads back as the URL."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no headless browser: install the Debian package chromium to run this")
    page_url = f"{page_host.url}/labels/{page_host.public.id}"
    flags = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--ignore-certificate-errors",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [*flags, "--dump-dom", f"{page_url}?lang=ja"],
        check=True,
        capture_output=True,
        timeout=120,
        text=True,
    ).stdout
    assert '<html lang="ja">' in dom
    assert _number(dom) == shown_total(disclosure)
    assert "算定報告" in dom
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp (test extra) reads QR codes")
    from PIL import Image

    png = tmp_path / "page.png"
    subprocess.run(
        [*flags, f"--screenshot={png}", "--window-size=900,900", page_url],
        check=True,
        capture_output=True,
        timeout=120,
    )
    found = [code.text for code in zxingcpp.read_barcodes(Image.open(png))]
    assert found == [page_url]
