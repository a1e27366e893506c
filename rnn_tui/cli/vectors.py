"""``rnn-tui vectors train``: word2vec vectors (gensim) from a corpus' training texts.

The tutorials' gensim step: ``Word2Vec(sentences, vector_size=100, window=5, min_count=5)``
on the tokenized reviews, saved with ``wv.save_word2vec_format``. The file loads into a model's
Embedding with the existing option (``--arch "emb:100,vectors=imdb-w2v.txt lstm:64"``) and
answers ``rnn-tui neighbors imdb-w2v.txt great`` and ``--analogy``.
"""

from __future__ import annotations

from pathlib import Path

import click

from rnn_tui.errors import UserError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group("vectors", context_settings=CONTEXT_SETTINGS)
def vectors() -> None:
    """Train word vectors (gensim Word2Vec) for use in an Embedding or with `neighbors`."""


@vectors.command("train", context_settings=CONTEXT_SETTINGS)
@click.option("--dataset", "-d", required=True,
              help="A corpus name (imdb, nsmc, ...) or your CSV/TSV/JSONL file.")
@click.option("--text-col", help="Your file's text column. [text]")
@click.option("--label-col", help="Your file's label column. [label]")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the vectors. [DATASET-w2v-DIM.txt]")
@click.option("--dim", type=click.IntRange(min=1), default=100, show_default=True,
              help="Vector size (gensim's vector_size).")
@click.option("--window", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--min-count", type=click.IntRange(min=1), default=5, show_default=True,
              help="Leave out words seen fewer times.")
@click.option("--epochs", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--skip-gram", is_flag=True, help="Skip-gram instead of CBOW (gensim's sg=1).")
@click.option("--level", type=click.Choice(["word", "char", "morpheme"]), default="word",
              show_default=True, help="Tokens, as a model's vocabulary splits them.")
@click.option("--cleaner", default="auto", show_default=True,
              help="A cleaning step (none, html, clean_str, korean_only); auto: html for imdb.")
@click.option("--binary", is_flag=True, help="word2vec's binary format instead of text.")
@click.option("--seed", type=int, default=0, show_default=True)
def train_vectors(dataset: str, text_col: str | None, label_col: str | None,
                  output: Path | None, dim: int, window: int, min_count: int, epochs: int,
                  skip_gram: bool, level: str, cleaner: str, binary: bool, seed: int) -> None:
    """Train word2vec on DATASET's training texts and save the vectors (word2vec format).

    \b
      rnn-tui vectors train --dataset imdb --dim 100
      rnn-tui neighbors imdb-w2v-100.txt --analogy "great - good + bad"
      rnn-tui train --dataset imdb --arch "emb:100,vectors=imdb-w2v-100.txt lstm:64"
    """
    from rnn_tui.data import load_corpus
    from rnn_tui.fileio import atomic_path
    from rnn_tui.text import Vocabulary

    options = {key: value for key, value in (("text_col", text_col), ("label_col", label_col))
               if value}
    corpus = load_corpus(dataset, **options)
    texts = corpus.train.texts
    if texts is None:
        raise UserError(f"{dataset} holds numeric sequences, not texts")
    if cleaner == "auto":
        cleaner = "html" if corpus.name == "imdb" else "none"
    try:
        tokenizer = Vocabulary(level=level, cleaner=cleaner)
    except ValueError as error:
        raise UserError(str(error)) from None
    sentences = [tokens for tokens in tokenizer.tokenize_many(texts) if tokens]
    if not sentences:
        raise UserError(f"{corpus.name}: no tokens in the training texts")
    from gensim.models import Word2Vec

    click.echo(f"word2vec on {len(sentences):,} {corpus.name} training texts "
               f"({'skip-gram' if skip_gram else 'CBOW'}, {dim} dims, window {window}, "
               f"min count {min_count}, {epochs} epochs)...", err=True)
    # workers=1 with a seed: the same corpus and settings give the same vectors
    model = Word2Vec(vector_size=dim, window=window, min_count=min_count,
                     sg=int(skip_gram), epochs=epochs, seed=seed, workers=1)
    model.build_vocab(sentences)
    if not len(model.wv):
        raise UserError(f"no word appears {min_count} times: lower --min-count")
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    output = output or Path(f"{corpus.name}-w2v-{dim}.{'bin' if binary else 'txt'}")
    with atomic_path(output) as temporary:
        model.wv.save_word2vec_format(str(temporary), binary=binary)
    from rnn_tui.terminal import escape

    click.echo(f"{len(model.wv):,} words x {dim} dims -> {escape(str(output))}")
