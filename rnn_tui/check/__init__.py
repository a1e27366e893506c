"""Behavioural checks of sentiment models (``rnn-tui check``): suites of templated test
cases per capability (negation, contrast, typos, ...) and the runner that scores a model on
them. Reads models through the TensorFlow-free runtime."""

from rnn_tui.check.runner import CheckReport, run_check
from rnn_tui.check.suite import Case, Capability, Suite

__all__ = ["Case", "Capability", "CheckReport", "Suite", "run_check"]
