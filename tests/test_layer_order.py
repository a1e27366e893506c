"""The layer order of docs/ARCHITECTURE.md, enforced: every import in rnn_tui/ is parsed.

Each package sits on one layer; a module may import its own package or a package on a lower
layer, never a peer or anything above. Imports inside functions count (they run too, only
later), and so do ``if TYPE_CHECKING:`` imports (they are still a dependency). Separately,
the modules' run-time imports form no cycle: a circle of lazy imports still means no module of
it can be understood or tested without the others.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rnn_tui"

# Top to bottom; the same table is drawn in docs/ARCHITECTURE.md ("The layer order").
LAYERS: list[set[str]] = [
    {"__main__"},
    {"cli"},
    {"tui", "serve"},
    {"teach", "tune"},
    {"train", "export", "check", "views", "compare"},
    {"infer", "nets"},
    {"registry", "data"},
    {"text"},
    {"backend", "errors", "fileio", "jsontext", "paths", "suggestions", "terminal", ""},
]
# The bottom layer's modules are one small toolbox: they may import one another (no cycles).
BASE = LAYERS[-1]
# Imports known to run against the order, each with the issue that removes it. Keep empty.
EXEMPT: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    module: str       # the importing module, dotted
    line: int
    target: str       # the imported module, dotted (the package when a name is imported)
    type_only: bool   # under ``if TYPE_CHECKING:``


def module_names() -> dict[str, Path]:
    names = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


MODULES = module_names()


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _resolve(name: str) -> str | None:
    """The rnn_tui module a dotted name lands in (a name inside a module -> that module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    type_only = _type_checking_lines(tree)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            # ``from pkg import sub`` imports the submodule; ``from pkg import name`` the package
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            if target == "rnn_tui" or target.startswith("rnn_tui."):
                resolved = _resolve(target)
                if resolved and resolved != module:
                    yield Import(module, node.lineno, resolved, node.lineno in type_only)


ALL_IMPORTS = [found for module, path in MODULES.items() for found in imports_of(module, path)]


def package_of(module: str) -> str:
    """``rnn_tui.infer.runtime`` -> ``infer``; top-level modules are their own package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_of(package: str) -> int:
    for depth, layer in enumerate(LAYERS):
        if package in layer:
            return depth
    raise AssertionError(f"rnn_tui/{package} is on no layer: add it to LAYERS and to "
                         "docs/ARCHITECTURE.md")


def test_every_package_has_a_layer():
    for module in MODULES:
        layer_of(package_of(module))


def test_no_import_runs_against_the_layer_order():
    wrong = []
    for found in ALL_IMPORTS:
        source, target = package_of(found.module), package_of(found.target)
        if source == target or (source, target) in EXEMPT or {source, target} <= BASE:
            continue
        if layer_of(target) <= layer_of(source):
            where = MODULES[found.module].relative_to(ROOT)
            wrong.append(f"{where}:{found.line}: {source} imports {found.target} "
                         f"({target} is not below {source})")
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_exemptions_are_still_needed():
    used = {(package_of(f.module), package_of(f.target)) for f in ALL_IMPORTS}
    stale = [pair for pair in EXEMPT if pair not in used]
    assert not stale, f"remove these from EXEMPT, nothing needs them any more: {stale}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles_between_modules():
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for found in ALL_IMPORTS:
        if not found.type_only:
            graph[found.module].add(found.target)
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_checker_sees_imports_inside_functions_and_relative_ones(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from rnn_tui.train.presets import PRESETS\n"
                      "if TYPE_CHECKING:\n    from rnn_tui.cli import main\n"
                      "from .runtime import Runtime\n")
    MODULES["rnn_tui.infer.probe"] = source
    try:
        found = {(f.target, f.type_only) for f in imports_of("rnn_tui.infer.probe", source)}
    finally:
        del MODULES["rnn_tui.infer.probe"]
    assert found == {("rnn_tui.train.presets", False), ("rnn_tui.cli", True),
                     ("rnn_tui.infer.runtime", False)}
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_architecture_document_draws_the_same_order():
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## The layer order", 1)
    assert len(section) == 2, "docs/ARCHITECTURE.md lost its '## The layer order' section"
    rows = re.findall(r"^\s*(\d+)\s*\|(.*)$", section[1], flags=re.MULTILINE)
    drawn = [set(re.findall(r"[a-z_]+", names)) - {"top", "level", "modules"} for _, names in rows]
    expected = [layer - {""} for layer in LAYERS]
    assert drawn == expected


def test_default_models_named_as_presets_are_presets():
    from rnn_tui.infer.defaults import DEFAULT_PRESETS, how_to_train
    from rnn_tui.train.presets import PRESETS

    assert DEFAULT_PRESETS <= set(PRESETS)
    assert (how_to_train("tutorial-imdb-lstm", PRESETS)
            == "rnn-tui train --preset tutorial-imdb-lstm")
    assert how_to_train("imdb-sentiment") == "rnn-tui train --preset imdb-sentiment"
    assert how_to_train("mine") == "rnn-tui train --dataset DATASET --name mine"
