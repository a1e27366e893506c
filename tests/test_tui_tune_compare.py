"""/tune and /compare in the workspace, at the reference size (80x24).

The panes draw the CLI's own views (``tune.view.trial_table``, ``compare.view``) fitted to
their width: what does not fit is dropped whole, never cut. The fast tests feed the panes
the events a search writes and real runtime models published without TensorFlow; the slow
ones run a real search (``rnn-tui tune --json``, TensorFlow in its own process) and the
three /compare runs on tiny data.
"""

from __future__ import annotations

import re

import pytest

from infer_helpers import make_vocabulary, pooled_lstm, publish_version, text_input
from rnn_tui.compare.facts import ModelFacts
from rnn_tui.train.events import Note
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.run_plans import RunPlan
from rnn_tui.tui.run_progress import FAILED, RunProgress
from rnn_tui.tui.widgets.compare_pane import FactsMeasured
from rnn_tui.tui.widgets.tune_pane import TuneEvent, TuneExited
from rnn_tui.tune.events import TrialsChanged
from rnn_tui.tune.view import TrialRow
from tui_helpers import submit, transcript_text, wait_for

LONG_PARAMS = {"arch": "lstm", "units": 64, "embedding_dim": 32, "spatial_dropout": 0.2,
               "pool": "max", "learning_rate": 0.00123, "maxlen": 200, "num_words": 20000,
               "ngrams": 2}


def screen_lines(app) -> list[str]:
    """The screen as it is drawn, one string per row."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def pane_lines(app, widget) -> list[str]:
    """The rows of the screen that ``widget`` covers, cut to its columns."""
    region = widget.region
    return [line[region.x:region.right].rstrip()
            for line in screen_lines(app)[region.y:region.bottom]]


def trials(count: int, best: int) -> list[TrialRow]:
    states = ["complete", "pruned (budget)", "failed (invalid: units must be 1 or more)",
              "complete", "running"]
    return [TrialRow(number, states[number % 5], dict(LONG_PARAMS, units=60 + number),
                     [0.7, 0.75, 0.8, 0.81][: number % 4 + 1],
                     0.8 + number / 1000 if states[number % 5] == "complete" else None,
                     60.0 + number, best=number == best)
            for number in range(count)]


async def show_search(app, pilot, rows: list[TrialRow]) -> None:
    pane = app.tune_pane
    pane.plan = RunPlan("tune imdb", ["tune", "--dataset", "imdb"])
    pane.post_message(TuneEvent(TrialsChanged(study="imdb-default", metric="val_accuracy",
                                              rows=rows)))
    await pilot.press("f9")
    await pilot.pause(0.3)


# ------------------------------------------------------------------ /tune
async def test_the_trial_table_is_complete_at_80x24_with_the_best_starred():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await show_search(app, pilot, trials(30, best=3))
        table = app.query_one("#tune-table")
        lines = [line for line in pane_lines(app, table) if line]
        assert lines[0].split() == ["#", "state", "params", "by", "epoch", "value", "time"]
        rows = {int(match.group(1)): line for line in lines[1:]
                if (match := re.match(r"(?:★ )?(\d+) ", line))}
        # the newest trials and the best (older than them) fill the table's rows, no more
        assert 29 in rows and 3 in rows and rows[3].startswith("★ 3")
        assert len(rows) == len(lines) - 1 <= table.region.height - 1
        for number, line in rows.items():
            # every column that is shown is whole: the state's word, the value, the time
            assert line.endswith(f"  {60 + number}s"), line
            value = f"{0.8 + number / 1000:.4f}" if number % 5 in (0, 3) else "-"
            assert f"  {value}  " in line, line
            state = line.removeprefix("★ ").split()[1]
            assert state in ("complete", "pruned:", "failed:", "running"), line
        assert any("pruned: budget" in line for line in rows.values())
        assert any("failed: invalid" in line for line in rows.values())
        # the best trial is highlighted, and its params are given in full below the table
        assert row_is_bold(app, table.region.y + lines.index(rows[3]))
        assert not row_is_bold(app, table.region.y + lines.index(rows[29]))
        best = app.query_one("#tune-best")
        text = " ".join(pane_lines(app, best))
        assert "★ best: trial 3, val_accuracy 0.8030" in text
        assert "learning_rate=0.00123" in text and "num_words=20000" in text
        assert all(len(line) <= 80 for line in screen_lines(app))


def row_is_bold(app, y: int) -> bool:
    """Whether the text on screen row ``y`` is drawn bold (the best trial's highlight)."""
    strip = app.screen._compositor.render_strips()[y]
    return all(segment.style is not None and segment.style.bold
               for segment in strip if segment.text.strip())


async def test_columns_that_do_not_fit_are_dropped_whole():
    app = RnnTuiApp()
    async with app.run_test(size=(60, 24)) as pilot:
        await show_search(app, pilot, trials(4, best=0))
        lines = [line for line in pane_lines(app, app.query_one("#tune-table")) if line]
        assert "time" not in lines[0] and "by epoch" not in lines[0]
        assert all(not re.search(r"\d+s$", line) for line in lines[1:])  # no time cut short
        assert all(line.rstrip().endswith(("-", "0.8000", "0.8030", "value")) for line in lines)


async def test_help_tune_describes_the_pane_and_its_options():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await submit(pilot, "/help tune")
        text = " ".join(transcript_text(app, width=400).split())
        assert "/tune [DATASET] [--budget 20m] [--trials N] [--study NAME]" in text
        for words in ("Tune pane", "best so far", "Ctrl+G", "finished ones", "--budget",
                      "--trials N", "--study NAME", "/tune imdb --budget 20m", "published"):
            assert words in text, words


async def test_bad_tune_commands_are_refused_before_any_process_starts():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        for command, words in (("/tune nosuchcorpus", "unknown corpus 'nosuchcorpus'"),
                               ("/tune imdb --budget soon", "--budget takes a duration"),
                               ("/tune imdb --space /nonexistent/space.yaml", "space.yaml"),
                               ("/tune imdb --name Bad/Name", "Bad/Name"),
                               ("/tune imdb --trials many", "--trials needs a whole number"),
                               ("/cancel tune", "no search to stop")):
            await submit(pilot, command)
            assert words in transcript_text(app, width=200), command
        assert not app.tune_pane.busy and app.tune_pane.process is None


async def test_the_end_of_a_search_is_said_in_the_chat():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await show_search(app, pilot, trials(3, best=0))
        pane = app.tune_pane
        pane.post_message(TuneEvent(Note(text="best: trial 0", topic="tune")))
        pane.post_message(TuneExited(130, "rnn-tui: stopped; the finished trials are kept"))
        await wait_for(pilot, lambda: "■ tune imdb-default: stopped; the finished trials "
                       "are kept" in transcript_text(app, width=200), what="the chat's report")
        await pilot.pause()
        shown = " ".join(pane_lines(app, app.query_one("#tune-retrain")))
        assert "stopped; the finished trials are kept" in shown  # the pane says it too
        assert not app.query_one("#tune-stop").display  # nothing left to stop
        pane.outcome = ""
        pane.post_message(TuneExited(2, "rnn-tui: error: --metric val_mae: a binary task "
                                        "logs val_loss, val_accuracy"))
        await wait_for(pilot, lambda: "✗ tune failed: --metric val_mae: a binary task logs"
                       in transcript_text(app, width=200), what="the failure")


async def test_a_real_search_process_reports_its_table_and_why_it_failed(tmp_path):
    """``rnn-tui tune --json`` in its own process, without TensorFlow: an empty study asked
    only to publish its best (--trials 0) sends its (empty) table, then fails, and says why."""
    from train_support import text_corpus, write_csv

    corpus = write_csv(tmp_path / "reviews.csv", text_corpus("binary", train=24, test=8))
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await submit(pilot, f"/tune {corpus} --trials 0 --study empty-study")
        pane = app.tune_pane
        assert pane.busy and app.query_one("#panes").active == "tune"
        await wait_for(pilot, lambda: pane.outcome, timeout=60, what="the search's end")
        assert pane.study == "empty-study" and pane.metric == "val_accuracy"  # its table
        assert pane.outcome == "failed" and not pane.busy
        await wait_for(pilot, lambda: "✗ tune failed: study empty-study: no trial has "
                       "completed yet" in transcript_text(app, width=200), timeout=10,
                       what="the chat's report")


# ------------------------------------------------------------------ /compare
def facts(name: str, units: int, accuracy: float) -> ModelFacts:
    return ModelFacts(f"compare-multiplication-{name}:1", "multiplication",
                      f"{name}:32 {name}:32", "binary", {"accuracy": accuracy, "loss": 0.3},
                      units * 1000, 456_789, 33.0,
                      {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.7, 0.5],
                       "accuracy": [0.5, 0.7, accuracy], "val_accuracy": [0.5, 0.6, 0.8]},
                      0.25)


async def test_the_comparison_is_complete_at_80x24():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.compare_pane
        models = [facts("simplernn", 12, 0.9), facts("lstm", 40, 0.95), facts("gru", 31, 0.93)]
        pane.post_message(FactsMeasured(models))
        await wait_for(pilot, lambda: pane.models, what="the comparison")
        await pilot.press("f10")
        await pilot.pause(0.3)
        lines = pane_lines(app, pane)
        text = "\n".join(lines)
        assert "models compare-multiplication-…" in text  # the common prefix, said once
        header = next(line for line in lines if line.startswith("model"))
        assert header.split() == ["model", "accuracy", "loss", "params", "size", "train",
                                  "ms/key"]  # arch would not fit: dropped whole
        assert re.search(r"^lstm:1 +0\.9500 +0\.3000 +40,000 +456\.8 KB +33s +0\.25$", text,
                         re.MULTILINE)
        # the overlaid curves below, both panels, every model in the legend
        assert "val_loss" in text and "val_accuracy" in text and "epoch" in text
        assert text.count("simplernn:1") >= 3 and text.count("gru:1") >= 3
        assert all(len(line) <= 80 for line in screen_lines(app))


def publish_compared(root, name: str, accuracy: float, cell: str) -> None:
    """A real runtime model (no TensorFlow) with the card facts a training writes."""
    publish_version(
        root, name, lambda path: pooled_lstm(10, True, cell=cell, write_to=path),
        vocabulary=make_vocabulary(), model_input=text_input(10),
        extra_card={"metrics": {"test": {"accuracy": accuracy, "loss": 0.4}},
                    "params": {"total": 1234}, "architecture": {"arch": cell},
                    "training": {"train_s": 12.0},
                    "history": {"loss": [0.7, 0.5], "val_loss": [0.72, 0.6]}})


async def test_compare_published_models_by_reference(isolated_home):
    publish_compared(isolated_home / "models", "toy-lstm", 0.81, "lstm")
    publish_compared(isolated_home / "models", "toy-gru", 0.84, "gru")
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.book is not None, what="the registry")
        await submit(pilot, "/compare toy-lstm toy-gru@latest")
        assert app.query_one("#panes").active == "compare"
        pane = app.compare_pane
        await wait_for(pilot, lambda: len(pane.models) == 2, what="the facts")
        assert [model.ref for model in pane.models] == ["toy-lstm:1", "toy-gru:1"]
        assert all(model.keystroke_ms and model.keystroke_ms > 0 for model in pane.models)
        await pilot.pause(0.3)
        text = "\n".join(pane_lines(app, pane))
        assert re.search(r"^gru:1 +gru +0\.8400 +0\.4000 +1,234 .* 12s +\d+\.\d\d$", text,
                         re.MULTILINE), text
        assert "models toy-…" in text and "val_loss" in text
        await submit(pilot, "/compare toy-lstm no-such-model")
        assert "no-such-model" in transcript_text(app, width=200)


async def test_compare_waits_for_its_runs_and_says_when_none_published():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.compare_pane
        pane.await_runs(["run-1", "run-2"])
        assert "waiting for 2 training runs" in pane.status.plain
        failed = RunProgress("lstm", status=FAILED, message="boom")
        pane.run_ended("run-1", failed)
        assert pane.pending == {"run-2"}
        pane.run_ended("run-9", failed)  # not one of its runs
        pane.run_ended("run-2", failed)
        await pilot.pause()
        assert pane.status.plain == "no run published a model: nothing to compare"


# ------------------------------------------------------------------ real runs (TensorFlow)
TINY_SPACE = """\
epochs: 2
settings: {maxlen: 10, batch_size: 16}
params:
  arch: [gru, lstm]
  units: {low: 2, high: 6}
  embedding_dim: [4, 8]
"""


@pytest.fixture
def tiny_search(tmp_path):
    from train_support import text_corpus, write_csv

    space = tmp_path / "space.yaml"
    space.write_text(TINY_SPACE)
    return write_csv(tmp_path / "reviews.csv", text_corpus("binary", train=96, test=16)), space


@pytest.mark.slow
async def test_tune_searches_shows_the_table_and_publishes_the_best(tiny_search):
    corpus, space = tiny_search
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.book is not None, what="the registry")
        await submit(pilot, f"/tune {corpus} --space {space} --trials 2 --study tui "
                            "--name tui-tuned")
        assert app.query_one("#panes").active == "tune"
        pane = app.tune_pane
        assert pane.busy and "Stop" in "\n".join(pane_lines(app, pane))
        await pilot.press(*"typing on")  # the app stays responsive meanwhile
        assert app.query_one("#input").value == "typing on"
        await wait_for(pilot, lambda: pane.outcome, timeout=300, what="the search to end")
        assert pane.outcome == "finished", transcript_text(app, width=200)
        assert [row.number for row in pane.rows] == [0, 1]
        assert sum(row.best for row in pane.rows) == 1
        lines = pane_lines(app, app.query_one("#tune-table"))
        assert any(line.startswith("★ ") for line in lines)
        assert pane.retrain is not None and pane.retrain.model_ref == "tui-tuned:1"
        await wait_for(pilot, lambda: any(summary.name == "tui-tuned" for summary in app.models),
                       timeout=20, what="the model list")
        await wait_for(pilot, lambda: "✓ tune tui: published tui-tuned:1" in
                       transcript_text(app, width=200), timeout=10, what="the chat's report")


@pytest.mark.slow
async def test_stopping_a_search_keeps_the_finished_trials(tiny_search, isolated_home):
    import optuna

    corpus, space = tiny_search
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.book is not None, what="the registry")
        await submit(pilot, f"/tune {corpus} --space {space} --trials 50 --study tui-stop")
        pane = app.tune_pane
        await wait_for(pilot, lambda: any(not row.state.startswith("running")
                                          for row in pane.rows),
                       timeout=300, what="a finished trial")
        await pilot.press("ctrl+g")  # the Stop key
        await wait_for(pilot, lambda: pane.outcome, timeout=120, what="the stop")
        assert pane.outcome == "stopped"
    study = optuna.load_study(study_name="tui-stop",
                              storage=f"sqlite:///{isolated_home / 'tune' / 'studies.db'}")
    states = [trial.state.name for trial in study.get_trials(deepcopy=False)]
    assert states[0] in ("COMPLETE", "PRUNED") and "RUNNING" not in states
    assert not (isolated_home / "models" / "reviews-tuned").exists()


@pytest.mark.slow
async def test_compare_trains_then_shows_the_comparison(monkeypatch):
    from rnn_tui.tui import run_plans

    monkeypatch.setattr(run_plans, "MULTIPLICATION_ARGUMENTS",
                        ["--epochs", "1", "--dataset-option", "train_size=128"])
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await submit(pilot, "/compare")
        assert app.query_one("#panes").active == "training"
        pane = app.compare_pane
        await wait_for(pilot, lambda: len(pane.models) == 3, timeout=400,
                       what="the three runs and their comparison")
        # shown where the runs were watched (the app switches once the pane has them)
        await wait_for(pilot, lambda: app.query_one("#panes").active == "compare",
                       timeout=10, what="the Compare pane")
        await pilot.pause(0.3)
        text = "\n".join(pane_lines(app, pane))
        for ref in ("simplernn:1", "lstm:1", "gru:1"):
            assert re.search(rf"^{ref} ", text, re.MULTILINE), text
        assert "models compare-multiplication-…" in text and "val_loss" in text
