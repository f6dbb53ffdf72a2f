"""Lazy public names of a package (PEP 562): named in its ``__init__``, loaded on first use.

Every package of cfp-engine exports its few public names this one way, so that importing
a package stays cheap (no numpy, pint or Brightway) until one of its names is used.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``.

    Parameters
    ----------
    package
        The package's ``__name__``.
    homes
        Public name -> the module that defines it, relative to ``package``
        (``"product"`` for ``package.product``).

    Examples
    --------
    In a package's ``__init__.py``::

        __getattr__, __dir__, __all__ = lazy_exports(__name__, {"load_spec": "product"})
    """
    homes = dict(homes)

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{homes[name]}"), name)
        setattr(sys.modules[package], name, value)  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *homes})

    return __getattr__, __dir__, sorted(homes)
