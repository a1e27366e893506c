"""The workspace at the reference size (80x24) and below: what must fit, what must show.

Pilot tests on the real app with an empty registry; the pictures are in
test_tui_snapshots.py.
"""

from __future__ import annotations

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from rnn_tui.train import events
from rnn_tui.tui.app import RnnTuiApp
from rnn_tui.tui.run_progress import RunProgress
from rnn_tui.tui.widgets.curve_plot import CurvePlot
from rnn_tui.tui.widgets.run_card import RunCard
from tui_helpers import plain, wait_for


def footer_keys(app) -> list[FooterKey]:
    return [key for key in app.screen.query_one(Footer).query(FooterKey) if key.display]


@pytest.mark.parametrize("width", [60, 64, 72, 80])
async def test_the_footer_fits_without_overlap(width):
    app = RnnTuiApp()
    async with app.run_test(size=(width, 20)) as pilot:
        # the footer composes its keys after the first screen (later on a loaded machine)
        await wait_for(pilot, lambda: footer_keys(app), what="the footer's keys")
        await pilot.pause(0.2)
        keys = footer_keys(app)
        regions = sorted((key.region for key in keys), key=lambda region: region.x)
        for left, right in zip(regions, regions[1:]):
            assert left.right <= right.x, f"footer keys overlap at {width} columns"
        shown = [key.description for key in keys]
        assert "Help" in shown and "Quit" in shown
        assert "Wrong" in shown  # F6: the verdict is wrong (the teach loop)
        if width < 100:
            assert all("palette" not in description for description in shown)
        # what is left of the keys fits: nothing is drawn past the last column
        assert regions[-1].right <= width


async def test_at_80_columns_the_footer_holds_stop_and_wrong_together(monkeypatch):
    from rnn_tui.tui.widgets.training_pane import TrainingPane

    monkeypatch.setattr(TrainingPane, "busy", property(lambda pane: True))
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: footer_keys(app), what="the footer's keys")
        app.refresh_bindings()
        await wait_for(pilot, lambda: "Stop" in [key.description for key in footer_keys(app)],
                       what="Ctrl+G Stop in the footer")
        keys = footer_keys(app)
        assert {"Help", "Quit", "Models", "Stop", "Wrong", "Complete"} <= \
            {key.description for key in keys}
        assert max(key.region.right for key in keys) <= 80


async def test_the_footer_follows_the_focus():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        assert "Complete" in [key.description for key in footer_keys(app)]  # the input
        app.transcript.focus()
        await pilot.pause(0.2)
        shown = [key.description for key in footer_keys(app)]
        assert "Clear" in shown and "Complete" not in shown
        assert "Stop" not in shown  # no run to stop


async def test_focus_is_visible_on_the_transcript():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        unfocused = app.transcript.styles.border_left
        app.transcript.focus()
        await pilot.pause()
        focused = app.transcript.styles.border_left
        assert focused[0] != unfocused[0] and focused[0] not in ("", "none", "blank")


async def test_a_run_card_at_80x24_has_a_chart_of_8_rows_and_its_legend_outside():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        app.query_one("#training-empty").display = False
        progress = RunProgress("lstm")
        progress.apply(events.RunStarted(name="lstm", config={}, epochs=3, steps_per_epoch=4,
                                         params={}, time=0.0))
        for epoch in (1, 2):
            progress.apply(events.EpochEnded(epoch=epoch, epochs=3, seconds=1.0,
                                             time=float(epoch),
                                             logs={"loss": 0.5 / epoch, "accuracy": 0.6,
                                                   "val_loss": 0.6 / epoch,
                                                   "val_accuracy": 0.55}))
        await app.query_one("#runs").mount(RunCard("run-x", progress))
        await pilot.pause(0.3)
        plot = app.query_one(CurvePlot)
        assert plot.region.height >= 8
        legend = plain(app.query_one(".run-legend").content, width=80)
        for label in ("loss", "val_loss", "accuracy", "val_accuracy"):
            assert label in legend
        assert not app.live.display  # the live verdicts leave their rows to the chart
        await pilot.press(*"good")
        await wait_for(pilot, lambda: app.live.display, what="the live verdicts")


@pytest.mark.parametrize("size, sidebar", [((160, 48), False), ((100, 30), True),
                                           ((80, 24), False), ((60, 20), False)])
async def test_the_live_area_shows_all_three_topics(size, sidebar):
    from rnn_tui.tui.verdicts import SENTIMENT, TOPICS, Verdict

    app = RnnTuiApp()
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.book is not None, what="the registry")
        if sidebar != app.sidebar.display:
            await pilot.press("ctrl+b")
        await pilot.press(*"oil")
        await pilot.pause(0.3)
        app.live.verdicts = {
            SENTIMENT: Verdict(SENTIMENT, "imdb-sentiment:1", ["negative", "positive"],
                               [0.4, 0.6], "auto: English"),
            TOPICS: Verdict(TOPICS, "reuters-topics:1", ["crude", "gas", "veg-oil", "earn"],
                            [0.7, 0.2, 0.06, 0.04]),
        }
        await pilot.pause(0.2)
        width, height = app.live.content_size
        two_columns = width >= 56
        assert height == (5 if not two_columns or width // 2 - 1 < 34 else 4)
        lines = plain(app.live.render(), width=width).rstrip("\n").splitlines()
        assert len(lines) <= height  # nothing cut off below
        shown = "\n".join(lines)
        for label in ("crude", "gas", "veg-oil") if two_columns else ("crude",):
            assert label in shown, label


LONG_NAMES_CARD = {
    "task": "binary", "labels": ["negative", "positive"],
    "layers": [
        {"name": "global_average_pooling1d_1", "type": "GlobalAveragePooling1D",
         "output_shape": "(None, 64)", "params": 0},
        {"name": "embedding_ngrams2", "type": "Embedding",
         "output_shape": "(None, None, 32)", "params": 1_600_000},
        {"name": "gru_1", "type": "GRU", "output_shape": "(None, None, 64), (None, 64)",
         "params": 31_104},
    ],
    "params": {"total": 1_631_104, "trainable": 1_631_104, "non_trainable": 0},
}


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_the_summary_keeps_every_parameter_count_at_80_columns(size):
    app = RnnTuiApp()
    async with app.run_test(size=size) as pilot:
        await pilot.press("f4")
        pane = app.query_one("#summary-pane")
        pane.ref = "long-names:1  (user)"
        pane.card = LONG_NAMES_CARD
        await pilot.pause(0.2)
        body = app.query_one("#summary-body")
        text = plain(body.content, width=body.content_size.width)
        for count in ("Param #", "1,600,000", "31,104"):
            assert count in text, text
        assert "…" in text  # the long names gave way


async def test_the_summary_pane_says_what_to_do_without_models():
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        text = plain(app.query_one("#summary-body").content, width=76)
        assert "/summary MODEL" in text and "/train" in text
        await pilot.press(*"/summary", "enter")  # no model: the error, where it is seen
        await wait_for(pilot, lambda: app.query_one("#panes").active == "chat",
                       what="the chat")


@pytest.mark.parametrize("pane, selector", [("summary", "#summary-pane"),
                                            ("data", "#data-facts-scroll")])
async def test_focus_is_visible_on_the_panes(pane, selector):
    """Every pane that scrolls shows a bar on its left while it has the focus."""
    app = RnnTuiApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.show_pane(pane)
        await pilot.pause()
        widget = app.query_one(selector)
        unfocused = widget.styles.border_left
        widget.focus()
        await pilot.pause()
        assert app.focused is widget
        focused = widget.styles.border_left
        assert focused[0] != unfocused[0] and focused[0] not in ("", "none", "blank")


async def test_focus_is_visible_on_the_model_list():
    app = RnnTuiApp()
    async with app.run_test(size=(120, 30)) as pilot:
        model_list = app.query_one("#model-list")
        unfocused = model_list.styles.border_left
        await pilot.press("ctrl+b")  # to the list
        await pilot.pause()
        assert app.focused is model_list
        assert model_list.styles.border_left[0] not in ("", "none", "blank", unfocused[0])


async def test_focus_is_visible_on_a_run_cards_stop_button():
    """Tab reaches a card's Stop button, which then reads reversed (not only a tint)."""
    app = RnnTuiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f3")
        app.query_one("#training-empty").display = False
        progress = RunProgress("lstm")
        progress.apply(events.RunStarted(name="lstm", config={}, epochs=3, steps_per_epoch=4,
                                         params={}, time=0.0))
        await app.query_one("#runs").mount(RunCard("run-x", progress))
        await pilot.pause(0.2)
        button = app.query_one(".run-stop")
        assert button.display
        assert not button.styles.text_style.reverse
        button.focus()
        await pilot.pause()
        assert app.focused is button
        assert button.styles.text_style.reverse and button.styles.text_style.bold
