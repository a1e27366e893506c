"""``rnn-tui data list|fetch|import|show``: output, errors as one line, no TensorFlow."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest
from click.testing import CliRunner

from conftest import require_real_corpus
from rnn_tui.cli import main
from rnn_tui.cli.data import data
from rnn_tui.data import catalog
from rnn_tui.data.catalog import Download

RATINGS_TRAIN = "id\tdocument\tlabel\n1\t정말 재미있는 영화\t1\n2\t지루하고 길다\t0\n3\t최고의 영화 강추\t1\n4\t\t0\n"
RATINGS_TEST = "id\tdocument\tlabel\n5\t배우들 연기 좋았다\t1\n6\t돈이 아깝다\t0\n"


def write_nsmc(home):
    (home / "nsmc").mkdir(parents=True, exist_ok=True)
    (home / "nsmc" / "ratings_train.txt").write_text(RATINGS_TRAIN, encoding="utf-8")
    (home / "nsmc" / "ratings_test.txt").write_text(RATINGS_TEST, encoding="utf-8")


def run(*args):
    result = CliRunner().invoke(data, list(args), catch_exceptions=False)
    return result


def run_main(capsys, *args):
    """Through the real entry point, which turns errors into one line and an exit code."""
    code = 0
    try:
        main(["data", *args])
    except SystemExit as exit_info:
        code = exit_info.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_plain_and_json(data_home):
    write_nsmc(data_home)
    result = run("list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == f"# data home: {data_home}"
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert list(rows) == catalog.names()
    assert rows["nsmc"][1:3] == ["present", "ratings_{train,test}.txt"]
    assert rows["nsmc"][4] == "nsmc/ratings_train.txt, nsmc/ratings_test.txt"
    assert rows["imdb"][1] == "absent" and rows["series"][1] == "generated"
    listing = json.loads(run("list", "--json").output)
    assert listing["data_home"] == str(data_home)
    nsmc = next(c for c in listing["corpora"] if c["name"] == "nsmc")
    assert nsmc["present"] and nsmc["size_bytes"] == len(RATINGS_TRAIN.encode()) + len(RATINGS_TEST.encode())


def test_list_with_another_data_home(tmp_path):
    other = tmp_path / "elsewhere"
    (other / "imdb").mkdir(parents=True)
    (other / "imdb" / "imdb.npz").write_bytes(b"x")
    listing = json.loads(run("list", "--json", "--data-home", str(other)).output)
    imdb = next(c for c in listing["corpora"] if c["name"] == "imdb")
    assert imdb["state"] == "partial" and imdb["missing"] == ["imdb/imdb_word_index.json"]


def test_show_tables_histogram_and_korean_examples(data_home):
    write_nsmc(data_home)
    result = run("show", "nsmc", "--examples", "2")
    assert result.exit_code == 0, result.output
    output = result.output
    assert "Naver Sentiment Movie Corpus" in output and "Text lengths" in output
    assert "█" in output and "정말 재미있는 영화" in output and "negative" in output
    assert "1 empty reviews dropped" in output
    assert "0.500 balanced" in output and "1.000 balanced" in output  # 1:2 is the threshold
    assert "imbalanced" in output.split("0.500")[0]  # the header names the threshold
    shown = json.loads(run("show", "nsmc", "--json", "-n", "1").output)
    assert [s["size"] for s in shown["splits"]] == [3, 2]
    assert shown["splits"][0]["label_counts"] == [1, 2]
    assert len(shown["examples"]) == 1
    kept = json.loads(run("show", "nsmc", "--json", "-o", "keep_empty=true").output)
    assert kept["splits"][0]["size"] == 4


def test_show_own_file_and_synthetic(tmp_path):
    path = tmp_path / "mine.tsv"
    path.write_text("review\tstars\n좋아요\t5\n별로\t1\n그냥 그래요\t3\n최고\t5\n", encoding="utf-8")
    shown = json.loads(run("show", str(path), "--text-col", "review", "--label-col", "stars",
                           "--json", "-o", "test_size=0.25").output)
    assert shown["label_names"] == ["1", "3", "5"] and shown["task"] == "multiclass"
    assert [s["size"] for s in shown["splits"]] == [3, 1]
    result = run("show", "multiplication", "-o", "train_size=64", "-o", "test_size=8")
    assert result.exit_code == 0 and "Targets" in result.output and "64" in result.output


def test_errors_are_one_line(capsys, data_home):
    code, out, err = run_main(capsys, "show", "nsmc")
    assert code == 2 and err.startswith("rnn-tui: error: nsmc is not in the data home")
    assert "rnn-tui data fetch nsmc" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_main(capsys, "show", "imdbb")
    assert code == 2 and "Did you mean 'imdb'" in err
    write_nsmc(data_home)
    (data_home / "nsmc" / "ratings_test.txt").write_text(RATINGS_TEST + "7\t오류\t5\n", encoding="utf-8")
    code, _, err = run_main(capsys, "show", "nsmc")
    assert code == 2 and f"{data_home}/nsmc/ratings_test.txt:4: label must be 0 or 1" in err
    code, _, err = run_main(capsys, "show", "nsmc", "--split", "modapte")
    assert code == 2 and "unknown option 'split' for nsmc" in err
    code, _, err = run_main(capsys, "show", "series", "-o", "novalue")
    assert code == 2 and "KEY=VALUE" in err


def test_import_and_fetch_commands(capsys, data_home, tmp_path, monkeypatch):
    source = tmp_path / "ratings_train.txt"
    source.write_text(RATINGS_TRAIN, encoding="utf-8")
    code, out, _ = run_main(capsys, "import", "nsmc", str(source))
    assert code == 0 and out.strip() == f"imported: {data_home}/nsmc/ratings_train.txt"
    code, _, err = run_main(capsys, "import", "nsmc", str(source))
    assert code == 2 and "--force" in err
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    info = catalog.CORPORA["shopping"]
    monkeypatch.setitem(catalog.CORPORA, "shopping", replace(info, downloads={"txt": (
        Download(f"http://127.0.0.1:{port}/naver_shopping.txt", "shopping/naver_shopping.txt"),)}))
    code, _, err = run_main(capsys, "fetch", "shopping")
    assert code == 1 and "offline" in err and "rnn-tui data import shopping PATH" in err
    assert len(err.strip().splitlines()) == 1
    assert not (data_home / "shopping" / "naver_shopping.txt").exists()


def test_data_commands_do_not_import_tensorflow(tmp_path):
    home = tmp_path / "home"
    write_nsmc(home)
    source = tmp_path / "ratings_test.txt"
    source.write_text(RATINGS_TEST, encoding="utf-8")
    script = textwrap.dedent(f"""
        import sys
        from click.testing import CliRunner
        from rnn_tui import backend
        from rnn_tui.cli import cli
        runner = CliRunner()
        for args in (["data", "list"], ["data", "list", "--json"], ["data", "show", "nsmc"],
                     ["data", "show", "series", "--json"], ["data", "import", "nsmc", {str(source)!r}, "--force"],
                     ["data", "fetch", "series"], ["data", "--help"]):
            result = runner.invoke(cli, args)
            assert result.exit_code in (0, 1, 2), (args, result.output)
        print("loaded" if backend.is_loaded() or "tensorflow" in sys.modules or "keras" in sys.modules else "clean")
    """)
    env = {**os.environ, "RNN_TUI_DATA": str(home), "RNN_TUI_HOME": str(tmp_path / "rnn-home")}
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               env=env, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "clean"


@pytest.mark.realdata
def test_done_when_with_the_real_data_home(real_data_home):
    """The issue's "done when": list shows the three corpora; show gives the counts."""
    require_real_corpus(real_data_home, "imdb/aclImdb_labeled.tar.gz", "nsmc/ratings_train.txt",
                        "reuters21578/reuters21578.tar.gz")
    listing = {c["name"]: c for c in json.loads(run("list", "--json").output)["corpora"]}
    assert all(listing[name]["present"] for name in ("imdb", "reuters", "nsmc"))
    imdb = json.loads(run("show", "imdb", "--json", "-n", "0").output)
    assert [s["size"] for s in imdb["splits"]] == [24_996, 24_996]
    assert all(s["balance"] > 0.99 for s in imdb["splits"])
    reuters = json.loads(run("show", "reuters", "--json", "-n", "0").output)
    assert len(reuters["label_names"]) == 46 and reuters["total"] == 11_228
    nsmc = json.loads(run("show", "nsmc", "--json", "-n", "0", "-o", "keep_empty=true").output)
    assert [s["size"] for s in nsmc["splits"]] == [150_000, 50_000]
    assert all(s["balance"] > 0.98 for s in nsmc["splits"])
