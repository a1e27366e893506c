"""The rnn-tui workspace: chat with the models, train, inspect, browse corpora.

Layout: the model sidebar on the left; in the centre the panes (Chat, Training, Summary,
Data); below them the live verdicts and the input, which take text to classify or a /command
from any pane. Everything slow runs in workers: predictors load after the first paint,
the live classifier always judges the newest text (stale requests are dropped), training runs
in a subprocess whose JSON events a thread reads, corpora load in a thread.

>>> RnnTuiApp().run()                                   # doctest: +SKIP
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, TabbedContent, TabPane
from textual.worker import get_current_worker

from rnn_tui.errors import RnnTuiError, UserError
from rnn_tui.paths import input_history_path
from rnn_tui.tui.correcting import CORRECTION_BINDINGS, Correcting
from rnn_tui.tui.commands import (
    ARCH,
    COMMANDS,
    DATASET,
    MODEL,
    PRESET,
    RUN,
    SlashCommand,
    SlashCommandProvider,
    SlashSuggester,
    is_command,
    parse_command,
    unknown_command,
)
from rnn_tui.tui.help_view import command_view, full_help
from rnn_tui.tui.input_history import InputHistory
from rnn_tui.tui.model_book import AUTO, DEFAULT_TOPICS, ModelBook, roles_of
from rnn_tui.tui.run_progress import FAILED, FINISHED
from rnn_tui.tui.training_process import TrainingProcess
from rnn_tui.tui.verdicts import SENTIMENT, TOPICS, Absent, Verdict
from rnn_tui.tui.widgets.chat_input import ChatInput
from rnn_tui.tui.widgets.data_pane import DataPane
from rnn_tui.tui.widgets.help_screen import HelpScreen
from rnn_tui.tui.widgets.live_verdicts import LiveVerdicts
from rnn_tui.tui.widgets.model_sidebar import ModelSidebar
from rnn_tui.tui.widgets.progress_line import ProgressLine
from rnn_tui.tui.widgets.summary_pane import SummaryPane
from rnn_tui.tui.widgets.training_pane import TrainingPane
from rnn_tui.tui.widgets.transcript import Transcript
from rnn_tui.tui.widgets.transcript_entry import TranscriptEntry

REGISTRY_POLL_S = 1.0
PANES = Binding.Group("Panes")
QUIT_ARMED_S = 10.0  # a first Ctrl+Q during training waits this long for its answer


class VerdictsReady(Message):
    """A worker judged ``text``; ``entry`` is the transcript entry to fill, if any."""

    def __init__(self, text: str, verdicts: dict[str, Verdict | Absent],
                 entry: TranscriptEntry | None = None) -> None:
        super().__init__()
        self.text = text
        self.verdicts = verdicts
        self.entry = entry


class ModelsChanged(Message):
    """The registry listing was (re)read."""

    def __init__(self, models: list[Any], roles: dict[str, str | None], warnings: list[str]
                 ) -> None:
        super().__init__()
        self.models = models
        self.roles = roles
        self.warnings = warnings


class RnnTuiApp(Correcting, App[None]):
    """The workspace. ``sentiment``/``topics`` choose the starting models ("auto": by language).

    For benchmarks: ``on_first_paint(perf_counter)`` is called once, after the first screen
    has been drawn; ``on_live_verdict(text, seconds)`` each time live verdicts are shown, with
    the time since the keystroke that made ``text``.
    """

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere work too
    TITLE = "rnn-tui"
    COMMANDS = App.COMMANDS | {SlashCommandProvider}
    # -tiny (under 80 columns) is -narrow with a shorter footer
    HORIZONTAL_BREAKPOINTS = [(0, "-tiny"), (80, "-narrow"), (100, "-wide")]
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        # One footer item for the four panes: the footer fits 80 columns with room for the
        # focused widget's own keys (Tab in the input, Ctrl+L in the transcript...).
        Binding("f2", "show_pane('chat')", "Chat", group=PANES),
        Binding("f3", "show_pane('training')", "Training", group=PANES),
        Binding("f4", "show_pane('summary')", "Summary", group=PANES),
        Binding("f5", "show_pane('data')", "Data", group=PANES),
        Binding("ctrl+b", "toggle_sidebar", "Models"),
        Binding("ctrl+g", "cancel_runs", "Stop"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        # only once a quit during training was asked for (else Ctrl+D is the input's)
        Binding("ctrl+d", "detach_and_quit", "Leave it training", priority=True, show=False),
        Binding("ctrl+l", "clear_transcript", "Clear", show=False),
        Binding("escape", "focus_input", "Input", show=False),
        *CORRECTION_BINDINGS,
    ]

    def __init__(self, sentiment: str = AUTO, topics: str = DEFAULT_TOPICS,
                 on_first_paint: Any = None, on_live_verdict: Any = None) -> None:
        super().__init__()
        self._start_sentiment = sentiment
        self._start_topics = topics
        self._on_first_paint = on_first_paint
        self._on_live_verdict = on_live_verdict
        self._typed_at = ("", 0.0)  # the newest text and when it was typed
        self.book: ModelBook | None = None
        self.models: list[Any] = []
        self._listed = False  # the first listing announces nothing as new
        self._generation: str | None = None
        self._last_text = ""
        self.live_text = ""  # the text the live verdicts shown are about
        self._correction_notes = []  # (model name, note) of this session's corrections
        self._reported: set[tuple[str, str]] = set()
        self._quit_armed = False
        self._failed_text: str | None = None  # a failed command put back in the input

    def get_driver_class(self) -> Any:
        """The terminal driver; on POSIX one whose pastes stay text (``paste_guard``)."""
        from textual.drivers.linux_driver import LinuxDriver

        from rnn_tui.tui.paste_guard import PasteSafeDriver

        driver = super().get_driver_class()
        return PasteSafeDriver if driver is LinuxDriver else driver

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        with Horizontal(id="workspace"):
            yield ModelSidebar(id="sidebar")
            with Vertical(id="main"):
                with TabbedContent(id="panes", initial="chat"):
                    with TabPane("Chat", id="chat"):
                        yield Transcript(id="transcript")
                    with TabPane("Training", id="training"):
                        yield TrainingPane(id="training-pane")
                    with TabPane("Summary", id="summary"):
                        yield SummaryPane(id="summary-pane")
                    with TabPane("Data", id="data"):
                        yield DataPane(id="data-pane")
                yield LiveVerdicts(id="live")
                yield ChatInput(
                    placeholder="Type a review or a news snippet, or /help",
                    suggester=SlashSuggester(self.completion_candidates),
                    history=InputHistory(input_history_path()),
                    id="input",
                )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#input", ChatInput).focus()
        self.call_after_refresh(self._first_paint_done)
        self._welcome()
        self.set_interval(REGISTRY_POLL_S, self._poll_registry)
        self._open_registry()

    def _first_paint_done(self) -> None:
        if self._on_first_paint is not None:
            callback, self._on_first_paint = self._on_first_paint, None
            callback(time.perf_counter())

    def _welcome(self) -> None:
        text = Text()
        text.append("rnn-tui", style="bold")
        text.append(" · type a movie review (English or Korean) or a news snippet: the verdicts "
                    "update as you type, Enter keeps them here with the word-by-word trace. "
                    "F1 or ? opens the help, /help CMD explains a command.")
        self.transcript.add(TranscriptEntry.note(text, "help"))

    # ------------------------------------------------------------------ accessors
    @property
    def transcript(self) -> Transcript:
        return self.query_one("#transcript", Transcript)

    @property
    def live(self) -> LiveVerdicts:
        return self.query_one("#live", LiveVerdicts)

    @property
    def sidebar(self) -> ModelSidebar:
        return self.query_one("#sidebar", ModelSidebar)

    @property
    def closing(self) -> bool:
        """True while the app shuts down: widgets are gone, worker messages still arrive."""
        return not self.query("#live")

    def say(self, content: Any, kind: str = "info") -> None:
        """Add a note to the transcript (``str`` is plain text, never markup)."""
        if self.closing:
            return
        self.transcript.add(TranscriptEntry.note(content, kind))

    def error(self, message: str) -> None:
        self.say(f"✗ {message}", "error")

    # ------------------------------------------------------------------ registry
    @work(thread=True, group="registry-open")
    def _open_registry(self) -> None:
        """Open the registries, list the models and preload the active ones."""
        from rnn_tui.registry import open_registries

        registries = open_registries()
        book = ModelBook(registries, sentiment=self._start_sentiment,
                         topics=self._start_topics)
        self.call_from_thread(self._set_book, book)
        self._read_models(book)
        self._preload(book)

    def _set_book(self, book: ModelBook) -> None:
        self.book = book
        self._update_active()

    def _read_models(self, book: ModelBook) -> None:
        generation = book.registries.generation()
        listing = book.registries.list_models()
        self._generation = generation
        self.post_message(ModelsChanged(list(listing), roles_of(listing),
                                        [str(w) for w in listing.warnings]))

    def _preload(self, book: ModelBook) -> None:
        """Load the models typing will need first, then the others, reporting each."""
        for ref in dict.fromkeys([book.sentiment_ref("")[0], book.topics,
                                  book.sentiment_ref("한")[0]]):
            if get_current_worker().is_cancelled:
                return
            book.try_load(ref)
            self.call_from_thread(self._reclassify)  # what is typed, or the readiness
        self.call_from_thread(self._report_failures)

    def _report_failures(self) -> None:
        """Say once in the chat why a model cannot be used (and how to get it)."""
        assert self.book is not None
        if self.closing:
            return
        for ref, message in self.book.failures().items():
            if (ref, message) not in self._reported:
                self._reported.add((ref, message))
                self.say(self.book.explain(ref, message), "error")

    def _poll_registry(self) -> None:
        if self.book is not None and self._generation is not None:
            self._check_registry()

    @work(thread=True, exclusive=True, group="registry-poll")
    def _check_registry(self) -> None:
        """Once a second: a publish, a removal or a moved alias updates the list and reloads
        what became stale (a cheap check when nothing changed)."""
        book = self.book
        if book is None or book.registries.generation() == self._generation:
            return
        book.refresh()
        self._read_models(book)
        self._preload(book)  # the stale ones, and any that were missing before

    @on(ModelsChanged)
    def _models_changed(self, message: ModelsChanged) -> None:
        if self.closing:
            return

        def versions(models: list[Any]) -> set[tuple[str, str]]:
            return {(summary.ref, summary.source) for summary in models}

        new = versions(message.models) - versions(self.models)
        if self._listed and new:
            self.say("new in the registry: " + ", ".join(
                ref + ("" if source == "user" else f" ({source})") for ref, source in sorted(new)))
        for warning in message.warnings:
            self.say(f"registry: {warning}", "error")
        self.models = message.models
        self._listed = True
        self.sidebar.roles = message.roles
        self.sidebar.models = message.models
        self._show_idle_state()

    def _update_active(self) -> None:
        if self.book is not None and not self.closing:
            self.sidebar.active = {SENTIMENT: self.book.sentiment, TOPICS: self.book.topics}

    # ------------------------------------------------------------------ completion
    def completion_candidates(self, kind: str) -> list[str]:
        """Values a command argument of ``kind`` may take now (for completion and palette)."""
        if kind == MODEL:
            return [summary.name for summary in self.models]
        if kind == DATASET:
            from rnn_tui.data import catalog

            return catalog.names()
        if kind == ARCH:
            from rnn_tui.nets.zoo import arch_names

            return arch_names()
        if kind == PRESET:
            from rnn_tui.train.presets import preset_names

            return preset_names()
        if kind == RUN:
            return self._run_names()
        return []

    def _run_names(self) -> list[str]:
        return self.query_one(TrainingPane).run_names()

    def prefill_input(self, text: str) -> None:
        chat_input = self.query_one("#input", ChatInput)
        chat_input.value = text
        chat_input.cursor_position = len(text)
        chat_input.focus()

    # ------------------------------------------------------------------ typing
    @on(TabbedContent.TabActivated, "#panes")
    def _pane_shown(self) -> None:
        self._fit_live()

    def _fit_live(self) -> None:
        """The live verdicts show on the Chat pane, and anywhere while something is typed;
        the other panes get their rows (at 80x24 a chart needs them)."""
        if not self.closing:
            self.live.display = (self.query_one("#panes", TabbedContent).active == "chat"
                                 or bool(self._last_text.strip()))

    @on(ChatInput.Changed, "#input")
    def _typed(self, event: ChatInput.Changed) -> None:
        text = event.value
        self._last_text = text
        self._typed_at = (text, time.perf_counter())
        self._fit_live()
        if is_command(text):
            self.live.hint = "" if text == self._failed_text else _command_hint(text)
            return
        self.live.hint = ""
        if not text.strip():
            self._show_idle_state()
            return
        if self.book is not None:
            self._classify_live(text)

    @work(thread=True, exclusive=True, group="live")
    def _classify_live(self, text: str) -> None:
        """Judge the newest text; a newer keystroke makes this one stale, and it is dropped."""
        book = self.book
        if book is None or get_current_worker().is_cancelled:
            return
        verdicts = book.verdicts(text, live=True)
        if not get_current_worker().is_cancelled:
            self.post_message(VerdictsReady(text, verdicts))

    def _reclassify(self) -> None:
        if self.closing:
            return
        if self._last_text.strip() and not is_command(self._last_text):
            self._classify_live(self._last_text)
        else:
            self._show_idle_state()

    def _show_idle_state(self) -> None:
        """With nothing typed, the live area says which model is ready, loading or missing."""
        if self._last_text.strip():
            return
        if self.book is None:
            self.live.verdicts = {role: Absent(role, "opening the registry…", busy=True)
                                  for role in (SENTIMENT, TOPICS)}
        else:
            self.live.verdicts = self.book.readiness()

    @on(VerdictsReady)
    def _verdicts_ready(self, message: VerdictsReady) -> None:
        if self.closing:
            return
        if message.entry is not None:
            message.entry.show_verdicts(message.text, message.verdicts,
                                        width=self.transcript.content_size.width)
        elif message.text == self._last_text:
            self.live.verdicts = message.verdicts
            self.live_text = message.text
            if self._on_live_verdict is not None and self._typed_at[0] == message.text:
                typed_at, report = self._typed_at[1], self._on_live_verdict
                # measured once the verdict is on the screen, not merely computed
                self.call_after_refresh(
                    lambda: report(message.text, time.perf_counter() - typed_at))

    @on(ChatInput.Submitted, "#input")
    def _submitted(self, event: ChatInput.Submitted) -> None:
        text = event.value
        chat_input = self.query_one("#input", ChatInput)
        if not text.strip():
            return
        if chat_input.remember(text):
            self._save_history(chat_input.input_history)
        if is_command(text):  # (the input emptied itself on Enter)
            if not self.run_command_text(text):
                # The error is in the transcript, once; the text comes back, selected, to
                # be fixed or typed over (never appended to) unless typing went on already.
                if not chat_input.value:
                    self._failed_text = text  # no hint for it: the error is said
                    chat_input.value = text
                    chat_input.select_all()
                self.live.hint = ""
                self.query_one("#panes", TabbedContent).active = "chat"  # where it is said
            return
        self.query_one("#panes", TabbedContent).active = "chat"
        if self.book is None:
            self.error("the registry is still opening; try again in a moment")
            return
        entry = self.transcript.add(TranscriptEntry.pending(text))
        self._classify_submitted(text, entry)

    @work(thread=True, group="submit")
    def _classify_submitted(self, text: str, entry: TranscriptEntry) -> None:
        assert self.book is not None
        verdicts = self.book.verdicts(text, live=False, trace=True)
        self.post_message(VerdictsReady(text, verdicts, entry))

    @work(thread=True, group="history")
    def _save_history(self, history: InputHistory) -> None:
        history.save()  # a file write and two fsyncs: off the event loop

    # ------------------------------------------------------------------ commands
    def run_command_text(self, text: str, echo: bool = True) -> bool:
        """Run a slash command, echoed into the transcript first (as a shell shows what it
        runs); a bad one shows its error. Returns True when it ran."""
        if echo:
            self.transcript.add(TranscriptEntry.command(text))
        try:
            command = parse_command(text)
            handler = getattr(self, f"command_{command.name}")
            handler(command)
        except RnnTuiError as error:
            self.error(str(error))
            return False
        return True

    def command_help(self, command: SlashCommand) -> None:
        name = command.argument()
        view = full_help() if name is None else command_view(name)
        self.query_one("#panes", TabbedContent).active = "chat"
        self.say(view, "help")

    def command_clear(self, command: SlashCommand) -> None:
        self.transcript.clear()

    def command_model(self, command: SlashCommand) -> None:
        book = self._require_book()
        ref = command.argument()
        if ref is None:
            sentiment = book.sentiment if book.sentiment != AUTO else (
                "auto (Hangul → nsmc-sentiment, otherwise imdb-sentiment)")
            self.say(f"sentiment: {sentiment}\ntopics: {book.topics}")
            return
        role, resolved = book.pin(ref)
        self._update_active()
        self.say(f"{role}: {resolved}" + (" (the language rule)" if resolved == AUTO else ""))
        self._after_pin(ref)

    @work(thread=True, group="load")
    def _after_pin(self, ref: str) -> None:
        book = self.book
        assert book is not None
        if ref != AUTO:
            result = book.try_load(ref)
            if isinstance(result, str):
                self.call_from_thread(self.error, result)
        self.call_from_thread(self._reclassify)

    @on(ModelSidebar.ModelChosen)
    def _model_chosen(self, message: ModelSidebar.ModelChosen) -> None:
        if self.run_command_text(f"/model {message.ref}") and message.ref != AUTO:
            try:
                self._show_summary(message.ref, switch=False)
            except RnnTuiError as error:
                self.error(str(error))

    def command_summary(self, command: SlashCommand) -> None:
        ref = command.argument() or self._require_book().sentiment_ref(self.live_text)[0]
        self._show_summary(ref, switch=True)

    def _show_summary(self, ref: str, switch: bool) -> None:
        version = self._require_book().registries.resolve(ref)
        pane = self.query_one("#summary-pane", SummaryPane)
        pane.ref = f"{version.ref}  ({version.source})"
        pane.card = version.card
        if switch:
            self.query_one("#panes", TabbedContent).active = "summary"

    def command_data(self, command: SlashCommand) -> None:
        name = command.argument() or self._default_dataset()
        self.query_one(DataPane).show(name)
        self.query_one("#panes", TabbedContent).active = "data"

    def _default_dataset(self) -> str:
        book = self._require_book()
        ref = book.sentiment_ref(self.live_text)[0]
        try:
            dataset = (book.registries.resolve(ref).card.get("dataset") or {}).get("name")
        except RnnTuiError:
            dataset = None
        return dataset or "imdb"

    def command_train(self, command: SlashCommand) -> None:
        self.query_one(TrainingPane).start_train(command)
        self.query_one("#panes", TabbedContent).active = "training"

    def command_compare(self, command: SlashCommand) -> None:
        self.query_one(TrainingPane).start_compare(command.argument())
        self.query_one("#panes", TabbedContent).active = "training"

    @on(TrainingPane.RunEnded)
    def _run_ended(self, message: TrainingPane.RunEnded) -> None:
        """Say in the transcript how a run ended (the card keeps the details): its notes
        first, in the order the run made them, then the outcome."""
        progress = message.progress
        for note in progress.notes:
            self.say(f"  {progress.label}: {note}")
        if progress.status == FINISHED:
            metrics = ", ".join(f"{key} {value:.4g}" for key, value in
                                progress.test_metrics.items())
            text = f"✓ {progress.label}: published {progress.model_ref}" if progress.model_ref \
                else f"✓ {progress.label}: finished (not published)"
            self.say(text + (f"; test {metrics}" if metrics else ""))
        elif progress.status == FAILED:
            self.error(f"{progress.label} failed: {progress.message}")
        else:
            self.say(f"■ {progress.label}: {progress.message}")

    def command_cancel(self, command: SlashCommand) -> None:
        cancelled = self.query_one(TrainingPane).cancel(command.argument())
        self.say(f"cancelling: {', '.join(cancelled)}" if cancelled else "no run to cancel")

    def command_evaluate(self, command: SlashCommand) -> None:
        book = self._require_book()
        ref = command.argument() or book.sentiment_ref(self.live_text)[0]
        version = book.registries.resolve(ref)
        line = self.transcript.add(ProgressLine(f"evaluating {version.ref}",
                                                "starting TensorFlow", classes="progress"))
        self._evaluate(version.ref, line)

    @work(thread=True, group="evaluate")
    def _evaluate(self, ref: str, line: ProgressLine) -> None:
        """``rnn-tui evaluate REF --json`` in a subprocess: its progress events move ``line``,
        its report goes to the chat."""
        import json

        from rnn_tui.train.events import BatchEnded, Note

        process = TrainingProcess(["evaluate", ref, "--progress-events"])
        process.start()
        for event in process.events():
            if isinstance(event, Note):
                self.call_from_thread(line.stage, event.text)
            elif isinstance(event, BatchEnded):
                self.call_from_thread(line.stage, "scoring", event.step, event.steps)
        code = process.wait()
        self.call_from_thread(line.stop)
        try:
            report = json.loads("\n".join(process.other_output))
        except ValueError:
            report = None
        if code != 0 or not isinstance(report, dict):
            last = (process.stderr_tail or [f"exit code {code}"])[-1]
            self.call_from_thread(self.error, f"evaluating {ref} failed: {last}")
            return
        self.call_from_thread(
            lambda: self.say(evaluation_view(report, self.transcript.size.width)))

    def command_check(self, command: SlashCommand) -> None:
        book = self._require_book()
        ref = command.argument() or book.sentiment_ref(self.live_text)[0]
        version = book.registries.resolve(ref)
        line = self.transcript.add(ProgressLine(f"checking {version.ref}", "loading",
                                                classes="progress"))
        self._check(version, line)

    @work(thread=True, group="check")
    def _check(self, version: Any, line: ProgressLine) -> None:
        """``rnn-tui check``'s suite on the runtime (no TensorFlow), in a thread: a second."""
        from rnn_tui.check.runner import check_predictor
        from rnn_tui.check.view import report_table
        from rnn_tui.infer import Predictor

        try:
            predictor = Predictor.load(version)  # its own copy: the live session keeps typing
            self.call_from_thread(line.stage, "scoring")
            # a card without a language gets the English suite (no --suite in the app)
            report = check_predictor(predictor, None if predictor.language else "en")
        except RnnTuiError as error:
            self.call_from_thread(line.stop)
            self.call_from_thread(self.error, str(error))
            return
        self.call_from_thread(line.stop)
        title = f"{version.ref}: {report.suite.title} ({report.tests} cases)"
        self.call_from_thread(self.say, report_table(report, title=title))

    def _require_book(self) -> ModelBook:
        if self.book is None:
            raise UserError("the registry is still opening; try again in a moment")
        return self.book

    # ------------------------------------------------------------------ actions
    def action_help(self) -> None:
        """F1 (or ? in an empty input): the help screen; F1 again or Esc closes it."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_show_pane(self, pane: str) -> None:
        self.query_one("#panes", TabbedContent).active = pane

    def action_toggle_sidebar(self) -> None:
        """Ctrl+B: go to the model list (showing it if hidden); from the list, hide it."""
        model_list = self.sidebar.query_one("#model-list")
        if self.sidebar.display and not model_list.has_focus:
            model_list.focus()
            return
        self.screen.toggle_class("-sidebar-toggled")
        if self.sidebar.display:
            model_list.focus()
        else:
            self.action_focus_input()

    def action_focus_input(self) -> None:
        """Esc: back to the input (and to the chat, when the input already had the focus)."""
        chat_input = self.query_one("#input", ChatInput)
        if chat_input.has_focus:
            self.action_show_pane("chat")
        chat_input.focus()

    def action_clear_transcript(self) -> None:
        self.transcript.clear()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Ctrl+G is offered (in the footer, too) only while a run can be stopped."""
        if action == "cancel_runs":
            panes = self.query(TrainingPane)
            return bool(panes) and panes.first().busy
        if action == "detach_and_quit":
            return self._quit_armed
        return True

    def action_cancel_runs(self) -> None:
        self.run_command_text("/cancel")

    async def action_quit(self) -> None:
        """Quit; a run in progress is first cancelled cleanly (a second Ctrl+Q confirms)."""
        pane = self.query_one(TrainingPane)
        if not pane.busy:
            self.exit()
        elif not self._quit_armed:
            self._quit_armed = True
            self.refresh_bindings()
            self.set_timer(QUIT_ARMED_S, self._disarm_quit)  # Ctrl+D is the input's again
            self.notify("A run is training. Ctrl+Q again cancels it (nothing is half-written) "
                        "and quits; Ctrl+D quits and leaves it training (rnn-tui runs watch "
                        "NAME, or the next session, shows it).", title="Quit?",
                        severity="warning", timeout=10)
        else:
            self.notify("Cancelling the runs…")
            self._cancel_then_exit(pane)

    def _disarm_quit(self) -> None:
        self._quit_armed = False
        self.refresh_bindings()

    def action_detach_and_quit(self) -> None:
        """Ctrl+D after a Ctrl+Q during training: quit, the runs go on (and publish)."""
        left = self.query_one(TrainingPane).detach_all()
        self.exit(message=("left training: " + ", ".join(left) + " (rnn-tui runs list)")
                  if left else None)

    @work(thread=True, group="quit")
    def _cancel_then_exit(self, pane: Any) -> None:
        pane.cancel_all_now()
        self.call_from_thread(self.exit)


def evaluation_view(report: dict[str, Any], width: int) -> Text:
    """The evaluate command's own report, drawn as it draws it in a terminal."""
    import io

    from rich.console import Console

    from rnn_tui.cli.evaluate import render_report

    console = Console(file=io.StringIO(), width=max(width, 40), force_terminal=True,
                      color_system="truecolor", highlight=False)
    render_report(report, console)
    return Text.from_ansi(console.file.getvalue())


def _command_hint(text: str) -> str:
    """The usage line of the command being typed, for the live area."""
    name = text.strip()[1:].split(" ")[0].lower()
    if name in COMMANDS:
        spec = COMMANDS[name]
        return f"{spec.usage}\n{spec.summary}"
    matches = [spec for key, spec in COMMANDS.items() if key.startswith(name)]
    if not matches:
        return unknown_command(name)
    return "   ".join(f"/{spec.name}" for spec in matches)
