"""The QR code of a label: an inline SVG pointing to the label's page.

Made with segno (https://segno.readthedocs.io), a pure-Python QR encoder (ISO/IEC 18004),
not by hand. Japan's CFP display guide (経済産業省・環境省「カーボンフットプリント表示
ガイド」, 2025) asks that the calculation report be reachable from the label; the QR code
carries the address of the page that shows it.
"""

from __future__ import annotations

import io

#: Error correction level M (15 % of the code words recoverable): the usual choice for
#: printed labels that may get scuffed, at a modest size cost over L.
ERROR_CORRECTION = "m"


def qr_code(url: str):
    """The segno QR code of ``url`` (error correction :data:`ERROR_CORRECTION`)."""
    import segno

    return segno.make(url, error=ERROR_CORRECTION, micro=False)


def qr_svg(url: str, *, title: str | None = None, scale: int = 4) -> str:
    """An inline SVG element (no XML declaration) of the QR code of ``url``.

    Parameters
    ----------
    url
        What the code encodes, e.g. ``https://host.example/labels/<id>``.
    title
        An accessible title of the image (the SVG ``<title>``).
    scale
        Size of one module, in SVG user units (px).
    """
    out = io.BytesIO()
    qr_code(url).save(
        out,
        kind="svg",
        scale=scale,
        border=4,  # the quiet zone the standard asks for: 4 modules
        xmldecl=False,
        svgns=True,
        title=title,
        svgclass="qr",
        lineclass=None,
        omitsize=False,
    )
    return out.getvalue().decode("utf-8")
