"""The list's started column names the year whenever a row is not from the clock's year."""

from __future__ import annotations

from datetime import UTC, datetime

from factories import make_trace

from pipetrace.app.sample_store import SampleStore
from pipetrace.app.tui.scenes import press, settle
from pipetrace.store import Repository

OLD_NS = int(datetime(2019, 5, 2, 8, 30, 15, tzinfo=UTC).timestamp()) * 1_000_000_000
OLD_ID = f"{9001:032x}"


def started_cells(app) -> list[str]:
    """The started column's text, row by row."""
    table = app.list_screen.table
    return [str(table.get_row(r.id)[0]) for r in app.list_screen.rows]


async def test_this_years_rows_keep_the_short_date_on_a_narrow_list(
    sample: SampleStore, viewer
) -> None:
    """At 80 columns, with every trace from the clock's year, the column is MM-DD HH:MM:SS."""

    app = viewer()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        cells = started_cells(app)
        assert cells and all(len(c) == 14 and c.startswith("03-") for c in cells)
        columns = app.list_screen.table.columns.values()
        assert [str(column.label) for column in columns][:4] == [
            "started (UTC)",
            "trigger",
            "status",
            "duration",
        ]


async def test_a_row_from_another_year_dates_every_row(
    sample: SampleStore, sample_repo: Repository, viewer
) -> None:
    """A 2019 trace reads as 2019 at 80 columns, and its neighbours get their year too, so no
    date in the column can be mistaken for this year's."""
    sample_repo.save_traces([make_trace(9001, started_at=OLD_NS)])

    app = viewer(page_size=500)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        rows = app.list_screen.rows
        assert rows[-1].id == OLD_ID
        cells = started_cells(app)
        assert cells[-1] == "2019-05-02 08:30:15"
        assert all(c.startswith("2026-03-") for c in cells[:-1])
        assert app.list_screen.table.columns["message"].width >= 24


async def test_the_year_appears_when_paging_reaches_an_old_row(
    sample: SampleStore, sample_repo: Repository, viewer
) -> None:
    """The second page brings the 2019 trace: the column widens and the cursor stays put."""
    sample_repo.save_traces([make_trace(9001, started_at=OLD_NS)])

    app = viewer(page_size=100)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.list_screen
        assert all(len(c) == 14 for c in started_cells(app))
        await press(pilot, *["down"] * 75)
        held = screen.table.current_id
        assert screen.rows[-1].id == OLD_ID
        assert screen.table.current_id == held
        assert screen.table.cursor_row == 75
        assert started_cells(app)[-1] == "2019-05-02 08:30:15"
        assert all(len(c) == 19 for c in started_cells(app))


async def test_a_wide_list_always_shows_the_year(sample: SampleStore, viewer) -> None:
    """At 200 columns the year costs no other column, so it is always shown."""

    app = viewer()
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        cells = started_cells(app)
        assert cells and all(len(c) == 19 and c.startswith("2026-03-") for c in cells)
        assert "spans" in app.list_screen.table.columns
