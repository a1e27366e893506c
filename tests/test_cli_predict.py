"""``rnn-tui predict`` as a user runs it: a real process, real pipes, real exit codes.

The models are published by the tests into the isolated home's registry (tiny random
LSTM/GRU runtimes; no TensorFlow anywhere), and the shipped registry is switched off.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time

import numpy as np
import pytest

from infer_helpers import make_vocabulary, pooled_lstm, publish_sentiment_pair, publish_version



@pytest.fixture
def home(isolated_home, monkeypatch):
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", "")
    publish_sentiment_pair(isolated_home / "models")
    return isolated_home


def run(*args, stdin: bytes = b"", timeout: float = 60):
    """Run ``rnn-tui ARGS`` in a fresh interpreter; (exit code, stdout, stderr) as text."""
    process = subprocess.run(
        [sys.executable, "-m", "rnn_tui", *args], input=stdin, capture_output=True,
        timeout=timeout, env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    return (process.returncode, process.stdout.decode("utf-8"),
            process.stderr.decode("utf-8"))


def test_one_liner(home):
    code, out, err = run("predict", "a wonderful moving film")
    assert code == 0 and err == ""
    label, probability = out.split()
    assert label in ("negative", "positive") and 0.5 <= float(probability) <= 1


def test_language_picks_the_model(home):
    code, out, _ = run("predict", "--format", "jsonl", "great film", "재미있을 줄 알았는데")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["model"] for r in records] == ["imdb-sentiment:1", "nsmc-sentiment:1"]
    assert [r["text"] for r in records] == ["great film", "재미있을 줄 알았는데"]
    for record in records:
        assert set(record["probabilities"]) == {"negative", "positive"}
        assert record["probability"] == max(record["probabilities"].values())
        assert sum(record["probabilities"].values()) == pytest.approx(1, abs=1e-5)


def test_stdin_bad_lines_are_reported_and_skipped(home):
    lines = [b"great film", b"", b"   \t ", b"\xff\xfe bad bytes", b"nul\x00inside film",
             "🎬 great 영화 ✨".encode(), b"\x1b[31mred\x1b[0m film", b"!!! ???",
             ("great " * 200_000).encode(), b"the end\r"]
    code, out, err = run("predict", stdin=b"\n".join(lines) + b"\n")
    assert code == 2
    errors = err.splitlines()
    assert errors == [
        "rnn-tui: line 2: empty text",
        "rnn-tui: line 3: empty text",
        "rnn-tui: line 4: not valid UTF-8 (byte 0xff at byte 1)",
        "rnn-tui: line 8: no words the model can read (nothing to classify)",
    ]
    results = out.splitlines()
    assert len(results) == 6  # lines 1, 5, 6, 7, 9, 10
    assert "\x1b" not in out and "\x00" not in out  # echoed texts are escaped
    assert "␛[31mred␛[0m film" in results[3]
    assert "nul␀inside film" in results[1]
    assert results[5].endswith("the end")


def test_formats(home):
    stdin = "great film\n재미있을 줄\nworst film ever\n".encode()
    code, out, _ = run("predict", "--format", "json", stdin=stdin)
    assert code == 0
    records = json.loads(out)
    assert [r["line"] for r in records] == [1, 2, 3]
    code, out, _ = run("predict", "--format", "jsonl", stdin=stdin)
    assert [json.loads(line) for line in out.splitlines()] == records
    code, out, _ = run("predict", "--format", "tsv", "--all", stdin=stdin)
    header, *rows = [line.split("\t") for line in out.splitlines()]
    assert header == ["line", "model", "label", "probability", "label_2", "probability_2",
                      "text"]
    assert [row[0] for row in rows] == ["1", "2", "3"] and rows[1][-1] == "재미있을 줄"
    assert float(rows[0][3]) >= float(rows[0][5])
    code, out, _ = run("predict", "--format", "json", stdin=b"")
    assert code == 0 and json.loads(out) == []


def test_tsv_and_text_escape_tabs_and_controls(home):
    code, out, _ = run("predict", "--format", "tsv", "-m", "imdb-sentiment",
                       "great\tfilm\\", "film\x1b]0;pwned\x07")
    rows = [line.split("\t") for line in out.splitlines()[1:]]
    assert rows[0][-1] == "great\\tfilm\\\\" and rows[1][-1] == "film\\x1b]0;pwned\\x07"


def test_file_input_and_errors(home, tmp_path):
    texts = tmp_path / "reviews.txt"
    texts.write_text("great film\nbad\n", encoding="utf-8")
    code, out, _ = run("predict", "--file", str(texts), "--format", "jsonl")
    assert code == 0 and len(out.splitlines()) == 2
    code, _, err = run("predict", "--file", str(tmp_path / "missing.txt"))
    assert code == 2 and "missing.txt" in err and "Traceback" not in err


def test_top_k_and_all_for_topics(home):
    labels = [f"topic-{i}" for i in range(46)]
    publish_version(home / "models", "reuters-topics",
                    lambda path: pooled_lstm(10, True, units=46, head="softmax", write_to=path),
                    vocabulary=make_vocabulary(), task="multiclass", labels=labels)
    code, out, _ = run("predict", "-m", "reuters-topics", "--top-k", "3", "oil prices rose")
    pairs = out.split()
    assert code == 0 and len(pairs) == 6 and all(p.startswith("topic-") for p in pairs[::2])
    values = [float(v) for v in pairs[1::2]]
    assert values == sorted(values, reverse=True)
    code, out, _ = run("predict", "-m", "reuters-topics", "--all", "--format", "jsonl",
                       "oil prices rose")
    record = json.loads(out)
    assert len(record["top_k"]) == 46 and len(record["probabilities"]) == 46
    code, _, err = run("predict", "--all", "--top-k", "2", "x")
    assert code == 2 and "not both" in err


def test_trace(home):
    code, out, _ = run("predict", "--trace", "재미있을 줄 알았는데 완전 실망했다")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 6
    assert [line.split()[1] for line in lines[1:]] == ["재미있을", "줄", "알았는데", "완전",
                                                      "실망했다"]
    code, out, _ = run("predict", "--trace", "--format", "jsonl", "great film")
    record = json.loads(out)
    assert [step["token"] for step in record["trace"]] == ["great", "film"]
    assert record["trace"][-1]["probabilities"] == record["probabilities"]


def test_missing_default_model_says_how_to_train(isolated_home, monkeypatch):
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", "")
    code, out, err = run("predict", "a review")
    assert code == 2 and out == ""
    assert "imdb-sentiment" in err and "rnn-tui train" in err and "Traceback" not in err
    code, _, err = run("predict", "-m", "no-such-model", "a review")
    assert code == 2 and "no-such-model" in err


def publish_adding(home):
    """A GRU regression model on (5 steps, 2 channels) numbers."""
    from infer_helpers import GraphBuilder
    from rnn_tui.infer.format import write_runtime

    builder = GraphBuilder(maxlen=5)
    output = builder.dense(builder.rnn("t0", 2, "gru", 3, sequences=False), 3, 1)
    graph = builder.graph(output, input_dtype="float32", channels=2)
    publish_version(home / "models", "adding", lambda p: write_runtime(p, graph, builder.weights),
                    task="regression", labels=(),
                    model_input={"kind": "sequence", "timesteps": 5, "channels": 2})
    from rnn_tui.infer import Predictor
    from rnn_tui.registry import open_registries

    return Predictor.load(open_registries().resolve("adding"))


def test_sequence_model_reads_numbers(home):
    """predict -m SERIES-MODEL: numbers as arguments, stdin lines or CSV rows (header
    skipped); values as the runtime computes them."""
    predictor = publish_adding(home)
    rows = np.random.default_rng(3).random((3, 5, 2)).astype(np.float32)
    expected = predictor.predict_sequences(rows)[:, 0]
    csv = "a1,b1,a2,b2,a3,b3,a4,b4,a5,b5\n" + "".join(
        ",".join(f"{v!r}" for v in row.reshape(-1).tolist()) + "\n" for row in rows)
    code, out, err = run("predict", "-m", "adding", "--format", "jsonl",
                         stdin=csv.encode())
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and err == ""
    assert [r["line"] for r in records] == [2, 3, 4]
    assert [r["probabilities"]["value"] for r in records] == pytest.approx(expected, abs=1e-5)
    assert np.allclose(records[0]["input"], rows[0])
    spaced = " ".join(f"{v!r}" for v in rows[1].reshape(-1).tolist())
    code, out, err = run("predict", "-m", "adding", spaced)
    assert code == 0 and out.split()[0] == "value"
    assert float(out.split()[1]) == pytest.approx(expected[1], abs=1e-3)


def test_sequence_model_bad_rows_are_reported(home):
    publish_adding(home)
    code, out, err = run("predict", "-m", "adding", "text", "1 2 3", " ".join(["0.5"] * 10))
    lines = err.splitlines()
    assert code == 2 and len(out.splitlines()) == 1 and len(lines) == 2
    assert lines[0] == "rnn-tui: argument 1: 'text' (number 1) is not a number"
    assert lines[1] == ("rnn-tui: argument 2: 3 numbers; the model reads 5 steps x 2 channels "
                        "= 10")
    code, _, err = run("predict", "-m", "adding", "--trace", "1")
    assert code == 2 and "--trace follows the words of a text" in err


def test_many_lines_in_order(home):
    rng = np.random.default_rng(0)
    words = ["great", "film", "worst", "dull", "moving", "재미있을", "실망했다"]
    lines = [" ".join(rng.choice(words, rng.integers(1, 8))) for _ in range(2000)]
    code, out, _ = run("predict", "--format", "jsonl", stdin="\n".join(lines).encode())
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["line"] for r in records] == list(range(1, 2001))
    assert [r["text"] for r in records] == lines


def test_lines_typed_at_a_pipe_are_answered_at_once(home):
    process = subprocess.Popen([sys.executable, "-m", "rnn_tui", "predict"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        process.stdin.write(b"great film\n")
        process.stdin.flush()
        deadline = time.monotonic() + 30
        ready = []
        while not ready and time.monotonic() < deadline:
            ready = select.select([process.stdout], [], [], 0.5)[0]
        assert ready, "no answer before the input ended"
        assert process.stdout.readline().split()[0] in (b"negative", b"positive")
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    assert process.returncode == 0


def test_predict_never_imports_tensorflow(home):
    code = ("import sys\n"
            "from rnn_tui.cli import main\n"
            "try:\n    main(['predict', '--trace', 'great film', '재미있을 줄'])\n"
            "except SystemExit as exit:\n    assert not exit.code, exit.code\n"
            "print('TF', 'tensorflow' in sys.modules, 'keras' in sys.modules,"
            " 'numba' in sys.modules)\n")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    # numba compiles the live session's loops; a one-liner has no use for it
    assert process.stdout.decode().splitlines()[-1] == "TF False False False", process.stderr


def test_broken_pipe_is_not_an_error(home, tmp_path):
    """`rnn-tui predict < many | head -1`: the reader leaving early is not an error."""
    lines = tmp_path / "lines.txt"
    lines.write_bytes(b"great film\n" * 20000)
    script = (f'"{sys.executable}" -m rnn_tui predict < "{lines}" 2>"{tmp_path}/err" | head -1;'
              ' echo "status ${PIPESTATUS[0]}"')
    process = subprocess.run(["bash", "-c", script], capture_output=True, timeout=120)
    first, status = process.stdout.decode().splitlines()
    assert first.split()[0] in ("negative", "positive")
    assert status == "status 0"
    assert b"Traceback" not in (tmp_path / "err").read_bytes()


def test_model_given_as_a_version_folder(home):
    folder = home / "models" / "nsmc-sentiment" / "1"
    code, out, _ = run("predict", "-m", str(folder), "--format", "jsonl", "great film")
    assert code == 0 and json.loads(out)["model"] == "nsmc-sentiment:1"
