"""Shared test fixtures. Append new fixtures; don't rewrite the ones here (others rely on them).

- Every test runs with ``RNN_TUI_HOME`` in its own tmp folder, so the user's registry and runs
  are never touched. ``RNN_TUI_DATA`` is kept when the caller set it (to point the real-data
  tests at the corpora), else it too goes to an empty tmp folder.
- ``real_data_home``: the folder with the real corpora (``$RNN_TUI_DATA`` as given when
  pytest started, else ``../shared/datasets`` beside the checkout); tests using it are
  skipped when it is absent. Mark them ``@pytest.mark.realdata``.
- ``data_home``: an empty data home in tmp_path, set as ``RNN_TUI_DATA``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_CHECKOUT = Path(__file__).resolve().parent.parent
_GIVEN_DATA_HOME = os.environ.get("RNN_TUI_DATA")
REAL_DATA_HOME = Path(_GIVEN_DATA_HOME) if _GIVEN_DATA_HOME else _CHECKOUT.parent / "shared" / "datasets"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Keep tests away from the user's home (and data home, unless one was given), and from
    the repository's shipped models (tests/test_shipped_models.py tests those)."""
    base = tmp_path_factory.mktemp("rnn-tui")
    monkeypatch.setenv("RNN_TUI_HOME", str(base / "home"))
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", "")
    if not _GIVEN_DATA_HOME:
        monkeypatch.setenv("RNN_TUI_DATA", str(base / "data"))
    return base / "home"


@pytest.fixture
def real_data_home(monkeypatch) -> Path:
    """The real corpora's folder, set as RNN_TUI_DATA; skips the test when it is absent."""
    if not REAL_DATA_HOME.is_dir():
        pytest.skip(f"real corpora not found at {REAL_DATA_HOME} (set RNN_TUI_DATA)")
    monkeypatch.setenv("RNN_TUI_DATA", str(REAL_DATA_HOME))
    return REAL_DATA_HOME


def require_real_corpus(home: Path, *relative: str) -> None:
    """Skip unless every ``relative`` path exists under the real data home."""
    missing = [r for r in relative if not (home / r).exists()]
    if missing:
        pytest.skip(f"real corpus files absent: {', '.join(missing)}")


@pytest.fixture
def data_home(tmp_path, monkeypatch) -> Path:
    """An empty data home for fixture corpora, set as RNN_TUI_DATA."""
    home = tmp_path / "data-home"
    home.mkdir()
    monkeypatch.setenv("RNN_TUI_DATA", str(home))
    return home


# ---------------------------------------------------------------------------- corpus builders
# Tiny corpora in the publishers' formats, written by the tests themselves.
import io  # noqa: E402
import tarfile  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import numpy as np  # noqa: E402

IMDB_SAMPLE = {
    ("train", "pos"): [(0, 9, "A wonderful film.<br /><br />Loved it."), (3, 10, "Great acting, great story.")],
    ("train", "neg"): [(1, 2, "Dull and slow.<br />Avoid."), (2, 1, "The worst film I have seen.")],
    ("test", "pos"): [(5, 8, "Moving and funny."), (4, 7, "I enjoyed every minute.")],
    ("test", "neg"): [(6, 3, "Boring plot."), (7, 4, "Not worth the ticket.")],
}


def _imdb_members(reviews, prefix="aclImdb"):
    for (split, folder), items in reviews.items():
        for review_id, rating, text in items:
            data = text if isinstance(text, bytes) else text.encode("utf-8")
            yield f"{prefix}/{split}/{folder}/{review_id}_{rating}.txt", data


def write_imdb_folder(root: Path, reviews=None) -> Path:
    """An extracted aclImdb folder under ``root``; returns ``root/aclImdb``."""
    for name, data in _imdb_members(reviews or IMDB_SAMPLE):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "aclImdb" / "train" / "unsup").mkdir(parents=True, exist_ok=True)
    (root / "aclImdb" / "train" / "unsup" / "0_0.txt").write_text("unlabeled", encoding="utf-8")
    (root / "aclImdb" / "imdb.vocab").write_text("the\nand\n", encoding="utf-8")
    return root / "aclImdb"


def write_tarball(path: Path, members, *, dot_prefix: bool = False) -> Path:
    """A .tar.gz holding ``members`` [(name, bytes)]; names get "./" with dot_prefix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(("./" if dot_prefix else "") + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def write_imdb_tarball(path: Path, reviews=None) -> Path:
    members = list(_imdb_members(reviews or IMDB_SAMPLE))
    members.append(("aclImdb/train/unsup/0_0.txt", b"unlabeled"))
    members.append(("aclImdb/README", b"readme"))
    return write_tarball(path, members)


def write_keras_npz(path: Path, **arrays) -> Path:
    """A Keras-style .npz: lists of id lists become object arrays (pickled), as Keras ships."""
    stored = {}
    for key, value in arrays.items():
        if key.startswith("x"):
            array = np.empty(len(value), dtype=object)
            for i, sequence in enumerate(value):
                array[i] = list(sequence)
            stored[key] = array
        else:
            stored[key] = np.asarray(value, dtype=np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **stored)
    return path


def reuters_wire(newid, topics=("earn",), *, lewis="TRAIN", has_topics="YES", title="TITLE",
                 body="Body text.\n Reuter\n&#3;", text_type="", dateline="NEW YORK, March 1 - "):
    """One <REUTERS> element as in reut2-*.sgm."""
    topic_tags = "".join(f"<D>{t}</D>" for t in topics)
    type_attr = f' TYPE="{text_type}"' if text_type else ""
    if text_type == "UNPROC":
        inner = f"&#2;\n{body}"
    elif text_type == "BRIEF":
        inner = f"&#2;\n******<TITLE>{title}</TITLE>Blah blah blah.\n&#3;\n"
    else:
        inner = (f"&#2;\n<TITLE>{title}</TITLE>\n<DATELINE>    {dateline}</DATELINE>"
                 f"<BODY>{body}</BODY>")
    return (
        f'<REUTERS TOPICS="{has_topics}" LEWISSPLIT="{lewis}" CGISPLIT="TRAINING-SET" '
        f'OLDID="{5000 + newid}" NEWID="{newid}">\n<DATE>26-FEB-1987 15:01:01.79</DATE>\n'
        f"<TOPICS>{topic_tags}</TOPICS>\n<PLACES><D>usa</D></PLACES>\n<PEOPLE></PEOPLE>\n"
        f"<ORGS></ORGS>\n<EXCHANGES></EXCHANGES>\n<COMPANIES></COMPANIES>\n"
        f"<UNKNOWN> \n&#5;&#5;&#5;F\n&#22;&#22;&#1;f0001&#31;reute\n</UNKNOWN>\n"
        f"<TEXT{type_attr}>{inner}</TEXT>\n</REUTERS>\n"
    )


def reuters_files(wires: list[str]) -> list[tuple[str, bytes]]:
    """The 22 reut2-NNN.sgm files (latin-1) with ``wires`` spread over the first ones."""
    files = []
    for number in range(22):
        chunk = wires[number::22]
        text = '<!DOCTYPE lewis SYSTEM "lewis.dtd">\n' + "".join(chunk)
        files.append((f"reut2-{number:03d}.sgm", text.encode("latin-1")))
    return files


@pytest.fixture
def builders():
    """The corpus builders above, as one object."""
    return SimpleNamespace(
        imdb_sample=IMDB_SAMPLE,
        imdb_folder=write_imdb_folder,
        imdb_tarball=write_imdb_tarball,
        tarball=write_tarball,
        keras_npz=write_keras_npz,
        reuters_wire=reuters_wire,
        reuters_files=reuters_files,
    )


# ---------------------------------------------------------------------------- TUI models
@pytest.fixture(scope="session")
def tiny_text_models(tmp_path_factory) -> Path:
    """A registry folder with tiny real models under the workspace's default names
    (imdb-sentiment, nsmc-sentiment, reuters-topics) and a sequence model; trained once per
    session by the real engine in a subprocess (tests/tui_models.py, about 20 s)."""
    from tui_models import train_tiny_registry

    return train_tiny_registry(tmp_path_factory.mktemp("tiny-models"))


# ---------------------------------------------------------------------------- the slow mark
# `pytest -m "not slow"` is the inner loop (README, "Development": a few minutes on 2 cores);
# CI runs everything. Besides the tests marked where they are written, these are slow:
# - every test of a module that trains models, builds Keras graphs, or drives real
#   servers, terminals and the TUI's snapshots;
# - every test using a fixture that imports TensorFlow or trains (importing TensorFlow
#   alone costs seconds, before any model is built);
# - every test reading the real corpora (``realdata``);
# - the tests named in tests/slow_tests.txt (a function, or one of its parameter sets),
#   measured at seconds each.
SLOW_MODULES = {
    "test_backend_warnings", "test_export", "test_infer_parity", "test_nets_build",
    "test_registry_keras", "test_reliability_concurrency", "test_reliability_fuzz",
    "test_serve_process", "test_train_detached", "test_train_distribute",
    "test_train_engine", "test_train_features", "test_train_linear", "test_train_resume",
    "test_tui_runs_elsewhere", "test_tui_snapshots", "test_tui_terminal",
    "test_tui_training",
}
SLOW_FIXTURES = {"keras", "keras_module", "keras_pad", "keras_tokenizer", "published_home",
                 "tiny_text_models"}
SLOW_TESTS_FILE = Path(__file__).with_name("slow_tests.txt")


def _listed_slow_tests() -> set[str]:
    lines = SLOW_TESTS_FILE.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by mark
def pytest_collection_modifyitems(config, items):
    listed = _listed_slow_tests()
    found: set[str] = set()
    for item in items:
        name = item.nodeid.split("[")[0]
        module = item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        for listed_as in {name, item.nodeid} & listed:
            found.add(listed_as)
        if (module in SLOW_MODULES or name in listed or item.nodeid in listed
                or item.get_closest_marker("realdata")
                or SLOW_FIXTURES & set(item.fixturenames)):
            item.add_marker(pytest.mark.slow)
    collected = {item.nodeid.split("::")[0] for item in items}
    config._rnn_tui_stale_slow = sorted(
        name for name in listed - found if name.split("::")[0] in collected)


_TENSORFLOW_IMPORTERS: list[str] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Note a not-slow test that imports TensorFlow: the inner loop should never pay for it."""
    import sys

    before = "tensorflow" in sys.modules
    try:
        return (yield)
    finally:
        if not before and "tensorflow" in sys.modules and not item.get_closest_marker("slow"):
            _TENSORFLOW_IMPORTERS.append(item.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    stale = getattr(config, "_rnn_tui_stale_slow", [])
    if stale:
        terminalreporter.write_line(
            f"tests/slow_tests.txt names {len(stale)} test(s) not collected from their "
            f"modules (renamed?): {', '.join(stale)}")
    if _TENSORFLOW_IMPORTERS:
        terminalreporter.write_line(
            "imported TensorFlow without the slow mark (mark it, or keep TensorFlow out): "
            + ", ".join(_TENSORFLOW_IMPORTERS))
