"""Running the workspace in a terminal, and leaving it at once.

Textual runs thread workers in asyncio's default executor, whose threads Python joins before
the process ends. A worker still busy when the user quits (reading IMDB for ``/data``,
waiting on ``/evaluate``'s subprocess, a model loading) would keep the process alive after
the app has restored the terminal: a blank screen for seconds, with no way to tell why. So
once the app has exited, the process ends without waiting for them: nothing they do needs
finishing (files that must survive are written atomically; a training run is a process of
its own, asked to stop or left to train by the quit itself).

>>> run_app(RnnTuiApp())                                    # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any


def run_app(app: Any, **run_options: Any) -> int:
    """Run ``app`` (a Textual App) until it exits, then end the process with its return
    code, not waiting for worker threads. An exception from the app propagates (and the
    process ends the ordinary way)."""
    from rnn_tui.tui.events_process import cancel_leftovers_now

    # Our own loop: asyncio.run() would wait for the executor's threads on its way out.
    loop = asyncio.new_event_loop()
    app.run(loop=loop, **run_options)
    cancel_leftovers_now()  # runs neither cancelled nor left by the quit (none, normally)
    code = app.return_code or 0
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: nothing more to say
            pass
    os._exit(code)
