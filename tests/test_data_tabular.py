"""Your own data: CSV, TSV, JSONL, JSON and folders; labels, splits and every bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnn_tui.data import load_corpus
from rnn_tui.errors import DataError, NotFoundError, UserError


def write(path, text, encoding="utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def everything(corpus):
    texts = corpus.train.texts + corpus.test.texts
    labels = corpus.train.labels.tolist() + corpus.test.labels.tolist()
    return dict(zip(texts, labels))


def test_csv_with_quotes_and_string_labels(tmp_path):
    path = write(tmp_path / "reviews.csv", (
        'review,stars,source\n'
        '"Great, really great",good,web\n'
        '"He said ""meh""",bad,app\n'
        '"multi\nline",good,web\n'
        'plain,ok,web\n'
        '좋아요,good,app\n'
    ))
    corpus = load_corpus(str(path), text_col="review", label_col="stars")
    assert corpus.name == "reviews" and corpus.form == "CSV file"
    assert corpus.label_names == ["bad", "good", "ok"] and corpus.task == "multiclass"
    assert everything(corpus) == {
        "Great, really great": 1, 'He said "meh"': 0, "multi\nline": 1, "plain": 2, "좋아요": 1,
    }
    assert len(corpus.test) == 1  # ceil(0.2 * 5)


def test_tsv_has_no_quoting_and_numeric_labels_sort_numerically(tmp_path):
    path = write(tmp_path / "data.tsv", 'text\tlabel\n"quoted start\t10\nb\t2\nc\t2.0\nd\t1\n')
    corpus = load_corpus(path)
    assert corpus.label_names == ["1", "2", "10"]
    assert everything(corpus) == {'"quoted start': 2, "b": 1, "c": 1, "d": 0}


def test_binary_zero_one_labels_keep_their_ids(tmp_path):
    path = write(tmp_path / "d.jsonl", "\n".join(
        json.dumps({"text": t, "label": y}, ensure_ascii=False)
        for t, y in [("좋다", 1), ("별로", 0), ("최고", 1), ("최악", 0), ("", 1)]) + "\n\n")
    corpus = load_corpus(path)
    assert corpus.task == "binary" and corpus.label_names == ["0", "1"]
    assert everything(corpus) == {"좋다": 1, "별로": 0, "최고": 1, "최악": 0}
    assert any("1 rows with an empty text dropped" in note for note in corpus.notes)


def test_json_array_and_regression(tmp_path):
    path = write(tmp_path / "scores.json", json.dumps(
        [{"body": f"text {i}", "score": i / 4} for i in range(10)]))
    corpus = load_corpus(path, text_col="body", label_col="score", task="regression")
    assert corpus.task == "regression" and corpus.label_names == []
    assert corpus.train.labels.dtype == np.float32
    assert sorted(everything(corpus).values()) == [i / 4 for i in range(10)]
    with pytest.raises(DataError, match="regression label must be a number"):
        write(path, json.dumps([{"body": "a", "score": "high"}, {"body": "b", "score": 1}]))
        load_corpus(path, text_col="body", label_col="score", task="regression")


def test_split_column(tmp_path):
    path = write(tmp_path / "split.csv",
                 "text,label,split\na,x,train\nb,y,train\nc,x,test\nd,y,valid\ne,x,TRAIN\n")
    corpus = load_corpus(path)
    assert corpus.train.texts == ["a", "b", "e"] and corpus.test.texts == ["c"]
    assert corpus.validation.texts == ["d"]
    bad = write(tmp_path / "bad-split.csv", "text,label,split\na,x,train\nb,y,holdout\n")
    with pytest.raises(DataError, match="split must be train, test or validation") as error:
        load_corpus(bad)
    assert error.value.line == 3
    no_test = write(tmp_path / "no-test.csv", "text,label,split\na,x,train\nb,y,train\n")
    with pytest.raises(DataError, match="no 'test' rows"):
        load_corpus(no_test)


def test_random_split_is_seeded(tmp_path):
    path = write(tmp_path / "many.csv", "text,label\n" + "".join(f"t{i},{i % 3}\n" for i in range(50)))
    first = load_corpus(path)
    assert (len(first.train), len(first.test)) == (40, 10)
    assert load_corpus(path).test.texts == first.test.texts
    assert load_corpus(path, seed=1).test.texts != first.test.texts
    assert len(load_corpus(path, test_size=0.5).test) == 25


def test_folder_per_class_and_split_folders(tmp_path):
    for label, texts in {"neg": ["bad", "awful"], "pos": ["good", "great", "fine"]}.items():
        for i, text in enumerate(texts):
            write(tmp_path / "flat" / label / f"{i}.txt", text)
    corpus = load_corpus(tmp_path / "flat")
    assert corpus.form == "folder per class" and corpus.label_names == ["neg", "pos"]
    assert everything(corpus) == {"bad": 0, "awful": 0, "good": 1, "great": 1, "fine": 1}
    for split in ("train", "test"):
        for label in ("a", "b"):
            write(tmp_path / "split" / split / label / "1.txt", f"{split} {label}")
    corpus = load_corpus(str(tmp_path / "split"))
    assert corpus.train.texts == ["train a", "train b"] and corpus.test.texts == ["test a", "test b"]


# ---------------------------------------------------------------------------- bad inputs
def test_missing_file_and_unknown_name(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_corpus(str(tmp_path / "nope.csv"))
    with pytest.raises(NotFoundError, match="unknown corpus 'imbd'.*Did you mean 'imdb'"):
        load_corpus("imbd")


def test_wrong_column_count_names_the_line(tmp_path):
    path = write(tmp_path / "d.csv", "text,label\na,1\nb,0,extra\n")
    with pytest.raises(DataError, match="expected 2 fields") as error:
        load_corpus(path)
    assert (error.value.path, error.value.line) == (path, 3)


def test_missing_columns(tmp_path):
    path = write(tmp_path / "d.csv", "review,label\na,1\nb,0\n")
    with pytest.raises(DataError, match="no text column 'text'.*'review'.*--text-col"):
        load_corpus(path)
    with pytest.raises(DataError, match="no label column 'stars'"):
        load_corpus(path, text_col="review", label_col="stars")
    jsonl = write(tmp_path / "d.jsonl", '{"text": "a", "label": 1}\n{"text": "b"}\n')
    with pytest.raises(DataError, match="no key 'label'") as error:
        load_corpus(jsonl)
    assert error.value.line == 2


def test_bad_json_lines(tmp_path):
    path = write(tmp_path / "d.jsonl", '{"text": "a", "label": 1}\n{"text": "b", label: 0}\n')
    with pytest.raises(DataError, match="not valid JSON") as error:
        load_corpus(path)
    assert error.value.line == 2
    path = write(tmp_path / "e.jsonl", '["a", 1]\n')
    with pytest.raises(DataError, match="expected a JSON object"):
        load_corpus(path)
    path = write(tmp_path / "f.jsonl", '{"text": 5, "label": 1}\n')
    with pytest.raises(DataError, match="must be a string"):
        load_corpus(path)
    path = write(tmp_path / "g.jsonl", '{"text": "a", "label": [1]}\n{"text": "b", "label": 0}\n')
    with pytest.raises(DataError, match="a label must be a string or a number") as error:
        load_corpus(path)
    assert error.value.line == 1


def test_labels_problems(tmp_path):
    path = write(tmp_path / "d.csv", "text,label\na,1\nb,\n")
    with pytest.raises(DataError, match="empty label") as error:
        load_corpus(path)
    assert error.value.line == 3
    path = write(tmp_path / "one.csv", "text,label\na,x\nb,x\n")
    with pytest.raises(DataError, match="only one label value"):
        load_corpus(path)
    path = write(tmp_path / "three.csv", "text,label\na,x\nb,y\nc,z\n")
    with pytest.raises(DataError, match="needs exactly 2"):
        load_corpus(path, task="binary")
    with pytest.raises(UserError, match="task must be"):
        load_corpus(path, task="ranking")


def test_encoding_and_file_type(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("text,label\n좋다,1\n".encode() + "별로".encode("euc-kr") + b",0\n")
    with pytest.raises(DataError, match="not valid UTF-8") as error:
        load_corpus(path)
    assert error.value.line == 3
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufefftext,label\na,1\nb,0\n".encode())
    assert load_corpus(bom).label_names == ["0", "1"]
    other = write(tmp_path / "d.xlsx", "x")
    with pytest.raises(DataError, match="unknown file type"):
        load_corpus(other)


def test_bad_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no class sub-folders"):
        load_corpus(tmp_path / "empty")
    (tmp_path / "noval" / "pos").mkdir(parents=True)
    with pytest.raises(DataError, match="no .txt files"):
        load_corpus(tmp_path / "noval")
    write(tmp_path / "one" / "pos" / "1.txt", "x")
    with pytest.raises(DataError, match="only one label value"):
        load_corpus(tmp_path / "one")
    write(tmp_path / "enc" / "a" / "1.txt", "ok")
    (tmp_path / "enc" / "b").mkdir()
    (tmp_path / "enc" / "b" / "1.txt").write_bytes(b"caf\xe9")
    with pytest.raises(DataError, match="not valid UTF-8") as error:
        load_corpus(tmp_path / "enc")
    assert error.value.path == tmp_path / "enc" / "b" / "1.txt"


def test_unknown_options_and_too_few_rows(tmp_path):
    path = write(tmp_path / "d.csv", "text,label\na,1\nb,0\n")
    with pytest.raises(UserError, match="unknown option 'split' for your data"):
        load_corpus(path, split="keras")
    with pytest.raises(DataError, match="nothing to train on"):
        load_corpus(path, test_size=0.9)


def test_huge_and_exact_integer_labels(tmp_path):
    path = tmp_path / "big.jsonl"
    big = 2**60
    path.write_text("".join(json.dumps({"text": f"t{i}", "label": label}) + "\n"
                            for i, label in enumerate([big, big + 1, 10**400, big])), encoding="utf-8")
    corpus = load_corpus(path, test_size=0.25)
    assert corpus.label_names == [str(big), str(big + 1), str(10**400)]
    with pytest.raises(DataError, match="regression label must be a number"):
        load_corpus(path, task="regression")
