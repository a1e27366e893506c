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
