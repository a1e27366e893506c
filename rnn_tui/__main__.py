"""``python -m rnn_tui`` runs the same entry point as the ``rnn-tui`` script."""

from rnn_tui.cli import main

if __name__ == "__main__":
    main()
