"""The readable label and its calculation report, in Markdown or HTML, English or Japanese.

Both formats are laid out from one :class:`~.view.LabelView` (:func:`build_view`).
"""

from cfp_engine.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "LabelView": "view",
        "build_view": "view",
        "render_html": "render",
        "render_markdown": "render",
    },
)
