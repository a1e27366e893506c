"""The research tokenizers, reproduced by Vocabulary settings: English regex words, Korean
squeezed repeats, syllables with a word-boundary token, regex words and stem + suffix
splits, and n-gram streams.

The references below are copies of the recipe study's data.en_tokens, ko_tok.tokens and
train.bigrams/trigrams (the research code is not imported: it is not part of the product).
"""

from __future__ import annotations

import re
import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import require_real_corpus
from rnn_tui.text import Vocabulary
from rnn_tui.text.vocabulary import ngrams

# ---------------------------------------------------------------------------- the references
EN_PATTERN = r"[a-z0-9]+(?:'[a-z0-9]+)*|[!?]"
EN_RE = re.compile(EN_PATTERN)


def research_en_tokens(text, rx=EN_RE):
    text = text.replace("<br />", " ").lower()
    return rx.findall(text)


REP = re.compile(r"(.)\1{2,}")
W_PATTERN = r"[가-힣]+|[ㄱ-ㅎㅏ-ㅣ]+|[a-z]+|[0-9]+|[^\s가-힣ㄱ-ㅎㅏ-ㅣa-z0-9]"
W_RE = re.compile(W_PATTERN)
HANGUL = re.compile(r"[가-힣]+$")


def research_norm(t):
    return REP.sub(r"\1\1", t.lower().strip())


def research_ko_tokens(text, mode):
    t = research_norm(text)
    if mode == "syl":
        out = []
        for w in t.split():
            if out:
                out.append("▁")
            out.extend(w)
        return out
    if mode == "w":
        return W_RE.findall(t)
    if mode in ("ws1", "ws2"):
        out = []
        for w in W_RE.findall(t):
            if HANGUL.match(w) and len(w) >= 2:
                k = 2 if (mode == "ws2" and len(w) >= 3) else 1
                out.append(w[:-k])
                out.append("##" + w[-k:])
            else:
                out.append(w)
        return out
    raise ValueError(mode)


def research_bigrams(tl):
    return [(tl[i - 1] if i else "<s>") + " " + tl[i] for i in range(len(tl))]


def research_trigrams(tl):
    p = ["<s>", "<s>"] + list(tl)
    return [p[i] + " " + p[i + 1] + " " + p[i + 2] for i in range(len(tl))]


# ---------------------------------------------------------------------------- the settings
ENGLISH = Vocabulary(pattern=EN_PATTERN, cleaner="html")
KOREAN_MODES = {
    "syl": Vocabulary(level="char", squeeze_repeats=True, space_token="▁"),
    "w": Vocabulary(pattern=W_PATTERN, squeeze_repeats=True),
    "ws1": Vocabulary(pattern=W_PATTERN, squeeze_repeats=True, subword_suffix=1),
    "ws2": Vocabulary(pattern=W_PATTERN, squeeze_repeats=True, subword_suffix=2),
}

IMDB_LIKE = [
    "I loved it!!! Isn't it great?<br /><br />The 2nd half... 10/10 -- can't wait.",
    "Worst. Film. Ever?! <br />Don't bother; it's 'art' (so they say).",
    "  Ends with a break<br />",
    "",
]
NSMC_LIKE = [
    "아 더빙.. 진짜 짜증나네요 목소리",
    "ㅋㅋㅋㅋㅋ 완전 재밌어요!!!!! 최고최고",
    "너무재밓었다그래서보는것을추천한다",
    "   OK 굿굿굿 ㅎㅎㅎ 10점  ",
    "흠...포스터보고 초딩영화줄....오버연기조차 가볍지 않구나",
    "",
    "가",
]


@pytest.mark.parametrize("text", IMDB_LIKE)
def test_english_regex_words_match_the_research(text):
    assert ENGLISH.tokenize(text) == research_en_tokens(text)


@pytest.mark.parametrize("mode", sorted(KOREAN_MODES))
@pytest.mark.parametrize("text", NSMC_LIKE)
def test_korean_modes_match_the_research(mode, text):
    assert KOREAN_MODES[mode].tokenize(text) == research_ko_tokens(text, mode)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("가나다힣ㅋㅎㅏ aAzZ09!?.'\t\n<br/>~"),
                   max_size=40),
       mode=st.sampled_from(sorted(KOREAN_MODES)))
def test_korean_modes_match_the_research_on_any_text(text, mode):
    assert KOREAN_MODES[mode].tokenize(text) == research_ko_tokens(text, mode)


@settings(max_examples=200, deadline=None)
@given(tokens=st.lists(st.sampled_from(["a", "b", "<s>", "영화", "x y"]), max_size=8))
def test_ngrams_match_the_research_bigrams_and_trigrams(tokens):
    assert ngrams(tokens, 2) == research_bigrams(tokens)
    assert ngrams(tokens, 3) == research_trigrams(tokens)
    assert ngrams(tokens, 1) == tokens


def test_an_ngram_vocabulary_reads_the_ngrams_of_the_tokens():
    words = ENGLISH.with_ngram(1, 100).fit(IMDB_LIKE)
    bigrams = ENGLISH.with_ngram(2, 100).fit(IMDB_LIKE)
    text = IMDB_LIKE[0]
    assert bigrams.tokenize(text) == research_bigrams(research_en_tokens(text))
    # one id per token in every stream: the positions line up
    assert len(bigrams.texts_to_sequences([text])[0]) == len(words.texts_to_sequences([text])[0])
    assert bigrams.texts_to_sequences(["zzz unknown"]) == [[1, 1]]  # unknown n-grams are OOV
    # given tokens, the n-gram vocabulary makes n-grams of them
    assert bigrams.tokenize(["i", "loved"]) == ["<s> i", "i loved"]


def test_ngram_needs_an_oov_token_and_options_need_their_level():
    with pytest.raises(ValueError, match="OOV token"):
        Vocabulary(ngram=2, oov_token=None)
    with pytest.raises(ValueError, match="level 'word'"):
        Vocabulary(level="char", subword_suffix=1)
    with pytest.raises(ValueError, match="level 'char'"):
        Vocabulary(space_token="▁")
    with pytest.raises(ValueError, match="ngram"):
        Vocabulary(ngram=0)


def test_new_settings_round_trip_and_old_files_still_load():
    vocabulary = KOREAN_MODES["ws2"].with_ngram(2, 50).fit(NSMC_LIKE)
    restored = Vocabulary.from_json(vocabulary.to_json())
    assert restored.config() == vocabulary.config()
    assert restored.texts_to_sequences(NSMC_LIKE) == vocabulary.texts_to_sequences(NSMC_LIKE)
    # a vocabulary that uses none of the later settings writes none of them: older rnn-tui
    # reads it, and a file written before they existed loads with their defaults
    plain = Vocabulary(num_words=20).fit(["a b c"]).to_dict()
    assert not {"ngram", "squeeze_repeats", "subword_suffix", "space_token"} & set(plain["config"])
    loaded = Vocabulary.from_dict(plain)
    assert (loaded.ngram, loaded.squeeze_repeats, loaded.subword_suffix, loaded.space_token) == \
        (1, False, 0, None)


# ---------------------------------------------------------------------------- real corpora
@pytest.mark.realdata
def test_english_regex_words_on_real_imdb_reviews(real_data_home):
    require_real_corpus(real_data_home, "imdb/aclImdb_labeled.tar.gz")
    texts = []
    with tarfile.open(real_data_home / "imdb" / "aclImdb_labeled.tar.gz") as archive:
        for member in archive:
            if member.isfile() and member.name.endswith(".txt") and "/train/" in member.name:
                texts.append(archive.extractfile(member).read().decode("utf-8"))
                if len(texts) == 300:
                    break
    assert sum("<br />" in text for text in texts) > 50
    for text in texts:
        assert ENGLISH.tokenize(text) == research_en_tokens(text)


@pytest.mark.realdata
def test_korean_modes_on_real_nsmc_reviews(real_data_home):
    require_real_corpus(real_data_home, "nsmc/ratings_train.txt")
    with open(real_data_home / "nsmc" / "ratings_train.txt", encoding="utf-8") as handle:
        next(handle)
        texts = [line.rstrip("\n").split("\t")[1] for _, line in zip(range(2000), handle)]
    for mode, vocabulary in KOREAN_MODES.items():
        for text in texts:
            assert vocabulary.tokenize(text) == research_ko_tokens(text, mode), (mode, text)
