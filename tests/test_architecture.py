"""The layers read top to bottom: no module of the package reaches itself through its imports.

Every import counts — at the top, inside a function, or under ``TYPE_CHECKING`` — since each is a
place where one module leans on another. A cycle makes the modules in it one module in effect:
none can be read, tested or changed without the others.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "xlcomplaints"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports (a package's __init__ counts as no edge: it
    only gathers names)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            wanted = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            wanted = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for m in wanted:
            while m and m not in modules:
                m = m.rpartition(".")[0]
            if m and m != name and modules[m].name != "__init__.py":
                targets.add(m)
    return targets


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_reaches_itself_through_its_imports() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above can fail: a two-module loop and a three-module loop are both found."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert sorted(_cycles(graph)) == [["a", "b"], ["c", "d", "e"]]


#: A zh/en text picked by spelling the language out (``"…" if lang == "zh" else "…"``): the house rule
#: is one way to pick a side, ``i18n.pick`` (or a catalogue through ``i18n.say``/``render``).
SPELLED_OUT = re.compile(r'if (?:self\.)?lang == "zh" else')


def test_a_zh_en_text_is_picked_through_i18n_not_spelled_out() -> None:
    found = [f"{p.relative_to(PACKAGE)}:{n}" for p in sorted(PACKAGE.rglob("*.py")) if p.name != "i18n.py"
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1) if SPELLED_OUT.search(line)]
    assert not found, found
