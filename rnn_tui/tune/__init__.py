"""``rnn-tui tune``: hyperparameter search on Optuna (space, trials, study, trial table)."""
