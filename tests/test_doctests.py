"""The examples in the modules' docstrings run and give what they show.

The corpus loaders' examples need the corpora, a network or files of the reader's own, so they
are illustrations only and left out here (tests/test_data_*.py test the loaders).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import rnn_tui

ILLUSTRATIONS = {  # need real corpora, downloads or the user's files
    "rnn_tui.data", "rnn_tui.data.imdb", "rnn_tui.data.nsmc", "rnn_tui.data.reuters",
    "rnn_tui.data.shopping", "rnn_tui.data.store", "rnn_tui.data.tabular",
    "rnn_tui.data.padded",
}
MODULES = sorted(
    info.name for info in pkgutil.walk_packages(rnn_tui.__path__, "rnn_tui.")
    if info.name not in ILLUSTRATIONS and not info.name.startswith("rnn_tui.__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_TUI_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
