"""The trace list against the real store: filters, paging, live mode, navigation, corrupt rows."""

from __future__ import annotations

from dataclasses import replace

from factories import make_trace
from textual.widgets import Input

from pipetrace.app.sample_store import SampleStore, synthetic_trace
from pipetrace.app.tui.filter_state import FilterState
from pipetrace.app.tui.scenes import FIXED_NOW, press, settle, type_text
from pipetrace.app.tui.screens.error import ErrorScreen
from pipetrace.app.tui.screens.trace_detail import TraceDetailScreen
from pipetrace.app.tui.screens.trace_list import TraceListScreen
from pipetrace.app.tui.widgets.duration_plot import axis_label, scale
from pipetrace.store import Repository, open_store
from pipetrace.store.writer import WriterStats

FILTERS = [
    FilterState(),
    FilterState(triggers=("before_signup",)),
    FilterState(statuses=("blocked",)),
    FilterState(statuses=("blocked", "error"), triggers=("before_signup", "before_signin")),
    FilterState(range_preset="1h"),
    FilterState(range_preset="24h", statuses=("error",)),
    FilterState(custom_from=FIXED_NOW - 3 * 3600 * 10**9, custom_until=FIXED_NOW - 3600 * 10**9),
    FilterState(min_ms=2.0),
    FilterState(min_ms=0.5, max_ms=1.0, triggers=("before_signin",)),
    FilterState(text="mailinator"),
    FilterState(text="185.220"),
]


async def test_filters_show_what_the_repository_returns(sample_repo: Repository, viewer) -> None:
    """For each filter the rows and count are exactly the repository's for that TraceFilter."""

    app = viewer(page_size=40)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = app.list_screen
        for state in FILTERS:
            shown.set_filters(state)
            await settle(pilot)
            expected = sample_repo.list_traces(state.to_filter(FIXED_NOW), limit=40)
            ids = [r.id for r in expected.rows]
            assert [r.id for r in shown.rows] == ids, state
            assert [k.value for k in shown.table.rows] == ids, state
            assert shown.count == sample_repo.count_traces(state.to_filter(FIXED_NOW)), state


async def test_filters_set_by_keys_are_visible_and_clearable(sample: SampleStore, viewer) -> None:
    """Keys set each kind of filter, the bar names them, and x clears them all."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "s", "down", "space", "enter")
        await press(pilot, "r", "down", "down", "enter")
        await press(pilot, "d")
        await type_text(pilot, "0.5")
        await press(pilot, "enter", "slash")
        await type_text(pilot, "bob")
        await press(pilot, "enter", "t", "space", "enter")
        screen = app.list_screen
        assert screen.filters == FilterState(
            triggers=("after_signup",),
            statuses=("blocked",),
            range_preset="24h",
            min_ms=0.5,
            text="bob",
        )
        bar = str(screen.query_one("#filter-bar").render())
        for label in ("trigger=after_signup", "status=blocked", "last 24h", "search='bob'"):
            assert label in bar
        screen.action_clear_filter("status")
        await settle(pilot)
        assert screen.filters.statuses == () and screen.filters.triggers == ("after_signup",)
        await press(pilot, "x")
        assert screen.filters == FilterState()
        assert screen.count == len(sample.trace_ids) + len(sample.corrupt_ids) - 1  # no replay


async def test_bad_custom_range_and_duration_say_what_is_wrong(sample: SampleStore, viewer) -> None:
    """Bad input keeps the dialog open with one clear line and changes no filter."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "r", "tab")
        await type_text(pilot, "yesterday")
        await press(pilot, "enter")
        error = str(app.screen.query_one("#dialog-error").render())
        assert "from: bad time 'yesterday'" in error
        await press(pilot, "escape", "d")
        await type_text(pilot, "fast")
        await press(pilot, "enter")
        assert "'fast' is not a number" in str(app.screen.query_one("#dialog-error").render())
        for typed in ("nan", "inf", "-Infinity"):
            app.screen.query_one("#min", Input).value = typed
            await press(pilot, "enter")
            error = str(app.screen.query_one("#dialog-error").render())
            assert f"minimum duration {typed!r} is not a number" in error
        app.screen.query_one("#min", Input).value = ""
        app.screen.query_one("#max", Input).value = "inf"
        await press(pilot, "enter")
        error = str(app.screen.query_one("#dialog-error").render())
        assert "maximum duration 'inf' is not a number" in error
        app.screen.query_one("#max", Input).value = "-1"
        await press(pilot, "enter")
        error = str(app.screen.query_one("#dialog-error").render())
        assert "maximum duration '-1' is negative" in error
        app.screen.query_one("#min", Input).value = "5"
        app.screen.query_one("#max", Input).value = "1"
        await press(pilot, "enter")
        error = str(app.screen.query_one("#dialog-error").render())
        assert error == "minimum 5 ms is above maximum 1 ms"
        await press(pilot, "escape")
        assert app.list_screen.filters == FilterState()


async def test_times_beyond_the_store_are_refused_inline(sample: SampleStore, viewer) -> None:
    """Ages and dates 64-bit nanoseconds cannot hold get one line in the dialog, never a crash."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "r", "tab")
        for typed, reason in (
            ("99999999d", "is too large"),
            ("200000d", "is too large"),
            ("9999-12-31", "is out of range"),
            ("9" * 400 + "d", "is too large"),
        ):
            app.screen.query_one("#from", Input).value = typed
            await press(pilot, "enter")
            error = str(app.screen.query_one("#dialog-error").render())
            assert error.startswith("from: ") and f"{typed!r} {reason}" in error
        await press(pilot, "escape")
        assert app.list_screen.filters == FilterState()


async def test_a_value_the_store_refuses_is_reported_not_fatal(sample: SampleStore, viewer) -> None:
    """A query worker meeting a value the driver cannot bind reports it; the app keeps running."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = [r.id for r in app.list_screen.rows]
        app.list_screen.set_filters(FilterState(custom_from=-(2**64)))
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert "the store refused a value" in app.screen.message
        await press(pilot, "escape")
        assert [r.id for r in app.list_screen.rows] == shown


async def test_paging_loads_more_as_the_cursor_nears_the_end(
    sample: SampleStore, sample_repo: Repository, viewer
) -> None:
    """Pages arrive by keyset as the cursor moves down; never everything at once."""

    app = viewer(page_size=40)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.list_screen
        assert len(screen.rows) == 40
        await press(pilot, *["down"] * 12)
        assert len(screen.rows) == 80
        everything = sample_repo.list_traces(limit=1000).rows
        assert [r.id for r in screen.rows] == [r.id for r in everything[:80]]


async def test_open_and_back_keep_the_list_as_it_was(sample: SampleStore, viewer) -> None:
    """Escape returns to the same filters, loaded rows and cursor."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.list_screen
        screen.set_filters(FilterState(triggers=("before_signin",)))
        await settle(pilot)
        await press(pilot, "down", "down", "down")
        before = (screen.filters, [r.id for r in screen.rows], screen.table.current_id)
        await press(pilot, "enter")
        assert isinstance(app.screen, TraceDetailScreen)
        assert app.screen.trace_id == before[2]
        await press(pilot, "escape")
        assert app.screen is screen
        after = (screen.filters, [r.id for r in screen.rows], screen.table.current_id)
        assert after == before


async def test_live_mode_adds_new_traces_on_top_without_moving_the_cursor(
    sample: SampleStore, sample_repo: Repository, viewer
) -> None:
    """A trace written while live mode is on appears first; the cursor stays on its trace."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen: TraceListScreen = app.list_screen
        await press(pilot, "down", "down", "l")
        held = screen.table.current_id
        fresh = synthetic_trace("f" * 31 + "1", 5, FIXED_NOW + 10**9)
        fresh.trace.trigger_event = "before_signup"
        sample_repo.save_traces([fresh])
        for _ in range(100):
            await pilot.pause(0.05)
            await settle(pilot)
            if screen.rows[0].id == fresh.trace.id:
                break
        assert screen.rows[0].id == fresh.trace.id
        assert screen.table.current_id == held
        assert screen.count == len(sample.trace_ids) + len(sample.corrupt_ids)  # +1, no replay
        assert "↑ 1 new" in str(screen.query_one("#status-line").render())
        await press(pilot, "home")
        assert screen.table.current_id == fresh.trace.id
        assert "new" not in str(screen.query_one("#status-line").render())
        await press(pilot, "l")
        assert not screen.live


async def test_live_mode_follows_the_top_from_the_first_row(
    sample: SampleStore, sample_repo: Repository, viewer
) -> None:
    """With the cursor on the newest trace, a new one takes its place in view."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen: TraceListScreen = app.list_screen
        await press(pilot, "l")
        fresh = synthetic_trace("f" * 31 + "2", 5, FIXED_NOW + 10**9)
        sample_repo.save_traces([fresh])
        for _ in range(100):
            await pilot.pause(0.05)
            await settle(pilot)
            if screen.rows[0].id == fresh.trace.id:
                break
        assert screen.table.current_id == fresh.trace.id
        assert screen.table.scroll_y == 0
        assert "new" not in str(screen.query_one("#status-line").render())


async def test_corrupt_rows_are_marked_not_fatal(sample: SampleStore, viewer) -> None:
    """Damaged rows show a magenta mark and their problems, in the list and the detail."""

    app = viewer(page_size=200)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.list_screen.table
        # The list reads no JSON columns, so the bad-JSON row is only found in the detail.
        for trace_id in sample.corrupt_ids[1:]:
            status = table.get_row(trace_id)[2]
            assert str(status).endswith(" !")
        for trace_id in sample.corrupt_ids:
            app.open_trace(trace_id)
            await settle(pilot)
            header = str(app.screen.query_one("#trace-header").render())
            assert "damaged row" in header
            await press(pilot, "escape")


async def test_writer_counters_show_when_not_zero(sample: SampleStore, viewer) -> None:
    """Dropped and failed writes appear in the status line; zero counters stay hidden."""
    counters = [WriterStats(5, 0, 0, 0, None)]

    app = viewer(writer_stats=lambda: counters[0])
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        line = app.list_screen.query_one("#status-line")
        assert "dropped" not in str(line.render())
        counters[0] = replace(counters[0], dropped=3, failed=1)
        app.list_screen.refresh_status()
        await pilot.pause()
        assert "writer: 3 dropped, 1 failed" in str(line.render())


async def test_command_palette_runs_screen_actions(sample: SampleStore, viewer) -> None:
    """Every binding is a palette command: typing 'live' and enter turns live mode on."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "ctrl+p")
        await type_text(pilot, "live")
        await pilot.pause(0.3)
        await press(pilot, "enter")
        await settle(pilot)
        assert app.list_screen.live


async def test_help_lists_every_described_key(sample: SampleStore, viewer) -> None:
    """The help screen names each action of the list screen."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "question_mark")
        listed = {description for _, description in app.screen.keys}
        for binding in TraceListScreen.BINDINGS:
            assert binding.description in listed  # type: ignore[union-attr]
        assert {"Help", "Quit", "Select"} <= listed


async def test_status_filter_can_pick_every_failure(sample_repo: Repository, viewer) -> None:
    """Ticking blocked and error lists every failed trace together, as one chip; ticking
    nothing clears the filter."""

    app = viewer(page_size=40)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await press(pilot, "s", "down", "space", "down", "space", "enter")
        await settle(pilot)
        screen = app.list_screen
        assert screen.filters.statuses == ("blocked", "error")
        assert "status=blocked,error" in str(screen.query_one("#filter-bar").render())
        assert {r.status for r in screen.rows} == {"blocked", "error"}
        both = FilterState(statuses=("blocked", "error")).to_filter(FIXED_NOW)
        assert screen.count == sample_repo.count_traces(both)
        await press(pilot, "s", "down", "space", "down", "space", "enter")
        await settle(pilot)
        assert screen.filters.statuses == ()
        assert screen.count == sample_repo.count_traces()


async def test_message_takes_the_rest_of_any_width(sample: SampleStore, viewer) -> None:
    """The message column fills what the others leave, is cut with an ellipsis, re-fits on
    resize, and the rows never scroll sideways."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.list_screen.table
        await press(pilot, *["down"] * 6)
        held = table.current_id
        for width, height in ((120, 36), (80, 24), (200, 40), (60, 15)):
            await pilot.resize_terminal(width, height)
            await settle(pilot)
            assert table.current_id == held
            message = table.columns["message"]
            used = sum(c.get_render_width(table) for c in table.columns.values())
            assert used == width - 2
            assert message.width >= (24 if width >= 80 else 1)
            assert table.max_scroll_x == 0
            cells = [str(table.get_row(r.id)[-1]) for r in app.list_screen.rows]
            longest = max(len(r.status_message or "") for r in app.list_screen.rows)
            if longest > message.width:
                assert any(c.endswith("…") and len(c) == message.width for c in cells)
        assert list(table.columns)[-1] == "message"


async def test_short_terminals_give_their_rows_to_traces(sample: SampleStore, viewer) -> None:
    """The plot shrinks on a short terminal and hides on a tiny one."""

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        plot = app.list_screen.query_one("#plot")
        heights = {}
        for rows in (36, 24, 15):
            await pilot.resize_terminal(120, rows)
            await settle(pilot)
            heights[rows] = plot.region.height
        assert heights == {36: 8, 24: 6, 15: 0}


def test_plot_scale_separates_typical_durations() -> None:
    """50 µs to 200 ms land on different rows, and the axis starts at the fastest trace shown."""
    dot_rows = 20
    durations = (0.05, 0.5, 5.0, 50.0, 200.0)
    rows = [int(scale(d, 0.05, 200.0) * (dot_rows - 1)) for d in durations]
    assert rows == sorted(set(rows)) and rows[0] == 0 and rows[-1] == dot_rows - 1
    labels = [axis_label(r, 5, 2.0, 80.0) for r in range(5)]
    assert labels[0] == "80.0ms" and labels[-1] == "2.00ms" and "0" not in labels


async def test_one_matching_trace_is_said_in_the_singular(tmp_path, viewer) -> None:
    db = str(tmp_path / "one.db")
    repo = open_store(db)
    repo.save_traces([make_trace(1)])
    repo.close()

    app = viewer(db)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        status = str(app.list_screen.query_one("#status-line").render())

    assert "1 matching trace · 1 loaded" in status


async def test_the_list_holds_a_window_of_rows_and_reads_them_again_going_back(
    sample: SampleStore, sample_repo: Repository, viewer
) -> None:
    """Paging down lets the top rows go (never more than the window's limit held), paging up
    reads them again, and home goes back to the newest trace; the rows are always the store's,
    in its order, none missing."""
    everything = [r.id for r in sample_repo.list_traces(limit=1000).rows]

    def check(screen: TraceListScreen) -> None:
        ids = [str(k.value) for k in screen.table.rows]
        assert ids == [r.id for r in screen.rows] and len(ids) <= screen.window.limit == 80
        start = everything.index(ids[0])
        assert ids == everything[start : start + len(ids)]

    app = viewer(page_size=10)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = app.list_screen
        for _ in range(12):
            await press(pilot, "pagedown")
            check(screen)
        assert screen.window.above is not None
        assert screen.table.current_id not in everything[:10]
        for _ in range(14):
            await press(pilot, "pageup")
            check(screen)
        assert screen.window.above is None and screen.table.current_id == everything[0]
        await press(pilot, *["pagedown"] * 12, "home")
        check(screen)
        assert screen.window.above is None and screen.table.current_id == everything[0]
