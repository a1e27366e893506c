"""What both faces draw: the CLI prints these views, the app lays them out in its panes.

One module per thing shown (``card``: a model card's sections; ``evaluation``: an
evaluation report; ``corpus``: a corpus summary). Plain data and rich renderables, no click
and no Textual; they sit above train/infer/registry/data and below cli/ and tui/.
"""
