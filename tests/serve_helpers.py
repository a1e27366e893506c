"""Helpers for the server tests: a real ``rnn-tui serve`` process on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """``python -m rnn_tui serve ARGS --port P`` started, waited for and stopped."""

    def __init__(self, *args: str, env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = None
        self.args = [sys.executable, "-m", "rnn_tui", "serve", *args, "--port", str(self.port)]
        self.env = dict(os.environ if env is None else env, PYTHONIOENCODING="utf-8")
        self.process: subprocess.Popen | None = None

    def start(self, log_path: Path, timeout: float = 60) -> ServerProcess:
        self.log = log_path
        self.process = subprocess.Popen(self.args, stdout=open(log_path, "wb"),
                                        stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}: "
                                     + log_path.read_text(errors="replace"))
            try:
                if httpx.get(self.url + "/ready", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError("the server was not ready in time: "
                             + log_path.read_text(errors="replace"))

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log else ""

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
