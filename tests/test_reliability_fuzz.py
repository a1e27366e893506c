"""Fuzz targets, one per parser of files a user or another machine hands to rnn-tui: CSV,
TSV, JSONL and folder corpora, card.json (read, then shown by `models show`, `summary` and
the TUI), vocabulary JSON and model archives (member names, manifest, card).

Each target builds structured but hostile input with hypothesis (quoting, separators, huge
and non-finite numbers, deep nesting, wrong types, control characters, path tricks) and
requires that the parser either returns a usable result or raises DataError/UserError (one
line for the user): any other exception is what the CLI would report as "internal error".
The corpus targets also go through `rnn-tui data show` in this process and check its
stderr (every fifth input). ``RNN_TUI_FUZZ_EXAMPLES`` (default 300) sets the inputs per target;
bench/reliability.py runs more and prints the counts (``INPUTS``).
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import io
import json
import os
import shutil
import tarfile
import tempfile
import warnings
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rnn_tui.errors import DataError, UserError

EXAMPLES = int(os.environ.get("RNN_TUI_FUZZ_EXAMPLES", "300"))
CLI_EVERY = 5  # every 5th corpus input also goes through `rnn-tui data show`
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
INPUTS: Counter[str] = Counter()  # target -> inputs tried (read by bench/reliability.py)

# In memory where there is a tmpfs: creating and deleting thousands of small files on a
# disk took most of the time, and the parsers read the same bytes either way.
_SHM = "/dev/shm"
WORK = Path(tempfile.mkdtemp(prefix="rnn-tui-fuzz-", dir=_SHM if os.access(_SHM, os.W_OK)
                             else None))
atexit.register(shutil.rmtree, WORK, ignore_errors=True)

HOSTILE = ["\x1b[2J", "\x07", "\r", "\x00", "\x7f", "\x9b", "\t", "\n", "\r\n", "\u202e",
           "\ufeff", '"', "'", ",", ";", "\\", "[", "{", "]", "}", "가", "🎬", " ", ""]
TEXT = st.lists(st.one_of(st.sampled_from(HOSTILE), st.characters(blacklist_categories=("Cs",))),
                max_size=12).map("".join)
NUMBER_TEXT = st.one_of(st.integers(-10**30, 10**30).map(str), st.floats().map(repr),
                        st.sampled_from(["9" * 5000, "1e999", "-1e999", "nan", "inf", "-0",
                                         "0x10", "1_000", "１", "²", " 1 ", "", "1.0", "01"]))
FIELD = st.one_of(TEXT, NUMBER_TEXT)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**40, 10**40) | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8)


def clean(call):
    """``call()``'s result, or None when it raised DataError/UserError; any other
    exception fails the target (it would be a traceback or an "internal error")."""
    try:
        return call()
    except (DataError, UserError):
        return None


def cli_line(args: list[str]) -> None:
    """``rnn-tui ARGS`` in this process: it may fail, but only with one clean line."""
    from rnn_tui.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit:
            pass
    text = err.getvalue()
    assert "internal error" not in text and "Traceback" not in text, text
    assert "\x1b" not in out.getvalue() + text


def fresh(name: str) -> Path:
    INPUTS[name] += 1
    folder = WORK / f"{name}-{INPUTS[name]}"
    folder.mkdir()
    return folder


def load_and_show(path: Path, **options) -> None:
    from rnn_tui.data import load_corpus

    corpus = clean(lambda: load_corpus(str(path), **options))
    if corpus is not None:
        assert len(corpus.train) + len(corpus.test) > 0
        assert corpus.train.labels.dtype.kind in "if"
    if INPUTS[path.parent.name.split("-")[0]] % CLI_EVERY == 1:  # the CLI costs ~10 ms
        cli_line(["data", "show", str(path)])
    shutil.rmtree(path.parent, ignore_errors=True)


# ---------------------------------------------------------------------------- corpora
@FUZZ
@given(header=st.lists(st.one_of(st.sampled_from(["text", "label", "split"]), TEXT),
                       min_size=1, max_size=4),
       rows=st.lists(st.lists(FIELD, max_size=5), max_size=8), quoted=st.booleans(),
       task=st.sampled_from([None, "binary", "multiclass", "regression"]))
def test_fuzz_csv_corpus(header, rows, quoted, task):
    path = fresh("csv") / "corpus.csv"
    if quoted:
        buffer = io.StringIO()
        csv.writer(buffer).writerows([header, *rows])
        path.write_text(buffer.getvalue(), encoding="utf-8")
    else:  # whatever a hand-edited file holds: stray quotes, wrong counts
        path.write_text("\n".join(",".join(row) for row in [header, *rows]), encoding="utf-8")
    load_and_show(path, task=task)


@FUZZ
@given(header=st.lists(st.one_of(st.sampled_from(["text", "label", "split"]), TEXT),
                       min_size=1, max_size=4),
       rows=st.lists(st.lists(FIELD, max_size=5), max_size=8),
       ending=st.sampled_from(["\n", "\r\n", ""]), suffix=st.sampled_from([".tsv", ".txt"]))
def test_fuzz_tsv_corpus(header, rows, ending, suffix):
    path = fresh("tsv") / f"corpus{suffix}"
    path.write_bytes(ending.join("\t".join(row) for row in [header, *rows]).encode(
        "utf-8", "surrogatepass"))
    load_and_show(path)


RECORD = st.dictionaries(st.sampled_from(["text", "label", "split", "other"]), JSON_VALUES,
                         max_size=4)
RAW_LINE = st.sampled_from(["[" * 50_000, '{"text": "a", "label": ' + "9" * 5000 + "}",
                            '{"text": "a", "label": NaN}', '{"text": "a", "label": Infinity}',
                            '{"text": "a", "label": 1e999}', "{", "null", "", "\ufeff{}",
                            '{"text": "\\ud800", "label": 1}'])


@FUZZ
@given(lines=st.lists(st.one_of(RECORD.map(json.dumps), RAW_LINE), max_size=8),
       suffix=st.sampled_from([".jsonl", ".json"]))
def test_fuzz_jsonl_corpus(lines, suffix):
    path = fresh("jsonl") / f"corpus{suffix}"
    text = "\n".join(lines) if suffix == ".jsonl" else "[" + ",".join(lines) + "]"
    path.write_text(text, encoding="utf-8")
    load_and_show(path)


CLASS_NAME = st.one_of(st.sampled_from(["pos", "neg", "train", "test", ".hidden", "..x",
                                        "a b", "가", "\x1b[31m"]),
                       st.text(st.characters(blacklist_characters="/\x00",
                                             blacklist_categories=("Cs",)),
                               min_size=1, max_size=8))


@FUZZ
@given(classes=st.dictionaries(CLASS_NAME, st.lists(st.binary(max_size=60), max_size=3),
                               max_size=4),
       split=st.booleans())
def test_fuzz_folder_corpus(classes, split):
    root = fresh("folder") / "corpus"
    for split_name in (["train", "test"] if split else [""]):
        for class_name, files in classes.items():
            folder = root / split_name / class_name
            with contextlib.suppress(OSError):  # a name the filesystem refuses (too long)
                folder.mkdir(parents=True, exist_ok=True)
                for index, data in enumerate(files):
                    (folder / f"{index}.txt").write_bytes(data)
    root.mkdir(parents=True, exist_ok=True)
    load_and_show(root)


# ---------------------------------------------------------------------------- model files
CARD_KEYS = ["task", "labels", "language", "input", "dataset", "vocabulary", "architecture",
             "training", "metrics", "history", "layers", "params", "notes", "imported",
             "runtime", "files", "created", "name", "version", "format_version"]


def base_card() -> dict:
    return {"format": "rnn-tui-card", "format_version": 1, "name": "fuzz", "version": 1,
            "created": "2026-01-01T00:00:00+00:00", "task": "binary", "labels": ["a", "b"],
            "files": {"model.keras": "0" * 64}}


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(CARD_KEYS), JSON_VALUES, max_size=5))
@example(changes={"labels": None, "notes": 1})  # found by this target: summary crashed
@example(changes={"params": {"total": "many"}})
def test_fuzz_card_read_and_shown(changes):
    from rich.console import Console

    from rnn_tui.cli.models import card_text
    from rnn_tui.cli.summary import render_summary
    from rnn_tui.registry import read_card
    from rnn_tui.tui.widgets.summary_pane import card_view

    folder = fresh("card")
    (folder / "card.json").write_text(json.dumps({**base_card(), **changes}),
                                      encoding="utf-8")
    card = clean(lambda: read_card(folder / "card.json"))
    if card is not None:  # a card that validates must show without an error
        version = SimpleNamespace(card=card, ref="fuzz:1", source="user", path=folder,
                                  aliases=[], tags=[], is_latest=True)
        console = Console(file=io.StringIO(), width=80, force_terminal=True)
        card_text(version)
        render_summary(version, console)
        console.print(card_view("fuzz:1", card))
        assert "\x1b]" not in console.file.getvalue()
    shutil.rmtree(folder, ignore_errors=True)


@FUZZ
@given(document=st.one_of(
    st.dictionaries(st.sampled_from(["format", "format_version", "config", "tokens", "counts",
                                     "docs", "document_count"]), JSON_VALUES),
    JSON_VALUES), texts=st.lists(TEXT, max_size=3))
def test_fuzz_vocabulary_json(document, texts):
    from rnn_tui.text import Vocabulary

    folder = fresh("vocabulary")
    path = folder / "vocabulary.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    vocabulary = clean(lambda: Vocabulary.load(path))
    if vocabulary is not None:
        clean(lambda: vocabulary.encode(texts or ["a"], maxlen=4))
    shutil.rmtree(folder, ignore_errors=True)


MEMBER_NAME = st.one_of(
    st.sampled_from(["card.json", "m-1/card.json", "model.keras", "m-1/model.keras", "../x",
                     "/etc/x", "a/../../b", "./card.json", "m-1/", "m-1/../card.json", "",
                     "a" * 300, "con", "m-1/sub/deep.bin", "vocabulary.json"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20))


@FUZZ
@given(members=st.lists(st.tuples(MEMBER_NAME, st.binary(max_size=40)), max_size=5),
       card_changes=st.dictionaries(st.sampled_from(CARD_KEYS), JSON_VALUES, max_size=3),
       card_at=st.sampled_from(["card.json", "m-1/card.json", None]),
       kind=st.sampled_from(["tar", "zip"]))
def test_fuzz_archive_manifest(members, card_changes, card_at, kind):
    import zipfile

    from rnn_tui.registry import Registry

    folder = fresh("archive")
    entries = list(members)
    if card_at is not None:
        card = {**base_card(), **card_changes}
        entries.append((card_at, json.dumps(card).encode()))
    path = folder / ("model.tar.gz" if kind == "tar" else "model.zip")
    if kind == "tar":
        with tarfile.open(path, "w:gz") as archive:
            for name, data in entries:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    else:
        with zipfile.ZipFile(path, "w") as archive, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate names: wanted here
            for name, data in entries:
                with contextlib.suppress(ValueError, IndexError):  # names zipfile refuses
                    archive.writestr(name or "x", data)
    registry = Registry(folder / "models")
    version = clean(lambda: registry.import_archive(path, "fuzz"))
    if version is not None:
        version.verify()
        assert version.path.is_relative_to(registry.root)
    for root, _, files in os.walk(folder):  # nothing was written outside its folder
        assert Path(root).is_relative_to(folder)
    shutil.rmtree(folder, ignore_errors=True)
