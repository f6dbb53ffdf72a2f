"""The readable label and report (cfp label --format md|html): content, rounding, HTML, SVG."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Context, Decimal
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from cfp_engine.cli import cli
from cfp_engine.errors import SpecError
from cfp_engine.labels.readable.display_values import (
    display_value,
    format_percent,
    round_significant,
)
from cfp_engine.labels.readable.render import render_markdown

from conftest import EXAMPLES

PET = EXAMPLES / "pet-bottle.yaml"
FACTS = (
    "--company-name",
    "Example Co.",
    "--company-id",
    "urn:example:company:1",
    "--product-id",
    "urn:example:product:pet-500",
    "--reference-period",
    "2025-01-01:2025-12-31",
    "--created",
    "2026-01-15T09:00:00Z",
)
# Written out here, not imported, so a wrong translation in the module is caught.
STAGE_NAMES = {
    "en": {
        "raw_materials": "Raw material acquisition",
        "production": "Production",
        "distribution": "Distribution",
        "use": "Use",
        "end_of_life": "End of life",
    },
    "ja": {
        "raw_materials": "原材料調達",
        "production": "生産",
        "distribution": "流通・販売",
        "use": "使用・維持管理",
        "end_of_life": "廃棄・リサイクル",
    },
}
CO2E = {"en": " CO2e", "ja": "-CO2e"}
PERIOD = {"en": "2025-01-01 to 2025-12-31", "ja": "2025年1月1日～2025年12月31日"}
DECLARED = {"en": "per 1 piece", "ja": "1個あたり"}
NO_REPORT = {"en": "no published location given", "ja": "公開先の記載なし"}


def label(spec, *args):
    result = CliRunner().invoke(cli, ["label", str(spec), *FACTS, *args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def document(builtin_table):
    return json.loads(label(PET, "--format", "json"))


@pytest.fixture(scope="module")
def rendered(builtin_table):
    return {
        (fmt, lang): label(PET, "--format", fmt, "--lang", lang)
        for fmt in ("md", "html")
        for lang in ("en", "ja")
    }


# -- an independent rounding, for comparison ---------------------------------------------


def expected_display(kg: float) -> tuple[str, str]:
    """3 significant digits half up by a Decimal context (not the module's quantize)."""
    context = Context(prec=3, rounding=ROUND_HALF_UP)
    rounded = context.plus(Decimal(repr(kg)))
    if rounded == 0:
        return "0", "kg"
    if abs(rounded) < 1:
        return format(context.multiply(rounded, 1000), "f"), "g"
    if abs(rounded) >= 1000:
        return format(context.divide(rounded, 1000), ",f"), "t"
    return format(rounded, "f"), "kg"


def expected_percent(part: float, whole: float) -> str:
    share = Decimal(repr(part)) * 100 / Decimal(repr(whole))
    return f"{share.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} %"


# -- rounding by hand ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kg", "number", "unit"),
    [
        (0.116106, "116", "g"),  # the brief's case
        (1234.5, "1.23", "t"),
        (0.09784298258030452, "97.8", "g"),
        (0.1235, "124", "g"),  # half up, from repr: the float is 0.12349999...
        (2.345, "2.35", "kg"),  # the float is 2.34499999...; the shown decimal is 2.345
        (0.1225, "123", "g"),  # half up, not half even (which gives 122)
        (0.9996, "1.00", "kg"),  # rounds up across the g/kg boundary: unit from the result
        (999.4, "999", "kg"),
        (999.5, "1.00", "t"),
        (0.005, "5.00", "g"),  # significant trailing zeros are kept
        (0.1, "100", "g"),
        (12.0, "12.0", "kg"),
        (1.2345e6, "1,230", "t"),
        (-0.0125, "-12.5", "g"),
        (-0.01235, "-12.4", "g"),  # half up is away from zero
        (0.0, "0", "kg"),
        (3.3e-7, "0.000330", "g"),
    ],
)
def test_display_value_by_hand(kg, number, unit):
    shown = display_value(kg)
    assert (shown.number, shown.unit) == (number, unit)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.116106", "0.116"), ("1234.5", "1.23E+3"), ("0.0445", "0.0445"), ("0.04455", "0.0446")],
)
def test_round_significant_is_decimal(value, expected):
    assert round_significant(value) == Decimal(expected)
    assert str(round_significant(value)) == expected


def test_round_significant_rejects_non_finite():
    with pytest.raises(ValueError, match="not a finite number"):
        round_significant(float("nan"))


@pytest.mark.parametrize(
    ("kg", "unit", "number"),
    [(0.0009645502611309337, "g", "0.965"), (0.0853, "kg", "0.0853"), (2500.0, "t", "2.50")],
)
def test_display_value_in_a_given_unit(kg, unit, number):
    assert display_value(kg, unit=unit).number == number


@pytest.mark.parametrize(("value", "text"), [(87.05, "87.1"), (87.04, "87.0"), (-35.05, "-35.1")])
def test_format_percent_half_up(value, text):
    assert format_percent(value) == text


# -- the label's content ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_label_shows_the_display_elements(rendered, document, fmt, lang):
    out = rendered[fmt, lang]
    number, unit = expected_display(document["figures"]["pcfExcludingBiogenicUptake"])
    # The PET bottle example: 97.784 g with a landfilled cap, plus the cap's Japanese plastics
    # rates (R3 0.64 burned at 3.14213, R2 0.22 cut off, the rest landfilled at 0.00898):
    # 2.5 g x (0.64 x 3.14213 + 0.14 x 0.00898 - 0.00898) = 5.008 g, so 102.85 g.
    assert (number, unit) == ("103", "g")
    value = f"{number} {unit}{CO2E[lang]}"
    if fmt == "md":
        assert value in out
    else:
        page = parse_html(out)
        assert page.text_of("number") == number
        assert page.text_of("unit") == f"{unit}{CO2E[lang]}"
        assert any(value in a for a in page.aria_labels)
    assert DECLARED[lang] in out
    assert "1 piece" in out
    for stage in document["stages_covered"]:
        assert STAGE_NAMES[lang][stage] in out
    assert PERIOD[lang] in out
    assert NO_REPORT[lang] in out
    assert "Example Co." in out
    assert "IPCC 2021 GWP100" in out
    assert "AR6" in out


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_report_items(rendered, document, fmt, lang):
    out = rendered[fmt, lang]
    total = document["figures"]["pcfExcludingBiogenicUptake"]
    for stage in document["stages_covered"]:
        value = document["stages_kg_co2e"][stage]
        number, unit = expected_display(value)
        assert unit == "g"  # every stage is below 1 kg, in the headline's unit
        assert f"{number} g{CO2E[lang]}" in out
        assert expected_percent(value, total) in out
    result = document["result"]
    assert expected_percent(result["recycled_content_share"], 1.0) in out
    assert expected_percent(result["reduction_vs_virgin"], 1.0) in out
    number, unit = expected_display(result["virgin_baseline_kg_co2e"])
    assert f"{number} {unit}{CO2E[lang]}" in out
    mass, mass_unit = expected_display(document["mass_per_declared_unit_kg"])
    assert f"{mass} {mass_unit}" in out
    for digest in ("spec_sha256", "data_sha256", "engine_sha256", "figures_sha256"):
        assert document["integrity"][digest] in out
    for source in document["secondary_emission_factor_sources"]:
        assert source["name"].replace("&", "&amp;" if fmt == "html" else "&") in out
    assert "ISO14067" in out
    heading = {
        "en": "Calculation report (ISO 14067, clause 7)",
        "ja": "算定報告（ISO 14067 第7章）",
    }
    assert heading[lang] in out
    for japanese in ("宣言単位", "算定範囲", "カーボンフットプリント", "配分", "不確実性"):
        assert (japanese in out) == (lang == "ja")


def test_report_url_is_shown_when_given(tmp_path, builtin_table):
    url = "https://example.com/cfp/pet-bottle-report.pdf?v=1&lang=ja"
    spec = tmp_path / "pet.yaml"
    spec.write_text(
        PET.read_text(encoding="utf-8") + f'\nlabel:\n  report_url: "{url}"\n', encoding="utf-8"
    )
    md = label(spec, "--format", "md", "--lang", "ja")
    assert url.replace("_", "\\_") in md and NO_REPORT["ja"] not in md
    page = label(spec, "--format", "html")
    assert f'<a href="{url.replace("&", "&amp;")}">' in page
    assert NO_REPORT["en"] not in page


def test_text_is_escaped(builtin_table):
    page = (
        CliRunner()
        .invoke(
            cli,
            [
                "label",
                str(PET),
                *FACTS,
                "--company-name",
                "<script>alert(1)</script> & Co",
                "--format",
                "html",
            ],
        )
        .stdout
    )
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page
    md = label(PET, "--format", "md", "--company-name", "A|B *C*")
    assert "A\\|B \\*C\\*" in md


def test_unknown_language(builtin_table):
    from cfp_engine.labels.make import make_disclosure
    from cfp_engine.spec.product import load_spec

    facts = {
        "company_name": "X",
        "company_ids": ("urn:x",),
        "product_ids": ("urn:y",),
        "reference_period": "2025-01-01:2025-12-31",
    }
    disclosure = make_disclosure(load_spec(PET), facts=facts)
    with pytest.raises(SpecError, match="label language 'fr'"):
        render_markdown(disclosure, lang="fr")


# -- HTML structure and the chart --------------------------------------------------------


VOID_TAGS = {"meta", "br", "hr", "img", "link", "input"}


class PageParser(HTMLParser):
    """Collects what the tests look at: tags, attributes, texts by class, the SVG parts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.decl = ""
        self.tags: list[tuple[str, dict]] = []
        self.stack: list[tuple[str, dict]] = []
        self.texts: dict[str, list[str]] = {}
        self.svg_children: list[str] = []

    def handle_decl(self, decl):
        self.decl = decl

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if self.stack and self.stack[-1][0] == "svg":
            self.svg_children.append(tag)
        if tag not in VOID_TAGS:
            self.stack.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, attrs in self.stack:
            for cls in (attrs.get("class") or "").split():
                self.texts.setdefault(cls, []).append(data)

    def text_of(self, cls):
        return "".join(self.texts.get(cls, [])).strip()

    def find(self, tag, cls=None):
        return [
            a for t, a in self.tags if t == tag and (cls is None or cls in (a.get("class") or ""))
        ]

    @property
    def aria_labels(self):
        return [a["aria-label"] for _, a in self.tags if "aria-label" in a]


def parse_html(text):
    parser = PageParser()
    parser.feed(text)
    parser.close()
    return parser


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_html_is_a_self_contained_document(rendered, lang):
    out = rendered["html", lang]
    page = parse_html(out)
    assert page.decl.lower() == "doctype html"
    assert page.find("html")[0]["lang"] == lang
    assert any(a.get("charset") == "utf-8" for a in page.find("meta"))
    assert page.find("style")
    assert not page.find("script") and not page.find("link") and not page.find("img")
    assert not any("src" in a for _, a in page.tags)
    assert "url(" not in out and "@import" not in out


def bar_geometry(page):
    (zero,) = page.find("line", "zero-line")
    assert zero["x1"] == zero["x2"]  # a vertical zero line
    assert zero["stroke"] != "none" and float(zero["stroke-width"]) > 0
    return float(zero["x1"]), page.find("rect", "bar")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_svg_chart_has_one_bar_per_stage_from_zero(rendered, document, lang):
    page = parse_html(rendered["html", lang])
    (svg,) = page.find("svg")
    assert svg["role"] == "img" and svg["aria-labelledby"]
    assert {"title", "desc"} <= set(page.svg_children)
    zero, bars = bar_geometry(page)
    assert [b["data-stage"] for b in bars] == document["stages_covered"]
    for bar in bars:
        assert float(bar["data-value"]) >= 0
        assert float(bar["x"]) == pytest.approx(zero, abs=0.01)
        assert float(bar["width"]) >= 0
    widths = {b["data-stage"]: float(b["width"]) for b in bars}
    assert max(widths, key=widths.get) == "raw_materials"
    ticks = page.find("line", "grid")
    assert min(float(t["x1"]) for t in ticks) == pytest.approx(zero, abs=0.01)  # axis from 0
    for stage in document["stages_covered"]:
        assert STAGE_NAMES[lang][stage] in page.text_of("stage-chart")


def test_svg_negative_stage_drawn_left_of_zero(builtin_table):
    page = parse_html(label(PET, "--format", "html", "--approach", "avoided-burden"))
    zero, bars = bar_geometry(page)
    by_stage = {b["data-stage"]: b for b in bars}
    credit = by_stage["end_of_life"]
    assert float(credit["data-value"]) < 0  # a net credit at end of life
    assert float(credit["x"]) < zero
    assert float(credit["x"]) + float(credit["width"]) == pytest.approx(zero, abs=0.01)
    assert float(by_stage["raw_materials"]["x"]) == pytest.approx(zero, abs=0.01)
    assert "-" in page.text_of("stage-chart")


# -- a real browser --------------------------------------------------------------------


def test_chromium_screenshot_is_not_blank(rendered, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no headless browser: install the Debian package chromium to run this")
    import matplotlib.image

    page = tmp_path / "label.ja.html"
    page.write_text(rendered["html", "ja"], encoding="utf-8")
    png = tmp_path / "label.ja.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={png}",
            "--window-size=900,1400",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert png.is_file() and png.stat().st_size > 0
    pixels = matplotlib.image.imread(png)[..., :3]
    assert pixels.shape[:2] == (1400, 900)
    dark = (pixels.mean(axis=2) < 0.3).sum()
    assert dark > 2000  # text was drawn
    green = (
        (abs(pixels[..., 0] - 0x2E / 255) < 0.05)
        & (abs(pixels[..., 1] - 0x7D / 255) < 0.05)
        & (abs(pixels[..., 2] - 0x32 / 255) < 0.05)
    ).sum()
    assert green > 500  # the stage bars were drawn
