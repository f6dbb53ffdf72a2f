"""The readable label and its calculation report, in Markdown or HTML, English or Japanese.

Both formats are laid out from one :class:`~.view.LabelView` (:func:`build_view`).
"""

__all__ = ["LabelView", "build_view", "render_html", "render_markdown"]


def __getattr__(name):
    # Lazy, like cfp_engine.labels: rendering needs the disclosure model and its imports.
    if name in ("LabelView", "build_view"):
        from cfp_engine.labels.readable import view

        return getattr(view, name)
    if name in ("render_html", "render_markdown"):
        from cfp_engine.labels.readable import render

        return getattr(render, name)
    raise AttributeError(f"module 'cfp_engine.labels.readable' has no attribute {name!r}")
