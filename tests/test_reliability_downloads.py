"""Downloads against a real HTTP server on 127.0.0.1 that cuts connections: a dropped
connection is resumed with a Range request (or restarted where the server ignores Range),
a checksum mismatch never replaces the copy already there, and a publisher without a
checksum is held to the sha256 and size of the first download.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import socket
import threading
from dataclasses import replace

import pytest
from rich.console import Console

from rnn_tui.data import catalog, store
from rnn_tui.data.catalog import Download
from rnn_tui.errors import DataError, RnnTuiError

# A valid NSMC file of about 600 kB, so a cut lands mid-file.
BODY = ("id\tdocument\tlabel\n" + "".join(f"{i}\t리뷰 {i} 재미있다\t{i % 2}\n"
                                          for i in range(1, 20_000))).encode()
TARGET = "nsmc/ratings_train.txt"


class CuttingHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``body``; the first ``cuts`` responses stop after ``cut_at`` bytes and drop
    the connection. Honours ``Range: bytes=N-`` unless ``ranges`` is False."""

    body = BODY
    cuts = 0
    cut_at = 100_000
    ranges = True
    requests: list[str | None] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        cls = type(self)
        wanted = self.headers.get("Range")
        cls.requests.append(wanted)
        start = 0
        if wanted and cls.ranges and wanted.startswith("bytes=") and wanted.endswith("-"):
            start = int(wanted[len("bytes="):-1])
            self.send_response(206)
            self.send_header("Content-Range",
                             f"bytes {start}-{len(cls.body) - 1}/{len(cls.body)}")
        else:
            self.send_response(200)
        data = cls.body[start:]
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Accept-Ranges", "bytes" if cls.ranges else "none")
        self.end_headers()
        if cls.cuts > 0:
            cls.cuts -= 1
            self.wfile.write(data[:cls.cut_at])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(data)


@pytest.fixture
def server(data_home, monkeypatch):
    CuttingHandler.body, CuttingHandler.cuts, CuttingHandler.ranges = BODY, 0, True
    CuttingHandler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CuttingHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(store, "RETRY_PAUSE_S", 0.0)
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def point_at(monkeypatch, httpd, **checksum) -> Download:
    download = Download(f"http://127.0.0.1:{httpd.server_address[1]}/ratings_train.txt",
                        TARGET, **checksum)
    info = catalog.CORPORA["nsmc"]
    monkeypatch.setitem(catalog.CORPORA, "nsmc", replace(info, downloads={"tsv": (download,)}))
    return download


def fetch(**options):
    console = Console(file=io.StringIO(), width=100)
    placed = store.fetch("nsmc", console=console, **options)
    return placed, console.file.getvalue()


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".tmp" in p.name)


def test_a_dropped_connection_is_resumed_with_a_range_request(data_home, server, monkeypatch):
    point_at(monkeypatch, server, sha256=hashlib.sha256(BODY).hexdigest())
    CuttingHandler.cuts = 2
    placed, shown = fetch()
    assert placed[0].read_bytes() == BODY
    assert CuttingHandler.requests == [None, "bytes=100000-", "bytes=200000-"]
    assert "resuming (attempt 2 of 4)" in shown
    assert leftovers(data_home) == []


def test_a_server_without_ranges_is_restarted_from_the_start(data_home, server, monkeypatch):
    point_at(monkeypatch, server, sha256=hashlib.sha256(BODY).hexdigest())
    CuttingHandler.cuts, CuttingHandler.ranges = 1, False
    placed, _ = fetch()
    assert placed[0].read_bytes() == BODY  # the first 100 kB were not kept twice
    assert CuttingHandler.requests == [None, "bytes=100000-"]


def test_a_connection_that_keeps_dropping_keeps_nothing(data_home, server, monkeypatch):
    point_at(monkeypatch, server)
    (data_home / "nsmc").mkdir(parents=True)
    old = data_home / TARGET
    old.write_bytes(BODY[:5000])
    CuttingHandler.cuts, CuttingHandler.cut_at = 10, 10
    with pytest.raises(RnnTuiError, match="broke off 4 times"):
        fetch(force=True)
    assert old.read_bytes() == BODY[:5000] and len(CuttingHandler.requests) == 4
    assert leftovers(data_home) == []


def test_a_checksum_mismatch_keeps_the_copy_already_there(data_home, server, monkeypatch):
    point_at(monkeypatch, server, sha256=hashlib.sha256(BODY).hexdigest())
    placed, _ = fetch()
    CuttingHandler.body = BODY.replace(b"\t1\n", b"\t0\n")  # a tampered copy upstream
    with pytest.raises(DataError, match="checksum mismatch.*copy already there was kept"):
        fetch(force=True)
    assert placed[0].read_bytes() == BODY
    assert leftovers(data_home) == []


def test_without_a_published_checksum_the_first_download_is_the_reference(
        data_home, server, monkeypatch):
    point_at(monkeypatch, server)
    placed, _ = fetch()
    record = store.recorded_checksums(data_home)[TARGET]
    assert record["sha256"] == hashlib.sha256(BODY).hexdigest() and record["size"] == len(BODY)
    fetch(force=True)  # the same file again: fine
    CuttingHandler.body = BODY.replace(b"\t1\n", b"\t0\n")
    with pytest.raises(DataError, match="differs from the first download.*copy already there "
                                        "was kept"):
        fetch(force=True)
    assert placed[0].read_bytes() == BODY
    os.remove(placed[0])  # the user's way of accepting the new file
    fetch()
    assert placed[0].read_bytes() == CuttingHandler.body
    assert store.recorded_checksums(data_home)[TARGET]["sha256"] == hashlib.sha256(
        CuttingHandler.body).hexdigest()


def test_the_catalog_says_how_each_download_is_verified():
    for info in catalog.CORPORA.values():
        for downloads in info.downloads.values():
            for download in downloads:
                if download.checksum is None:
                    assert "first download" in info.checksum_note, info.name
