"""Naver shopping reviews: rating<TAB>review, label = rating > 3, dedup, deterministic split."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_tui.data import load_corpus, shopping
from rnn_tui.errors import DataError, UserError

LINES = [
    "5\t배공빠르고 굿",
    "2\t택배가 엉망이네용 저희집 밑에층에 말도없이 놔두고가고",
    "5\t아주좋아요 바지 정말 좋아서2개 더 구매했어요!",
    "5\t아주좋아요 바지 정말 좋아서2개 더 구매했어요",  # same once cleaned
    "1\t장마라그런가!!! 달지않아요",
    "4\t배공빠르고 굿",  # exact duplicate of line 1
    "2\t\"생각보다\" 별로예요 ㅠㅠ",
    "1\t   ",
    "5\tgood!!",
    "4\tnice??",  # cleans to "" like line 9: a duplicate under the tutorial's rule
]


def write_reviews(home, lines=LINES):
    path = home / "shopping" / "naver_shopping.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def all_rows(corpus):
    return dict(zip(corpus.train.texts + corpus.test.texts,
                    corpus.train.labels.tolist() + corpus.test.labels.tolist()))


def test_labels_and_tutorial_dedup(data_home):
    write_reviews(data_home)
    corpus = load_corpus("shopping")
    assert corpus.task == "binary" and corpus.language == "ko"
    assert all_rows(corpus) == {
        "배공빠르고 굿": 1,
        "택배가 엉망이네용 저희집 밑에층에 말도없이 놔두고가고": 0,
        "아주좋아요 바지 정말 좋아서2개 더 구매했어요!": 1,  # first kept, raw text
        "장마라그런가!!! 달지않아요": 0,
        '"생각보다" 별로예요 ㅠㅠ': 0,
        "good!!": 1,
    }
    notes = " | ".join(corpus.notes)
    assert "1 empty reviews dropped" in notes and "3 duplicate reviews dropped" in notes


def test_raw_and_no_dedup(data_home):
    write_reviews(data_home)
    raw = load_corpus("shopping", dedupe="raw")
    assert len(all_rows(raw)) == 8 and len(raw.train) + len(raw.test) == 8
    everything = load_corpus("shopping", dedupe="none")
    assert len(everything.train) + len(everything.test) == 9  # only the blank review dropped
    with pytest.raises(UserError, match="dedupe must be"):
        load_corpus("shopping", dedupe="fuzzy")


def test_split_is_train_test_split_like_and_deterministic(data_home):
    write_reviews(data_home)
    corpus = load_corpus("shopping", dedupe="none")
    n = 9
    permutation = np.random.RandomState(42).permutation(n)
    n_test = math.ceil(0.2 * n)
    assert len(corpus.test) == n_test == 2 and len(corpus.train) == 7
    kept = [line.split("\t", 1)[1] for line in LINES if line.split("\t", 1)[1].strip()]
    assert corpus.test.texts == [kept[i] for i in permutation[:n_test]]
    assert corpus.train.texts == [kept[i] for i in permutation[n_test:]]
    assert load_corpus("shopping", dedupe="none").train.texts == corpus.train.texts
    assert load_corpus("shopping", dedupe="none", seed=1).train.texts != corpus.train.texts


def test_split_sizes_match_the_tutorial():
    # The tutorial's 199,391 reviews split into 159,512 / 39,879 (train_test_split, 0.2).
    train, test = shopping.random_split(199_391, 0.2, 42)
    assert (len(train), len(test)) == (159_512, 39_879)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(199_391))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("5 no tab here", "no tab"),
        ("five\treview", "rating must be a whole number from 1 to 5, not 'five'"),
        ("0\treview", "not '0'"),
        ("6\treview", "not '6'"),
        ("4.5\treview", "not '4.5'"),
        ("²\treview", "not '²'"),
    ],
)
def test_bad_lines(data_home, line, message):
    path = write_reviews(data_home, [LINES[0], LINES[1], line])
    with pytest.raises(DataError, match=message) as error:
        load_corpus("shopping")
    assert error.value.path == path and error.value.line == 3


def test_empty_and_non_utf8_files(data_home):
    path = write_reviews(data_home, [])
    with pytest.raises(DataError, match="no reviews"):
        load_corpus("shopping")
    path.write_bytes("5\t좋아요\n".encode("utf-16"))
    with pytest.raises(DataError, match="not valid UTF-8") as error:
        load_corpus("shopping")
    assert error.value.line == 1
