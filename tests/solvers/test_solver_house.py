"""The solver package keeps its house rules (issue 23).

Every module in ``matcher/solvers/`` is under 900 lines and says its one job in a docstring; no
module imports a private name (``_x``) from another, nor reaches into one through an
attribute; the imports inside the package, lazy ones included, form no circle; the HiGHS
helper's modules (``matcher.solvers.highs``) import nothing of matcher but each other, and the
helper process starts without OR-Tools, pandas or pydantic.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from matcher.solvers import highs_runner

SOLVERS = Path(__file__).resolve().parents[2] / "matcher" / "solvers"
MAX_LINES = 900


def _modules() -> dict[str, Path]:
    """Module name -> file, for every module of the package."""
    out = {}
    for path in sorted(SOLVERS.rglob("*.py")):
        parts = path.relative_to(SOLVERS.parent.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _package(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """Every import of a module, anywhere in it: ``(module, names, line)``, relative imports
    resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((alias.name, [], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package(name, path).split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = [alias.name for alias in node.names]
            out.append((module, names, node.lineno))
    return out


def test_every_module_is_short_and_says_its_job() -> None:
    """Under 900 lines, with a module docstring."""
    long, silent = [], []
    for name, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") >= MAX_LINES:
            long.append(f"{name}: {text.count(chr(10))} lines")
        if not ast.get_docstring(ast.parse(text)):
            silent.append(name)
    assert not long and not silent, (long, silent)


def test_no_private_name_crosses_a_module() -> None:
    """``from x import _y`` and ``x._y`` (``x`` an imported matcher module) are both refused."""
    modules = _modules()
    found = []
    for name, path in modules.items():
        imported_modules = set()
        for module, names, line in _imports(name, path):
            if module == "__future__":
                continue
            found += [f"{name}:{line} imports {module}.{n}" for n in names
                      if n.startswith("_") and not n.startswith("__")]
            for n in names:
                if f"{module}.{n}" in modules:
                    imported_modules.add(n)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in imported_modules and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                found.append(f"{name}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert not found, found


def test_no_import_circle() -> None:
    """The package's import graph (lazy imports counted) has no cycle."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for module, names, _line in _imports(name, path):
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules]
            if module in modules and not targets:
                targets = [module]
            graph[name].update(t for t in targets if t != name)
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> None:
        if node in path:
            raise AssertionError("import circle: " + " -> ".join(
                [*path[path.index(node):], node]))
        if node in done:
            return
        path.append(node)
        for nxt in sorted(graph[node]):
            visit(nxt)
        path.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)


def test_the_helper_package_stands_alone() -> None:
    """``matcher.solvers.highs`` imports only numpy, highspy, the standard library and itself,
    and the helper process starts without OR-Tools, pandas or pydantic."""
    allowed = {"numpy", "highspy", *sys.stdlib_module_names}
    found = []
    for name, path in _modules().items():
        # (the package itself, not highs_runner: that one runs in the parent process)
        if not (name == "matcher.solvers.highs" or name.startswith("matcher.solvers.highs.")):
            continue
        for module, _names, line in _imports(name, path):
            top = module.split(".")[0]
            if not (module.startswith("matcher.solvers.highs") or top in allowed):
                found.append(f"{name}:{line} imports {module}")
    assert not found, found
    program = highs_runner.child_program(
        "import matcher.solvers.highs.levels, matcher.solvers.highs.slot_search\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'ortools', 'pandas', 'pydantic'}))\n")
    out = subprocess.run([sys.executable, "-P", "-c", program], check=True,
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr
