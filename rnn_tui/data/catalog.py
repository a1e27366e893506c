"""Every corpus rnn-tui knows: what it is, which files make it present, where to get them.

The catalog is plain data (no I/O). ``rnn_tui.data.store`` uses it to find corpora in the data
home, to download them and to import the user's copies; the loaders use it for titles and
label names; ``rnn-tui data list`` prints it.

Paths are relative to the data home and follow the layout of the offline mirror
(``../shared/datasets``), e.g. ``imdb/aclImdb_v1.tar.gz`` or ``nsmc/ratings_train.txt``.

>>> get("imdb").label_names
('negative', 'positive')
>>> [form.name for form in get("reuters").forms][:2]
['reut2-*.sgm files', 'reuters21578.tar.gz']
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from rnn_tui.data.corpus import SourceInfo
from rnn_tui.errors import NotFoundError


@dataclass(frozen=True)
class Download:
    """One file a publisher distributes.

    Attributes:
        url: the official address.
        target: where it goes, relative to the data home.
        sha256 / md5: the checksum the publisher gives (Keras gives sha256 for its .npz files
            and md5 for its word indexes); None where none is published.
    """

    url: str
    target: str
    sha256: str | None = None
    md5: str | None = None

    @property
    def checksum(self) -> tuple[str, str] | None:
        """``(algorithm, hex digest)`` of the published checksum, or None."""
        if self.sha256:
            return ("sha256", self.sha256)
        if self.md5:
            return ("md5", self.md5)
        return None


@dataclass(frozen=True)
class Form:
    """One way a corpus can be present in the data home.

    Attributes:
        name: shown by ``data list`` ("aclImdb_v1.tar.gz", "Keras imdb.npz" ...).
        kind: the loader's ``form=`` value that reads it ("raw", "npz", "sgml", "tsv" ...).
        requires: paths relative to the data home that must all exist; a path may be a glob
            pattern ("reuters21578/reut2-*.sgm"), satisfied by at least one match.
    """

    name: str
    kind: str
    requires: tuple[str, ...]


@dataclass(frozen=True)
class CorpusInfo:
    """What the catalog knows about one corpus."""

    name: str
    title: str
    task: str
    language: str | None
    label_names: tuple[str, ...]
    forms: tuple[Form, ...]
    # form kind -> the files to download for it; the first kind is what ``fetch`` gets by default.
    downloads: dict[str, tuple[Download, ...]] = field(default_factory=dict)
    checksum_note: str = ""
    size: str = ""
    counts: str = ""
    citation: str = ""
    homepage: str = ""
    license: str = ""
    description: str = ""
    synthetic: bool = False

    @property
    def kinds(self) -> tuple[str, ...]:
        """The ``form=`` values this corpus accepts, besides "auto"."""
        return tuple(dict.fromkeys(form.kind for form in self.forms))

    @property
    def default_download_kind(self) -> str | None:
        return next(iter(self.downloads), None)

    def source(self) -> SourceInfo:
        """Provenance for ``Corpus.source``."""
        return SourceInfo(
            title=self.title,
            citation=self.citation,
            homepage=self.homepage,
            license=self.license,
            description=self.description,
        )


# The 46 topics of keras.datasets.reuters, in label-id order: a copy of
# keras.datasets.reuters.get_label_names() (keras/src/datasets/reuters.py), kept here so that
# naming labels never imports TensorFlow. tests/test_data_reuters.py checks it against Keras.
REUTERS_LABELS: tuple[str, ...] = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)

KERAS_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SENTIMENT = ("negative", "positive")

_CORPORA: tuple[CorpusInfo, ...] = (
    CorpusInfo(
        name="imdb",
        title="IMDB Large Movie Review Dataset v1.0",
        task="binary",
        language="en",
        label_names=SENTIMENT,
        forms=(
            Form("aclImdb folder", "raw", ("imdb/aclImdb/train", "imdb/aclImdb/test")),
            Form("aclImdb_v1.tar.gz", "raw", ("imdb/aclImdb_v1.tar.gz",)),
            Form("aclImdb_labeled.tar.gz", "raw", ("imdb/aclImdb_labeled.tar.gz",)),
            Form("Keras imdb.npz", "npz", ("imdb/imdb.npz", "imdb/imdb_word_index.json")),
        ),
        downloads={
            "raw": (
                Download(
                    "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
                    "imdb/aclImdb_v1.tar.gz",
                    # not Stanford's: the md5 PaddlePaddle's dataset module has pinned for
                    # this file since 2016 (and other loaders since)
                    md5="7c2ac02c03563afcf9b574c7e56c153a",
                ),
            ),
            "npz": (
                Download(
                    KERAS_DATASETS + "imdb.npz",
                    "imdb/imdb.npz",
                    sha256="69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
                ),
                Download(
                    KERAS_DATASETS + "imdb_word_index.json",
                    "imdb/imdb_word_index.json",
                    md5="bfafd718b763782e994055a2d397834f",
                ),
            ),
        },
        checksum_note=(
            "Stanford publishes no checksum for aclImdb_v1.tar.gz: it is checked against the "
            "md5 other loaders (PaddlePaddle's) have long pinned; Keras publishes sha256 for "
            "imdb.npz and md5 for imdb_word_index.json."
        ),
        size="aclImdb_v1.tar.gz 84 MB (80 MB of it the labeled reviews); imdb.npz 17 MB",
        counts="25,000 train + 25,000 test reviews, balanced",
        citation=(
            "Andrew L. Maas, Raymond E. Daly, Peter T. Pham, Dan Huang, Andrew Y. Ng and "
            "Christopher Potts. 2011. Learning Word Vectors for Sentiment Analysis. ACL 2011."
        ),
        homepage="https://ai.stanford.edu/~amaas/data/sentiment/",
        license="no licence stated by the publisher; cite the paper",
        description=(
            "Highly polar movie reviews from IMDB: positive (rating >= 7) or negative "
            "(rating <= 4)."
        ),
    ),
    CorpusInfo(
        name="reuters",
        title="Reuters-21578 newswires, the 46 topics of keras.datasets.reuters",
        task="multiclass",
        language="en",
        label_names=REUTERS_LABELS,
        forms=(
            Form("reut2-*.sgm files", "sgml", ("reuters21578/reut2-*.sgm",)),
            Form("reuters21578.tar.gz", "sgml", ("reuters21578/reuters21578.tar.gz",)),
            Form(
                "Keras reuters.npz", "npz",
                ("reuters/reuters.npz", "reuters/reuters_word_index.json"),
            ),
        ),
        downloads={
            "sgml": (
                Download(
                    "https://kdd.ics.uci.edu/databases/reuters21578/reuters21578.tar.gz",
                    "reuters21578/reuters21578.tar.gz",
                ),
            ),
            "npz": (
                Download(
                    KERAS_DATASETS + "reuters.npz",
                    "reuters/reuters.npz",
                    sha256="d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",
                ),
                Download(
                    KERAS_DATASETS + "reuters_word_index.json",
                    "reuters/reuters_word_index.json",
                    md5="4d44cc38712099c9e383dc6e5f11a921",
                ),
            ),
        },
        checksum_note=(
            "The UCI KDD archive publishes no checksum for reuters21578.tar.gz: the sha256 and "
            "size of its first download are recorded and a later download must match them; "
            "Keras publishes sha256 for reuters.npz and md5 for reuters_word_index.json."
        ),
        size="reuters21578.tar.gz 8 MB; reuters.npz 2 MB",
        counts="11,228 newswires with a first topic among the 46 (Keras split 8,982 / 2,246)",
        citation=(
            'David D. Lewis. Reuters-21578, Distribution 1.0. '
            "https://kdd.ics.uci.edu/databases/reuters21578/reuters21578.html"
        ),
        homepage="https://kdd.ics.uci.edu/databases/reuters21578/reuters21578.html",
        license=(
            "copyright Reuters Ltd.; Reuters and Carnegie Group allow free distribution "
            "for research purposes only"
        ),
        description=(
            "Reuters newswires of 1987; the label is a wire's first topic when it is among "
            "the 46 topics of keras.datasets.reuters."
        ),
    ),
    CorpusInfo(
        name="nsmc",
        title="Naver Sentiment Movie Corpus v1.0",
        task="binary",
        language="ko",
        label_names=SENTIMENT,
        forms=(
            Form(
                "ratings_{train,test}.txt", "tsv",
                ("nsmc/ratings_train.txt", "nsmc/ratings_test.txt"),
            ),
        ),
        downloads={
            "tsv": (
                Download(
                    "https://raw.githubusercontent.com/e9t/nsmc/master/ratings_train.txt",
                    "nsmc/ratings_train.txt",
                ),
                Download(
                    "https://raw.githubusercontent.com/e9t/nsmc/master/ratings_test.txt",
                    "nsmc/ratings_test.txt",
                ),
            ),
        },
        checksum_note=("The NSMC repository publishes no checksums: the sha256 and size of the "
                       "first download are recorded and a later download must match them."),
        size="19 MB (ratings_train.txt 14.6 MB, ratings_test.txt 4.9 MB)",
        counts="150,000 train + 50,000 test reviews, balanced",
        citation="Lucy Park. Naver Sentiment Movie Corpus v1.0. https://github.com/e9t/nsmc",
        homepage="https://github.com/e9t/nsmc",
        license="CC0 1.0",
        description=(
            "Korean movie reviews from Naver Movies: ratings 1-4 negative, 9-10 positive, "
            "5-8 left out; all under 140 characters."
        ),
    ),
    CorpusInfo(
        name="shopping",
        title="Naver shopping reviews (bab2min/corpus)",
        task="binary",
        language="ko",
        label_names=SENTIMENT,
        forms=(Form("naver_shopping.txt", "txt", ("shopping/naver_shopping.txt",)),),
        downloads={
            "txt": (
                Download(
                    "https://raw.githubusercontent.com/bab2min/corpus/master/sentiment/"
                    "naver_shopping.txt",
                    "shopping/naver_shopping.txt",
                ),
            ),
        },
        checksum_note=("The bab2min/corpus repository publishes no checksum: the sha256 and "
                       "size of the first download are recorded and a later download must "
                       "match them."),
        size="about 19 MB",
        counts="200,000 reviews (about 199,400 after removing duplicates); no official split",
        citation="Minchul Lee (bab2min). Korean corpus, sentiment/naver_shopping.txt. "
        "https://github.com/bab2min/corpus",
        homepage="https://github.com/bab2min/corpus",
        license="not stated in the file; see the repository",
        description=(
            "Korean product reviews from Naver shopping with a 1-5 star rating; "
            "rating > 3 is positive."
        ),
    ),
    CorpusInfo(
        name="series",
        title="Next value of a series (toy regression)",
        task="regression",
        language=None,
        label_names=(),
        forms=(Form("generated", "generated", ()),),
        size="generated on demand",
        counts="any size (default 6 train windows, as in the tutorial)",
        description=(
            "Windows of `length` consecutive values i/10, (i+1)/10, ... and the next value as "
            "the target: the first tutorial's SimpleRNN warm-up."
        ),
        synthetic=True,
    ),
    CorpusInfo(
        name="multiplication",
        title="The multiplication problem (Hochreiter & Schmidhuber 1997)",
        task="regression",
        language=None,
        label_names=(),
        forms=(Form("generated", "generated", ()),),
        size="generated on demand",
        counts="any size (default 2,560 train + 512 test sequences of length 100)",
        citation=(
            "Sepp Hochreiter and Juergen Schmidhuber. 1997. Long Short-Term Memory. "
            "Neural Computation 9(8)."
        ),
        description=(
            "Sequences of (marker, value) pairs, value ~ U(0, 1); two positions are marked "
            "and the target is the product of their values. Needs long-term memory."
        ),
        synthetic=True,
    ),
)

CORPORA: dict[str, CorpusInfo] = {info.name: info for info in _CORPORA}


def names() -> list[str]:
    """Catalog names in display order."""
    return list(CORPORA)


def get(name: str) -> CorpusInfo:
    """The catalog entry for ``name``; an unknown name is a NotFoundError with suggestions.

    >>> get("nsmc").language
    'ko'
    """
    try:
        return CORPORA[name]
    except KeyError:
        pass
    close = difflib.get_close_matches(name.lower(), CORPORA, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise NotFoundError(
        f"unknown corpus {name!r} (known: {', '.join(CORPORA)}).{hint} "
        "Your own data: give the path of a CSV/TSV/JSONL file or of a folder with one "
        "sub-folder per class."
    )
