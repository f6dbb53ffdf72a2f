"""Human-readable CFP label and calculation report, in Markdown or HTML, English or Japanese.

The label shows the display elements of the CFP representation guide of Japan's METI and
MOE (経済産業省・環境省「カーボンフットプリント表示ガイド」, February 2025): the CFP value
with its unit (g, kg or t CO2e), placed next to the declared unit (宣言単位), the
life-cycle stages covered (算定範囲) and where the CFP calculation report can be found;
plus the reference period. The report that follows lists the items ISO 14067:2018
clause 7 asks a CFP study report to give.

Both formats and both languages are rendered from one view
(:func:`cfp_engine.labels.readable.view.build_view`) and one table of strings
(:data:`cfp_engine.labels.readable.text.STRINGS`); this module only lays the view out as Markdown
or an HTML page and computes nothing (display rounding is
:mod:`cfp_engine.labels.readable.display_values`,
the HTML page's stage chart :mod:`cfp_engine.labels.readable.stage_chart`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from string import Template

from cfp_engine.labels.disclosure import Disclosure
from cfp_engine.labels.readable.display_values import co2e_unit
from cfp_engine.labels.readable.qr import qr_svg
from cfp_engine.labels.readable.stage_chart import stage_chart_svg
from cfp_engine.labels.readable.text import text
from cfp_engine.labels.readable.view import build_view

# -- Markdown --------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#"})


def _md(value: str) -> str:
    return " ".join(str(value).split()).translate(_MD_SPECIAL)


def render_markdown(disclosure: Disclosure, *, lang: str = "en") -> str:
    """The label and its calculation report as Markdown in ``lang`` ("en" or "ja")."""
    view = build_view(disclosure, lang=lang)
    t = lambda key: text(key, lang)  # noqa: E731
    value = f"{view.headline.number} {co2e_unit(view.headline.unit, lang)}"
    lines = [f"# {_md(view.title)}", "", f"## {t('label')}", ""]
    colon = t("colon")
    lines.append(f"> **{_md(t('cfp'))}{colon}{_md(value)}**  ")
    lines += [f"> {_md(k)}{colon}{_md(v)}  " for k, v in view.label_rows]
    lines += [f"> *{_md(view.label_note)}*", "", f"## {_md(t('report'))}", ""]
    if t("engine_text"):
        lines += [_md(t("engine_text")), ""]
    for section in view.sections:
        lines += [f"### {_md(section.title)}", ""]
        lines += [f"- **{_md(k)}**{colon}{_md(v)}" if k else f"- {_md(v)}" for k, v in section.rows]
        if section.table:
            header, *body = section.table
            lines += [
                "| " + " | ".join(_md(c) for c in header) + " |",
                "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|",
            ]
            lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in body]
        if section.rows or section.table:
            lines.append("")
        lines += [*(f"*{_md(n)}*" for n in section.notes), *([""] if section.notes else [])]
    return "\n".join(lines).rstrip() + "\n"


# -- HTML ------------------------------------------------------------------------------

_PAGE = Template(
    """<!DOCTYPE html>
<html lang="$lang">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>
body { font-family: "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Yu Gothic",
  Meiryo, "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; background: #fff;
  max-width: 820px; margin: 24px auto; padding: 0 16px; line-height: 1.55; }
.label { border: 3px solid #1b5e20; border-radius: 12px; padding: 16px 20px; }
.label h1 { margin: 0 0 4px; font-size: 1.35em; color: #1b5e20; }
.value { font-size: 2.6em; font-weight: 700; margin: 4px 0 8px; }
.value .unit { font-size: 0.5em; font-weight: 600; margin-left: 0.25em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dt { font-weight: 600; color: #333; } dd { margin: 0; overflow-wrap: anywhere; }
.note { font-size: 0.85em; color: #444; margin-top: 10px; }
h2 { border-bottom: 2px solid #1b5e20; padding-bottom: 2px; margin-top: 28px; }
h3 { margin: 20px 0 6px; font-size: 1.05em; }
table { border-collapse: collapse; } th, td { border: 1px solid #bbb; padding: 3px 10px; }
th[scope=row] { text-align: left; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
figure.chart { margin: 16px 0 0; }
svg text { font-family: inherit; font-size: 13px; fill: #1a1a1a; }
nav.langs { text-align: right; margin-bottom: 8px; } nav.langs a { margin-left: 12px; }
figure.qr { margin: 12px 0 0; display: flex; align-items: center; gap: 12px; }
figure.qr figcaption { font-size: 0.85em; overflow-wrap: anywhere; }
</style>
</head>
<body>
$languages<section class="label" aria-label="$label_aria">
<h1>$title</h1>
<p class="value"><span class="number">$number</span><span class="unit">$unit</span></p>
$label_rows
<p class="note">$note</p>
$qr</section>
<figure class="chart">
$chart
</figure>
<h2>$report_title</h2>
$engine_text
$sections
</body>
</html>
"""
)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _unit_html(unit_text: str) -> str:
    return _e(unit_text).replace("CO2e", "CO<sub>2</sub>e")


def _dl(rows: Sequence[tuple[str, str]], report_url: str | None = None) -> str:
    items = []
    for key, value in rows:
        if report_url and value == report_url and report_url.startswith(("https://", "http://")):
            shown = f'<a href="{_e(report_url)}">{_e(report_url)}</a>'
        else:
            shown = _e(value)
        items.append(f"<dt>{_e(key)}</dt><dd>{shown}</dd>" if key else f"<dd>{shown}</dd>")
    return "<dl>\n" + "\n".join(items) + "\n</dl>"


def _table(rows: Sequence[Sequence[str]]) -> str:
    header, *body = rows
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in header)
    lines = [f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>"]
    for row in body:
        cells = [f'<th scope="row">{_e(row[0])}</th>'] + [
            f'<td class="num">{_e(c)}</td>' for c in row[1:]
        ]
        lines.append(f"<tr>{''.join(cells)}</tr>")
    return "\n".join(lines) + "\n</tbody>\n</table>"


_LANGUAGE_NAMES = {"en": "English", "ja": "日本語"}


def _languages_nav(languages: Mapping[str, str] | None, lang: str) -> str:
    if not languages:
        return ""
    links = [
        f'<a href="{_e(href)}" hreflang="{_e(code)}" lang="{_e(code)}">'
        f"{_e(_LANGUAGE_NAMES.get(code, code))}</a>"
        for code, href in languages.items()
        if code != lang
    ]
    return '<nav class="langs">' + "".join(links) + "</nav>\n" if links else ""


def _qr_figure(qr_url: str | None, lang: str) -> str:
    if not qr_url:
        return ""
    caption = text("qr_caption", lang)
    svg = qr_svg(qr_url, title=f"{caption}: {qr_url}")
    link = f'<a href="{_e(qr_url)}">{_e(qr_url)}</a>'
    return (
        f'<figure class="qr">\n{svg}\n<figcaption>{_e(caption)}<br>{link}</figcaption>\n</figure>\n'
    )


def render_html(
    disclosure: Disclosure,
    *,
    lang: str = "en",
    qr_url: str | None = None,
    languages: Mapping[str, str] | None = None,
) -> str:
    """The label and its report as one self-contained HTML page (no scripts).

    Parameters
    ----------
    disclosure
        The label's values.
    lang
        ``"en"`` or ``"ja"``.
    qr_url
        The address of the label's page (where its calculation report can be read): the
        label then shows a QR code of it and the address as a link.
    languages
        Links to the page in other languages, by language code (``{"ja": "?lang=ja"}``);
        the current language is left out.
    """
    view = build_view(disclosure, lang=lang)
    t = lambda key: text(key, lang)  # noqa: E731
    unit_text = co2e_unit(view.headline.unit, lang)
    sep = t("sep")
    desc = t("chart_desc").format(
        unit=unit_text, items=sep.join(f"{b.name} {b.label}" for b in view.bars)
    )
    heading = t("chart_heading").format(title=t("chart_title"), unit=unit_text)
    chart = stage_chart_svg(view.bars, title=t("chart_title"), heading=heading, desc=desc)
    sections = []
    for section in view.sections:
        body = [f"<h3>{_e(section.title)}</h3>"]
        if section.rows:
            body.append(_dl(section.rows))
        if section.table:
            body.append(_table(section.table))
        body += [f'<p class="note">{_e(n)}</p>' for n in section.notes]
        sections.append("<section>\n" + "\n".join(body) + "\n</section>")
    value_text = f"{view.headline.number} {unit_text}"
    return _PAGE.substitute(
        lang=lang,
        title=_e(view.title),
        label_aria=_e(f"{t('cfp')}: {value_text}"),
        number=_e(view.headline.number),
        unit=_unit_html(unit_text),
        label_rows=_dl(view.label_rows, view.report_url),
        note=_e(view.label_note),
        chart=chart,
        report_title=_e(t("report")),
        engine_text=f'<p class="note">{_e(t("engine_text"))}</p>' if t("engine_text") else "",
        sections="\n".join(sections),
        languages=_languages_nav(languages, lang),
        qr=_qr_figure(qr_url, lang),
    )
