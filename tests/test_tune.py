"""``rnn-tui tune``: the space file, bad input, a real search on a tiny corpus (table, card,
alias, resume), two processes on one SQLite study, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from rnn_tui.errors import DataError
from rnn_tui.tune.space import apply_params, default_space, load_space
from rnn_tui.tune.study import direction_of, parse_budget
from train_support import run_cli, text_corpus, write_csv

TINY_SPACE = """\
epochs: 2
settings: {maxlen: 10, batch_size: 16}
params:
  arch: [gru, lstm]
  units: {low: 2, high: 6}
  embedding_dim: [4, 8]
  learning_rate: {low: 1.0e-3, high: 1.0e-2, log: true}
"""


@pytest.fixture
def reviews_csv(tmp_path):
    return write_csv(tmp_path / "reviews.csv", text_corpus("binary", train=96, test=16))


@pytest.fixture
def tiny_space(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text(TINY_SPACE)
    return path


def tune_process(args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "rnn_tui", "tune", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy(), **kwargs)


def finish(process, timeout=400):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def study_trials(home, name):
    import optuna

    study = optuna.load_study(study_name=name,
                              storage=f"sqlite:///{home / 'tune' / 'studies.db'}")
    return study.get_trials(deepcopy=False)


# ------------------------------------------------------------------ the space
def test_space_file_reads_choices_ranges_and_fixed_values(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(TINY_SPACE + "  maxlen: 12\n  ngrams: [0, 2]\n")
    space = load_space(path)
    assert space.epochs == 2 and space.settings == {"maxlen": 10, "batch_size": 16}
    assert space.params["arch"].choices == ["gru", "lstm"]
    assert space.params["units"].integer and (space.params["units"].low,
                                               space.params["units"].high) == (2, 6)
    assert space.params["learning_rate"].log and not space.params["learning_rate"].integer
    assert space.params["maxlen"].choices == [12]
    settings = apply_params(space.settings, {"arch": "gru", "units": 4, "ngrams": 0,
                                             "learning_rate": 0.01})
    assert settings["arch_options"] == {"units": 4} and settings["ngrams"] == []


def test_json_space_is_read_too(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"params": {"arch": ["gru"], "units": {"low": 2, "high": 4}}}))
    assert sorted(load_space(path).params) == ["arch", "units"]


@pytest.mark.parametrize("text, line, words", [
    ("params:\n  arch: [gru\n  units: 3\n", 3, "not valid YAML/JSON"),
    ("params:\n  arch: [gru]\n  colour: [red]\n", 3, "unknown parameter 'colour'"),
    ("params:\n  arch: [gru, transformer]\n", 2, "transformer"),
    ("params:\n  units: {low: 8, high: 2}\n", 2, "low <= high"),
    ("epochs: 2\nparams:\n  dropout: {low: 0.1, hi: 0.5}\n", 3, "unknown key(s) hi"),
    ("params:\n  arch: [gru]\nsettings:\n  validation: test\n", 4,
     "validation must be a fraction"),
    ("params:\n  arch: [gru]\nepochs: 0\n", 3, "epochs must be"),
    ("params:\n  arch: [gru]\nsize: 3\n", 3, "unknown key 'size'"),
])
def test_malformed_space_is_named_by_file_and_line(tmp_path, text, line, words):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(DataError) as caught:
        load_space(path)
    assert caught.value.line == line and str(caught.value).startswith(f"{path}:{line}: ")
    assert words in str(caught.value)


def test_defaults_and_directions():
    text = default_space("binary", text=True)
    assert {"arch", "units", "embedding_dim", "learning_rate", "maxlen", "num_words",
            "ngrams"} <= set(text.params)
    assert "maxlen" not in default_space("regression", text=False).params
    assert direction_of("val_loss") == "minimize" and direction_of("val_accuracy") == "maximize"
    assert parse_budget("1h2m3s") == 3723.0


def test_trials_never_see_the_test_split():
    from rnn_tui.tune.trial import without_test

    corpus = text_corpus("binary", train=40, test=16)
    trial_corpus = without_test(corpus)
    assert len(trial_corpus.test) == 0 and len(trial_corpus.train) == 40
    assert len(corpus.test) == 16  # the original is untouched


def _pruned_at_first_epoch(pruner_name, first_epoch_values):
    """Which of a run of trials, reporting these values after epoch 1, the pruner stops."""
    import optuna

    from rnn_tui.tune.study import make_pruner

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction="maximize", pruner=make_pruner(pruner_name))
    pruned = []
    for value in first_epoch_values:
        trial = study.ask()
        trial.report(value, 1)
        stop = trial.should_prune()
        pruned.append(stop)
        if stop:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            trial.report(value, 2)
            trial.report(value, 3)
            study.tell(trial, value)
    return pruned


def test_successive_halving_keeps_the_best_third_after_the_first_epoch():
    values = [0.70, 0.60, 0.80, 0.75, 0.50, 0.65, 0.85, 0.72, 0.55]
    pruned = _pruned_at_first_epoch("halving", values)
    # a trial goes on only within the best third (rounded down, at least the best one) of
    # the epoch-1 values so far, its own included: 0.75 is second of four, so it stops
    assert pruned == [False, True, False, True, True, True, False, True, True]
    assert sum(pruned) / len(pruned) > 0.5


def test_median_rule_lets_the_first_trials_finish_and_none_prunes_nothing():
    values = [0.70, 0.60, 0.50, 0.80, 0.40]
    assert _pruned_at_first_epoch("median", values) == [False, False, True, False, True]
    assert not any(_pruned_at_first_epoch("none", values))


# ------------------------------------------------------------------ bad input: one line, exit 2
@pytest.mark.parametrize("extra, words", [
    (["--budget", "soon"], "--budget takes a duration"),
    (["--trials", "2", "--metric", "val_mae"], "a binary task logs val_loss, val_accuracy"),
    (["--trials", "2", "--metric", "test_accuracy"], "never on the test split"),
    (["--trials", "2", "--storage", "sqlite:////nonexistent-dir/x/studies.db"],
     "cannot open the study storage"),
    (["--trials", "2", "--storage", "postgresql://me:secret@127.0.0.1:9/db"],
     "cannot open the study storage postgresql://me:***@127.0.0.1:9/db"),
    ([], "give --budget (20m) or --trials N"),
])
def test_bad_input_is_one_line_exit_2(capsys, reviews_csv, extra, words):
    code, _, err = run_cli(["tune", "--dataset", str(reviews_csv), *extra], capsys)
    assert code == 2, err
    assert words in err and len(err.strip().splitlines()) == 1, err
    assert "secret" not in err


def test_bad_space_through_the_cli(capsys, tmp_path, reviews_csv):
    path = tmp_path / "s.yaml"
    path.write_text("params:\n  arch: [gru]\n  units: {low: 1, high: many}\n")
    code, _, err = run_cli(["tune", "--dataset", str(reviews_csv), "--space", str(path),
                            "--trials", "1"], capsys)
    assert code == 2 and f"{path}:3:" in err and len(err.strip().splitlines()) == 1


def test_budget_too_small_for_one_trial(reviews_csv, tiny_space):
    code, _, err = finish(tune_process(["--dataset", str(reviews_csv), "--space",
                                        str(tiny_space), "--budget", "1s"]))
    assert code == 2, err
    assert "too small for one trial" in err and "Traceback" not in err


# ------------------------------------------------------------------ real searches
def test_search_publishes_the_best_trial_with_its_card(reviews_csv, tiny_space, isolated_home,
                                                       tmp_path):
    logs = tmp_path / "tb"
    code, out, err = finish(tune_process(
        ["--dataset", str(reviews_csv), "--space", str(tiny_space), "--trials", "3",
         "--study", "tiny", "--alias", "best", "--name", "tiny-tuned", "--plain",
         "--tensorboard", str(logs)]))
    assert code == 0, err
    assert sorted(path.name for path in (logs / "tiny").iterdir()) == \
        ["trial-0", "trial-1", "trial-2"]
    assert any((logs / "tiny-tuned" / "train").iterdir())  # the retraining's
    assert sum(line.startswith("trial ") for line in out.splitlines()) == 3
    assert "★" in out and "tiny-tuned@best -> tiny-tuned:1" in out
    trials = study_trials(isolated_home, "tiny")
    best = max((t for t in trials if t.state.name == "COMPLETE"), key=lambda t: t.value)
    card = json.loads((isolated_home / "models" / "tiny-tuned" / "1" / "card.json").read_text())
    assert card["tuning"]["study"] == "tiny" and card["tuning"]["trial"] == best.number
    assert card["tuning"]["params"] == best.params
    assert card["training"]["config"]["validation"] == "none"  # all training rows
    assert card["training"]["config"]["arch"] == best.params["arch"]
    assert "test" in card["metrics"]
    aliases = json.loads((isolated_home / "models" / "tiny-tuned" / "aliases.json").read_text())
    assert aliases["best"] == 1

    # the same command resumes the study: one more trial, numbered after the others
    code, out, err = finish(tune_process(
        ["--dataset", str(reviews_csv), "--space", str(tiny_space), "--trials", "1",
         "--study", "tiny", "--no-retrain", "--plain"]))
    assert code == 0, err
    assert sorted(t.number for t in study_trials(isolated_home, "tiny")) == [0, 1, 2, 3]
    # another space under the same study name is refused
    other = tiny_space.parent / "other.yaml"
    other.write_text(TINY_SPACE.replace("epochs: 2", "epochs: 3"))
    code, _, err = finish(tune_process(
        ["--dataset", str(reviews_csv), "--space", str(other), "--trials", "1",
         "--study", "tiny"]))
    assert code == 2 and "searches another space" in err


def test_two_processes_share_one_sqlite_study(reviews_csv, tiny_space, isolated_home):
    args = ["--dataset", str(reviews_csv), "--space", str(tiny_space), "--trials", "3",
            "--study", "shared", "--no-retrain", "--plain"]
    first, second = tune_process(args), tune_process(args)
    results = [finish(first), finish(second)]
    for code, _, err in results:
        assert code == 0, err
    trials = study_trials(isolated_home, "shared")
    numbers = [t.number for t in trials]
    assert sorted(numbers) == list(range(6))  # none lost, none numbered twice
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)
    hosts = {t.user_attrs["host"] for t in trials}
    assert len(hosts) == 2 and all(
        sum(t.user_attrs["host"] == host for t in trials) == 3 for host in hosts)
    # each process lists the study's trials (the other's too, once they end), each once
    for _, out, _ in results:
        printed = [int(line.split(":")[0].split()[1]) for line in out.splitlines()
                   if line.startswith("trial ")]
        assert len(printed) == len(set(printed)) >= 3


def test_ctrl_c_keeps_the_finished_trials(reviews_csv, tiny_space, isolated_home):
    process = tune_process(["--dataset", str(reviews_csv), "--space", str(tiny_space),
                            "--trials", "50", "--study", "stopped", "--plain"])
    seen = ""
    deadline = time.monotonic() + 300
    while "trial 0:" not in seen and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen += line
    assert "trial 0:" in seen
    process.send_signal(signal.SIGINT)
    code, out, err = finish(process)
    assert code == 130, err
    assert "the finished trials are kept" in err and "Traceback" not in err
    trials = study_trials(isolated_home, "stopped")
    assert trials[0].state.name in ("COMPLETE", "PRUNED")
    assert not any(t.state.name == "RUNNING" for t in trials)
    assert not (isolated_home / "models" / "reviews-tuned").exists()


def test_json_output_is_events_only(reviews_csv, tiny_space):
    """``--json`` (what the app's /tune reads): every line an event, the trial table whole
    each time it changes, then the retraining's training events."""
    code, out, err = finish(tune_process(
        ["--dataset", str(reviews_csv), "--space", str(tiny_space), "--trials", "2",
         "--study", "as-json", "--name", "json-tuned", "--json"]))
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    kinds = [event["event"] for event in events]
    tables = [event for event in events if event["event"] == "TrialsChanged"]
    assert tables[0]["rows"] == [] and tables[0]["metric"] == "val_accuracy"
    last = tables[-1]["rows"]
    assert [row["number"] for row in last] == [0, 1]
    assert sum(row["best"] for row in last) == 1
    assert all(row["state"] in ("complete", "pruned") and row["values"] for row in last)
    notes = [event["text"] for event in events if event["event"] == "Note"]
    assert any(note.startswith("best: trial") for note in notes)
    assert kinds.index("RunStarted") > max(i for i, kind in enumerate(kinds)
                                           if kind == "TrialsChanged")
    assert events[-1]["event"] == "RunFinished" and events[-1]["model_ref"] == "json-tuned:1"
