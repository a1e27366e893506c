"""``rnn-tui compare``: published models side by side (test metrics, size, speed, curves)."""
