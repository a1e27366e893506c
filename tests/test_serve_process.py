"""``rnn-tui serve`` as a user runs it: a real uvicorn process on a free loopback port, real
HTTP requests (httpx), real signals and exit codes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from infer_helpers import make_vocabulary, pooled_lstm, publish_sentiment_pair, publish_version
from rnn_tui.registry import Registry
from serve_helpers import ServerProcess, free_port

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "models"
PREDICT = "/v1/models/imdb-sentiment/predict"


@pytest.fixture
def registry(isolated_home) -> Registry:
    publish_sentiment_pair(isolated_home / "models")
    return Registry(isolated_home / "models")


@pytest.fixture
def server(registry, tmp_path):
    process = ServerProcess("imdb-sentiment@prod", "nsmc-sentiment")
    registry.set_alias("imdb-sentiment", "prod", 1)
    process.start(tmp_path / "server.log")
    yield process
    process.stop()


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rnn_tui", *args], capture_output=True,
                          timeout=timeout, env=dict(os.environ, PYTHONIOENCODING="utf-8"))


def test_shipped_models_answer_as_predict_does(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_TUI_SHIPPED_MODELS", str(SHIPPED_DIR))
    server = ServerProcess().start(tmp_path / "server.log")
    try:
        models = httpx.get(server.url + "/v1/models").json()["models"]
        assert {m["name"] for m in models} >= {"imdb-sentiment", "nsmc-sentiment",
                                               "reuters-topics"}
        for name, texts, extra in [
                ("imdb-sentiment", ["An absolute delight, the cast is wonderful.",
                                    "Boring, predictable and far too long."], []),
                ("nsmc-sentiment", ["돈 아깝다 진짜 지루하고 스토리도 엉망"], []),
                ("reuters-topics", ["Crude oil prices rose after OPEC agreed to cut output."],
                 ["--top-k", "3"])]:
            body = {"texts": texts, **({"top_k": 3} if extra else {})}
            response = httpx.post(f"{server.url}/v1/models/{name}/predict", json=body)
            assert response.status_code == 200, response.text
            done = cli("predict", "-m", name, "--format", "jsonl", *extra, *texts)
            expected = [json.loads(line) for line in done.stdout.decode().splitlines()]
            assert response.json()["predictions"] == expected
            assert response.json()["model"] == f"{name}:1"
        # the server process never loaded TensorFlow (nor mapped its library)
        maps = Path(f"/proc/{server.process.pid}/maps")
        if maps.exists():
            assert "tensorflow" not in maps.read_text()
    finally:
        server.stop()


def test_endpoints_over_http(server):
    assert httpx.get(server.url + "/health").json() == {"status": "ok"}
    assert httpx.get(server.url + "/ready").json() == {"status": "ready"}
    names = [m["name"] for m in httpx.get(server.url + "/v1/models").json()["models"]]
    assert names == ["imdb-sentiment", "nsmc-sentiment"]
    response = httpx.post(server.url + "/v1/models/nsmc-sentiment/predict",
                          json={"texts": ["재미있을 줄 알았는데 완전 실망했다"]})
    assert response.json()["predictions"][0]["model"] == "nsmc-sentiment:1"
    response = httpx.post(server.url + PREDICT, content=b'{"texts": [',
                          headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]
    big = b'{"texts": ["' + b"x" * (5 * 1024 * 1024) + b'"]}'
    response = httpx.post(server.url + PREDICT, content=big,
                          headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "--max-body-bytes" in response.json()["detail"]
    response = httpx.post(server.url + "/v1/models/reuters-topics/predict",
                          json={"texts": ["a"]})
    assert response.status_code == 404
    assert "not served here" in response.json()["detail"]
    metrics = httpx.get(server.url + "/metrics").text
    assert 'rnn_tui_predict_requests_total{model="nsmc-sentiment",status="200"} 1.0' in metrics
    assert httpx.get(server.url + "/docs").status_code == 200
    assert "Traceback" not in server.output()
    # loopback unless told otherwise
    assert f"Uvicorn running on http://127.0.0.1:{server.port}" in server.output()


def test_alias_moved_every_few_tenths_under_load_fails_nothing(server, registry):
    """Clients keep asking while the alias moves between two versions: no request fails,
    each answer names a version the alias pointed to, and the last move is served within a
    second."""
    vocabulary = make_vocabulary()
    publish_version(registry.root, "imdb-sentiment",
                    lambda path: pooled_lstm(10, True, seed=9, write_to=path),
                    vocabulary=vocabulary)
    answers: list[tuple[int, str]] = []
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            while not stop.is_set():
                response = http.post(PREDICT, json={"texts": ["a wonderful film"]})
                model = response.json().get("model") if response.status_code == 200 else ""
                answers.append((response.status_code, model))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for move in range(8):
            registry.set_alias("imdb-sentiment", "prod", 2 if move % 2 == 0 else 1)
            time.sleep(0.3)
        registry.set_alias("imdb-sentiment", "prod", 2)
        moved = time.monotonic()
        while True:
            response = httpx.post(server.url + PREDICT, json={"texts": ["fine"]})
            if response.json()["model"] == "imdb-sentiment:2":
                break
            assert time.monotonic() - moved < 1.0, "the last move was not served in 1 s"
            time.sleep(0.02)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert answers and all(status == 200 for status, _ in answers), \
        [a for a in answers if a[0] != 200][:3]
    served = {model for _, model in answers}
    assert served <= {"imdb-sentiment:1", "imdb-sentiment:2"}
    assert served == {"imdb-sentiment:1", "imdb-sentiment:2"}


def test_sigterm_lets_the_request_in_flight_finish(server):
    """A request whose body is still arriving when SIGTERM comes is answered; then the
    process exits with code 0."""
    body = json.dumps({"texts": ["a wonderful film"]}).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Type: application/json\r\n"
                           b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                           + body[:10])
        time.sleep(0.3)
        server.process.send_signal(15)
        time.sleep(0.3)
        connection.sendall(body[10:])
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    assert b'"model": "imdb-sentiment:1"' in reply
    assert server.process.wait(timeout=30) == 0
    assert "Traceback" not in server.output()


def test_workers_and_token(registry, tmp_path):
    token = tmp_path / "token"
    token.write_text("0123456789abcdef0123456789abcdef\n")
    server = ServerProcess("imdb-sentiment", "--workers", "2", "--token-file", str(token))
    server.start(tmp_path / "server.log")
    try:
        good = {"Authorization": "Bearer 0123456789abcdef0123456789abcdef"}
        with httpx.Client(base_url=server.url) as http:
            assert http.post(PREDICT, json={"texts": ["fine"]}).status_code == 401
            for _ in range(20):
                assert http.post(PREDICT, json={"texts": ["fine"]}, headers=good
                                 ).status_code == 200
            # every worker's counts, summed (prometheus-client's multiprocess mode)
            metrics = http.get("/metrics", headers=good).text
        assert 'rnn_tui_predict_requests_total{model="imdb-sentiment",status="200"} 20.0' \
            in metrics
        assert server.terminate() == 0
    finally:
        server.stop()


def test_bad_starts_are_one_line_and_exit_2(registry, tmp_path):
    done = cli("serve", "imbd-sentiment", "--port", str(free_port()))
    assert done.returncode == 2
    assert done.stderr.decode().strip().startswith("rnn-tui: error: no model named 'imbd")
    token = tmp_path / "token"
    token.write_text("short")
    done = cli("serve", "--token-file", str(token), "--port", str(free_port()))
    assert done.returncode == 2
    assert "at least 16 printable characters" in done.stderr.decode()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = cli("serve", "--port", str(taken.getsockname()[1]))
    assert done.returncode == 2
    assert "choose another with --port" in done.stderr.decode()
    assert "Traceback" not in done.stderr.decode()


def test_help_stays_instant():
    done = cli("serve", "--help")
    assert done.returncode == 0
    code = ("import sys\nfrom rnn_tui.cli import main\n"
            "try:\n    main(['serve', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('heavy', sorted(m for m in ('fastapi', 'uvicorn', 'numpy', 'tensorflow')"
            " if m in sys.modules))\n")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert process.stdout.decode().splitlines()[-1] == "heavy []"
