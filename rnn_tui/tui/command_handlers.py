"""What each slash command does in the workspace: one function per command, named in the
command's spec (``rnn_tui.tui.commands.COMMANDS``), called as ``handler(app, command)``.

A new command is a ``CommandSpec`` with its handler here. Handlers reach the app through its
public parts (``book``, ``say``, ``error``, ``show_pane``, ``transcript`` and the panes);
slow work goes to a thread worker (``app.run_worker``) that reports back through
``app.call_from_thread``. Widgets are imported inside the functions: ``commands.py``
imports this module, and the widgets import ``commands.py``.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from rnn_tui.errors import RnnTuiError, UserError
from rnn_tui.tui.model_book import AUTO

if TYPE_CHECKING:  # pragma: no cover
    from rnn_tui.tui.commands import SlashCommand


def run_help(app: Any, command: SlashCommand) -> None:
    # the app draws it: the help view reads the command table, which names these handlers
    app.show_help_in_chat(command.argument())


def run_clear(app: Any, command: SlashCommand) -> None:
    app.transcript.clear()


def run_model(app: Any, command: SlashCommand) -> None:
    book = app.require_book()
    ref = command.argument()
    if ref is None:
        sentiment = book.sentiment if book.sentiment != AUTO else (
            "auto (Hangul → nsmc-sentiment, otherwise imdb-sentiment)")
        app.say(f"sentiment: {sentiment}\ntopics: {book.topics}")
        return
    role, resolved = book.pin(ref)
    app.update_active()
    app.say(f"{role}: {resolved}" + (" (the language rule)" if resolved == AUTO else ""))
    app.registry.load(ref)


def run_summary(app: Any, command: SlashCommand) -> None:
    ref = command.argument() or app.require_book().sentiment_ref(app.live_text)[0]
    show_summary(app, ref, switch=True)


def show_summary(app: Any, ref: str, switch: bool) -> None:
    """``ref``'s card in the Summary pane (``switch``: and that pane shown)."""
    from rnn_tui.tui.widgets.summary_pane import SummaryPane

    version = app.require_book().registries.resolve(ref)
    pane = app.query_one("#summary-pane", SummaryPane)
    pane.ref = f"{version.ref}  ({version.source})"
    pane.card = version.card
    if switch:
        app.show_pane("summary")


def run_data(app: Any, command: SlashCommand) -> None:
    from rnn_tui.tui.widgets.data_pane import DataPane

    name = command.argument() or _default_dataset(app)
    app.query_one(DataPane).show(name)
    app.show_pane("data")


def _default_dataset(app: Any) -> str:
    book = app.require_book()
    ref = book.sentiment_ref(app.live_text)[0]
    try:
        dataset = (book.registries.resolve(ref).card.get("dataset") or {}).get("name")
    except RnnTuiError:
        dataset = None
    return dataset or "imdb"


def run_train(app: Any, command: SlashCommand) -> None:
    app.training_pane.start_train(command)
    app.show_pane("training")


def run_compare(app: Any, command: SlashCommand) -> None:
    """``/compare [DATASET]`` trains three runs, then compares them; ``/compare REF REF...``
    compares published models at once (``rnn-tui compare``'s table and curves)."""
    words = command.arguments
    if len(words) <= 1 and (not words or _is_corpus(words[0])):
        run_ids = app.training_pane.start_compare(command.argument())
        app.compare_pane.await_runs(run_ids)
        app.show_pane("training")
        return
    registries = app.require_book().registries
    refs = [registries.resolve(word).ref for word in words]  # an unknown one: said at once
    app.compare_pane.show_refs(refs)
    app.show_pane("compare")


def _is_corpus(word: str) -> bool:
    from rnn_tui.data import catalog, tabular

    return word in catalog.CORPORA or tabular.looks_like_path(word)


def run_tune(app: Any, command: SlashCommand) -> None:
    app.tune_pane.start_command(command, _default_dataset(app) if not command.arguments
                                else "")
    app.show_pane("tune")


def run_cancel(app: Any, command: SlashCommand) -> None:
    which = command.argument()
    cancelled = []
    if which in (None, "tune") and app.tune_pane.stop():
        cancelled.append("the search (its finished trials are kept)")
    elif which == "tune":
        raise UserError("no search to stop")
    if which != "tune":
        cancelled += app.training_pane.cancel(which)
    app.say(f"cancelling: {', '.join(cancelled)}" if cancelled else "no run to cancel")


def run_evaluate(app: Any, command: SlashCommand) -> None:
    from rnn_tui.tui.widgets.progress_line import ProgressLine

    book = app.require_book()
    ref = command.argument() or book.sentiment_ref(app.live_text)[0]
    version = book.registries.resolve(ref)
    line = app.transcript.add(ProgressLine(f"evaluating {version.ref}", "starting TensorFlow",
                                           classes="progress"))
    app.run_worker(partial(_evaluate, app, version.ref, line), thread=True, group="evaluate")


def _evaluate(app: Any, ref: str, line: Any) -> None:
    """``rnn-tui evaluate REF --json`` in a subprocess (TensorFlow stays out of the app): its
    progress events move ``line``, its report goes to the chat."""
    from rich.console import Group

    from rnn_tui.train.events import BatchEnded, Note
    from rnn_tui.tui.events_process import EventsProcess
    from rnn_tui.views.evaluation import evaluation_parts

    process = EventsProcess(["evaluate", ref, "--progress-events"])
    process.start()
    for event in process.events():
        if isinstance(event, Note):
            app.call_from_thread(line.stage, event.text)
        elif isinstance(event, BatchEnded):
            app.call_from_thread(line.stage, "scoring", event.step, event.steps)
    code = process.wait()
    app.call_from_thread(line.stop)
    report = process.result()
    if code != 0 or report is None:
        last = (process.stderr_tail or [f"exit code {code}"])[-1]
        app.call_from_thread(app.error, f"evaluating {ref} failed: {last}")
        return
    app.call_from_thread(app.say, Group(*evaluation_parts(report)))


def run_teach(app: Any, command: SlashCommand) -> None:
    app.command_teach(command)  # the teach loop lives in tui/correcting.py


def run_check(app: Any, command: SlashCommand) -> None:
    from rnn_tui.tui.widgets.progress_line import ProgressLine

    book = app.require_book()
    ref = command.argument() or book.sentiment_ref(app.live_text)[0]
    version = book.registries.resolve(ref)
    line = app.transcript.add(ProgressLine(f"checking {version.ref}", "loading",
                                           classes="progress"))
    app.run_worker(partial(_check, app, version, line), thread=True, group="check")


def _check(app: Any, version: Any, line: Any) -> None:
    """``rnn-tui check``'s suite on the runtime (no TensorFlow), in a thread: a second."""
    from rnn_tui.check.runner import check_predictor
    from rnn_tui.check.view import report_table
    from rnn_tui.infer import Predictor

    try:
        predictor = Predictor.load(version)  # its own copy: the live session keeps typing
        app.call_from_thread(line.stage, "scoring")
        # a card without a language gets the English suite (no --suite in the app)
        report = check_predictor(predictor, None if predictor.language else "en")
    except RnnTuiError as error:
        app.call_from_thread(line.stop)
        app.call_from_thread(app.error, str(error))
        return
    app.call_from_thread(line.stop)
    title = f"{version.ref}: {report.suite.title} ({report.tests} cases)"
    app.call_from_thread(app.say, report_table(report, title=title))
