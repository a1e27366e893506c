"""Fuzz targets, one per parser of files a user or another machine hands to rnn-tui: CSV,
TSV, JSONL and folder corpora, card.json (read, then shown by `models show`, `summary` and
the TUI), vocabulary JSON and model archives (member names, manifest, card), and the HTTP
requests `rnn-tui serve` reads (bodies, content types, references in the path, methods).

Each target builds structured but hostile input with hypothesis (quoting, separators, huge
and non-finite numbers, deep nesting, wrong types, control characters, path tricks) and
requires that the parser either returns a usable result or raises DataError/UserError (one
line for the user): any other exception is what the CLI would report as "internal error".
The corpus targets also go through `rnn-tui data show` in this process and check its
stderr (every fifth input). ``RNN_TUI_FUZZ_EXAMPLES`` (default 300) sets the inputs per target;
bench/reliability.py runs more and prints the counts (``INPUTS``). The three serve targets
run ``RNN_TUI_FUZZ_SERVE_EXAMPLES`` (default 1000) each: a request in process costs a few
milliseconds, a file a few tens.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import io
import json
import os
import shutil
import tarfile
import tempfile
import warnings
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rnn_tui.errors import DataError, UserError

EXAMPLES = int(os.environ.get("RNN_TUI_FUZZ_EXAMPLES", "300"))
CLI_EVERY = 5  # every 5th corpus input also goes through `rnn-tui data show`
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
SERVE_FUZZ = settings(FUZZ, max_examples=int(os.environ.get("RNN_TUI_FUZZ_SERVE_EXAMPLES",
                                                             "1000")))
INPUTS: Counter[str] = Counter()  # target -> inputs tried (read by bench/reliability.py)

# In memory where there is a tmpfs: creating and deleting thousands of small files on a
# disk took most of the time, and the parsers read the same bytes either way.
_SHM = "/dev/shm"
WORK = Path(tempfile.mkdtemp(prefix="rnn-tui-fuzz-", dir=_SHM if os.access(_SHM, os.W_OK)
                             else None))
atexit.register(shutil.rmtree, WORK, ignore_errors=True)

HOSTILE = ["\x1b[2J", "\x07", "\r", "\x00", "\x7f", "\x9b", "\t", "\n", "\r\n", "\u202e",
           "\ufeff", '"', "'", ",", ";", "\\", "[", "{", "]", "}", "가", "🎬", " ", ""]
TEXT = st.lists(st.one_of(st.sampled_from(HOSTILE), st.characters(blacklist_categories=("Cs",))),
                max_size=12).map("".join)
NUMBER_TEXT = st.one_of(st.integers(-10**30, 10**30).map(str), st.floats().map(repr),
                        st.sampled_from(["9" * 5000, "1e999", "-1e999", "nan", "inf", "-0",
                                         "0x10", "1_000", "１", "²", " 1 ", "", "1.0", "01"]))
FIELD = st.one_of(TEXT, NUMBER_TEXT)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**40, 10**40) | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8)


def clean(call):
    """``call()``'s result, or None when it raised DataError/UserError; any other
    exception fails the target (it would be a traceback or an "internal error")."""
    try:
        return call()
    except (DataError, UserError):
        return None


def cli_line(args: list[str]) -> None:
    """``rnn-tui ARGS`` in this process: it may fail, but only with one clean line."""
    from rnn_tui.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit:
            pass
    text = err.getvalue()
    assert "internal error" not in text and "Traceback" not in text, text
    assert "\x1b" not in out.getvalue() + text


def fresh(name: str) -> Path:
    INPUTS[name] += 1
    folder = WORK / f"{name}-{INPUTS[name]}"
    folder.mkdir()
    return folder


def load_and_show(path: Path, **options) -> None:
    from rnn_tui.data import load_corpus

    corpus = clean(lambda: load_corpus(str(path), **options))
    if corpus is not None:
        assert len(corpus.train) + len(corpus.test) > 0
        assert corpus.train.labels.dtype.kind in "if"
    if INPUTS[path.parent.name.split("-")[0]] % CLI_EVERY == 1:  # the CLI costs ~10 ms
        cli_line(["data", "show", str(path)])
    shutil.rmtree(path.parent, ignore_errors=True)


# ---------------------------------------------------------------------------- corpora
@FUZZ
@given(header=st.lists(st.one_of(st.sampled_from(["text", "label", "split"]), TEXT),
                       min_size=1, max_size=4),
       rows=st.lists(st.lists(FIELD, max_size=5), max_size=8), quoted=st.booleans(),
       task=st.sampled_from([None, "binary", "multiclass", "regression"]))
def test_fuzz_csv_corpus(header, rows, quoted, task):
    path = fresh("csv") / "corpus.csv"
    if quoted:
        buffer = io.StringIO()
        csv.writer(buffer).writerows([header, *rows])
        path.write_text(buffer.getvalue(), encoding="utf-8")
    else:  # whatever a hand-edited file holds: stray quotes, wrong counts
        path.write_text("\n".join(",".join(row) for row in [header, *rows]), encoding="utf-8")
    load_and_show(path, task=task)


@FUZZ
@given(header=st.lists(st.one_of(st.sampled_from(["text", "label", "split"]), TEXT),
                       min_size=1, max_size=4),
       rows=st.lists(st.lists(FIELD, max_size=5), max_size=8),
       ending=st.sampled_from(["\n", "\r\n", ""]), suffix=st.sampled_from([".tsv", ".txt"]))
def test_fuzz_tsv_corpus(header, rows, ending, suffix):
    path = fresh("tsv") / f"corpus{suffix}"
    path.write_bytes(ending.join("\t".join(row) for row in [header, *rows]).encode(
        "utf-8", "surrogatepass"))
    load_and_show(path)


RECORD = st.dictionaries(st.sampled_from(["text", "label", "split", "other"]), JSON_VALUES,
                         max_size=4)
RAW_LINE = st.sampled_from(["[" * 50_000, '{"text": "a", "label": ' + "9" * 5000 + "}",
                            '{"text": "a", "label": NaN}', '{"text": "a", "label": Infinity}',
                            '{"text": "a", "label": 1e999}', "{", "null", "", "\ufeff{}",
                            '{"text": "\\ud800", "label": 1}'])


@FUZZ
@given(lines=st.lists(st.one_of(RECORD.map(json.dumps), RAW_LINE), max_size=8),
       suffix=st.sampled_from([".jsonl", ".json"]))
def test_fuzz_jsonl_corpus(lines, suffix):
    path = fresh("jsonl") / f"corpus{suffix}"
    text = "\n".join(lines) if suffix == ".jsonl" else "[" + ",".join(lines) + "]"
    path.write_text(text, encoding="utf-8")
    load_and_show(path)


CLASS_NAME = st.one_of(st.sampled_from(["pos", "neg", "train", "test", ".hidden", "..x",
                                        "a b", "가", "\x1b[31m"]),
                       st.text(st.characters(blacklist_characters="/\x00",
                                             blacklist_categories=("Cs",)),
                               min_size=1, max_size=8))


@FUZZ
@given(classes=st.dictionaries(CLASS_NAME, st.lists(st.binary(max_size=60), max_size=3),
                               max_size=4),
       split=st.booleans())
def test_fuzz_folder_corpus(classes, split):
    root = fresh("folder") / "corpus"
    for split_name in (["train", "test"] if split else [""]):
        for class_name, files in classes.items():
            folder = root / split_name / class_name
            with contextlib.suppress(OSError):  # a name the filesystem refuses (too long)
                folder.mkdir(parents=True, exist_ok=True)
                for index, data in enumerate(files):
                    (folder / f"{index}.txt").write_bytes(data)
    root.mkdir(parents=True, exist_ok=True)
    load_and_show(root)


# ---------------------------------------------------------------------------- model files
CARD_KEYS = ["task", "labels", "language", "input", "dataset", "vocabulary", "architecture",
             "training", "metrics", "history", "layers", "params", "notes", "imported",
             "runtime", "files", "created", "name", "version", "format_version"]


def base_card() -> dict:
    return {"format": "rnn-tui-card", "format_version": 1, "name": "fuzz", "version": 1,
            "created": "2026-01-01T00:00:00+00:00", "task": "binary", "labels": ["a", "b"],
            "files": {"model.keras": "0" * 64}}


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(CARD_KEYS), JSON_VALUES, max_size=5))
@example(changes={"labels": None, "notes": 1})  # found by this target: summary crashed
@example(changes={"params": {"total": "many"}})
def test_fuzz_card_read_and_shown(changes):
    from rich.console import Console

    from rnn_tui.cli.models import card_text
    from rnn_tui.cli.summary import render_summary
    from rnn_tui.registry import read_card
    from rnn_tui.tui.widgets.summary_pane import card_view

    folder = fresh("card")
    (folder / "card.json").write_text(json.dumps({**base_card(), **changes}),
                                      encoding="utf-8")
    card = clean(lambda: read_card(folder / "card.json"))
    if card is not None:  # a card that validates must show without an error
        version = SimpleNamespace(card=card, ref="fuzz:1", source="user", path=folder,
                                  aliases=[], tags=[], is_latest=True)
        console = Console(file=io.StringIO(), width=80, force_terminal=True)
        card_text(version)
        render_summary(version, console)
        console.print(card_view("fuzz:1", card))
        assert "\x1b]" not in console.file.getvalue()
    shutil.rmtree(folder, ignore_errors=True)


@FUZZ
@given(document=st.one_of(
    st.dictionaries(st.sampled_from(["format", "format_version", "config", "tokens", "counts",
                                     "docs", "document_count"]), JSON_VALUES),
    JSON_VALUES), texts=st.lists(TEXT, max_size=3))
def test_fuzz_vocabulary_json(document, texts):
    from rnn_tui.text import Vocabulary

    folder = fresh("vocabulary")
    path = folder / "vocabulary.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    vocabulary = clean(lambda: Vocabulary.load(path))
    if vocabulary is not None:
        clean(lambda: vocabulary.encode(texts or ["a"], maxlen=4))
    shutil.rmtree(folder, ignore_errors=True)


MEMBER_NAME = st.one_of(
    st.sampled_from(["card.json", "m-1/card.json", "model.keras", "m-1/model.keras", "../x",
                     "/etc/x", "a/../../b", "./card.json", "m-1/", "m-1/../card.json", "",
                     "a" * 300, "con", "m-1/sub/deep.bin", "vocabulary.json"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20))


@FUZZ
@given(members=st.lists(st.tuples(MEMBER_NAME, st.binary(max_size=40)), max_size=5),
       card_changes=st.dictionaries(st.sampled_from(CARD_KEYS), JSON_VALUES, max_size=3),
       card_at=st.sampled_from(["card.json", "m-1/card.json", None]),
       kind=st.sampled_from(["tar", "zip"]))
def test_fuzz_archive_manifest(members, card_changes, card_at, kind):
    import zipfile

    from rnn_tui.registry import Registry

    folder = fresh("archive")
    entries = list(members)
    if card_at is not None:
        card = {**base_card(), **card_changes}
        entries.append((card_at, json.dumps(card).encode()))
    path = folder / ("model.tar.gz" if kind == "tar" else "model.zip")
    if kind == "tar":
        with tarfile.open(path, "w:gz") as archive:
            for name, data in entries:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    else:
        with zipfile.ZipFile(path, "w") as archive, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate names: wanted here
            for name, data in entries:
                with contextlib.suppress(ValueError, IndexError):  # names zipfile refuses
                    archive.writestr(name or "x", data)
    registry = Registry(folder / "models")
    version = clean(lambda: registry.import_archive(path, "fuzz"))
    if version is not None:
        version.verify()
        assert version.path.is_relative_to(registry.root)
    for root, _, files in os.walk(folder):  # nothing was written outside its folder
        assert Path(root).is_relative_to(folder)
    shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------- serve
# HTTP requests to `rnn-tui serve` (the in-process app on the shipped models): bodies as JSON
# of wrong types and shapes, raw bytes, odd content types and lengths, odd references in
# the path, other endpoints and methods. Never a 500; a 4xx is a JSON {"detail": "..."};
# no raw control character in an answer; a good request is answered after each input.
SHIPPED_MODELS = Path(__file__).resolve().parent.parent / "models"
SERVED_REFS = ["imdb-sentiment", "nsmc-sentiment", "reuters-topics", "multiplication",
               "imdb-sentiment:1", "imdb-sentiment@latest", "reuters-topics:2", "nope",
               "imdb-sentiment@prod"]
GOOD_REQUEST = ("/v1/models/imdb-sentiment/predict", {"texts": ["a wonderful film"]})
# Small limits, so that inputs of a few kB reach every refusal; texts over 2,000 characters
# in all go to the thread pool, shorter ones to the event loop's micro-batcher.
SERVE_LIMITS = {"max_body_bytes": 64 * 1024, "max_texts": 32, "max_text_chars": 3000}
# What must not reach a client raw: C0 controls (a JSON answer has none at all), DEL, C1,
# bidi overrides, line/paragraph separators.
RAW_CONTROL = "".join(chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), *range(127, 160)])
UNSAFE_IN_TEXT = frozenset(RAW_CONTROL + "\u2028\u2029" + "".join(
    chr(c) for c in [*range(0x202a, 0x202f), *range(0x2066, 0x206a)]))
UNSAFE_IN_JSON = UNSAFE_IN_TEXT | frozenset("\t\n\r")
_SERVER: dict = {}


def served():
    """The in-process server every serve target talks to (started once: ~1 s), with an
    empty user registry and the shipped one, and a count of the errors it logged."""
    if "client" not in _SERVER:
        import logging
        import time

        from fastapi.testclient import TestClient

        from rnn_tui.registry import Registries, Registry
        from rnn_tui.serve import ServeSettings, create_app
        from rnn_tui.serve.models import ModelPool

        registries = Registries(Registry(WORK / "serve-home" / "models"),
                                Registry(SHIPPED_MODELS, read_only=True))
        app = create_app(ServeSettings(**SERVE_LIMITS),
                         pool=ModelPool(registries=registries, check_interval=60))
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        atexit.register(client.__exit__, None, None, None)
        deadline = time.monotonic() + 60
        while client.get("/ready").status_code != 200:
            assert time.monotonic() < deadline, "the server never got ready"
            time.sleep(0.02)
        logged = Counter()

        class Count(logging.Handler):
            def emit(self, record):
                logged[record.levelname] += 1

        logging.getLogger("rnn_tui.serve").addHandler(Count(logging.ERROR))
        _SERVER.update(client=client, logged=logged)
    return _SERVER["client"]


def serve_request(target: str, method: str, url: str, **options):
    """Send one request; check its answer, then that a good request is still answered."""
    import httpx

    INPUTS[target] += 1
    client = served()
    errors = _SERVER["logged"]["ERROR"]
    try:
        response = client.request(method, url, **options)
    except httpx.InvalidURL:  # the client refused to send it (a raw control in a URL)
        return
    where = f"{method} {url[:200]!r} -> {response.status_code}: {response.text[:300]!r}"
    assert response.status_code < 500, where
    assert _SERVER["logged"]["ERROR"] == errors, where  # no "internal error" logged
    kind = response.headers.get("content-type", "")
    for name, value in response.headers.items():
        assert not set(name + value) & UNSAFE_IN_TEXT, where
    if kind.startswith("application/json") and response.content:
        assert not set(response.text) & UNSAFE_IN_JSON, where
        answer = response.json()
        if response.status_code >= 400:
            assert isinstance(answer.get("detail"), str) and answer["detail"], where
    else:
        assert not set(response.text) & UNSAFE_IN_TEXT, where
        assert response.status_code < 400 or method == "HEAD", where  # errors are JSON
    path, body = GOOD_REQUEST
    good = client.post(path, json=body)
    assert good.status_code == 200 and good.json()["predictions"][0]["label"], good.text
    return response


SERVE_TEXT = st.one_of(
    TEXT, st.text(max_size=30),
    st.sampled_from(["\ud800 lone", "\udfff", "e\u0301" * 50, "\u200d\u200b\ufeff", "\x00",
                     "재미있을 줄 알았는데 지루했다", "🎬" * 20, "w " * 1100, "x" * 3001,
                     "   ", "\n\t", "가" * 2999, "<script>", "{{7*7}}", "%s%n"]))


def nest(value, depth: int):
    for _ in range(depth):
        value = [value]
    return value


SERVE_TEXTS = st.one_of(
    st.lists(SERVE_TEXT, max_size=6), st.lists(JSON_VALUES, min_size=1, max_size=4),
    st.integers(0, 40).map(lambda n: ["fine"] * n), JSON_VALUES,
    st.tuples(st.sampled_from(["a", 1, None, {}]), st.integers(1, 300)).map(
        lambda pair: nest(*pair)))
SERVE_TOP_K = st.one_of(st.integers(-3, 60), st.integers(-10**30, 10**30),
                        st.sampled_from([2**31, 2**63, 2**64 + 1]), JSON_VALUES)
PREDICT_BODY = st.one_of(
    st.fixed_dictionaries({}, optional={"texts": SERVE_TEXTS, "top_k": SERVE_TOP_K,
                                        "trace": st.one_of(st.booleans(), JSON_VALUES)}),
    st.tuples(st.fixed_dictionaries({"texts": st.lists(SERVE_TEXT, min_size=1, max_size=3)}),
              st.dictionaries(TEXT, JSON_VALUES, min_size=1, max_size=2)).map(
        lambda pair: {**pair[0], **pair[1]}),  # unknown keys beside good texts
    JSON_VALUES)


@SERVE_FUZZ
@example(body={"texts": ["fine"], "top_k": 2**64 + 1}, ref="reuters-topics", ascii=True)
@example(body={"texts": ["x" * 3001]}, ref="imdb-sentiment", ascii=True)
@given(body=PREDICT_BODY, ref=st.sampled_from(SERVED_REFS), ascii=st.booleans())
def test_fuzz_serve_predict_json(body, ref, ascii):
    """JSON bodies of wrong types and shapes, huge numbers, odd unicode (lone surrogates
    sent raw when not ``ascii``: invalid UTF-8)."""
    data = json.dumps(body, ensure_ascii=ascii).encode("utf-8", "surrogatepass")
    response = serve_request("serve-json", "POST", f"/v1/models/{ref}/predict", content=data,
                             headers={"content-type": "application/json"})
    if response.status_code == 200:  # one answer per text, from the model asked for
        answer = response.json()
        assert len(answer["predictions"]) == len(body["texts"])
        assert answer["model"].partition(":")[0] == ref.partition(":")[0].partition("@")[0]


GOOD_BODIES = [b'{"texts": ["a wonderful film"]}', b'{"texts": ["fine", "dull"], "top_k": 2}',
               '{"texts": ["재미있다"], "trace": true}'.encode(), b'{"texts": ["x"]}']
RAW_BODIES = st.sampled_from([
    b"[" * 50_000, b'{"texts": ' + b"[" * 50_000, b'{"texts": ["a"], "x": ' + b"{" * 30_000,
    b'{"texts": ["a"], "top_k": ' + b"9" * 5000 + b"}", b'{"texts": ["a"], "top_k": NaN}',
    b'{"texts": ["a"], "top_k": 1e999}', b'{"texts": ["a"], "top_k": -Infinity}',
    b'{"texts": ["\\ud800"]}', b'{"texts": ["\\u0000\\u001b[2J\\u009b"]}', b'{"texts": [""]}',
    b'{"texts": ["a"]}{"texts": ["b"]}', b'{"texts": ["a"], "texts": 1}', b"", b" ", b"null",
    b"\xef\xbb\xbf" + GOOD_BODIES[0], GOOD_BODIES[0].decode().encode("utf-16"),
    GOOD_BODIES[0].decode().encode("utf-32"), '{"texts": ["été"]}'.encode("latin-1"),
    b'{"texts": ["' + b"y" * 70_000 + b'"]}', b'{"texts": ["\xff\xfe\xc0\x80"]}'])


def mutate(base: bytes, edits: list[tuple[int, bytes, int]]) -> bytes:
    """``base`` with bytes replaced, inserted and cut: (position, new bytes, bytes cut)."""
    data = bytearray(base)
    for position, new, cut in edits:
        position %= len(data) + 1
        data[position: position + cut] = new
    return bytes(data)


CONTENT_TYPES = st.one_of(
    st.sampled_from(["application/json", "application/json; charset=utf-8",
                     "application/json; charset=latin-1", "application/json; charset=x-bogus",
                     "APPLICATION/JSON", "application/vnd.api+json", "application/jsonx",
                     "text/json", "text/plain", "application/x-www-form-urlencoded",
                     "multipart/form-data", "multipart/form-data; boundary=x", "*/*", "",
                     "application/json; boundary=\"\\", "json"]),
    st.binary(max_size=30), st.none())
CONTENT_LENGTHS = st.one_of(st.none(), st.sampled_from(
    [b"9" * 5000, b"99999999999999999999", b"-1", b"abc", b"0", b"3", b"1e3", b" 12",
     "٣".encode(), b"+5"]))


@SERVE_FUZZ
@example(body=b'{"texts": ["a"]}', content_type="application/json", length=b"9" * 5000)
@given(body=st.one_of(
    st.binary(max_size=300), RAW_BODIES,
    st.tuples(st.sampled_from(GOOD_BODIES),
              st.lists(st.tuples(st.integers(0, 80), st.binary(max_size=3),
                                 st.integers(0, 3)), min_size=1, max_size=4)).map(
        lambda pair: mutate(*pair))),
    content_type=CONTENT_TYPES, length=CONTENT_LENGTHS)
def test_fuzz_serve_raw_bodies(body, content_type, length):
    """Random and mutated bytes, deep nesting, 5,000-digit numbers, other encodings, a body
    over the limit, under odd content types and Content-Length headers that lie."""
    headers = {}
    if content_type is not None:
        headers["content-type"] = content_type
    if length is not None:
        headers["content-length"] = length
    serve_request("serve-raw", "POST", "/v1/models/imdb-sentiment/predict", content=body,
                  headers=headers)


REF_TEXT = st.one_of(
    st.sampled_from(SERVED_REFS), st.sampled_from(
        ["", " ", ".", "..", "IMDB-Sentiment", "imdb-sentiment:0", "imdb-sentiment:-1",
         "imdb-sentiment:１", "imdb-sentiment:²", "imdb-sentiment:1:2", "imdb-sentiment@",
         "imdb-sentiment@1", "imdb-sentiment@latest:1", "imdb-sentiment:1@prod", "con",
         "a" * 65, "a" * 5000, "imdb-sentiment:" + "9" * 5000, "imdb-sentiment:" + "9" * 30,
         "\x1b[2J", "\u202eevil", "../../etc/passwd", "imdb sentiment", "imdb-sentiment\x00",
         "imdb-sentiment%00", "\ud800"]),
    st.text(max_size=40).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=20))  # raw bytes: percent-encoded, often not UTF-8
PATHS = ["/v1/models/{ref}/predict", "/v1/models/{ref}", "/v1/models/{ref}/predict/x",
         "/v1/{ref}/predict", "/{ref}", "/v1/models", "/health", "/ready", "/metrics",
         "/docs", "/openapi.json"]


@SERVE_FUZZ
@example(ref="imdb-sentiment:" + "9" * 5000, path=PATHS[0], method="POST", safe="",
         query=None, body=GOOD_BODIES[0])
@given(ref=REF_TEXT, path=st.sampled_from(PATHS),
       method=st.sampled_from(["GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH",
                               "OPTIONS", "HEAD", "BREW"]),
       safe=st.sampled_from(["", "/", ":@", "/%"]),
       query=st.one_of(st.none(), st.dictionaries(TEXT, TEXT, max_size=3)),
       body=st.one_of(st.none(), st.sampled_from(GOOD_BODIES), st.binary(max_size=50),
                      JSON_VALUES.map(lambda value: json.dumps(value).encode())))
def test_fuzz_serve_paths_and_methods(ref, path, method, safe, query, body):
    """Odd references in the path (percent-encoded text and bytes, path tricks, huge
    versions), every endpoint, odd methods, query strings, with and without a body."""
    from urllib.parse import quote

    raw = ref if isinstance(ref, bytes) else ref.encode("utf-8", "surrogatepass")
    url = path.replace("{ref}", quote(raw, safe=safe))
    options = {"params": query} if query else {}
    if body is not None:
        options.update(content=body, headers={"content-type": "application/json"})
    serve_request("serve-paths", method, url, **options)
