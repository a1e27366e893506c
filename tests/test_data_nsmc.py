"""NSMC: tab-separated ratings files without quoting; empty reviews; bad lines; real corpus."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import require_real_corpus
from rnn_tui.data import load_corpus, nsmc
from rnn_tui.errors import DataError

HEADER = "id\tdocument\tlabel\n"


def write_ratings(home, train_lines, test_lines, *, newline="\n"):
    folder = home / "nsmc"
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in (("ratings_train.txt", train_lines), ("ratings_test.txt", test_lines)):
        text = HEADER + "".join(line + "\n" for line in lines)
        (folder / name).write_bytes(text.replace("\n", newline).encode("utf-8"))
    return folder


TRAIN = [
    "9976970\t아 더빙.. 진짜 짜증나네요 목소리\t0",
    '3819312\t"흠...포스터보고 초딩영화줄....오버연기조차 가볍지 않구나\t1',
    "10265843\t너무재밓었다그래서보는것을추천한다\t0",
    "5403919\t\t1",
    '6483659\t사이몬페그의 "익살스런" 연기가 돋보였던 영화!\t1',
]
TEST = ["6270596\t굳 ㅋ\t1", "9274899\t\t0", "8544678\t뭐야 이 평점들은.... 나쁘진 않지만\t0"]


def test_reads_reviews_and_drops_empty_ones(data_home):
    write_ratings(data_home, TRAIN, TEST)
    corpus = load_corpus("nsmc")
    assert corpus.language == "ko" and corpus.label_names == ["negative", "positive"]
    assert corpus.train.texts == [
        "아 더빙.. 진짜 짜증나네요 목소리",
        '"흠...포스터보고 초딩영화줄....오버연기조차 가볍지 않구나',  # quotes kept as text
        "너무재밓었다그래서보는것을추천한다",
        '사이몬페그의 "익살스런" 연기가 돋보였던 영화!',
    ]
    assert corpus.train.labels.tolist() == [0, 1, 0, 1]
    assert corpus.test.texts == ["굳 ㅋ", "뭐야 이 평점들은.... 나쁘진 않지만"]
    assert corpus.notes == ["2 empty reviews dropped (train 1, test 1); keep_empty=True keeps them"]


def test_keep_empty(data_home):
    write_ratings(data_home, TRAIN, TEST)
    corpus = load_corpus("nsmc", keep_empty=True)
    assert len(corpus.train) == 5 and corpus.train.texts[3] == ""
    assert corpus.notes == []


def test_crlf_and_blank_lines(data_home):
    write_ratings(data_home, TRAIN + [""], ["", *TEST], newline="\r\n")
    corpus = load_corpus("nsmc")
    assert corpus.train.texts[0] == "아 더빙.. 진짜 짜증나네요 목소리"
    assert corpus.train.labels.tolist() == [0, 1, 0, 1] and len(corpus.test) == 2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("123\tno label", "expected 3 tab-separated fields"),
        ("123\ttoo\tmany\t1", "found 4"),
        ("123\tbad label\t2", "label must be 0 or 1, not '2'"),
        ("123\tbad label\tpositive", "label must be 0 or 1"),
    ],
)
def test_malformed_line_names_its_line(data_home, line, message):
    folder = write_ratings(data_home, [TRAIN[0], line, TRAIN[2]], TEST)
    with pytest.raises(DataError, match=message) as error:
        load_corpus("nsmc")
    assert error.value.path == folder / "ratings_train.txt"
    assert error.value.line == 3  # header, first review, then the bad one


def test_bad_header(data_home):
    folder = write_ratings(data_home, TRAIN, TEST)
    (folder / "ratings_test.txt").write_text("9976970\t아\t0\n", encoding="utf-8")
    with pytest.raises(DataError, match="expected the header") as error:
        load_corpus("nsmc")
    assert error.value.line == 1
    (folder / "ratings_test.txt").write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="empty file"):
        load_corpus("nsmc")


def test_invalid_utf8_names_the_line(data_home):
    folder = write_ratings(data_home, TRAIN, TEST)
    (folder / "ratings_test.txt").write_bytes(
        (HEADER + TEST[0] + "\n").encode() + "8544678\t뭐야".encode("cp949") + b"\t0\n")
    with pytest.raises(DataError, match="not valid UTF-8") as error:
        load_corpus("nsmc")
    assert error.value.line == 3 and "column 9" in str(error.value)


def test_unreadable_file(data_home):
    folder = write_ratings(data_home, TRAIN, TEST)
    (folder / "ratings_test.txt").unlink()
    (folder / "ratings_test.txt").mkdir()
    with pytest.raises(DataError, match="is a folder"):
        nsmc.read_ratings(folder / "ratings_test.txt")


@pytest.mark.realdata
def test_real_nsmc(real_data_home):
    require_real_corpus(real_data_home, "nsmc/ratings_train.txt", "nsmc/ratings_test.txt")
    with_empty = load_corpus("nsmc", keep_empty=True)
    assert (len(with_empty.train), len(with_empty.test)) == (150_000, 50_000)
    corpus = load_corpus("nsmc")
    empty_train = 150_000 - len(corpus.train)
    empty_test = 50_000 - len(corpus.test)
    # This copy has 8 empty reviews (4 + 4); the data README says twenty.
    assert (empty_train, empty_test) == (4, 4)
    for split in (corpus.train, corpus.test):
        share = np.bincount(split.labels) / len(split)
        assert abs(share[0] - 0.5) < 0.01  # balanced
    assert all(text.strip() for text in corpus.train.texts)
