"""Indented JSON text, as ``json.dumps(document, indent=2)`` writes it, in less time and memory.

With ``indent`` the standard library encodes in pure Python, one generator step per
value, and keeps every piece in a list before joining it: for a result of 10^5
components that is 26 million pieces, most of the 2.2 GB peak and a third of the time
of ``cfp calc --format json``. Here a mapping or list whose values are all
plain (strings, numbers, booleans, null) is written in one call of json's C encoder,
with the separators its indentation needs; only the containers that hold containers
are walked in Python. The text is the same, character for character
(``tests/spec/test_json_text.py`` compares the two on generated documents).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii
from typing import Any

_PLAIN = frozenset({str, int, float, bool, type(None)})
_CONSTANTS = {None: "null", True: "true", False: "false"}


def dumps_json(
    document: Any, *, indent: int | str = 2, ensure_ascii: bool = True, allow_nan: bool = True
) -> str:
    """``json.dumps(document, indent=indent, ...)``: the same text, or the same error.

    Parameters
    ----------
    document
        Mappings, lists, tuples, strings, numbers, booleans and ``None``.
    indent
        Spaces (or the string) per level, as for :func:`json.dumps`.
    ensure_ascii
        Escape non-ASCII characters, as :func:`json.dumps` does by default.
    allow_nan
        Write ``NaN`` and ``Infinity`` (not JSON), as :func:`json.dumps` does by default;
        ``False``: a ``ValueError`` instead.

    Raises
    ------
    TypeError
        A value or key JSON cannot represent, with :func:`json.dumps`'s message.
    ValueError
        A container that contains itself, or a non-finite float with ``allow_nan=False``.
    """
    pieces = iter_json(document, indent=indent, ensure_ascii=ensure_ascii, allow_nan=allow_nan)
    return "".join(pieces)


def iter_json(
    document: Any,
    *,
    indent: int | str = 2,
    ensure_ascii: bool = True,
    allow_nan: bool = True,
    size: int = 1 << 20,
) -> Iterator[str]:
    """The text of :func:`dumps_json` in pieces of about ``size`` characters.

    For writing to a stream without holding the whole text: the elements of the
    document's containers and of theirs (a result's components and line items) are
    written one by one. Parameters and errors as for :func:`dumps_json`.
    """
    writer = _Writer(indent, ensure_ascii, allow_nan)
    batch: list[str] = []
    length = 0
    for piece in writer.pieces(document, 0, _STREAMED_LEVELS):
        batch.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(batch)
            batch, length = [], 0
    if batch:
        yield "".join(batch)


_STREAMED_LEVELS = 2  # the document and its lists: components, line items


class _Writer:
    def __init__(self, indent: int | str, ensure_ascii: bool, allow_nan: bool):
        self.indent = indent if isinstance(indent, str) else " " * indent
        self.ensure_ascii = ensure_ascii
        self.allow_nan = allow_nan
        self.encode_string = encode_basestring_ascii if ensure_ascii else encode_basestring
        self.encoders: dict[int, Callable[[Any], str]] = {}  # level -> C encoder of its items
        self.keys: dict[str, str] = {}  # a key's JSON text: results repeat a few keys
        self.open: set[int] = set()  # containers being written (json's circular check)

    def text(self, value: Any, level: int) -> str:
        """The JSON text of ``value``, whose first line is indented ``level`` times."""
        if isinstance(value, dict):
            values, brackets = value.values(), "{}"
        elif isinstance(value, (list, tuple)):
            values, brackets = value, "[]"
        else:
            return self.scalar(value, level)
        if value and all(type(v) in _PLAIN for v in values):  # the common case: one C call
            text = self.encoder(level + 1)(value)
            inner = self.indent * (level + 1)
            return f"{brackets[0]}\n{inner}{text[1:-1]}\n{self.indent * level}{brackets[1]}"
        return "".join(self.pieces(value, level, 0))

    def pieces(self, value: Any, level: int, split: int) -> Iterator[str]:
        """The text of ``value`` in pieces: one per element down ``split`` levels."""
        mapping = isinstance(value, dict)
        if not mapping and not isinstance(value, (list, tuple)):
            yield self.scalar(value, level)
            return
        if not value:
            yield "{}" if mapping else "[]"
            return
        if id(value) in self.open:
            raise ValueError("Circular reference detected")
        self.open.add(id(value))
        inner = "\n" + self.indent * (level + 1)
        encode = self.encoder(level + 1)
        yield "{" if mapping else "["
        separator = inner
        run: list = []  # consecutive plain values (or items), written in one C call
        for entry in value.items() if mapping else value:
            if type(entry[1] if mapping else entry) in _PLAIN:
                run.append(entry)
                continue
            if run:
                # One C call; its item separator indents the level. Its brackets go.
                yield separator + encode(dict(run) if mapping else run)[1:-1]
                separator, run = "," + inner, []
            if mapping:
                key, entry = entry
                separator += self.key(key)
            if split:
                yield separator
                yield from self.pieces(entry, level + 1, split - 1)
            else:
                yield separator + self.text(entry, level + 1)
            separator = "," + inner
        if run:
            yield separator + encode(dict(run) if mapping else run)[1:-1]
        yield f"\n{self.indent * level}{'}' if mapping else ']'}"
        self.open.discard(id(value))

    def encoder(self, level: int) -> Callable[[Any], str]:
        """json's encoder of plain values, items indented for ``level``, made once.

        ``JSONEncoder.encode`` builds json's C encoder on every call; a result has
        10^5 plain containers, so the C encoder is kept (where Python has it).
        """
        if level not in self.encoders:
            item_separator = ",\n" + self.indent * level
            encoder = json.JSONEncoder(
                ensure_ascii=self.ensure_ascii,
                allow_nan=self.allow_nan,
                separators=(item_separator, ": "),
            )
            self.encoders[level] = encoder.encode
            try:
                # json.encoder's own call, in JSONEncoder.iterencode, for a one-shot text
                # with no circular check (plain values cannot hold themselves).
                chunks = c_make_encoder(
                    *(None, encoder.default, self.encode_string, None, ": ", item_separator),
                    *(False, False, self.allow_nan),  # sort_keys, skipkeys, allow_nan
                )
            except TypeError:  # no C encoder (None), or one with other arguments
                return self.encoders[level]
            self.encoders[level] = lambda value: "".join(chunks(value, 0))
        return self.encoders[level]

    def scalar(self, value: Any, level: int) -> str:
        kind = type(value)
        if kind is str:
            return self.encode_string(value)
        if kind is float:
            return _float_text(value, self.allow_nan)
        if kind is int:
            return int.__repr__(value)
        if value is None or kind is bool:
            return _CONSTANTS[value]
        # subclasses (numpy floats, enums), and json's TypeError for the rest
        return self.encoder(level)(value)

    def key(self, key: Any) -> str:
        text = self.keys.get(key) if type(key) is str else None
        if text is None:
            if isinstance(key, str):
                text = self.encode_string(key) + ": "
                self.keys[key] = text
            else:  # json's conversion of int, float, bool and None keys, and its error
                text = self.encoder(0)({key: 0})[1:-4] + ": "
        return text


def _float_text(value: float, allow_nan: bool) -> str:
    """json's text of a float, and its error for a non-finite one with ``allow_nan=False``."""
    if value - value == 0.0:  # finite
        return float.__repr__(value)
    if not allow_nan:
        raise ValueError("Out of range float values are not JSON compliant: " + repr(value))
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"
