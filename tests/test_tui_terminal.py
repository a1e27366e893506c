"""A real terminal: ``rnn-tui`` in tmux, reviews typed with send-keys, verdicts read back.

Nothing is simulated here: the installed ``rnn-tui`` script runs in a tmux pane (80x24,
UTF-8), keys arrive through the terminal, and ``capture-pane`` reads what it drew.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

RNN_TUI = Path(sys.executable).with_name("rnn-tui")


class TmuxPane:
    """One tmux session on a private socket, running a command."""

    def __init__(self, command: list[str], env: dict[str, str], size: tuple[int, int]):
        self.socket = f"rnn-tui-test-{uuid.uuid4().hex[:8]}"
        environment = " ".join(f"{key}={value}" for key, value in env.items())
        shell = f"env {environment} {' '.join(command)}; sleep 60"
        self.tmux("new-session", "-d", "-s", "test", "-x", str(size[0]), "-y", str(size[1]),
                  shell)

    def tmux(self, *arguments: str) -> str:
        result = subprocess.run(["tmux", "-u", "-L", self.socket, *arguments],
                                capture_output=True, text=True, timeout=20, check=True)
        return result.stdout

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "test", "-l", text)

    def press(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "test", *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "test")

    def wait_for(self, *texts: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if all(text in screen for text in texts):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{texts} not on the screen after {timeout} s:\n{screen}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def terminal(tiny_text_models, tmp_path):
    environment = {
        "RNN_TUI_HOME": str(tmp_path / "home"),
        "RNN_TUI_SHIPPED_MODELS": str(tiny_text_models),
        "LANG": "C.UTF-8",
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }
    pane = TmuxPane([str(RNN_TUI)], environment, (80, 24))
    yield pane
    pane.close()


def test_type_a_review_and_read_the_verdict(terminal):
    terminal.wait_for("English → imdb-sentiment:1 ready", "f1 Help")
    terminal.type("a wonderful brilliant film")
    screen = terminal.wait_for("imdb-sentiment:1 (auto:", "positive")
    assert "%" in screen.split("positive", 1)[1].splitlines()[0]
    terminal.press("Enter")
    # (the entry's topic trace may push the echoed line above an 80x24 screen)
    screen = terminal.wait_for("P(positive) per word", "brilliant")
    assert "wonderful" in screen and "│" in screen  # the word-by-word chart
    # Korean through the terminal: wide characters in, the Korean model out
    terminal.type("정말 최고 감동")
    screen = terminal.wait_for("nsmc-sentiment:1", "정말 최고 감동")
    assert "positive" in screen
    terminal.press("C-q")
    deadline = time.monotonic() + 10
    while "Sentiment" in terminal.screen() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Sentiment" not in terminal.screen()  # the app has quit and restored the screen


def test_a_slash_command_and_its_error_in_a_real_terminal(terminal):
    terminal.wait_for("f1 Help")
    terminal.type("/trian imdb")
    terminal.press("Enter")
    terminal.wait_for("unknown command /trian (did you mean /train?)")
    terminal.press("C-u")
    terminal.type("/data multiplication")
    terminal.press("Enter")
    terminal.wait_for("The multiplication problem", "2,560 examples", timeout=30)


def test_a_paste_holding_bel_and_escapes_is_text_in_a_real_terminal(terminal, tmp_path):
    """tmux pastes with bracketed-paste markers, as a terminal does: the BEL is not Ctrl+G
    (which would cancel the runs) and the escape sequences keep their place in the text."""
    terminal.wait_for("f1 Help")
    pasted = tmp_path / "paste.txt"
    pasted.write_bytes(b"A\x07B \x1b]0;x\x07 C\x1b[31mD")
    terminal.tmux("load-buffer", "-b", "hostile", str(pasted))
    terminal.tmux("paste-buffer", "-p", "-b", "hostile", "-t", "test")
    screen = terminal.wait_for("A␇B ␛]0;x␇ C␛[31mD")
    time.sleep(0.5)
    screen = terminal.screen()
    assert "/cancel" not in screen and "no run to cancel" not in screen
    terminal.press("Escape")  # the Escape key still works: to the chat, input kept
    terminal.press("F1")
    terminal.wait_for("rnn-tui help")
    terminal.press("Escape")
    deadline = time.monotonic() + 5
    while "rnn-tui help" in terminal.screen() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "rnn-tui help" not in terminal.screen()


def test_a_double_ctrl_q_during_training_leaves_at_once(terminal):
    """Ctrl+Q twice while /train runs: the terminal gets its screen back with the run named
    (never a blank screen while the run cleans up), and the run then stops by itself,
    publishing nothing."""
    terminal.wait_for("f1 Help")
    terminal.type("/train multiplication --dataset-option train_size=128 --arch gru:4 "
                  "--batch-size 32 --epochs 5000 --name tmux-quit")
    terminal.press("Enter")
    terminal.wait_for("epoch", "batch", timeout=120)
    # the words can be on the screen (the command's echo) before the run's process is up
    deadline = time.monotonic() + 120
    while not _training_pids("tmux-quit") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _training_pids("tmux-quit")
    terminal.press("C-q")
    terminal.wait_for("Quit?")
    terminal.press("C-q")
    screen = terminal.wait_for("cancelled: tmux-quit", timeout=10)
    assert "Sentiment" not in screen  # the app's screen is gone, the shell's is back
    deadline = time.monotonic() + 60
    while _training_pids("tmux-quit") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _training_pids("tmux-quit")


def _training_pids(name: str) -> list[str]:
    result = subprocess.run(["pgrep", "-f", "--", f"--name {name}"], capture_output=True, text=True)
    return result.stdout.split()
