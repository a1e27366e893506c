"""The app renders the views the CLI renders (``rnn_tui.views``) and parses /train with
``rnn_tui.train.options``: nothing under ``rnn_tui/tui`` or ``rnn_tui/views`` imports the CLI,
not even inside a function (issue 14, item 2)."""

from __future__ import annotations

import ast
from pathlib import Path

import rnn_tui

PACKAGE = Path(rnn_tui.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` in the file names, at any depth."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_app_and_the_views_import_nothing_from_the_cli():
    offenders = {}
    for folder in ("tui", "views"):
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            found = sorted(name for name in imported_modules(path)
                           if name == "rnn_tui.cli" or name.startswith("rnn_tui.cli."))
            if found:
                offenders[str(path.relative_to(PACKAGE))] = found
    assert offenders == {}


def test_the_scan_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from rnn_tui.cli.train import train\n", encoding="utf-8")
    assert "rnn_tui.cli.train" in imported_modules(sample)
