"""The teach loop in the app: mark a verdict wrong (F6 sentiment: the other label; F7
topics: pick one), undo the last correction (F8), ``/teach`` a model its corrections in the
Training pane, then say how the new version reads the corrected texts.

A mixin of ``RnnTuiApp`` (it uses the app's transcript, live verdicts, training pane and
``say``/``error``), kept apart so the loop reads in one place. The corrections themselves
are plain Python (``rnn_tui.tui.corrections_flow``).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.binding import Binding

from rnn_tui.errors import RnnTuiError, UserError
from rnn_tui.tui import corrections_flow
from rnn_tui.tui.commands import SlashCommand
from rnn_tui.tui.run_plans import RunPlan
from rnn_tui.tui.run_progress import FINISHED
from rnn_tui.tui.verdicts import SENTIMENT, Verdict, printable
from rnn_tui.tui.widgets.label_picker import LabelPicker
from rnn_tui.tui.widgets.training_pane import TrainingPane
from rnn_tui.tui.widgets.transcript_entry import TranscriptEntry

TEACH_LABEL = "teach "
PREVIEW = 40

CORRECTION_BINDINGS = [
    # F6 is in the footer (it fits 80 columns once the palette hint goes, see app.tcss);
    # F7 and F8 are in /help and the correction's own message
    Binding("f6", "correct('sentiment')", "Wrong"),
    Binding("f7", "correct('topics')", "Wrong topic", show=False),
    Binding("f8", "undo_correction", "Undo fix", show=False),
]
CORRECTION_KEYS = (
    ("F6", "the sentiment verdict is wrong: record the other label as a correction (of "
           "the text typed, else of the last one sent)"),
    ("F7", "the topic is wrong: pick the right one"),
    ("F8", "undo the last correction"),
)


class Correcting:
    """App mixin: correction keys, undo, /teach and its outcome."""

    _correction_notes: list[tuple[str, Any]]

    # ------------------------------------------------------------------ which verdict
    def _correction_target(self, role: str) -> tuple[str, Verdict, Any] | None:
        """(text, verdict, transcript entry or None): the text being typed if it has a
        verdict, else the last text sent."""
        live = getattr(self, "live")
        typed = self.query_one("#input").value
        if typed.strip() and not typed.lstrip().startswith("/"):
            verdict = live.verdicts.get(role)
            if typed == getattr(self, "live_text") and isinstance(verdict, Verdict):
                return typed, verdict, None
            return None  # its verdict is not in yet: never the last text's instead
        for entry in reversed(list(self.query(TranscriptEntry))):
            exchange = getattr(entry, "exchange", None)
            if exchange is not None:
                text, verdicts = exchange
                verdict = verdicts.get(role)
                return (text, verdict, entry) if isinstance(verdict, Verdict) else None
        return None

    def action_correct(self, role: str) -> None:
        target = self._correction_target(role)
        if target is None:
            self.error(f"no {role} verdict to correct yet: type or send a text first")
            return
        text, verdict, entry = target
        label = corrections_flow.flipped(verdict) if role == SENTIMENT else None
        if label is not None:
            self._record_correction(text, verdict, label, entry)
            return

        def picked(choice: str | None) -> None:
            if choice is not None:
                self._record_correction(text, verdict, choice, entry)

        self.push_screen(LabelPicker(f"{verdict.model} said {verdict.label}; the right "
                                     "label is:", verdict.labels, exclude=verdict.label),
                         picked)

    @work(thread=True, group="corrections")
    def _record_correction(self, text: str, verdict: Verdict, label: str, entry: Any) -> None:
        try:  # a file write under a lock: off the event loop
            corrections_flow.record(text, verdict, label)
        except RnnTuiError as error:
            self.call_from_thread(self.error, str(error))
            return
        self.call_from_thread(self._show_correction, text, verdict, label, entry)

    def _show_correction(self, text: str, verdict: Verdict, label: str, entry: Any) -> None:
        line = Text("  ✎ ", style="bold")
        if entry is None:
            preview = text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"
            line.append(f"“{printable(preview)}”: ")
        line.append(printable(label), style="bold")
        line.append(f", not {printable(verdict.label)} ({printable(verdict.model)}); "
                    "F8 undoes it, /teach learns it", style="dim")
        note = TranscriptEntry.note(line, "correction")
        transcript = getattr(self, "transcript")
        if entry is not None and entry.parent is transcript:
            transcript.mount(note, after=entry)
            transcript.call_after_refresh(note.scroll_visible, animate=False)
        else:
            transcript.add(note)
        self._correction_notes.append((corrections_flow.model_name(verdict), note))

    def action_undo_correction(self) -> None:
        if not self._correction_notes:
            self.error("no correction made in this session to undo")
            return
        name, note = self._correction_notes.pop()
        self._undo(name, note)

    @work(thread=True, group="corrections")
    def _undo(self, name: str, note: Any) -> None:
        from rnn_tui.teach.corrections import Corrections

        try:
            undone = Corrections.for_model(name).undo_last()
        except RnnTuiError as error:
            self.call_from_thread(self.error, str(error))
            return

        def done() -> None:
            if note.parent is not None:
                note.remove()
            if undone is None:
                self.say(f"no correction of {name} left to undo")
            else:
                self.say(f"undone: {undone.label} for “{undone.text[:PREVIEW]}”")

        self.call_from_thread(done)

    # ------------------------------------------------------------------ /teach
    def command_teach(self, command: SlashCommand) -> None:
        book = self.require_book()
        ref = command.argument() or book.sentiment_ref(getattr(self, "live_text"))[0]
        version = book.registries.resolve(ref)
        from rnn_tui.teach.corrections import Corrections, check_teachable

        card = version.card
        check_teachable(version.name, (card.get("input") or {}).get("kind", "text"),
                        card.get("task"), list(card.get("labels") or []))
        if not Corrections.for_model(version.name).read().corrections:
            raise UserError(f"no corrections of {version.name} yet: mark a wrong verdict with "
                            "F6 (sentiment) or F7 (topic) first")
        plan = RunPlan(f"{TEACH_LABEL}{version.name}",
                       ["teach", version.ref, *command.option_words()])
        self.query_one(TrainingPane).start_plans([plan])
        self.query_one("#panes").active = "training"

    # (named, not @on: Textual collects @on handlers from the app's own class body only)
    def on_training_pane_run_ended(self, message: TrainingPane.RunEnded) -> None:
        progress = message.progress
        if progress.label.startswith(TEACH_LABEL) and progress.status == FINISHED \
                and progress.model_ref:
            self._rescore(progress.model_ref)

    @work(thread=True, group="corrections")
    def _rescore(self, ref: str) -> None:
        try:
            rescored = corrections_flow.rescore(ref)
        except RnnTuiError as error:
            self.call_from_thread(self.error, str(error))
            return
        def show() -> None:  # the effect is what /teach was run for: show it in the chat
            self.query_one("#panes").active = "chat"
            self.say("✓ " + rescored.summary())
            transcript = getattr(self, "transcript")
            transcript.call_after_refresh(transcript.scroll_end, animate=False)

        self.call_from_thread(show)
