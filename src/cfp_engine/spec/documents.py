"""Bounded, strict reading of YAML and JSON documents, and JSON written with finite figures.

A document that would exhaust memory or the stack, or that says one thing twice, is
refused with its line instead of being read:

- a duplicate key in a mapping or object is an error naming the key and its line;
- YAML is composed into nodes first (aliases are shared nodes there, so this is
  small), and the size the document would have with every alias expanded is counted
  before anything is built: above :data:`MAX_NODES` it is refused;
- nesting deeper than :data:`MAX_DEPTH` is refused in both formats.

Errors are raised as :class:`DocumentError` with a 1-based line (or ``None``); the
caller adds the file name.

Every JSON document the engine writes (results, labels, reports, caches) goes through
:func:`dump_json`, which refuses a figure that is infinite or NaN instead of writing
``Infinity`` or ``NaN``, which are not JSON (RFC 8259, section 6).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from cfp_engine.errors import CalculationError, quote_input
from cfp_engine.spec.json_text import dumps_json, iter_json

# A product spec has tens to a few thousand values; 1e6 leaves room for generated
# specs (10^5 components x a few fields) and stops a bomb long before memory matters.
MAX_NODES = 1_000_000
# Specs nest about 6 levels; 64 keeps far away from Python's recursion limit.
MAX_DEPTH = 64


class DocumentError(ValueError):
    """A document that cannot be read: ``problem`` and the 1-based ``line``, if known."""

    def __init__(self, problem: str, line: int | None = None):
        super().__init__(problem)
        self.problem = problem
        self.line = line

    def __reduce__(self):
        return (type(self), (self.problem, self.line))


# -- YAML ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _loader():
    """PyYAML's safe loader, with dates kept as text (as in JSON) and no duplicate keys."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class StrictLoader(base):  # type: ignore[misc, valid-type]
        def construct_mapping(self, node, deep=False):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # "<<: *base" may be overridden by explicit keys
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key: SafeConstructor reports it
                if first is not None:
                    raise DocumentError(
                        f"duplicate key {quote_input(key)} (first on line {first})", line
                    )
                seen[key] = line
            return super().construct_mapping(node, deep=deep)

    StrictLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    return StrictLoader


def _check_node_size(root) -> None:
    """Count the nodes of the document with aliases expanded, without expanding them."""
    import yaml

    size: dict[int, int] = {}
    # Iterative post-order walk; a node on the current path again is a cycle.
    stack: list[tuple[Any, int]] = [(root, 1)]
    on_path: set[int] = set()
    while stack:
        node, depth = stack.pop()
        key = id(node)
        if key in size:
            continue
        if depth > MAX_DEPTH:
            raise DocumentError(f"nested more than {MAX_DEPTH} levels deep", _line(node))
        if isinstance(node, yaml.ScalarNode):
            size[key] = 1
            continue
        children = (
            [n for pair in node.value for n in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        if key in on_path:
            on_path.discard(key)
            total = 1 + sum(size[id(child)] for child in children)
            if total > MAX_NODES:
                raise DocumentError(
                    f"expands to more than {MAX_NODES:,} values (an alias bomb?); "
                    "write the values out or use fewer aliases",
                    _line(node),
                )
            size[key] = total
            continue
        on_path.add(key)
        stack.append((node, depth))
        for child in children:
            if id(child) in on_path:
                raise DocumentError("an alias refers to a node that contains it", _line(child))
            if id(child) not in size:
                stack.append((child, depth + 1))


def _line(node) -> int | None:
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else None


def load_yaml(text: str) -> Any:
    """Parse YAML safely (no Python objects, dates kept as strings), with limits.

    Raises :class:`DocumentError` for a duplicate key, a document too large once its
    aliases are expanded, or too deep; ``yaml.YAMLError`` for malformed YAML.
    """
    loader = _loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_node_size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


# -- JSON ------------------------------------------------------------------------------


def load_json(text: str) -> Any:
    """Parse JSON with no duplicate keys, no ``NaN``/``Infinity``, at most :data:`MAX_DEPTH` levels.

    Raises :class:`DocumentError` for those, ``json.JSONDecodeError`` for malformed JSON.
    """
    _check_json_depth(text)

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        document: dict[str, Any] = {}
        for key, value in pairs:
            if key in document:
                raise DocumentError(f"duplicate key {quote_input(key)}", _json_key_line(text, key))
            document[key] = value
        return document

    def no_constant(name: str) -> Any:
        found = re.search(rf"[:\[,]\s*{re.escape(name)}", text)
        line = text.count("\n", 0, found.end()) + 1 if found else None
        raise DocumentError(f"{name} is not a JSON number; write a finite number", line)

    return json.loads(text, object_pairs_hook=unique, parse_constant=no_constant)


_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[{]|[\]}]')


def _check_json_depth(text: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` before the recursive decoder runs."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                raise DocumentError(f"nested more than {MAX_DEPTH} levels deep", line)
        elif token in "]}":
            depth -= 1


def _json_key_line(text: str, key: str) -> int | None:
    """The line of the last ``"key":`` in ``text`` (the repeated one), if found."""
    pattern = re.compile(re.escape(json.dumps(key)) + r"\s*:")
    starts = [match.start() for match in pattern.finditer(text)]
    return text.count("\n", 0, starts[-1]) + 1 if starts else None


# -- writing JSON ------------------------------------------------------------------------


def dump_json(document: Any, *, what: str, **options: Any) -> str:
    """``document`` as JSON text; a figure that is not a finite number is an error.

    Parameters
    ----------
    document
        JSON-ready data (mappings, lists, strings, numbers, None).
    what
        What the document is, for the message: a spec path, a file, a command.
    **options
        As for :func:`json.dumps` (``indent``, ``ensure_ascii``, ``default``, ...).

    Raises
    ------
    CalculationError
        ``what`` and where in the document the first infinite or NaN figure is.
    """
    try:
        if options.get("indent") is not None and options.keys() <= {"indent", "ensure_ascii"}:
            # json.dumps writes indented text in pure Python; dumps_json writes the same
            # text with json's C encoder, in less time and memory.
            return dumps_json(document, allow_nan=False, **options)
        return json.dumps(document, allow_nan=False, **options)
    except ValueError:
        found = _first_non_finite(document, "")
        if found is None:
            raise  # a circular reference: a bug, not the input's doing
        where, value = found
        raise CalculationError(
            f"{what}: {where or 'the value'} is {value!r}, not a finite number; nothing "
            "was written (JSON has no Infinity or NaN); check the inputs behind this figure"
        ) from None


def iter_dump_json(
    document: Any, *, what: str, indent: int | str = 2, ensure_ascii: bool = True
) -> Iterator[str]:
    """:func:`dump_json`'s indented text in pieces of about 1 MB, for printing.

    A result of 10^5 components is 200 MB of JSON; printed piece by piece, it is never
    held whole. Every figure is checked before the first piece: a figure that
    is not finite raises :func:`dump_json`'s error and nothing is written.
    """
    if has_non_finite(document):
        dump_json(document, what=what, indent=indent, ensure_ascii=ensure_ascii)  # raises
    yield from iter_json(document, indent=indent, ensure_ascii=ensure_ascii, allow_nan=False)


def has_non_finite(value: Any) -> bool:
    """Whether a JSON-like value holds a float that is infinite or NaN (keys aside).

    A loop over a stack, floats checked as they are met: a result of 10^5 components
    holds 6 million values, and a recursive generator per value took 5 s.
    An iterator is walked one element at a time, so its elements may be made on
    demand. Nesting deeper than :data:`_MAX_DEPTH` (a container holding itself) is a
    ``RecursionError``, as it was for the recursion.
    """
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return True
            continue
        if isinstance(item, Mapping):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        elif isinstance(item, Iterator):
            element = next(item, _END)
            if element is not _END:
                stack.append((item, depth))
                stack.append((element, depth + 1))
            continue
        else:
            continue
        if depth >= _MAX_DEPTH:
            raise RecursionError(f"a value nested more than {_MAX_DEPTH} levels deep")
        for child in children:
            kind = type(child)
            if kind is float:
                if not math.isfinite(child):
                    return True
            elif kind not in _NOT_FLOAT:
                stack.append((child, depth + 1))
    return False


_END = object()
_MAX_DEPTH = 1000
_NOT_FLOAT = frozenset({str, int, bool, type(None)})


def _first_non_finite(
    value: Any, where: str, seen: frozenset = frozenset()
) -> tuple[str, float] | None:
    """The path (``mc.stages.use.sd``, ``[1].total``) and value of the first bad float.

    ``None`` when there is none; ``seen`` holds the containers above (a cycle ends there).
    """
    if isinstance(value, float):
        return None if math.isfinite(value) else (where, value)
    if id(value) in seen:
        return None
    if isinstance(value, Mapping):
        items = ((f"{where}.{key}" if where else str(key), v) for key, v in value.items())
    elif isinstance(value, (list, tuple)):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for path, item in items:
        found = _first_non_finite(item, path, seen | {id(value)})
        if found is not None:
            return found
    return None
