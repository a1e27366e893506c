"""``rnn-tui train``: flags -> config, the JSON event stream, plain output, errors, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from rnn_tui.cli.train import build_config
from rnn_tui.train import event_from_dict
from train_support import run_cli, text_corpus, write_csv


def flags(**given):
    """The options dict click would pass, with only ``given`` set."""
    import rnn_tui.cli.train as module

    names = [param.name for param in module.train.params]
    options = {name: None for name in names}
    options.update(list_presets=False, list_archs=False, freeze_vectors=False, restart=False,
                   no_publish=False, json_output=False, plain=False, dataset_option=())
    options.update(given)
    return options


def test_flags_override_the_preset():
    config = build_config(flags(preset="tutorial-imdb-lstm", epochs=1, maxlen=80,
                                validation="test"))
    assert (config.preset, config.epochs, config.maxlen, config.validation) == \
        ("tutorial-imdb-lstm", 1, 80, "test")
    assert config.arch == "emb:32 lstm:64 lstm:32" and config.num_words == 10000


def test_arch_knobs_and_dataset_options():
    config = build_config(flags(dataset="multiplication", arch="gru", units="16,8",
                                dropout=0.1, bidirectional=True,
                                dataset_option=("train_size=64", "length=8")))
    assert config.arch_options == {"units": [16, 8], "dropout": 0.1, "bidirectional": True}
    assert config.dataset_options == {"train_size": 64, "length": 8}
    config = build_config(flags(dataset="imdb", arch="lstm", vectors="v.txt",
                                freeze_vectors=True, oov=""))
    assert config.arch_options == {"vectors": "v.txt", "vectors_trainable": False}
    assert config.oov_token is None


def test_arch_file(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"layers": [{"type": "embedding", "dim": 8},
                                           {"type": "gru", "units": 4}]}))
    config = build_config(flags(dataset="imdb", arch_file=str(spec)))
    assert config.arch is None and config.arch_spec["layers"][1]["units"] == 4
    assert config.default_name == "imdb-custom"


def test_help_documents_the_compact_syntax(capsys):
    code, out, _ = run_cli(["train", "--help"], capsys)
    assert code == 0
    for text in ("emb:32 lstm:64 lstm:32", "conv1d:F:K", "--arch-file", "--restart",
                 "--validation", "--json", "Resuming"):
        assert text in out


def test_list_presets_and_archs(capsys):
    code, out, _ = run_cli(["train", "--list-presets"], capsys)
    assert code == 0 and "tutorial-nsmc-lstm" in out and "tutorial-multiplication-gru" in out
    code, out, _ = run_cli(["train", "--list-archs"], capsys)
    assert code == 0 and "conv-lstm" in out and "emb:100 dropout:0.5 conv1d:64:5" in out


@pytest.mark.parametrize("args, message", [
    (["train"], "no dataset"),
    (["train", "--dataset", "imdb", "--arch", "lstmm"], "unknown architecture 'lstmm'"),
    (["train", "--dataset", "imdb", "--arch", "emb:8 lstm:4", "--units", "8"],
     "--units only apply to a named architecture"),
    (["train", "--dataset", "imdb", "--validation", "lots"], "validation must be a fraction"),
    (["train", "--preset", "tutorial-nope"], "no preset named 'tutorial-nope'"),
    (["train", "--dataset", "nowhere-corpus", "--epochs", "1"], "nowhere-corpus"),
    (["train", "--dataset", "imdb", "--dataset-option", "oops"], "KEY=VALUE"),
])
def test_bad_input_is_one_line_exit_2(capsys, args, message):
    code, out, err = run_cli(args, capsys)
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def cli_process(args, **kwargs):
    return subprocess.run([sys.executable, "-m", "rnn_tui", *args], capture_output=True,
                          text=True, timeout=300, env=os.environ.copy(), **kwargs)


@pytest.fixture
def reviews_csv(tmp_path):
    return write_csv(tmp_path / "reviews.csv", text_corpus("binary", train=64, test=16))


def test_json_stream_is_only_events(reviews_csv):
    done = cli_process(["train", "--dataset", str(reviews_csv), "--arch", "gru", "--units", "4",
                        "--embedding-dim", "4", "--epochs", "2", "--batch-size", "16",
                        "--json"])
    assert done.returncode == 0, done.stderr
    events = [event_from_dict(json.loads(line)) for line in done.stdout.splitlines()]
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "RunStarted" and kinds[-1] == "RunFinished"
    assert kinds.count("EpochEnded") == 2
    assert events[-1].model_ref == "reviews-gru:1"
    assert "Traceback" not in done.stderr


def test_plain_output_has_no_carriage_returns(reviews_csv):
    done = cli_process(["train", "--dataset", str(reviews_csv), "--arch", "emb:4 simplernn:2",
                        "--epochs", "2", "--name", "plain-run"])  # stdout is a pipe: plain
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stdout and "\x1b" not in done.stdout and "\b" not in done.stdout
    lines = done.stdout.splitlines()
    assert lines[0].startswith("training plain-run:")
    assert sum(line.startswith("epoch ") for line in lines) == 2
    assert lines[-1].startswith("published plain-run:1")


def test_same_name_other_config_is_refused(reviews_csv, tmp_path):
    home = tmp_path / "runs-home"
    env = {**os.environ, "RNN_TUI_HOME": str(home)}
    (home / "runs" / "clash").mkdir(parents=True)
    from rnn_tui.train import TrainConfig

    saved = TrainConfig(dataset=str(reviews_csv), arch="gru", epochs=5, name="clash")
    (home / "runs" / "clash" / "config.json").write_text(json.dumps(saved.to_dict()))
    backup = home / "runs" / "clash" / "backup"   # one finished epoch: worth keeping
    backup.mkdir()
    (backup / "epoch-1.weights.h5").write_bytes(b"")
    (backup / "training_metadata.json").write_text('{"epoch": 1, "weights": "epoch-1.weights.h5"}')
    done = subprocess.run([sys.executable, "-m", "rnn_tui", "train", "--dataset",
                           str(reviews_csv), "--arch", "gru", "--epochs", "4", "--name",
                           "clash"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2
    assert "different configuration" in done.stderr and "epochs: 5 -> 4" in done.stderr
    assert "--restart" in done.stderr


# The CLI, paused at the start of epoch 2, so a signal lands mid-run.
PAUSING_CLI = textwrap.dedent("""
    import sys, time
    from rnn_tui.train import render
    from rnn_tui.train.events import EpochStarted

    original = render.renderer_for

    def renderer_for(mode, stream=None):
        writer = original(mode, stream)

        def handle(event):
            writer(event)
            if isinstance(event, EpochStarted) and event.epoch == 2:
                print("PAUSED", flush=True)
                time.sleep(120)
        return handle

    render.renderer_for = renderer_for
    from rnn_tui.cli import main
    main(sys.argv[1:])
""")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_cancel_cleanly(reviews_csv, tmp_path, signum):
    script = tmp_path / "pausing.py"
    script.write_text(PAUSING_CLI)
    process = subprocess.Popen(
        [sys.executable, str(script), "train", "--dataset", str(reviews_csv), "--arch",
         "emb:4 gru:2", "--epochs", "3", "--json", "--name", "stop-me"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
        # as a terminal's foreground process gets it, even when pytest runs as a background
        # job (which passes "ignore SIGINT" on to its children)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    for line in process.stdout:
        if line.strip() == "PAUSED":
            break
        lines.append(line)
    process.send_signal(signum)
    rest, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    events = [json.loads(line) for line in [*lines, *rest.splitlines()]]
    assert events[-1]["event"] == "RunCancelled" and events[-1]["epoch"] == 1
    assert "Traceback" not in err
    home = os.environ["RNN_TUI_HOME"]
    assert os.path.exists(os.path.join(home, "runs", "stop-me", "backup"))
    assert not os.path.exists(os.path.join(home, "models", "stop-me"))


def test_the_tui_cancels_its_run_even_when_started_ignoring_sigint(reviews_csv):
    """A shell's background job passes "ignore SIGINT" on to its children; the TUI's runs
    must still stop on the SIGINT its cancel sends (not only after the SIGTERM fallback)."""
    import time

    from rnn_tui.train.events import EpochEnded
    from rnn_tui.tui.events_process import CANCEL_GRACE_S, EventsProcess

    process = EventsProcess(["train", "--dataset", str(reviews_csv), "--arch", "emb:4 gru:2",
                               "--epochs", "5000", "--name", "ignored-sigint"])
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        process.start()  # inherits SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        for event in process.events():
            if isinstance(event, EpochEnded):
                break
        started = time.monotonic()
        process.cancel()
        assert time.monotonic() - started < CANCEL_GRACE_S  # SIGINT did it, not SIGTERM
        assert process.process.returncode == 130
    finally:
        if process.process.poll() is None:
            process.process.kill()


def test_help_and_listings_do_not_import_tensorflow():
    from train_support import imports_tensorflow

    for args in (["train", "--help"], ["train", "--list-presets"], ["train", "--list-archs"]):
        assert not imports_tensorflow(args, os.environ.copy()), args


# The research config {"vocab": 30000, "maxlen": 600, "trunc": "pre", "emb": 64, "sdrop": 0.5,
# "rnn": "gru", "units": 64, "pool": "max,avg,last", "drop": 0.5, "lr": 0.001,
# "clipnorm": 1.0, "batch": 64, "epochs": 3, "bigram": 100000, "bemb": 32, "decay": "lin",
# tok "en"} as flags (the recipe study's train.py and data.en_tokens).
RESEARCH_FLAGS = dict(
    dataset="imdb", cleaner="html", pattern="[a-z0-9]+(?:'[a-z0-9]+)*|[!?]", num_words=30000,
    maxlen=600, padding="post", truncating="pre", ngrams="2", ngram_words="100000",
    arch="emb:64 ngram-emb:32 spatial-dropout:0.5 gru:64 pool:max+average+last dropout:0.5",
    optimizer="adam", lr=0.001, clipnorm=1.0, lr_schedule="linear", batch_size=64, epochs=3,
    validation="0.1", seed=1)


def test_research_flags_are_the_research_preset():
    from rnn_tui.train import preset_config

    given = build_config(flags(**RESEARCH_FLAGS)).to_dict()
    preset = preset_config("imdb-gru-bigrams").to_dict()
    assert given.pop("preset") is None and preset.pop("preset") == "imdb-gru-bigrams"
    assert given == preset
    assert (given["ngrams"], given["ngram_words"], given["lr_schedule"]) == ([2], 100000,
                                                                            "linear")


def test_new_flags_become_the_config():
    config = build_config(flags(dataset="nsmc", arch="gru", ngrams="2,3",
                                ngram_words="50000,20000", ngram_dim=16, pool="max+last",
                                squeeze_repeats=True, subword_suffix=2,
                                pattern="[가-힣]+|[a-z]+", ema=0.99, float16_weights=True,
                                bucketing=False, lr_schedule="cosine"))
    assert (config.ngrams, config.ngram_words, config.arch_options) == (
        [2, 3], [50000, 20000], {"ngram_dim": 16, "pool": "max+last"})
    assert (config.squeeze_repeats, config.subword_suffix, config.pattern) == (
        True, 2, "[가-힣]+|[a-z]+")
    assert (config.ema, config.float16_weights, config.bucketing, config.lr_schedule) == (
        0.99, True, False, "cosine")


@pytest.mark.parametrize("args, message", [
    (["--ngrams", "two"], "--ngrams takes a number"),
    (["--ngrams", "2", "--arch", "emb:8 gru:4"], "add ngram-emb"),
    (["--ngrams", "2", "--oov", ""], "OOV token"),
    (["--pattern", "[unclosed"], "not a valid regular expression"),
    (["--ema", "0.99", "--patience", "2"], "--ema and early stopping"),
    (["--units", "1.5"], "--units takes a number or a comma list such as 64,32"),
    (["--units", ","], "--units takes a number"),
    (["--units", "64,0"], "--units must be positive"),
])
def test_new_flag_errors_are_one_line(capsys, args, message):
    code, out, err = run_cli(["train", "--dataset", "imdb", *args], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def _scalars(folder):
    """{tag: [values by step]} of the TensorBoard event files in ``folder``."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    import tensorflow as tf

    return {tag: [float(tf.make_ndarray(event.tensor_proto)) for event in
                  accumulator.Tensors(tag)] for tag in accumulator.Tags()["tensors"]}


def test_tensorboard_logs_every_epoch(reviews_csv, tmp_path):
    logs = tmp_path / "tb"
    done = cli_process(["train", "--dataset", str(reviews_csv), "--arch", "emb:4 gru:2",
                        "--epochs", "2", "--validation", "0.25", "--name", "tb-run",
                        "--tensorboard", str(logs)])
    assert done.returncode == 0, done.stderr
    train = _scalars(logs / "tb-run" / "train")
    validation = _scalars(logs / "tb-run" / "validation")
    assert len(train["epoch_loss"]) == 2 and len(train["epoch_accuracy"]) == 2
    assert len(validation["epoch_loss"]) == 2


def test_tensorboard_folder_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    code, _, err = run_cli(["train", "--dataset", "imdb", "--tensorboard", str(target)], capsys)
    assert code == 2 and "is a file, not a folder" in err and len(err.strip().splitlines()) == 1
