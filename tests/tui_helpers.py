"""Helpers shared by the TUI tests: typing a command, reading the transcript as text,
waiting for a condition."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable

from rich.console import Console


async def submit(pilot, text: str) -> None:
    """Put ``text`` into the chat input and press Enter."""
    chat_input = pilot.app.query_one("#input")
    chat_input.focus()
    chat_input.value = text
    await pilot.press("enter")
    await pilot.pause()


def plain(renderable, width: int = 100) -> str:
    """A rich renderable as plain text, ``width`` cells wide."""
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def transcript_text(app, width: int = 100) -> str:
    """Every transcript entry's text, in order."""
    return "\n".join(plain(entry.content, width) for entry in app.transcript.children)


async def wait_for(pilot, condition: Callable[[], object], timeout: float = 30.0,
                   what: str = "condition") -> None:
    """Let the app run until ``condition()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await pilot.pause(0.05)
        await asyncio.sleep(0)
