"""The public label page of a footprint: ``/labels/{id}``, its readable label in ja and en.

A footprint published with ``public`` has a page anyone may read, without a token: the
readable label and calculation report exactly as ``cfp label --format html`` renders
them, with a QR code of the page's own address. Japan's CFP display guide
(経済産業省・環境省「カーボンフットプリント表示ガイド」, 2025) asks that the calculation
report be reachable from the label; a printed label carries that QR code.

The pages are rendered when the footprint is published, because a PACT document does not
carry everything the label shows (the declared unit as specified, the stages covered, the
data-quality inputs). The QR code encodes the address given at publish time: a code
printed on packaging cannot follow the host to a new address either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import select

from cfp_engine.errors import SpecError, quote_input
from cfp_engine.exchange.database import Database, Footprint, LabelPage

if TYPE_CHECKING:
    from cfp_engine.labels.disclosure import Disclosure

#: The languages of a label page, the first being the default.
LANGUAGES = ("en", "ja")


def label_url(base_url: str, footprint_id: str) -> str:
    """The address of a footprint's public page under the host's ``base_url``.

    Raises
    ------
    SpecError
        ``base_url`` is not an ``https://`` URL (the host serves HTTPS only).
    """
    if not base_url.startswith("https://") or len(base_url) > 500:
        raise SpecError(f"public_url: {quote_input(base_url)} is not an https:// URL")
    return f"{base_url.rstrip('/')}/labels/{footprint_id}"


def label_pages(disclosure: Disclosure, base_url: str) -> Callable[[str, str], Mapping[str, str]]:
    """The ``label_pages`` of :func:`~cfp_engine.exchange.publishing.publish` for one label.

    Parameters
    ----------
    disclosure
        The label's values (what ``cfp label`` renders).
    base_url
        The host's public address (``https://...``); the QR code points to
        ``{base_url}/labels/{id}``.
    """
    from cfp_engine.labels.readable.render import render_html

    label_url(base_url, "")  # refuse a bad address before anything is calculated or stored
    links = {lang: f"?lang={lang}" for lang in LANGUAGES}

    def render(where: str, footprint_id: str) -> dict[str, str]:
        url = label_url(base_url, footprint_id)
        return {
            lang: render_html(disclosure, lang=lang, qr_url=url, languages=links)
            for lang in LANGUAGES
        }

    return render


def page_language(query_lang: str | None, accept_language: str | None) -> str:
    """The language to serve: ``?lang=`` if it is one of :data:`LANGUAGES`, else the best
    match of the ``Accept-Language`` header (RFC 9110 section 12.5.4), else the default."""
    if query_lang in LANGUAGES:
        return query_lang
    best, best_q = LANGUAGES[0], 0.0
    for item in (accept_language or "")[:500].split(","):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = primary, q
    return best


def public_page(database: Database, footprint_id: str, lang: str) -> str | None:
    """The label page of a public footprint in ``lang``; None for any other id."""
    if len(footprint_id) > 64:
        return None
    statement = (
        select(LabelPage.html)
        .join(Footprint, Footprint.pk == LabelPage.footprint_pk)
        .where(
            Footprint.id == footprint_id.lower(),
            Footprint.public.is_(True),
            LabelPage.lang == lang,
        )
        .order_by(Footprint.api.desc())  # the v3.0 rendering when both are published
        .limit(1)
    )
    with database.read() as connection:
        return connection.execute(statement).scalar()
