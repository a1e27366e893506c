"""The rnn-tui workspace: chat with the models, train, inspect, browse corpora.

Layout: the model sidebar on the left; in the centre the panes (Chat, Training, Summary,
Data, Tune, Compare); below them the live verdicts and the input, which take text to
classify or a /command from any pane. The app composes the parts and routes their
messages: the registry watcher (``registry_watcher.py``) keeps the models listed and
loaded, the transcript is the chat, each command's handler (named in its spec,
``command_handlers.py``) does its work, and everything slow runs in workers: training,
evaluation and searches in subprocesses, corpora and models in threads, the live classifier always on the newest text (stale requests dropped).

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
from textual.widgets import Footer, TabbedContent, TabPane
from textual.worker import get_current_worker

from rnn_tui.errors import RnnTuiError, UserError
from rnn_tui.paths import input_history_path
from rnn_tui.tui.command_handlers import show_summary
from rnn_tui.tui.correcting import CORRECTION_BINDINGS, Correcting
from rnn_tui.tui.commands import (
    ARCH,
    COMMANDS,
    DATASET,
    MODEL,
    PRESET,
    RUN,
    SlashCommandProvider,
    SlashSuggester,
    is_command,
    parse_command,
    unknown_command,
)
from rnn_tui.tui.input_history import InputHistory
from rnn_tui.tui.messages import BookOpened, ModelLoaded, ModelsChanged, PreloadDone, VerdictsReady
from rnn_tui.tui.model_book import AUTO, DEFAULT_TOPICS, ModelBook
from rnn_tui.tui.registry_watcher import RegistryWatcher
from rnn_tui.tui.run_progress import FAILED, FINISHED
from rnn_tui.tui.verdicts import SENTIMENT, TOPICS, Absent
from rnn_tui.tui.widgets.chat_input import ChatInput
from rnn_tui.tui.widgets.compare_pane import ComparePane
from rnn_tui.tui.widgets.data_pane import DataPane
from rnn_tui.tui.widgets.help_screen import HelpScreen
from rnn_tui.tui.widgets.live_verdicts import LiveVerdicts
from rnn_tui.tui.widgets.model_sidebar import ModelSidebar
from rnn_tui.tui.widgets.summary_pane import SummaryPane
from rnn_tui.tui.widgets.training_pane import TrainingPane
from rnn_tui.tui.widgets.transcript import Transcript
from rnn_tui.tui.widgets.tune_pane import TunePane

PANES = Binding.Group("Panes")
QUIT_ARMED_S = 10.0  # a first Ctrl+Q during training waits this long for its answer
INLINE_CHARS = 2  # a text this close to the one judged last is judged on the event loop
WELCOME = ("type a movie review (English or Korean) or a news snippet: the verdicts update "
           "as you type, Enter keeps them here with the word-by-word trace. F1 or ? opens "
           "the help, /help CMD explains a command.")


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
        # not in the footer (60 columns hold four pane keys): the help lists them
        Binding("f9", "show_pane('tune')", "Tune", show=False),
        Binding("f10", "show_pane('compare')", "Compare", show=False),
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
        self._start_models = (sentiment, topics)
        self._on_first_paint = on_first_paint
        self._on_live_verdict = on_live_verdict
        self._typed_at = ("", 0.0)  # the newest text and when it was typed
        self.models: list[Any] = []
        self._listed = False  # the first listing announces nothing as new
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
        yield RegistryWatcher(*self._start_models, id="registry")
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
                    with TabPane("Tune", id="tune"):
                        yield TunePane(id="tune-pane")
                    with TabPane("Compare", id="compare"):
                        yield ComparePane(id="compare-pane")
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
        welcome = Text()
        welcome.append("rnn-tui", style="bold")
        welcome.append(" · " + WELCOME)
        self.say(welcome, "help")

    def _first_paint_done(self) -> None:
        """The screen is up: now the background work starts (threads started before would
        hold the GIL, and the import lock, while the first screen is drawn)."""
        if self._on_first_paint is not None:
            callback, self._on_first_paint = self._on_first_paint, None
            callback(time.perf_counter())
        self.registry.start()
        self.training_pane.watch_run_logs()

    # ------------------------------------------------------------------ parts
    @property
    def registry(self) -> RegistryWatcher:
        return self.query_one("#registry", RegistryWatcher)

    @property
    def book(self) -> ModelBook | None:
        """The models' book, once the registries are open (None before)."""
        watchers = self.query("#registry")
        return watchers.first(RegistryWatcher).book if watchers else None

    @property
    def models_listed(self) -> bool:
        """Whether the registry listing has been read (the sidebar is filled)."""
        return self._listed

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
    def training_pane(self) -> TrainingPane:
        return self.query_one(TrainingPane)

    @property
    def tune_pane(self) -> TunePane:
        return self.query_one(TunePane)

    @property
    def compare_pane(self) -> ComparePane:
        return self.query_one(ComparePane)

    @property
    def closing(self) -> bool:
        """True while the app shuts down: widgets are gone, worker messages still arrive."""
        return not self.query("#live")

    def say(self, content: Any, kind: str = "info") -> None:
        """Add a note to the transcript (``str`` is plain text, never markup)."""
        if not self.closing:
            self.transcript.note(content, kind)

    def error(self, message: str) -> None:
        self.say(f"✗ {message}", "error")

    def show_pane(self, pane: str) -> None:
        self.query_one("#panes", TabbedContent).active = pane

    def require_book(self) -> ModelBook:
        book = self.book
        if book is None:
            raise UserError("the registry is still opening; try again in a moment")
        return book

    def update_active(self) -> None:
        """Mark the active models in the sidebar."""
        book = self.book
        if book is not None and not self.closing:
            self.sidebar.active = {SENTIMENT: book.sentiment, TOPICS: book.topics}

    # ------------------------------------------------------------------ registry
    @on(BookOpened)
    def _book_opened(self) -> None:
        self.update_active()

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

    @on(ModelLoaded)
    def _model_loaded(self, message: ModelLoaded) -> None:
        if message.pinned and message.failure is not None:
            self.error(message.failure)
        self._reclassify()  # what is typed, or the readiness

    @on(PreloadDone)
    def _report_failures(self) -> None:
        """Say once in the chat why a model cannot be used (and how to get it)."""
        book = self.book
        if book is None or self.closing:
            return
        for ref, message in book.failures().items():
            if (ref, message) not in self._reported:
                self._reported.add((ref, message))
                self.say(book.explain(ref, message), "error")

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
            return self.training_pane.run_names() + (["tune"] if self.tune_pane.busy else [])
        return []

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
        book = self.book
        if book is not None and not self._judge_here(book, text):
            self._classify_live(text)

    def _judge_here(self, book: ModelBook, text: str) -> bool:
        """A keystroke on models already loaded costs one streaming step each (a fraction of
        a millisecond): judged on the event loop, without the two thread hops of a worker,
        which on a busy machine cost far more than the work. Anything bigger (a paste, a
        model still to load) goes to the worker. Returns True when judged here."""
        if abs(len(text) - len(self.live_text)) > INLINE_CHARS or not all(
                book.is_loaded(ref) for ref, _ in book.refs_for(text).values()):
            return False
        self._show_verdicts(text, book.verdicts(text, live=True))
        return True

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
        book = self.book
        if book is None:
            self.live.verdicts = {role: Absent(role, "opening the registry…", busy=True)
                                  for role in (SENTIMENT, TOPICS)}
        else:
            self.live.verdicts = book.readiness()

    @on(VerdictsReady)
    def _verdicts_ready(self, message: VerdictsReady) -> None:
        if not self.closing and message.text == self._last_text:  # else a newer one came
            self._show_verdicts(message.text, message.verdicts)

    def _show_verdicts(self, text: str, verdicts: dict[str, Any]) -> None:
        self.live.verdicts = verdicts
        self.live_text = text
        if self._on_live_verdict is not None and self._typed_at[0] == text:
            typed_at, report = self._typed_at[1], self._on_live_verdict
            # measured once the verdict is on the screen, not merely computed
            self.call_after_refresh(lambda: report(text, time.perf_counter() - typed_at))

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
                self.show_pane("chat")  # where it is said
            return
        self.show_pane("chat")
        if self.book is None:
            self.error("the registry is still opening; try again in a moment")
            return
        self.transcript.ask(self.book, text)

    @work(thread=True, group="history")
    def _save_history(self, history: InputHistory) -> None:
        history.save()  # a file write and two fsyncs: off the event loop

    # ------------------------------------------------------------------ commands
    def run_command_text(self, text: str, echo: bool = True) -> bool:
        """Run a slash command, echoed into the transcript first (as a shell shows what it
        runs); its spec names its handler. A bad one shows its error. Returns True when it
        ran."""
        if echo:
            self.transcript.command(text)
        try:
            command = parse_command(text)
            handler = command.spec.handler
            if handler is None:
                raise UserError(f"/{command.name} does nothing in the app")
            handler(self, command)
        except RnnTuiError as error:
            self.error(str(error))
            return False
        return True

    @on(ModelSidebar.ModelChosen)
    def _model_chosen(self, message: ModelSidebar.ModelChosen) -> None:
        if self.run_command_text(f"/model {message.ref}") and message.ref != AUTO:
            try:
                show_summary(self, message.ref, switch=False)
            except RnnTuiError as error:
                self.error(str(error))

    @on(TrainingPane.RunEnded)
    def _run_ended(self, message: TrainingPane.RunEnded) -> None:
        """Say in the transcript how a run ended (the card keeps the details): its notes
        first, in the order the run made them, then the outcome."""
        progress = message.progress
        for pane in self.query(ComparePane):  # none while the app shuts down
            pane.run_ended(message.run_id, progress)
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

    @on(TunePane.Ended)
    def _tune_ended(self, message: TunePane.Ended) -> None:
        if message.outcome == "failed":
            self.error(message.text)
        else:
            self.say(message.text)

    @on(ComparePane.Shown)
    def _comparison_shown(self, message: ComparePane.Shown) -> None:
        """The comparison of /compare's runs is ready: shown where the runs were watched,
        said in the chat otherwise."""
        if self.closing:
            return
        if self.query_one("#panes", TabbedContent).active == "training":
            self.show_pane("compare")
        self.say(f"compared {', '.join(message.refs)}: the Compare pane (F10)")

    def show_help_in_chat(self, command_name: str | None) -> None:
        """/help [COMMAND]: every command and key, or one command's options and examples."""
        from rnn_tui.tui.help_view import command_view, full_help

        view = full_help() if command_name is None else command_view(command_name)
        self.show_pane("chat")
        self.say(view, "help")

    # ------------------------------------------------------------------ actions
    def action_help(self) -> None:
        """F1 (or ? in an empty input): the help screen; F1 again or Esc closes it."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_show_pane(self, pane: str) -> None:
        self.show_pane(pane)

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
            self.show_pane("chat")
        chat_input.focus()

    def action_clear_transcript(self) -> None:
        self.transcript.clear()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Ctrl+G is offered (in the footer, too) only while a run can be stopped."""
        if action == "cancel_runs":
            return self._busy()
        if action == "detach_and_quit":
            return self._quit_armed
        return True

    def action_cancel_runs(self) -> None:
        self.run_command_text("/cancel")

    async def action_quit(self) -> None:
        """Quit; a run in progress is asked first: a second Ctrl+Q cancels it (cleanly, in its
        own process: the app does not wait) and quits, Ctrl+D leaves it training."""
        pane = self.training_pane
        if not self._busy():
            self.exit()
        elif not self._quit_armed:
            self._quit_armed = True
            self.refresh_bindings()
            self.set_timer(QUIT_ARMED_S, self._disarm_quit)  # Ctrl+D is the input's again
            self.notify("A run is training (or a search is going). Ctrl+Q again cancels it "
                        "(nothing is half-written) and quits; Ctrl+D quits and leaves it "
                        "training (rnn-tui runs watch NAME, or the next session, shows it).",
                        title="Quit?",
                        severity="warning", timeout=10)
        else:
            asked = pane.cancel_all_on_quit()
            if self.tune_pane.stop_on_quit(leave=False):
                asked.append("the search (its finished trials are kept)")
            self.exit(message=("cancelled: " + ", ".join(asked) + " (each stops after its "
                               "step and publishes nothing; rnn-tui runs list)")
                      if asked else None)

    def _busy(self) -> bool:
        """Whether this app's runs or its search are going (Ctrl+G stops them; quitting
        asks first)."""
        training, tune = self.query(TrainingPane), self.query(TunePane)
        return (bool(training) and training.first().busy) or (bool(tune) and tune.first().busy)

    def _disarm_quit(self) -> None:
        self._quit_armed = False
        self.refresh_bindings()

    def action_detach_and_quit(self) -> None:
        """Ctrl+D after a Ctrl+Q during training: quit, the runs go on (and publish)."""
        left = self.training_pane.detach_all()
        if self.tune_pane.stop_on_quit(leave=True):
            left.append("the search")
        self.exit(message=("left training: " + ", ".join(left) + " (rnn-tui runs list)")
                  if left else None)


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
