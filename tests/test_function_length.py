"""No function in train/, infer/ or the app's composer is over 80 lines (issue 14): a long
one is split into named stages before it grows further."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "rnn_tui"
WATCHED = [*sorted((PACKAGE / "train").rglob("*.py")), *sorted((PACKAGE / "infer").rglob("*.py")),
           PACKAGE / "tui" / "app.py"]
LIMIT = 80


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.name}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > LIMIT]


def test_no_function_is_over_80_lines():
    found = [line for path in WATCHED for line in long_functions(path)]
    assert not found, "split these into stages:\n" + "\n".join(found)


def test_the_rule_sees_a_long_method(tmp_path):
    body = "\n".join(f"        x{i} = {i}" for i in range(LIMIT))
    path = tmp_path / "long.py"
    path.write_text(f"class A:\n    def long(self):\n{body}\n\n    def short(self):\n"
                    "        pass\n", encoding="utf-8")
    assert long_functions(path) == [f"long.py:2 long ({LIMIT + 1} lines)"]
