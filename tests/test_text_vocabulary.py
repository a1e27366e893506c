"""Vocabulary against Keras 2's Tokenizer (kept in keras.src.legacy) and the tutorials' outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnn_tui.errors import DataError
from rnn_tui.text import Vocabulary
from rnn_tui.text.cleaning import clean_str, korean_only, strip_html_breaks


@pytest.fixture(scope="module")
def keras_tokenizer():
    from rnn_tui.backend import keras

    keras()
    from keras.src.legacy.preprocessing.text import Tokenizer

    return Tokenizer


# ---------------------------------------------------------------------------- the tutorials
def test_tutorial_oov_example():
    texts = ["You are the Best", "You are the Nice"]
    vocabulary = Vocabulary(num_words=10, oov_token="<00V>").fit(texts)
    assert vocabulary.word_index == {"<00V>": 1, "you": 2, "are": 3, "the": 4, "best": 5, "nice": 6}
    sequences = vocabulary.texts_to_sequences(texts)
    assert sequences == [[2, 3, 4, 5], [2, 3, 4, 6]]
    assert vocabulary.sequences_to_matrix(sequences, mode="binary").tolist() == [
        [0, 0, 1, 1, 1, 1, 0, 0, 0, 0],
        [0, 0, 1, 1, 1, 0, 1, 0, 0, 0],
    ]
    assert vocabulary.texts_to_sequences(["You are the One"]) == [[2, 3, 4, 1]]


NSMC_SENTENCES = [
    ("아 더빙.. 진짜 짜증나네요 목소리", ["아", "더빙", "진짜", "짜증나네요", "목소리"]),
    ("흠...포스터보고 초딩영화줄....오버연기조차 가볍지 않구나",
     ["흠", "포스터보고", "초딩영화줄", "오버연기조차", "가볍지", "않구나"]),
    ("너무재밓었다그래서보는것을추천한다", ["너무재밓었다그래서보는것을추천한다"]),
    ("교도소 이야기구먼 ..솔직히 재미는 없다..평점 조정",
     ["교도소", "이야기구먼", "솔직히", "재미는", "없다", "평점", "조정"]),
    ("사이몬페그의 익살스런 연기가 돋보였던 영화!스파이더맨에서 늙어보이기만 했던 커스틴 던스트가 너무나도 이뻐보였다",
     ["사이몬페그의", "익살스런", "연기가", "돋보였던", "영화", "!", "스파이더맨에서", "늙어보이기만",
      "했던", "커스틴", "던스트가", "너무나도", "이뻐보였다"]),
]


@pytest.mark.parametrize(("sentence", "words"), NSMC_SENTENCES)
def test_clean_str_gives_the_tutorials_words(sentence, words):
    assert clean_str(sentence).split(" ") == words


def test_nsmc_recipe_clean_cut_to_five_characters():
    # [word[:5] for word in sentence][:25] of the tutorial, for its second sentence
    vocabulary = Vocabulary(cleaner="clean_str", max_token_chars=5, filters="")
    assert vocabulary.tokenize(NSMC_SENTENCES[1][0]) == ["흠", "포스터보고", "초딩영화줄", "오버연기조", "가볍지", "않구나"]
    assert vocabulary.tokenize(NSMC_SENTENCES[4][0])[:7] == [
        "사이몬페그", "익살스런", "연기가", "돋보였던", "영화", "!", "스파이더맨"]


def tutorial_clean_str(string):
    """The NSMC tutorial's clean_str, as printed there (the reference)."""
    import re

    string = re.sub(r"[^가-힣A-Za-z0-9(),!?\'\`]", " ", string)
    string = re.sub(r"\'s", " \'s", string)
    string = re.sub(r"\'ve", " \'ve", string)
    string = re.sub(r"n\'t", " n\'t", string)
    string = re.sub(r"\'re", " \'re", string)
    string = re.sub(r"\'d", " \'d", string)
    string = re.sub(r"\'ll", " \'ll", string)
    string = re.sub(r",", " , ", string)
    string = re.sub(r"!", " ! ", string)
    string = re.sub(r"\(", " \\( ", string)
    string = re.sub(r"\)", " \\) ", string)
    string = re.sub(r"\?", " \\? ", string)
    string = re.sub(r"\s{2,}", " ", string)
    string = re.sub(r"\'{2,}", "\'", string)
    string = re.sub(r"\'", "", string)
    return string.lower()


def test_clean_str_on_english_contractions():
    # the last step removes every apostrophe, so "it's" ends as "it s"
    assert clean_str("It's great, isn't it? (Yes!)") == "it s great , is nt it \\? \\( yes ! \\) "
    assert clean_str("It's great, isn't it? (Yes!)") == tutorial_clean_str("It's great, isn't it? (Yes!)")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab가힣ㅋ 'sntvredl,!?()`.~\\\t"), max_size=30))
def test_clean_str_matches_the_tutorial(text):
    assert clean_str(text) == tutorial_clean_str(text)


def test_other_cleaners():
    assert korean_only("배송 빠르고 좋아요!! 굿~ 2개 ㅎㅎ abc") == "배송 빠르고 좋아요 굿 2개 ㅎㅎ "
    assert strip_html_breaks("one<br />two<BR>three<br/>") == "one two three "


def test_char_level_applies_no_filters(keras_tokenizer):
    texts = ["배공빠르고 굿!", "Hi, there?"]
    vocabulary = Vocabulary(level="char", oov_token="<00V>").fit(texts)
    keras = keras_tokenizer(char_level=True, oov_token="<00V>")
    keras.fit_on_texts(texts)
    assert vocabulary.word_index == keras.word_index
    assert "!" in vocabulary.word_index and "," in vocabulary.word_index and " " in vocabulary.word_index
    assert vocabulary.texts_to_sequences(["굿!?"]) == keras.texts_to_sequences(["굿!?"])


def test_list_of_tokens_input(keras_tokenizer):
    sentences = [["재미있을", "줄"], ["Keras", "줄", "줄"]]
    vocabulary = Vocabulary(num_words=20000, oov_token=None).fit(sentences)
    keras = keras_tokenizer(num_words=20000)
    keras.fit_on_texts(sentences)
    assert vocabulary.word_index == keras.word_index == {"줄": 1, "재미있을": 2, "keras": 3}
    assert vocabulary.texts_to_sequences([["줄", "KERAS", "없음"]]) == [[1, 3]]


# ---------------------------------------------------------------------------- Keras equivalence
WORDS = st.sampled_from(["You", "are", "the", "Best", "nice", "ONE", "영화", "좋다", "a", "b", "it's"])
SEPARATORS = st.sampled_from([" ", "  ", ", ", "! ", "\t", ".", "\n", "-"])
TEXT = st.lists(st.tuples(WORDS, SEPARATORS), max_size=8).map(lambda pairs: "".join(w + s for w, s in pairs))
TOKENS = st.lists(WORDS, max_size=6)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(
    train=st.lists(st.one_of(TEXT, TOKENS), min_size=1, max_size=6),
    new=st.lists(st.one_of(TEXT, TOKENS), max_size=4),
    num_words=st.one_of(st.none(), st.integers(1, 12)),
    oov_token=st.sampled_from([None, "<OOV>"]),
    char_level=st.booleans(),
    lower=st.booleans(),
)
def test_same_as_keras_tokenizer(keras_tokenizer, train, new, num_words, oov_token, char_level, lower):
    keras = keras_tokenizer(num_words=num_words, oov_token=oov_token, char_level=char_level, lower=lower)
    keras.fit_on_texts(train)
    vocabulary = Vocabulary(level="char" if char_level else "word", num_words=num_words,
                            oov_token=oov_token, lower=lower).fit(train)
    assert vocabulary.word_index == keras.word_index
    assert vocabulary.word_counts == dict(keras.word_counts)
    assert vocabulary.word_docs == dict(keras.word_docs)
    assert vocabulary.document_count == keras.document_count
    sequences = vocabulary.texts_to_sequences(train + new)
    assert sequences == keras.texts_to_sequences(train + new)
    if keras.word_index or num_words:
        for mode in ("binary", "count", "freq", "tfidf"):
            np.testing.assert_allclose(vocabulary.sequences_to_matrix(sequences, mode=mode),
                                       keras.sequences_to_matrix(sequences, mode=mode))


def test_fitting_twice_accumulates_like_keras(keras_tokenizer):
    keras = keras_tokenizer(oov_token="<OOV>")
    vocabulary = Vocabulary(oov_token="<OOV>")
    for batch in (["b a", "c"], ["a a d"]):
        keras.fit_on_texts(batch)
        vocabulary.fit(batch)
    assert vocabulary.word_index == keras.word_index and vocabulary.document_count == 3


# ---------------------------------------------------------------------------- JSON
CONFIGS = st.fixed_dictionaries({
    "level": st.sampled_from(["word", "char"]),
    "num_words": st.one_of(st.none(), st.integers(1, 15)),
    "oov_token": st.sampled_from([None, "<OOV>", "[UNK]"]),
    "lower": st.booleans(),
    "cleaner": st.sampled_from(["none", "html", "clean_str", "korean_only"]),
    "max_token_chars": st.one_of(st.none(), st.integers(1, 4)),
    "pattern": st.sampled_from([None, r"\w+|[!?]"]),
})


@SETTINGS
@given(config=CONFIGS, texts=st.lists(st.one_of(TEXT, st.text(max_size=20)), min_size=1, max_size=6),
       probes=st.lists(st.one_of(TEXT, st.text(max_size=20)), max_size=4))
def test_json_round_trip(tmp_path, config, texts, probes):
    vocabulary = Vocabulary(**config).fit(texts)
    restored = Vocabulary.from_json(vocabulary.to_json())
    assert restored.config() == vocabulary.config()
    assert restored.size == vocabulary.size
    assert restored.texts_to_sequences(texts + probes) == vocabulary.texts_to_sequences(texts + probes)
    path = tmp_path / "vocabulary.json"
    vocabulary.save(path)
    loaded = Vocabulary.load(path)
    assert loaded.texts_to_sequences(probes) == vocabulary.texts_to_sequences(probes)
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "rnn-tui-vocabulary"


def test_load_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        Vocabulary.load(tmp_path / "missing.json")
    path = tmp_path / "v.json"
    path.write_text('{"format": "rnn-tui-vocabulary",\n "tokens": [', encoding="utf-8")
    with pytest.raises(DataError, match="not valid JSON") as error:
        Vocabulary.load(path)
    assert error.value.line == 2
    path.write_text(json.dumps({"format": "other"}), encoding="utf-8")
    with pytest.raises(DataError, match="not a usable vocabulary"):
        Vocabulary.load(path)
    data = Vocabulary().fit(["a b"]).to_dict()
    data["tokens"] = ["a", "a"]
    data["counts"] = data["docs"] = [1, 1]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DataError, match="duplicate"):
        Vocabulary.load(path)
    path.write_bytes(b"\xff\xfe{}")
    with pytest.raises(DataError, match="cannot read"):
        Vocabulary.load(path)
