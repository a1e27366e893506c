"""The slow mark's bookkeeping (conftest.py): every test tests/slow_tests.txt names exists,
and every module conftest.py marks slow as a whole exists, so a rename cannot quietly move
a minutes-long test into the inner loop (`pytest -m "not slow"`)."""

from __future__ import annotations

import ast
from pathlib import Path

import conftest

TESTS = Path(__file__).resolve().parent


def test_every_listed_slow_test_exists():
    missing = []
    for entry in conftest._listed_slow_tests():
        path, _, function = entry.partition("::")
        function = function.split("[")[0]
        module = TESTS.parent / path
        names = set()
        if module.is_file():
            names = {node.name for node in ast.parse(module.read_text(encoding="utf-8")).body
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
        if function not in names:
            missing.append(entry)
    assert not missing, f"tests/slow_tests.txt names tests that do not exist: {missing}"


def test_every_slow_module_exists():
    assert {m for m in conftest.SLOW_MODULES if not (TESTS / f"{m}.py").is_file()} == set()
