"""Imports flow one way: no cycles, no import up the layer order, no private names across packages.

Every module under ``src/cfp_engine`` is parsed with :mod:`ast` and *every* import counts:
top-level, inside functions, under ``if TYPE_CHECKING:``, and ``importlib.import_module("...")``
with a literal name. An import hidden in a function still runs, and still ties the two modules
together. There is no exceptions list: a violation is fixed by moving code or by making a genuinely
shared name public, never by listing it here.

The layer order (a module may import its own layer and the layers before it):

    errors/paths/version -> files -> spec -> store -> store.imports -> engine -> uncertainty
    -> labels (with labels.readable) -> verify -> batch -> render -> exchange -> cli
    -> cfp_engine/__init__, __main__
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "cfp_engine"

# (module prefix, layer name, rank). A module belongs to the longest prefix that matches it.
LAYERS = [
    ("cfp_engine.errors", "base", 0),
    ("cfp_engine.paths", "base", 0),
    ("cfp_engine.version", "base", 0),
    ("cfp_engine.lazy", "base", 0),
    ("cfp_engine.files", "files", 1),
    ("cfp_engine.spec", "spec", 2),
    ("cfp_engine.store", "store", 3),
    ("cfp_engine.store.imports", "store.imports", 4),
    ("cfp_engine.engine", "engine", 5),
    ("cfp_engine.uncertainty", "uncertainty", 6),
    ("cfp_engine.labels", "labels", 7),
    ("cfp_engine.verify", "verify", 8),
    ("cfp_engine.batch", "batch", 9),
    ("cfp_engine.render", "render", 10),
    ("cfp_engine.exchange", "exchange", 11),
    ("cfp_engine.cli", "cli", 12),
    ("cfp_engine.__main__", "top", 13),
    ("cfp_engine", "top", 13),
]

# Third-party packages only one layer may import.
BRIGHTWAY = {"bw2data", "bw2calc", "bw2io", "bw_processing", "stats_arrays", "bw2parameters"}
ONLY_IN = {**{name: "store" for name in BRIGHTWAY}, "click": "cli"}


@dataclass(frozen=True)
class Import:
    """One import statement's effect: ``source`` imports ``target`` (a module or a name in it)."""

    source: str  # importing module
    path: Path
    line: int
    target: str  # the imported module (internal) or the top-level distribution name (external)
    names: tuple[str, ...] = ()  # names taken from ``target`` by ``from target import ...``
    internal: bool = True


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def find_modules(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Every module of ``package`` under ``root``, by dotted name (a package by its own name)."""
    return {module_name(root, path): path for path in sorted((root / package).rglob("*.py"))}


def layer_of(module: str) -> tuple[str, int] | None:
    matches = [
        (len(prefix), name, rank)
        for prefix, name, rank in LAYERS
        if module == prefix or module.startswith(prefix + ".")
    ]
    if not matches:
        return None
    _, name, rank = max(matches)
    return name, rank


def _existing(modules: dict[str, Path], dotted: str) -> str:
    """The longest prefix of ``dotted`` that is a module (the rest is attributes)."""
    parts = dotted.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return dotted


def _absolute(source: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    # ``from . import x`` in a package's __init__ is relative to the package itself.
    base = source.split(".") if is_package else source.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def parse_imports(modules: dict[str, Path]) -> list[Import]:
    """Every import of every module, wherever in the module it is written."""
    found: list[Import] = []
    for source, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            dotted: list[tuple[str, tuple[str, ...]]] = []
            if isinstance(node, ast.Import):
                dotted = [(alias.name, ()) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(source, is_package, node)
                names = tuple(alias.name for alias in node.names)
                submodules = [n for n in names if f"{base}.{n}" in modules]
                # ``from package import module`` imports the module, not the package's attribute.
                dotted = [(f"{base}.{n}", ()) for n in submodules]
                others = tuple(n for n in names if n not in submodules)
                if others or not submodules:
                    dotted.append((base, others))
            elif (
                isinstance(node, ast.Call)
                and _call_name(node.func) in ("importlib.import_module", "import_module")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                dotted = [(node.args[0].value, ())]
            for name, names in dotted:
                top = name.split(".")[0]
                if top == PACKAGE:
                    target = _existing(modules, name)
                    found.append(Import(source, path, node.lineno, target, names))
                elif top:
                    found.append(Import(source, path, node.lineno, top, names, internal=False))
    return found


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return f"{_call_name(func.value)}.{func.attr}"
    return ""


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _where(root: Path, item: Import) -> str:
    return f"{item.path.relative_to(root)}:{item.line}"


def find_cycles(root: Path, imports: list[Import]) -> list[str]:
    """Strongly connected components of the module graph (Tarjan), each listed with its edges."""
    graph: dict[str, set[str]] = {}
    for item in imports:
        if item.internal and item.target != item.source:
            graph.setdefault(item.source, set()).add(item.target)
            graph.setdefault(item.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    # Iterative Tarjan: the recursion would be as deep as the longest import chain.
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    messages = []
    for component in sorted(components):
        members = set(component)
        edges = sorted(
            {
                f"    {_where(root, item)}: {item.source} -> {item.target}"
                for item in imports
                if item.internal
                and item.source in members
                and item.target in members
                and item.source != item.target
            }
        )
        messages.append("cycle between " + ", ".join(component) + ":\n" + "\n".join(edges))
    return messages


def find_upward_imports(root: Path, modules: dict[str, Path], imports: list[Import]) -> list[str]:
    messages = [
        f"{module}: in no layer; add its package to LAYERS in tests/test_layers.py"
        for module in modules
        if layer_of(module) is None
    ]
    for item in imports:
        if not item.internal:
            continue
        source, target = layer_of(item.source), layer_of(item.target)
        if source and target and target[1] > source[1]:
            messages.append(
                f"{_where(root, item)}: {item.source} ({source[0]}, layer {source[1]}) imports "
                f"{item.target} ({target[0]}, layer {target[1]})"
            )
    return sorted(set(messages))


def find_private_imports(root: Path, modules: dict[str, Path], imports: list[Import]) -> list[str]:
    """Private names (and private modules) another package takes, by import or by attribute."""
    messages = []
    for item in imports:
        if not item.internal or layer_of(item.source) == layer_of(item.target):
            continue
        private_module = [part for part in item.target.split(".") if _private(part)]
        private_names = [name for name in item.names if _private(name)]
        if private_module or private_names:
            what = ", ".join(private_names) if private_names else item.target
            messages.append(
                f"{_where(root, item)}: {item.source} imports private {what} from {item.target}"
            )
    messages += _private_attributes(root, modules)
    return sorted(set(messages))


def _private_attributes(root: Path, modules: dict[str, Path]) -> list[str]:
    """``module._name`` where ``module`` is another package's module bound by an import."""
    messages = []
    for source, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        bound: dict[str, str] = {}  # local name -> dotted module name it stands for
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        bound[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        bound[top] = top
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(source, is_package, node)
                for alias in node.names:
                    if f"{base}.{alias.name}" in modules:
                        bound[alias.asname or alias.name] = f"{base}.{alias.name}"
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and _private(node.attr)):
                continue
            chain = _call_name(node.value)
            if not chain:
                continue
            head, _, rest = chain.partition(".")
            if head not in bound:
                continue
            dotted = bound[head] + ("." + rest if rest else "")
            if dotted not in modules or layer_of(dotted) == layer_of(source):
                continue
            messages.append(
                f"{path.relative_to(root)}:{node.lineno}: {source} uses private "
                f"{node.attr} of {dotted}"
            )
    return messages


def find_restricted_imports(root: Path, imports: list[Import]) -> list[str]:
    messages = []
    for item in imports:
        owner = ONLY_IN.get(item.target) if not item.internal else None
        if owner is None:
            continue
        layer = layer_of(item.source)
        allowed = f"{PACKAGE}.{owner}"
        if not (item.source == allowed or item.source.startswith(allowed + ".")):
            messages.append(
                f"{_where(root, item)}: {item.source} ({layer[0] if layer else '?'}) imports "
                f"{item.target}, which only {owner}/ may import"
            )
    return sorted(set(messages))


def _report(kind: str, messages: list[str]) -> str:
    return f"{len(messages)} {kind}:\n" + "\n".join(messages)


@pytest.fixture(scope="module")
def project():
    modules = find_modules(SRC)
    return modules, parse_imports(modules)


def test_the_parser_sees_every_module(project):
    modules, imports = project
    # A broken walk would make every check below pass vacuously.
    assert {"cfp_engine", "cfp_engine.errors", "cfp_engine.store.imports.importer"} <= set(modules)
    assert any(i.source == "cfp_engine.cli" and i.target == "cfp_engine.cli._base" for i in imports)


def test_no_import_cycles(project):
    modules, imports = project
    cycles = find_cycles(SRC, imports)
    assert not cycles, _report("import cycles", cycles)


def test_imports_go_down_the_layer_order(project):
    modules, imports = project
    upward = find_upward_imports(SRC, modules, imports)
    assert not upward, _report("imports up the layer order", upward)


def test_no_private_names_across_packages(project):
    modules, imports = project
    private = find_private_imports(SRC, modules, imports)
    assert not private, _report("private names used across packages", private)


def test_brightway_only_in_store_and_click_only_in_cli(project):
    modules, imports = project
    restricted = find_restricted_imports(SRC, imports)
    assert not restricted, _report("restricted imports", restricted)


# The checker itself, on a tiny package written here with known faults: each check must find
# exactly the faults planted for it, so a silent checker cannot pass the tests above.

PLANTED = {
    "cfp_engine/__init__.py": "",
    "cfp_engine/errors.py": "",
    "cfp_engine/spec/__init__.py": "",
    "cfp_engine/spec/product.py": (
        "from cfp_engine.errors import CfpError\n"
        "def later():\n"
        "    from ..engine import footprint\n"  # relative, inside a function: spec -> engine
    ),
    "cfp_engine/spec/units.py": "from typing import TYPE_CHECKING\n"
    "if TYPE_CHECKING:\n"
    "    from cfp_engine.spec.product import Spec\n"
    "from . import product\n",
    "cfp_engine/engine/__init__.py": "",
    "cfp_engine/engine/footprint.py": (
        "import cfp_engine.spec.product as product\n"
        "from cfp_engine.spec.units import _registry, registry\n"  # private across packages
        "import bw2data\n"  # Brightway outside store/
        "def f():\n"
        "    import click\n"  # click outside cli/
        "    return product._parse()\n"  # private attribute across packages
    ),
    "cfp_engine/engine/results.py": "from cfp_engine.engine.footprint import _same_package\n",
    "cfp_engine/store/__init__.py": "",
    "cfp_engine/store/session.py": "import bw2data\nimport importlib\n"
    "importlib.import_module('cfp_engine.engine.results')\n",
}


@pytest.fixture
def planted(tmp_path):
    for name, text in PLANTED.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    modules = find_modules(tmp_path)
    return tmp_path, modules, parse_imports(modules)


def test_the_checker_finds_a_cycle_hidden_in_a_function(planted):
    root, modules, imports = planted
    cycles = find_cycles(root, imports)
    # units -> product twice: under TYPE_CHECKING (line 3) and as a relative import (line 4).
    assert cycles == [
        "cycle between cfp_engine.engine.footprint, cfp_engine.spec.product, "
        "cfp_engine.spec.units:\n"
        "    cfp_engine/engine/footprint.py:1: cfp_engine.engine.footprint -> "
        "cfp_engine.spec.product\n"
        "    cfp_engine/engine/footprint.py:2: cfp_engine.engine.footprint -> "
        "cfp_engine.spec.units\n"
        "    cfp_engine/spec/product.py:3: cfp_engine.spec.product -> cfp_engine.engine.footprint\n"
        "    cfp_engine/spec/units.py:3: cfp_engine.spec.units -> cfp_engine.spec.product\n"
        "    cfp_engine/spec/units.py:4: cfp_engine.spec.units -> cfp_engine.spec.product"
    ]


def test_the_checker_finds_upward_imports(planted):
    root, modules, imports = planted
    assert find_upward_imports(root, modules, imports) == [
        "cfp_engine/spec/product.py:3: cfp_engine.spec.product (spec, layer 2) imports "
        "cfp_engine.engine.footprint (engine, layer 5)",
        "cfp_engine/store/session.py:3: cfp_engine.store.session (store, layer 3) imports "
        "cfp_engine.engine.results (engine, layer 5)",
    ]


def test_the_checker_finds_private_names_across_packages_only(planted):
    root, modules, imports = planted
    assert find_private_imports(root, modules, imports) == [
        "cfp_engine/engine/footprint.py:2: cfp_engine.engine.footprint imports private "
        "_registry from cfp_engine.spec.units",
        "cfp_engine/engine/footprint.py:6: cfp_engine.engine.footprint uses private _parse of "
        "cfp_engine.spec.product",
    ]


def test_the_checker_finds_brightway_and_click_out_of_place(planted):
    root, modules, imports = planted
    assert find_restricted_imports(root, imports) == [
        "cfp_engine/engine/footprint.py:3: cfp_engine.engine.footprint (engine) imports bw2data, "
        "which only store/ may import",
        "cfp_engine/engine/footprint.py:5: cfp_engine.engine.footprint (engine) imports click, "
        "which only cli/ may import",
    ]
