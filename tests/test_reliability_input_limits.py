"""Reading input is bounded: `predict` takes one text per line up to a documented limit
(4 MiB), and corpus files that would exhaust the parser (JSON nested 100,000 deep, a
5,000-digit label) are DataErrors naming file and line, never "internal error".
"""

from __future__ import annotations

import io
import json

import pytest

from reliability_support import cli, one_line_error
from rnn_tui.cli.predict import MAX_LINE_BYTES, TOO_LONG, _raw_lines, line_items
from rnn_tui.errors import DataError, UserError
from rnn_tui.registry import Registry


@pytest.fixture
def with_models(isolated_home, tiny_text_models):
    registry = Registry(isolated_home / "models")
    registry.publish("imdb-sentiment", tiny_text_models / "imdb-sentiment" / "1")
    return isolated_home


def test_predict_reads_dev_zero_as_one_clear_error(with_models):
    done = cli(["predict", "-m", "imdb-sentiment", "--file", "/dev/zero"], with_models,
               timeout=120)
    assert done.returncode == 2, done.stderr
    line = one_line_error(done)
    assert "line 1: longer than 4 MiB" in line, line


def test_lines_before_a_too_long_one_are_answered(with_models):
    data = b"great film\nawful film\n" + b"x" * (MAX_LINE_BYTES + 10) + b"\nnever read\n"
    done = cli(["predict", "-m", "imdb-sentiment", "--format", "json"], with_models,
               input=data, timeout=120)
    assert done.returncode == 2
    assert "line 3: longer than 4 MiB" in one_line_error(done)
    records = json.loads(done.stdout)  # the array is closed
    assert [r["text"] for r in records] == ["great film", "awful film"]


@pytest.mark.parametrize("selectable", [True, False])
def test_a_line_of_exactly_the_limit_is_read(tmp_path, selectable):
    data = b"a" * MAX_LINE_BYTES + b"\n" + b"b" * MAX_LINE_BYTES
    path = tmp_path / "lines.txt"
    path.write_bytes(data)
    with (open(path, "rb") if selectable else io.BytesIO(data)) as stream:
        lines = [line for line in _raw_lines(stream) if line is not None]
    assert [len(line) for line in lines] == [MAX_LINE_BYTES, MAX_LINE_BYTES]
    with (open(path, "ab")) as more:
        more.write(b"c")
    with (open(path, "rb") if selectable else io.BytesIO(data + b"c")) as stream:
        lines = [line for line in _raw_lines(stream) if line is not None]
    assert lines[-1] is TOO_LONG and len(lines) == 2
    with pytest.raises(UserError, match="line 2: longer than 4 MiB"):
        list(line_items(io.BytesIO(data + b"c")))


# ---------------------------------------------------------------------------- corpus files
DEEP = "[" * 100_000 + "]" * 100_000
HUGE_NUMBER = "7" * 5_000


@pytest.mark.parametrize("name, content, line", [
    ("deep.jsonl", '{"text": "ok", "label": 1}\n{"text": "a", "label": ' + DEEP + "}\n", 2),
    ("huge.jsonl", '{"text": "ok", "label": 1}\n{"text": "a", "label": ' + HUGE_NUMBER
     + "}\n", 2),
    ("deep.json", DEEP, None),
    ("huge.json", '[{"text": "a", "label": ' + HUGE_NUMBER + "}]", None),
], ids=["deep-jsonl", "huge-jsonl", "deep-json", "huge-json"])
def test_corpus_files_that_would_crash_the_parser(tmp_path, capsys, name, content, line):
    from rnn_tui.data import load_corpus
    from train_support import run_cli

    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError) as caught:
        load_corpus(str(path))
    assert caught.value.path == path and caught.value.line == line
    code, _, err = run_cli(["data", "show", str(path)], capsys)
    assert code == 2 and "internal error" not in err and "Traceback" not in err
    assert err.startswith(f"rnn-tui: error: {path}:{line}:" if line else
                          f"rnn-tui: error: {path}"), err


def test_a_huge_label_in_a_csv_is_a_class_name(tmp_path):
    from rnn_tui.data import load_corpus

    path = tmp_path / "huge.csv"
    rows = [f"text {i},{HUGE_NUMBER if i % 2 else 1}" for i in range(10)]
    path.write_text("text,label\n" + "\n".join(rows) + "\n")
    corpus = load_corpus(str(path))
    assert len(corpus.label_names) == 2


@pytest.mark.parametrize("file_name", ["card.json", "aliases.json", "vocabulary.json"])
def test_registry_json_nested_too_deeply_is_named(isolated_home, tmp_path, file_name):
    from rnn_tui.text import Vocabulary

    source = tmp_path / "source"
    source.mkdir()
    (source / "model.keras").write_bytes(b"x")
    registry = Registry(isolated_home / "models")
    version = registry.publish("deep", source, card={"task": "binary", "labels": ["a", "b"]})
    target = {"card.json": version.path / "card.json",
              "aliases.json": version.path.parent / "aliases.json",
              "vocabulary.json": tmp_path / "vocabulary.json"}[file_name]
    if target.exists():
        target.chmod(0o644)
    target.write_text('{"x": ' + DEEP + "}")
    with pytest.raises(DataError) as caught:
        if file_name == "vocabulary.json":
            Vocabulary.load(target)
        elif file_name == "aliases.json":
            registry.aliases("deep")
        else:
            Registry(isolated_home / "models").resolve("deep").card
    assert caught.value.path == target and "nested too deeply" in str(caught.value)


def test_an_archive_card_nested_too_deeply_is_named(isolated_home, tmp_path):
    import tarfile

    archive = tmp_path / "deep.tar.gz"
    card = tmp_path / "card.json"
    card.write_text(DEEP)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(card, arcname="deep-1/card.json")
    with pytest.raises(DataError, match="nested too deeply"):
        Registry(isolated_home / "models").import_archive(archive)
