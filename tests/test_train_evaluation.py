"""Scores from predictions (NumPy) and scoring a published model on a corpus split."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.errors import UserError
from rnn_tui.registry import open_registries
from rnn_tui.train import TrainConfig, train
from rnn_tui.train.evaluation import (
    class_probabilities,
    classification_report,
    regression_report,
)
from rnn_tui.train.scoring import evaluate_version
from train_support import sequence_corpus, text_corpus


def test_binary_report_by_hand():
    labels = np.array([0, 0, 1, 1, 1])
    outputs = np.array([[0.2], [0.7], [0.9], [0.4], [0.6]])
    report = classification_report(labels, outputs, ["neg", "pos"])
    assert report["confusion_matrix"] == [[1, 1], [1, 2]]
    assert report["accuracy"] == pytest.approx(3 / 5)
    neg, pos = report["per_class"]
    assert (neg["precision"], neg["recall"], neg["support"]) == (0.5, 0.5, 2)
    assert pos["precision"] == pytest.approx(2 / 3) and pos["recall"] == pytest.approx(2 / 3)
    assert pos["f1"] == pytest.approx(2 / 3)
    expected_loss = -np.mean(np.log([0.8, 0.3, 0.9, 0.4, 0.6]))
    assert report["loss"] == pytest.approx(expected_loss)
    assert report["top_confusions"][0]["count"] == 1


def test_multiclass_report_and_top_confusions():
    labels = np.array([0, 0, 0, 1, 2, 2])
    predicted = np.array([1, 1, 0, 1, 0, 2])
    outputs = np.eye(3)[predicted] * 0.9 + 0.1 / 3
    report = classification_report(labels, outputs, ["a", "b", "c"])
    assert report["confusion_matrix"] == [[1, 2, 0], [0, 1, 0], [1, 0, 1]]
    assert report["top_confusions"][0] == {"true": "a", "predicted": "b", "count": 2}
    assert len(report["top_confusions"]) == 2
    assert report["macro"]["recall"] == pytest.approx((1 / 3 + 1 + 1 / 2) / 3)


def test_classes_in_neither_truth_nor_predictions_are_left_out_as_in_scikit_learn():
    from sklearn.metrics import classification_report as sklearn_report

    labels = np.array([0, 0, 1, 1, 3, 3])
    predicted = np.array([0, 1, 1, 4, 3, 0])  # class 4 predicted only; 2 and 5 in neither
    outputs = np.eye(6)[predicted]
    names = ["a", "b", "c", "d", "e", "f"]
    report = classification_report(labels, outputs, names)
    expected = sklearn_report(labels, predicted, output_dict=True, zero_division=0)
    assert [row["label"] for row in report["per_class"]] == ["a", "b", "d", "e"]
    assert report["absent"] == ["c", "f"]
    for row, key in zip(report["per_class"], ["0", "1", "3", "4"]):
        assert row["f1"] == pytest.approx(expected[key]["f1-score"])
        assert row["support"] == expected[key]["support"]
    for average in ("precision", "recall", "f1"):
        assert report["macro"][average] == pytest.approx(
            expected["macro avg"]["f1-score" if average == "f1" else average])
        assert report["weighted"][average] == pytest.approx(
            expected["weighted avg"]["f1-score" if average == "f1" else average])
    assert np.array(report["confusion_matrix"]).shape == (6, 6)  # the matrix keeps them all


def test_evaluate_says_which_classes_it_left_out():
    import io

    from rich.console import Console

    from rnn_tui.cli.evaluate import render_report

    labels = np.array([0, 1, 1])
    report = classification_report(labels, np.eye(3)[[0, 1, 0]], ["a", "b", "[red]c"])
    report.update(task="multiclass", ref="m:1", dataset="toy", split="test", rows=3)
    console = Console(file=io.StringIO(), width=100)
    render_report(report, console)
    out = console.file.getvalue()
    assert "1 class with no rows and no predictions left out of the rows and the macro " \
           "average (as scikit-learn does): [red]c" in " ".join(out.split())
    assert "[red]c" not in out.split("macro avg")[0]  # no row in the class table


def test_class_probabilities_and_regression():
    assert class_probabilities(np.array([0.25])).tolist() == [[0.75, 0.25]]
    report = regression_report(np.array([1.0, 2.0, 3.0]), np.array([[1.5], [2.0], [2.0]]))
    assert report["mse"] == pytest.approx((0.25 + 1) / 3)
    assert report["mae"] == pytest.approx(0.5)
    assert report["r2"] == pytest.approx(1 - report["mse"] / np.var([1, 2, 3]))


def test_scoring_a_published_model_matches_its_card():
    corpus = text_corpus("multiclass", train=80, test=24)
    result = train(TrainConfig(dataset="toy", arch="emb:8 gru:8", epochs=3, maxlen=10,
                               batch_size=16, validation=0.25, name="scored"), corpus=corpus)
    version = open_registries().resolve("scored")
    test = evaluate_version(version, corpus=corpus)
    assert test["rows"] == 24 and len(test["per_class"]) + len(test["absent"]) == 46
    assert test["accuracy"] == pytest.approx(result.test_metrics["accuracy"], abs=1e-6)
    assert test["loss"] == pytest.approx(result.test_metrics["loss"], rel=1e-4)
    # The validation rows are rebuilt from the card's config: the same 20 rows as in training.
    validation = evaluate_version(version, corpus=corpus, split="validation")
    assert validation["rows"] == 20
    assert validation["accuracy"] == pytest.approx(result.card["history"]["val_accuracy"][-1],
                                                   abs=1e-6)
    assert evaluate_version(version, corpus=corpus, split="train", limit=5)["rows"] == 5
    with pytest.raises(UserError, match="multiclass model; toyseq is a regression corpus"):
        evaluate_version(version, corpus=sequence_corpus(), dataset="toyseq")
