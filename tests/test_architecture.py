"""The house rules of docs/architecture.md, checked by reading the code (no import is run).

* every ``matcher.*`` import (also inside functions and ``TYPE_CHECKING`` blocks) goes to the
  same layer or a lower one (:data:`LAYERS`);
* no import circle between modules;
* no private name (``_x``) taken from another module, by import or as ``module._x``;
* no ``"module:function"`` strings and no ``importlib.import_module`` outside the solver
  registry (an import hidden in a string is an import all the same);
* no module over :data:`MAX_LINES` lines, and every module has a docstring saying its job.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "matcher"
MAX_LINES = 900

LAYERS: dict[str, int] = {
    "matcher.progress": 0, "matcher.messages": 0,
    "matcher.model": 1,
    "matcher.formats": 2,
    "matcher.encoding": 3,
    "matcher.solvers": 4,
    "matcher.check": 5, "matcher.fairness": 5,
    "matcher.reports": 6,
    "matcher.planning": 7,
    "matcher.cli": 8, "matcher.web": 8,
    "matcher": 9,  # the package itself: re-exports the public API, imported by no module
}
"""Layer of each top-level part of the package, lowest first (see docs/architecture.md)."""

REGISTRY = "matcher.solvers"
"""The one module allowed to import by name (the solver registry)."""

# Known breaches the rules allow: none. (Add one only with a comment saying why and when it goes.)
ALLOWED_CIRCLES: set[frozenset[str]] = set()
ALLOWED_PRIVATE: set[tuple[str, str, str]] = set()  # (importer, imported module, name)
ALLOWED_LONG: set[str] = set()


@dataclass
class Module:
    """One source file of the package, parsed."""

    name: str
    path: Path
    tree: ast.Module
    lines: int
    imports: list[tuple[str, int]] = field(default_factory=list)  # (target module, line)
    private: list[tuple[str, str, int]] = field(default_factory=list)  # (module, name, line)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (PACKAGE.parent / rel.with_suffix(".py")).is_file() or (
        PACKAGE.parent / rel / "__init__.py").is_file()


def _load() -> dict[str, Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = _module_name(path)
        out[name] = Module(name, path, ast.parse(text, str(path)), len(text.splitlines()))
    for mod in out.values():
        _scan(mod)
    return out


def _base(mod: Module, level: int, module: str | None) -> str:
    """The absolute module a (relative) ``from`` import names."""
    if level == 0:
        return module or ""
    package = mod.name.split(".")
    if mod.path.name != "__init__.py":
        package.pop()
    package = package[:len(package) - (level - 1)]
    return ".".join(package + ([module] if module else []))


def _scan(mod: Module) -> None:
    aliases: dict[str, str] = {}  # local name -> matcher module it is bound to
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "matcher":
                    mod.imports.append((a.name, node.lineno))
                    aliases[a.asname or a.name] = a.name
        elif isinstance(node, ast.ImportFrom):
            base = _base(mod, node.level, node.module)
            if base.split(".")[0] != "matcher":
                continue
            for a in node.names:
                sub = f"{base}.{a.name}"
                if _is_module(sub):
                    mod.imports.append((sub, node.lineno))
                    aliases[a.asname or a.name] = sub
                else:
                    mod.imports.append((base, node.lineno))
                    if a.name.startswith("_") and not a.name.startswith("__"):
                        mod.private.append((base, a.name, node.lineno))
    for node in ast.walk(mod.tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            mod.private.append((aliases[node.value.id], node.attr, node.lineno))


def _layer(name: str) -> int:
    """The layer of a module: its own entry, else that of its nearest listed package."""
    parts = name.split(".")
    for n in range(len(parts), 1, -1):
        layer = LAYERS.get(".".join(parts[:n]))
        if layer is not None:
            return layer
    if name == "matcher":
        return LAYERS[name]
    raise KeyError(name)


MODULES = _load()


def _edges() -> Iterator[tuple[Module, str, int]]:
    for mod in MODULES.values():
        for target, line in mod.imports:
            while target not in MODULES and "." in target:  # a name inside a module
                target = target.rpartition(".")[0]
            if target != mod.name:
                yield mod, target, line


def _known(name: str) -> bool:
    try:
        _layer(name)
    except KeyError:
        return False
    return name in MODULES


def test_every_module_has_a_layer() -> None:
    """Each module belongs to one layer of the plan (a new top-level part needs a layer)."""
    missing = []
    for name in MODULES:
        try:
            _layer(name)
        except KeyError:
            missing.append(name)
    assert not missing, f"modules outside every layer: {missing}"


def test_imports_go_down() -> None:
    """A module imports only from its own layer or a lower one."""
    up = sorted({f"{mod.name} (layer {_layer(mod.name)}) line {line} imports {target} "
                 f"(layer {_layer(target)})"
                 for mod, target, line in _edges()
                 if _known(mod.name) and _known(target) and _layer(target) > _layer(mod.name)})
    assert not up, "\n".join(up)


def _cycles() -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for mod, target, _line in _edges():
        if target in MODULES:
            graph[mod.name].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_circle() -> None:
    """No two modules import each other, directly or through others."""
    circles = [sorted(c) for c in _cycles() if frozenset(c) not in ALLOWED_CIRCLES]
    assert not circles, f"import circles: {circles}"


def test_no_private_name_from_another_module() -> None:
    """A name starting with ``_`` stays in its module; what is shared is public."""
    bad = sorted({f"{mod.name} line {line}: {target}.{name}"
                  for mod in MODULES.values() for target, name, line in mod.private
                  if target != mod.name and (mod.name, target, name) not in ALLOWED_PRIVATE})
    assert not bad, "\n".join(bad)


_SPEC = re.compile(r"^matcher(\.\w+)+:\w+$")


def test_no_import_by_name() -> None:
    """No ``"module:function"`` strings; ``importlib.import_module`` only in the registry."""
    bad = []
    for mod in MODULES.values():
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and _SPEC.match(node.value):
                bad.append(f"{mod.name} line {node.lineno}: {node.value!r}")
            dynamic = (isinstance(node, ast.Attribute) and node.attr == "import_module") or (
                isinstance(node, ast.Name) and node.id == "__import__") or (
                isinstance(node, ast.ImportFrom) and node.module == "importlib"
                and any(a.name == "import_module" for a in node.names))
            if dynamic and mod.name != REGISTRY:
                bad.append(f"{mod.name} line {node.lineno}: import by name")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_size_and_docstring(name: str) -> None:
    """At most MAX_LINES lines, and a docstring that says the module's job."""
    mod = MODULES[name]
    assert ast.get_docstring(mod.tree), f"{name}: no module docstring"
    if name not in ALLOWED_LONG:
        assert mod.lines <= MAX_LINES, f"{name}: {mod.lines} lines (at most {MAX_LINES})"
