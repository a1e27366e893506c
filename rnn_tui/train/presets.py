"""Named training recipes for ``rnn-tui train --preset NAME [overrides]``.

A preset is a partial ``TrainConfig`` (a dict of its fields) plus a one-line description;
adding one means adding an entry to ``PRESETS``. Flags given on the command line override the
preset's values.

The ``tutorial-*`` presets re-run the seed tutorials' models and recipes (the Keras
tutorials the project started from) as closely as rnn-tui's data and vocabulary allow; where
a detail cannot be reproduced the description says so. Their compact architecture strings give the
exact Keras layers (and parameter counts) of the tutorial.

>>> preset_config("tutorial-reuters-lstm").epochs
20
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rnn_tui.errors import NotFoundError
from rnn_tui.train.config import TrainConfig


@dataclass(frozen=True)
class Preset:
    description: str
    settings: dict[str, Any]
    source: str = ""  # where the recipe comes from


_IMDB_RMSPROP = {
    "dataset": "imdb", "num_words": 300, "maxlen": 100, "padding": "pre", "truncating": "pre",
    "optimizer": "rmsprop", "learning_rate": 1e-4, "batch_size": 64, "epochs": 100,
    "validation": 0.2, "early_stopping": 3, "restore_best_weights": True,
}
_MULTIPLICATION = {
    "dataset": "multiplication", "dataset_options": {"train_size": 2560}, "optimizer": "adam",
    "epochs": 100, "batch_size": 32, "validation": 0.2,
}

# the recipe study's best IMDB recipe (its train.py config: vocab 30000, maxlen 600, trunc pre,
# emb 64, sdrop 0.5, gru 64, pool max,avg,last, drop 0.5, lr 1e-3, clipnorm 1, batch 64,
# 3 epochs, bigram 100000 x 32, decay lin, tok en). Its validation was a movie-disjoint block
# and it kept the epoch with the best validation accuracy; here 10% of the training rows are
# held out and the last epoch is kept (the research's best was the last epoch as a rule).
_RESEARCH_EN_PATTERN = r"[a-z0-9]+(?:'[a-z0-9]+)*|[!?]"

_IMDB_GRU_BIGRAMS = {
    "dataset": "imdb", "cleaner": "html", "pattern": _RESEARCH_EN_PATTERN,
    "num_words": 30000, "oov_token": "<OOV>", "maxlen": 600, "padding": "post",
    "truncating": "pre", "ngrams": [2], "ngram_words": 100000,
    "arch": "emb:64 ngram-emb:32 spatial-dropout:0.5 gru:64 pool:max+average+last dropout:0.5",
    "optimizer": "adam", "learning_rate": 0.001, "clipnorm": 1.0, "lr_schedule": "linear",
    "batch_size": 64, "epochs": 3, "validation": 0.1, "seed": 1,
}

# the recipe study's NSMC recipe (n_syl_bg_tg): syllables, not kiwi morphemes, so the shipped
# model needs no morpheme analyser (kiwi took 2.3 s to load) for a 0.001 difference.
_NSMC_SYLLABLES = {
    "dataset": "nsmc", "level": "char", "space_token": "\u2581", "squeeze_repeats": True,
    "num_words": 3000, "oov_token": "<OOV>", "maxlen": 150, "padding": "post",
    "truncating": "pre", "ngrams": [2, 3], "ngram_words": [30000, 40000],
    "arch": "emb:64 ngram-emb:32 spatial-dropout:0.4 gru:128 pool:max+average+last "
            "dropout:0.4",
    "optimizer": "adam", "learning_rate": 0.001, "clipnorm": 1.0, "lr_schedule": "linear",
    "batch_size": 128, "epochs": 2, "validation": 0.1, "seed": 1,
}
# The shipped sentiment models: float16 weights, and every training review is learned from.
# Their epoch counts were fixed by the research on held-out data and the last epoch is
# kept, so a validation split would only be watched, not used: holding nothing out gave
# NSMC +0.003 test accuracy and IMDB -0.001 (noise), one run each.
_SHIPPED_SENTIMENT = {"float16_weights": True, "validation": "none"}
_MULTIPLICATION_STRONG = {
    **_MULTIPLICATION, "learning_rate": 0.002, "lr_schedule": "cosine", "clipnorm": 1.0,
    # all 2,560 sequences train (the setting); the cosine schedule ends at the last
    # epoch, which the research found best, so nothing is held out to pick one
    "epochs": 150, "validation": "none", "early_stopping": None, "seed": 1,
}

PRESETS: dict[str, Preset] = {
    "imdb-gru-bigrams": Preset(
        "IMDB, regex words (30k) + bigrams (100k): Embedding(30000,64) + bigram "
        "Embedding(100000,32) + SpatialDropout(.5) + GRU(64) -> max, mean and last state + "
        "Dropout(.5), adam 1e-3 decayed linearly to 5%, clipnorm 1, batch 64, 3 epochs, "
        "maxlen 600; test accuracy 0.898 (5.2 M parameters)",
        _IMDB_GRU_BIGRAMS,
        "the recipe study (train.py, FINDINGS.md)"),
    # ---- the shipped models (models/): each trains in under 15 minutes on 2 CPU cores and
    # stays under 16 MB with float16 weights (model.keras and runtime.npz).
    "imdb-sentiment": Preset(
        "IMDB sentiment (shipped): imdb-sentiment-2025's GRU on words (20k) + bigrams (50k), "
        "trained also on 2 crops of each review (a prefix, a sentence) and up to 2 negation "
        "counterfactuals of it (a clause as written and negated); float16 weights, 3 epochs "
        "on every training review",
        {**_IMDB_GRU_BIGRAMS, "num_words": 20000, "ngram_words": 50000, "crops": 2,
         "negations": 2, **_SHIPPED_SENTIMENT},
        "bench/ACCURACY.md (crops and negations chosen on 10% of the training reviews held "
        "out)"),
    "imdb-sentiment-2025": Preset(
        "IMDB sentiment as shipped before the short-text work: imdb-gru-bigrams with the "
        "vocabularies cut to 20k words and 50k bigrams (2.9 M parameters), float16 weights, "
        "3 epochs on every training review",
        {**_IMDB_GRU_BIGRAMS, "num_words": 20000, "ngram_words": 50000,
         **_SHIPPED_SENTIMENT},
        "the recipe study, imdb-gru-bigrams cut to fit 16 MB"),
    "nsmc-sentiment": Preset(
        "NSMC sentiment (shipped): nsmc-sentiment-2025's GRU on syllables + bigrams + "
        "trigrams, trained also on a prefix of each review and a negation counterfactual "
        "(안 / -지 않다); 2 epochs on every training review, float16 weights",
        {**_NSMC_SYLLABLES, "crops": 1, "negations": 1, **_SHIPPED_SENTIMENT},
        "bench/ACCURACY.md (crops and negations chosen on 10% of the training reviews held "
        "out)"),
    "nsmc-sentiment-2025": Preset(
        "NSMC sentiment as shipped before the short-text work: Hangul syllables with a "
        "word-boundary token (3k) + syllable bigrams (30k) + trigrams (40k), repeats "
        "squeezed; Embedding 64 + 32 + 32 + SpatialDropout(.4) + GRU(128) -> max, mean and "
        "last state + Dropout(.4), adam 1e-3 decayed linearly, batch 128, 2 epochs on every "
        "training review, float16 weights",
        {**_NSMC_SYLLABLES, **_SHIPPED_SENTIMENT},
        "the recipe study (n_syl_bg_tg, n-gram vocabularies cut to fit 16 MB)"),
    "shopping-sentiment": Preset(
        "Naver shopping sentiment (shipped where the corpus is present): nsmc-sentiment's "
        "recipe on the shopping reviews (rating > 3 is positive)",
        {**_NSMC_SYLLABLES, "dataset": "shopping", **_SHIPPED_SENTIMENT},
        "nsmc-sentiment's recipe; no copy of the corpus here, so not measured"),
    "reuters-topics": Preset(
        "Reuters 46 topics (shipped, Keras split): regex words (20k), maxlen 400 cut at the "
        "end; Embedding(20000,128) + SpatialDropout(.3) + GRU(128) -> max, mean and last "
        "state + Dropout(.3), adam 2e-3 decayed linearly, clipnorm 1, batch 64, up to 15 "
        "epochs keeping the best on 10% held out (patience 4), float16 weights",
        {"dataset": "reuters", "pattern": _RESEARCH_EN_PATTERN, "num_words": 20000,
         "oov_token": "<OOV>", "maxlen": 400, "padding": "post", "truncating": "post",
         "arch": "emb:128 spatial-dropout:0.3 gru:128 pool:max+average+last dropout:0.3",
         "optimizer": "adam", "learning_rate": 0.002, "clipnorm": 1.0,
         "lr_schedule": "linear", "batch_size": 64, "epochs": 15, "validation": 0.1,
         "early_stopping": 4, "restore_best_weights": True, "seed": 1,
         "float16_weights": True},
        "the recipe study (r_g128: test accuracy 0.880)"),
    "multiplication": Preset(
        "The multiplication problem (shipped demo): LSTM(64) + Dense(64, relu) + Dense(1), "
        "adam 2e-3 with cosine decay, clipnorm 1, batch 32, 150 epochs on 2,560 sequences",
        {**_MULTIPLICATION_STRONG, "arch": "lstm:64 dense:64"},
        "the recipe study (m_lstm_d150: test MSE 6.1e-5)"),
    "multiplication-gru": Preset(
        "The multiplication problem: multiplication's recipe with GRU(64)",
        {**_MULTIPLICATION_STRONG, "arch": "gru:64 dense:64"},
        "the recipe study (m_gru_d150: test MSE 6.8e-5)"),
    "tutorial-nsmc-lstm": Preset(
        "NSMC: clean_str, first 25 words cut to 5 characters, 20k words, "
        "Embedding(20000,300)+LSTM(50)+Dense(2, softmax), adam, batch 120, 5 epochs",
        {"dataset": "nsmc", "cleaner": "clean_str", "filters": "", "max_token_chars": 5,
         "num_words": 20000, "oov_token": None, "maxlen": 25, "padding": "post",
         "truncating": "post", "arch": "emb:300,mask=false lstm:50 head:softmax",
         "optimizer": "adam", "batch_size": 120, "epochs": 5, "validation": 0.2},
        "000 (6.7-6.13)"),
    "tutorial-imdb-bag-dense": Preset(
        "IMDB, 10000 words as one binary bag-of-words vector (texts_to_matrix), Dense(16) x 2, "
        "RMSprop(1e-3), batch 512, early stopping (patience 3)",
        {"dataset": "imdb", "num_words": 10000, "maxlen": 2000, "padding": "post",
         "truncating": "post", "arch": "bag:binary dense:16 dense:16", "optimizer": "rmsprop",
         "learning_rate": 1e-3, "batch_size": 512, "epochs": 20, "validation": 0.2,
         "early_stopping": 3, "restore_best_weights": True},
        "the tutorials' texts_to_matrix(mode='binary') with a Dense model"),
    "tutorial-imdb-onehot-simplernn": Preset(
        "IMDB, 300 words, maxlen 100: one-hot tokens + SimpleRNN(8), RMSprop(1e-4), batch 64, "
        "early stopping (patience 3)",
        {**_IMDB_RMSPROP, "arch": "onehot simplernn:8"},
        "002 (순환 신경망 만들기)"),
    "tutorial-imdb-embedding-simplernn": Preset(
        "IMDB, 300 words, maxlen 100: Embedding(300,16)+SimpleRNN(8), RMSprop(1e-4), batch 64, "
        "early stopping (patience 3)",
        {**_IMDB_RMSPROP, "arch": "emb:16 simplernn:8"},
        "002 (단어 임베딩을 사용하기)"),
    "tutorial-imdb-small-simplernn": Preset(
        "IMDB, 1000 words, maxlen 100: Embedding(1000,32)+SimpleRNN(8), adam, batch 32, "
        "10 epochs (the tutorial's skip_top=20 is not reproduced)",
        {"dataset": "imdb", "num_words": 1000, "maxlen": 100, "padding": "pre",
         "truncating": "pre", "arch": "emb:32 simplernn:8", "optimizer": "adam",
         "batch_size": 32, "epochs": 10, "validation": 0.2},
        "004"),
    "tutorial-imdb-flatten": Preset(
        "IMDB, 10k words, maxlen 500 (pre): Embedding(10000,32)+Flatten+Dense(1), adam, "
        "batch 32, 30 epochs",
        {"dataset": "imdb", "num_words": 10000, "maxlen": 500, "padding": "pre",
         "truncating": "pre", "arch": "emb:32 flatten", "optimizer": "adam", "batch_size": 32,
         "epochs": 30, "validation": 0.2},
        "003 (Embedding - IMDB 전체소스)"),
    "tutorial-imdb-stacked-simplernn": Preset(
        "IMDB, 10k words, maxlen 500: Embedding(10000,32)+SimpleRNN(32, dropout .15, "
        "recurrent dropout .15)+SimpleRNN(32), adam, batch 32, 15 epochs",
        {"dataset": "imdb", "num_words": 10000, "maxlen": 500, "padding": "pre",
         "truncating": "pre",
         "arch": "emb:32 simplernn:32,dropout=0.15,rd=0.15 simplernn:32",
         "optimizer": "adam", "batch_size": 32, "epochs": 15, "validation": 0.2},
        "003 (RNN - IMDB 데이터셋으로 RNN 학습시키기)"),
    "tutorial-imdb-lstm": Preset(
        "IMDB, 10k words, maxlen 350: Embedding(10000,32)+LSTM(64)+LSTM(32), adam, batch 32, "
        "15 epochs",
        {"dataset": "imdb", "num_words": 10000, "maxlen": 350, "padding": "pre",
         "truncating": "pre", "arch": "emb:32 lstm:64 lstm:32", "optimizer": "adam",
         "batch_size": 32, "epochs": 15, "validation": 0.2},
        "003 (LSTM - IMDB 데이터셋으로 LSTM 학습시키기)"),
    "tutorial-imdb-conv-lstm": Preset(
        "IMDB, 5000 words, maxlen 100: Embedding(5000,100)+Dropout(.5)+Conv1D(64,5)+"
        "MaxPooling1D(4)+LSTM(100)+Dense(1)+Activation(sigmoid), adam, batch 100, 5 epochs, "
        "the test split as validation data",
        {"dataset": "imdb", "num_words": 5000, "maxlen": 100, "padding": "pre",
         "truncating": "pre",
         "arch": "emb:100 dropout:0.5 conv1d:64:5 maxpool:4 lstm:100 head:sigmoid,separate=true",
         "optimizer": "adam", "batch_size": 100, "epochs": 5, "validation": "test"},
        "001 (LSTM + CNN 영화 리뷰 분석)"),
    "tutorial-reuters-lstm": Preset(
        "Reuters 46 topics, 1000 words, maxlen 100: Embedding(1000,100)+LSTM(100)+"
        "Dense(46, softmax), adam, batch 100, 20 epochs, the test split as validation data",
        {"dataset": "reuters", "num_words": 1000, "maxlen": 100, "padding": "pre",
         "truncating": "pre", "arch": "emb:100 lstm:100", "optimizer": "adam",
         "batch_size": 100, "epochs": 20, "validation": "test"},
        "001 (LSTM 이용해서 로이터 뉴스 카테고리 분류)"),
    "tutorial-shopping-char-lstm": Preset(
        "Naver shopping, characters (korean_only cleaning), maxlen 100: Embedding(V,16)+"
        "LSTM(64)+LSTM(32), adam, batch 32, 2 epochs",
        {"dataset": "shopping", "level": "char", "cleaner": "korean_only", "num_words": None,
         "oov_token": "<OOV>", "maxlen": 100, "padding": "pre", "truncating": "pre",
         "arch": "emb:16 lstm:64 lstm:32", "optimizer": "adam", "batch_size": 32, "epochs": 2,
         "validation": 0.2},
        "003 (naver_shopping)"),
    "tutorial-series-simplernn": Preset(
        "The toy series (6 windows of 4 values): SimpleRNN(10)+Dense(1), adam, mse, 100 epochs",
        {"dataset": "series", "arch": "simplernn:10", "optimizer": "adam", "epochs": 100,
         "batch_size": 32, "validation": "none"},
        "000 (2. RNN 실습)"),
    "tutorial-multiplication-simplernn": Preset(
        "The multiplication problem (100 steps, 2 channels): SimpleRNN(30)+SimpleRNN(30)+"
        "Dense(1), adam, mse, 100 epochs",
        {**_MULTIPLICATION, "arch": "simplernn:30 simplernn:30"},
        "000 (4.2 RNN으로)"),
    "tutorial-multiplication-lstm": Preset(
        "The multiplication problem: LSTM(30)+LSTM(30)+Dense(1), adam, mse, 100 epochs",
        {**_MULTIPLICATION, "arch": "lstm:30 lstm:30"},
        "000 (4.4 LSTM)"),
    "tutorial-multiplication-gru": Preset(
        "The multiplication problem: GRU(30)+GRU(30)+Dense(1), adam, mse, 100 epochs",
        {**_MULTIPLICATION, "arch": "gru:30 gru:30"},
        "000 (5.2 GRU 생성)"),
}


def preset_names() -> list[str]:
    return list(PRESETS)


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        from rnn_tui.suggestions import close_matches

        raise NotFoundError(f"no preset named {name!r}{close_matches(name, PRESETS)} "
                            f"(see rnn-tui train --list-presets)") from None


def preset_config(name: str, **overrides: Any) -> TrainConfig:
    """The full config of a preset, with ``overrides`` (TrainConfig fields) applied.

    >>> preset_config("tutorial-imdb-lstm", epochs=1).maxlen
    350
    """
    preset = get_preset(name)
    settings = {**preset.settings, "preset": name}
    settings.update(overrides)
    return TrainConfig.from_dict(settings)
