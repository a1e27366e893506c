"""The catalog: every corpus described, published checksums equal to Keras' own."""

from __future__ import annotations

import ast
import sysconfig
from pathlib import Path

import pytest

from rnn_tui.data import catalog, corpus_names
from rnn_tui.errors import NotFoundError

# Keras' own dataset source in the running environment, read as text (keras is not imported).
KERAS_DATASETS = Path(sysconfig.get_paths()["purelib"]) / "keras/src/datasets"


def keras_file_hashes(module: str) -> dict[str, str]:
    """{function name: file_hash} from Keras' dataset source, read without importing it."""
    source = KERAS_DATASETS / f"{module}.py"
    if not source.exists():
        pytest.skip("Keras' source is not installed")
    hashes = {}
    for function in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(function, ast.FunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.keyword) and node.arg == "file_hash":
                    hashes[function.name] = ast.literal_eval(node.value)
    return hashes


def test_names():
    assert corpus_names() == ["imdb", "reuters", "nsmc", "shopping", "series", "multiplication"]
    assert catalog.names() == corpus_names()


@pytest.mark.parametrize("name", ["imdb", "reuters"])
def test_keras_checksums_are_the_published_ones(name):
    hashes = keras_file_hashes(name)
    downloads = {d.target.rsplit("/", 1)[1]: d for d in catalog.get(name).downloads["npz"]}
    npz, index = downloads[f"{name}.npz"], downloads[f"{name}_word_index.json"]
    assert npz.checksum == ("sha256", hashes["load_data"])
    assert index.checksum == ("md5", hashes["get_word_index"])  # 32 hex digits: Keras' md5


def test_every_corpus_is_described():
    for info in catalog.CORPORA.values():
        assert info.title and info.task in ("binary", "multiclass", "regression")
        assert info.forms and info.size and info.counts and info.description
        assert info.source().title == info.title
        if info.synthetic:
            assert info.downloads == {} and info.language is None
            continue
        assert info.language in ("en", "ko") and info.homepage and info.citation and info.license
        assert info.checksum_note  # says where checksums are published, or that none are
        assert info.default_download_kind in info.kinds
        for downloads in info.downloads.values():
            for download in downloads:
                assert download.url.startswith("https://")
                assert any(download.target in form.requires for form in info.forms)
        if info.task != "regression":
            assert len(info.label_names) >= 2
    unpublished = [d for info in catalog.CORPORA.values() for ds in info.downloads.values()
                   for d in ds if d.checksum is None]
    # (aclImdb_v1.tar.gz: Stanford publishes none, but its long-pinned md5 is used)
    assert {d.target for d in unpublished} == {
        "reuters21578/reuters21578.tar.gz", "nsmc/ratings_train.txt",
        "nsmc/ratings_test.txt", "shopping/naver_shopping.txt"}


def test_data_home_layout_matches_the_mirror():
    requires = {r for info in catalog.CORPORA.values() for f in info.forms for r in f.requires}
    for path in ("imdb/aclImdb_labeled.tar.gz", "imdb/aclImdb_v1.tar.gz", "imdb/imdb.npz",
                 "reuters21578/reuters21578.tar.gz", "reuters21578/reut2-*.sgm",
                 "reuters/reuters.npz", "nsmc/ratings_train.txt", "shopping/naver_shopping.txt"):
        assert path in requires


def test_unknown_name_suggests():
    with pytest.raises(NotFoundError, match="Did you mean 'reuters'"):
        catalog.get("reuter")
    with pytest.raises(NotFoundError, match="known: imdb, reuters"):
        catalog.get("zzz")
