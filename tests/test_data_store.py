"""The data home: finding corpora, fetching (local HTTP server), importing, atomicity."""

from __future__ import annotations

import hashlib
import os
import http.server
import io
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from rnn_tui.data import catalog, load_corpus, store
from rnn_tui.data.catalog import Download
from rnn_tui.errors import DataError, NotFoundError, RnnTuiError, UserError

RATINGS = "id\tdocument\tlabel\n1\t재미있다\t1\n2\t지루하다\t0\n"


def quiet() -> Console:
    return Console(file=io.StringIO(), width=100)


def leftovers(folder: Path) -> list[str]:
    """Temporary files a write could have left behind."""
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith(".tmp") or ".tmp" in p.name)


# ---------------------------------------------------------------------------- a local server
class Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        if self.path.startswith("/broken/"):
            data = self.files[self.path.removeprefix("/broken")]
            self.send_response(200)
            self.send_header("Content-Length", str(len(data) * 2))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        data = self.files.get(self.path)
        if data is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    Handler.files = {}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield SimpleServer(httpd, Handler.files)
    httpd.shutdown()
    httpd.server_close()


class SimpleServer:
    def __init__(self, httpd, files):
        self.httpd = httpd
        self.files = files

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


def point_downloads(monkeypatch, name: str, kind: str, downloads: tuple[Download, ...]):
    info = catalog.CORPORA[name]
    monkeypatch.setitem(catalog.CORPORA, name, replace(info, downloads={kind: downloads}))


# ---------------------------------------------------------------------------- finding
def test_find_and_survey(data_home, builders):
    assert store.find("imdb") is None
    assert {s.info.name: s.presence for s in store.survey()}["series"].form.name == "generated"
    builders.keras_npz(data_home / "imdb" / "imdb.npz", x_train=[[1]], y_train=[0],
                       x_test=[[1]], y_test=[1])
    status = {s.info.name: s for s in store.survey()}["imdb"]
    assert status.presence is None
    assert [(form.name, missing) for form, missing in status.partial] == [
        ("Keras imdb.npz", ["imdb/imdb_word_index.json"])]
    tarball = builders.imdb_tarball(data_home / "imdb" / "aclImdb_v1.tar.gz")
    presence = store.find("imdb")
    assert presence.form.name == "aclImdb_v1.tar.gz" and presence.paths == [tarball]
    assert presence.size_bytes == tarball.stat().st_size
    assert store.find("imdb", kind="npz") is None
    with pytest.raises(NotFoundError, match="imdb/imdb_word_index.json"):
        store.require("imdb", kind="npz")


# ---------------------------------------------------------------------------- fetching
def test_fetch_downloads_checks_and_places_files(data_home, server, monkeypatch):
    server.files["/train.txt"] = RATINGS.encode()
    server.files["/test.txt"] = RATINGS.encode()
    point_downloads(monkeypatch, "nsmc", "tsv", (
        Download(server.url("/train.txt"), "nsmc/ratings_train.txt"),
        Download(server.url("/test.txt"), "nsmc/ratings_test.txt",
                 sha256=hashlib.sha256(RATINGS.encode()).hexdigest()),
    ))
    placed = store.fetch("nsmc", console=quiet())
    assert placed == [data_home / "nsmc" / "ratings_train.txt", data_home / "nsmc" / "ratings_test.txt"]
    assert all(p.read_text(encoding="utf-8") == RATINGS for p in placed)
    assert len(load_corpus("nsmc").train) == 2
    assert leftovers(data_home) == []
    # present files are kept unless --force
    placed[0].write_text(RATINGS + "3\t좋다\t1\n", encoding="utf-8")
    store.fetch("nsmc", console=quiet())
    assert "좋다" in placed[0].read_text(encoding="utf-8")
    store.fetch("nsmc", force=True, console=quiet())
    assert placed[0].read_text(encoding="utf-8") == RATINGS


def test_checksum_mismatch_keeps_nothing(data_home, server, monkeypatch):
    server.files["/x.txt"] = RATINGS.encode()
    point_downloads(monkeypatch, "nsmc", "tsv", (
        Download(server.url("/x.txt"), "nsmc/ratings_train.txt", md5="0" * 32),))
    with pytest.raises(DataError, match="checksum mismatch for http.*: md5"):
        store.fetch("nsmc", console=quiet())
    assert not (data_home / "nsmc" / "ratings_train.txt").exists()
    assert leftovers(data_home) == []


def test_wrong_content_is_not_stored(data_home, server, monkeypatch):
    server.files["/x.txt"] = b"<html>moved</html>\n"
    point_downloads(monkeypatch, "nsmc", "tsv", (Download(server.url("/x.txt"), "nsmc/ratings_train.txt"),))
    with pytest.raises(DataError, match="expected the header"):
        store.fetch("nsmc", console=quiet())
    assert not (data_home / "nsmc" / "ratings_train.txt").exists()
    assert leftovers(data_home) == []


def test_broken_connection_keeps_nothing(data_home, server, monkeypatch):
    server.files["/x.txt"] = RATINGS.encode() * 100
    point_downloads(monkeypatch, "nsmc", "tsv", (
        Download(server.url("/broken/x.txt"), "nsmc/ratings_train.txt"),))
    with pytest.raises(RnnTuiError, match="broke off"):
        store.fetch("nsmc", console=quiet())
    assert not (data_home / "nsmc" / "ratings_train.txt").exists()
    assert leftovers(data_home) == []


def test_http_error(data_home, server, monkeypatch):
    point_downloads(monkeypatch, "nsmc", "tsv", (Download(server.url("/gone.txt"), "nsmc/ratings_train.txt"),))
    with pytest.raises(RnnTuiError, match="answered 404"):
        store.fetch("nsmc", console=quiet())


def test_offline_fails_at_once_and_says_how_to_import(data_home, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    point_downloads(monkeypatch, "nsmc", "tsv", (
        Download(f"http://127.0.0.1:{port}/ratings_train.txt", "nsmc/ratings_train.txt"),))
    started = time.monotonic()
    with pytest.raises(RnnTuiError) as error:
        store.fetch("nsmc", console=quiet())
    assert time.monotonic() - started < 5
    message = str(error.value)
    assert "offline" in message and "rnn-tui data import nsmc PATH" in message
    assert not (data_home / "nsmc").exists() or leftovers(data_home) == []


def test_offline_dns_failure_message(data_home):
    import urllib.error

    def no_dns(*args, **kwargs):
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    with pytest.raises(RnnTuiError, match="Name or service not known.*rnn-tui data import imdb"):
        store.fetch("imdb", console=quiet(), opener=no_dns)


class InterruptedResponse:
    """A response whose second read is a Ctrl-C."""

    headers = {"Content-Length": "200000"}

    def __init__(self):
        self.reads = 0

    def read(self, size):
        self.reads += 1
        if self.reads > 1:
            raise KeyboardInterrupt
        return b"x" * size

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_ctrl_c_leaves_no_half_file(data_home):
    with pytest.raises(KeyboardInterrupt):
        store.fetch("imdb", console=quiet(), opener=lambda *a, **k: InterruptedResponse())
    assert not (data_home / "imdb" / "aclImdb_v1.tar.gz").exists()
    assert leftovers(data_home) == []


def test_fetch_refusals(data_home):
    with pytest.raises(UserError, match="generated on demand"):
        store.fetch("series")
    with pytest.raises(UserError, match="cannot be downloaded as 'sgml'"):
        store.fetch("imdb", kind="sgml")
    with pytest.raises(NotFoundError):
        store.fetch("nope")


# ---------------------------------------------------------------------------- importing
def test_import_nsmc_files_and_folder(data_home, tmp_path):
    source = tmp_path / "downloads"
    source.mkdir()
    (source / "ratings_train.txt").write_text(RATINGS, encoding="utf-8")
    (source / "ratings_test.txt").write_text(RATINGS, encoding="utf-8")
    written = store.import_("nsmc", source / "ratings_train.txt")
    assert written == [data_home / "nsmc" / "ratings_train.txt"]
    assert store.find("nsmc") is None  # the test file is still missing
    with pytest.raises(UserError, match="already in the data home"):
        store.import_("nsmc", source)
    written = store.import_("nsmc", source, force=True)
    assert sorted(p.name for p in written) == ["ratings_test.txt", "ratings_train.txt"]
    assert store.find("nsmc") is not None
    assert leftovers(data_home) == []


def test_import_checks_before_copying(data_home, tmp_path):
    bad = tmp_path / "ratings_train.txt"
    bad.write_text("id,document,label\n1,좋다,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="expected the header"):
        store.import_("nsmc", bad)
    assert not (data_home / "nsmc").exists()
    odd = tmp_path / "reviews.txt"
    odd.write_text(RATINGS, encoding="utf-8")
    with pytest.raises(DataError, match="rename the file"):
        store.import_("nsmc", odd)
    with pytest.raises(DataError, match="not found"):
        store.import_("nsmc", tmp_path / "missing.txt")
    with pytest.raises(UserError, match="generated on demand"):
        store.import_("multiplication", odd)
    (tmp_path / "page.html").write_text("<html></html>", encoding="utf-8")
    with pytest.raises(DataError, match="not an IMDB file"):
        store.import_("imdb", tmp_path / "page.html")


def test_import_imdb_tarball_and_folder(data_home, builders, tmp_path):
    tarball = builders.imdb_tarball(tmp_path / "my-copy.tar.gz")
    written = store.import_("imdb", tarball)
    assert written == [data_home / "imdb" / "aclImdb_v1.tar.gz"]
    assert len(load_corpus("imdb").train) == 4
    folder = builders.imdb_folder(tmp_path / "extracted")
    written = store.import_("imdb", folder.parent)  # the folder that holds aclImdb/ works too
    assert written == [data_home / "imdb" / "aclImdb"]
    assert (data_home / "imdb" / "aclImdb" / "train" / "pos" / "0_9.txt").is_file()
    assert load_corpus("imdb").form == "aclImdb folder"
    (folder / "train" / "pos" / "0_9.txt").write_text("changed", encoding="utf-8")
    store.import_("imdb", folder, force=True)  # replaces the whole folder
    assert (data_home / "imdb" / "aclImdb" / "train" / "pos" / "0_9.txt").read_text() == "changed"
    assert leftovers(data_home) == [] and not list((data_home / "imdb").glob(".aclImdb*"))


def test_import_reuters_files_and_shopping(data_home, builders, tmp_path):
    folder = tmp_path / "reuters"
    folder.mkdir()
    wires = [builders.reuters_wire(i, ("earn",)) for i in range(1, 30)]
    for name, data in builders.reuters_files(wires):
        (folder / name).write_bytes(data)
    written = store.import_("reuters", folder)
    assert len(written) == 22 and written[0] == data_home / "reuters21578" / "reut2-000.sgm"
    assert len(load_corpus("reuters", split="keras").train) == 23
    reviews = tmp_path / "shopping.tsv"
    reviews.write_text("5\t좋아요\n1\t별로\n", encoding="utf-8")
    assert store.import_("shopping", reviews) == [data_home / "shopping" / "naver_shopping.txt"]
    assert len(load_corpus("shopping").train) == 1


def test_import_from_the_data_home_itself_is_a_no_op(data_home, builders):
    tarball = builders.imdb_tarball(data_home / "imdb" / "aclImdb_v1.tar.gz")
    assert store.import_("imdb", tarball) == [tarball]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_data_home_is_a_data_error(data_home, tmp_path):
    source = tmp_path / "ratings_train.txt"
    source.write_text(RATINGS, encoding="utf-8")
    data_home.chmod(0o500)
    try:
        with pytest.raises(DataError, match="cannot"):
            store.import_("nsmc", source)
    finally:
        data_home.chmod(0o700)


def test_unwritable_data_home_is_a_data_error(tmp_path):
    source = tmp_path / "ratings_train.txt"
    source.write_text(RATINGS, encoding="utf-8")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the data home's folder should be", encoding="utf-8")
    with pytest.raises(DataError, match="cannot"):
        store.import_("nsmc", source, data_home=blocker)
