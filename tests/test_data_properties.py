"""Property tests: the parsers take any input and either read it or raise DataError/UserError.

Nothing else may escape (a KeyError, an IndexError, a UnicodeDecodeError ... would become a
traceback for the user).
"""

from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnn_tui.data import load_corpus, nsmc, reuters, shopping
from rnn_tui.errors import DataError, UserError

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# Lines built from the pieces that matter to the parsers, plus arbitrary text.
PIECES = st.sampled_from(["\t", "\t", "0", "1", "5", "3", "-1", '"', ",", "\r", " ", "id", "document",
                          "label", "좋다", "\x00", "\ufeff", "{", "}", ":", "[", "]", "text"])
LINE = st.lists(st.one_of(PIECES, st.text(max_size=6)), max_size=8).map("".join)
LINES = st.lists(LINE, max_size=8)


def as_bytes(lines: list[str], raw_tail: bytes) -> bytes:
    return "\n".join(lines).encode("utf-8", errors="surrogatepass") + raw_tail


@FUZZ
@given(lines=LINES, raw_tail=st.binary(max_size=6), header=st.booleans())
def test_nsmc_reader_never_crashes(tmp_path, lines, raw_tail, header):
    path = tmp_path / "ratings_train.txt"
    path.write_bytes(as_bytes((["id\tdocument\tlabel"] if header else []) + lines, raw_tail))
    try:
        texts, labels = nsmc.read_ratings(path)
    except DataError as error:
        assert error.path == path
        return
    assert len(texts) == len(labels) and set(labels.tolist()) <= {0, 1}


@FUZZ
# (no lone surrogates: a UTF-8 file cannot hold them, so they are no row of one)
@given(rows=st.lists(st.tuples(st.text(alphabet=st.characters(blacklist_characters="\t\n\r",
                                                              blacklist_categories=("Cs",)),
                                       max_size=30),
                               st.integers(0, 1)), max_size=20))
def test_nsmc_rows_round_trip(tmp_path, rows):
    path = tmp_path / "ratings_test.txt"
    body = "".join(f"{i}\t{text}\t{label}\n" for i, (text, label) in enumerate(rows))
    path.write_text("id\tdocument\tlabel\n" + body, encoding="utf-8")
    texts, labels = nsmc.read_ratings(path)
    assert texts == [t for t, _ in rows] and labels.tolist() == [y for _, y in rows]


@FUZZ
@given(lines=LINES, raw_tail=st.binary(max_size=6))
def test_shopping_reader_never_crashes(tmp_path, lines, raw_tail):
    path = tmp_path / "naver_shopping.txt"
    path.write_bytes(as_bytes(lines, raw_tail))
    try:
        texts, ratings = shopping.read_reviews(path)
    except DataError:
        return
    assert len(texts) == len(ratings) and all(1 <= r <= 5 for r in ratings)


@FUZZ
@given(lines=LINES, raw_tail=st.binary(max_size=4),
       suffix=st.sampled_from([".csv", ".tsv", ".jsonl", ".json"]),
       task=st.sampled_from([None, "regression", "binary"]))
def test_own_files_never_crash(tmp_path, lines, raw_tail, suffix, task):
    path = tmp_path / f"mine{suffix}"
    header = {".csv": "text,label", ".tsv": "text\tlabel"}.get(suffix)
    path.write_bytes(as_bytes(([header] if header else []) + lines, raw_tail))
    try:
        corpus = load_corpus(path, task=task)
    except (DataError, UserError):
        return
    assert len(corpus.train) + len(corpus.test) > 0


@FUZZ
@given(records=st.lists(st.fixed_dictionaries(
    {"text": st.one_of(st.text(max_size=10), st.integers(), st.none()),
     "label": st.one_of(st.text(max_size=3), st.integers(-2, 3), st.integers(), st.floats(allow_nan=True),
                        st.booleans(), st.none(), st.lists(st.integers(), max_size=2))}),
    max_size=8))
def test_jsonl_values_of_any_type(tmp_path, records):
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    for task in (None, "regression"):
        try:
            corpus = load_corpus(path, task=task)
        except (DataError, UserError):
            continue
        labels = np.concatenate([corpus.train.labels, corpus.test.labels])
        assert np.isfinite(labels.astype(float)).all()


SGML_PIECES = st.sampled_from([
    '<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" NEWID="1">', '<REUTERS NEWID="x">', "</REUTERS>",
    "<TOPICS>", "</TOPICS>", "<D>earn</D>", "<D>acq", "<TEXT>", '<TEXT TYPE="BRIEF">', "</TEXT>",
    "<TITLE>", "</TITLE>", "<BODY>", "</BODY>", "&#3;", "&lt;", "&amp", "\xfc", "\n", " Reuter",
    'LEWISSPLIT="TEST"', "<REUTERS",
])


@FUZZ
@given(pieces=st.lists(st.one_of(SGML_PIECES, st.text(max_size=5)), max_size=30))
def test_sgml_parser_never_crashes(pieces):
    text = "".join(pieces)
    try:
        wires = reuters.parse_sgml(text, "reut2-000.sgm")
    except DataError as error:
        assert error.line is None or error.line >= 1
        return
    for wire in wires:
        assert isinstance(wire.newid, int)
        reuters.label_of(wire)
