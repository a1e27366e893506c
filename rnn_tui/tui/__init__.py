"""The Textual workspace: chat with the models, train, inspect, browse data.

``rnn_tui.tui.app.RnnTuiApp`` is the app; ``rnn-tui`` with no arguments runs it. Importing
this package pulls in nothing heavy: models load in workers after the first paint.
"""
