"""Leaving the workspace: the process ends as soon as the app has exited, even while a
worker thread is still busy (a corpus loading, an evaluation's subprocess), instead of
leaving a blank terminal until the thread is done (issue 15: "after a double Ctrl+Q during
training the screen once stayed blank 6-16 s")."""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import sys, threading
    from textual import work
    from rnn_tui.tui.app import RnnTuiApp
    from rnn_tui.tui.launch import run_app

    started, never = threading.Event(), threading.Event()

    class BusyApp(RnnTuiApp):
        def on_mount(self):
            super().on_mount()
            self.stuck()
            self.set_interval(0.05, self.leave_once_stuck)

        @work(thread=True, group="stuck")
        def stuck(self):
            started.set()
            never.wait()  # a worker that never ends

        def leave_once_stuck(self):
            if started.is_set():
                self.exit(return_code=int(sys.argv[1]))

    run_app(BusyApp(), headless=True, size=(80, 24))
    print("not reached: run_app ends the process")
""")


def test_quitting_does_not_wait_for_a_busy_worker(tmp_path):
    """The app exits with a worker blocked for good: the process still ends, with the app's
    return code (run with a plain ``app.run()`` it would never end)."""
    result = subprocess.run([sys.executable, "-c", CHILD, "3"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 3, result.stderr[-2000:]
    assert "not reached" not in result.stdout
