"""From a trace's detail, u and i list every trace of its user or IP; the chips clear them."""

from __future__ import annotations

from factories import make_trace
from notices import record_notices

from pipetrace.app.sample_store import SampleStore
from pipetrace.app.tui.filter_state import FilterState
from pipetrace.app.tui.scenes import FIXED_NOW, open_trace, press, settle, type_text
from pipetrace.app.tui.screens.trace_detail import TraceDetailScreen
from pipetrace.store import Repository, TraceFilter


async def test_u_lists_every_trace_of_the_user_and_the_chip_clears_it(
    sample_repo: Repository, sample: SampleStore, viewer
) -> None:
    """u from a detail opened on a filtered list: the list shows only that user's traces,
    whatever it was filtered by before, and the chip's removal brings every trace back."""
    user = sample_repo.get_trace(sample.blocked_id).user_id
    expected = sample_repo.list_traces(TraceFilter(user_id=user), limit=500).rows
    everything = sample_repo.count_traces()
    assert 0 < len(expected) < everything

    app = viewer(page_size=500)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = app.list_screen
        shown.set_filters(FilterState(statuses=("blocked",), range_preset="24h"))
        await open_trace(pilot, sample.blocked_id)
        await press(pilot, "u")
        assert app.screen is shown
        assert shown.filters == FilterState(user_id=user)
        assert [r.id for r in shown.rows] == [r.id for r in expected]
        assert shown.count == len(expected)
        assert {r.user_id for r in shown.rows} == {user}
        bar = str(shown.query_one("#filter-bar").render())
        assert f"user={user!r}" in bar and "status=" not in bar
        shown.action_clear_filter("user")
        await settle(pilot)
        assert shown.filters == FilterState() and shown.count == everything


async def test_i_from_a_detail_opened_over_another_goes_back_to_the_list(
    sample_repo: Repository, sample: SampleStore, viewer
) -> None:
    """o opens the replayed trace over the replay's detail; i there closes both details."""
    ip = sample_repo.get_trace(sample.blocked_id).request_ip
    wanted = TraceFilter(request_ip=ip)

    app = viewer(page_size=500)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_trace(pilot, sample.replay_id)
        await press(pilot, "o")
        assert isinstance(app.screen, TraceDetailScreen)
        assert app.screen.trace_id == sample.blocked_id
        await press(pilot, "i")
        assert app.screen is app.list_screen
        assert len(app.screen_stack) == 2, "both details were closed"
        shown = app.list_screen
        assert shown.filters == FilterState(request_ip=ip)
        assert shown.count == sample_repo.count_traces(wanted) > 0
        assert [r.id for r in shown.rows] == [
            r.id for r in sample_repo.list_traces(wanted, limit=500).rows
        ]
        assert f"ip={ip!r}" in str(shown.query_one("#filter-bar").render())
        await press(pilot, "x")
        assert shown.filters == FilterState()


async def test_a_trace_without_user_or_ip_says_so_and_stays(
    sample_repo: Repository, sample: SampleStore, viewer
) -> None:
    anonymous = make_trace(1, started_at=FIXED_NOW - 10**9, user_id=None, request_ip="")
    sample_repo.save_traces([anonymous])

    app = viewer()
    notices = record_notices(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_trace(pilot, anonymous.trace.id)
        detail = app.screen
        await press(pilot, "u", "i")
        assert app.screen is detail
        toasts = [n.message for n in notices]
        assert toasts == ["this trace has no user id", "this trace has no request IP"]
        assert app.list_screen.filters == FilterState()


async def test_help_and_palette_offer_the_user_and_ip_actions(
    sample_repo: Repository, sample: SampleStore, viewer
) -> None:
    ip = sample_repo.get_trace(sample.error_id).request_ip

    app = viewer()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_trace(pilot, sample.error_id)
        await press(pilot, "question_mark")
        keys = dict((description, key) for key, description in app.screen.keys)
        assert keys["Traces of this user"] == "u" and keys["Traces of this IP"] == "i"
        await press(pilot, "escape", "ctrl+p")
        await type_text(pilot, "traces of this ip")
        await pilot.pause(0.3)
        await press(pilot, "enter")
        await settle(pilot)
        assert app.screen is app.list_screen
        assert app.list_screen.filters == FilterState(request_ip=ip)
