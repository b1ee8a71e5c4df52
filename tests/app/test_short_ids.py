"""Short trace ids: distinct traces never look alike, and each short id means its trace."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipetrace.app.short_ids import short_id, short_ids
from pipetrace.app.tui.widgets.trace_header import header_content
from pipetrace.store import TraceRow
from pipetrace.store.trace_ids import lookup_prefixes, significant_id

YELP = "0000000000000000a03ee8fff1dcd9b9"

ids = st.one_of(
    st.integers(0, 2**128 - 1).map(lambda n: f"{n:032x}"),
    st.integers(0, 2**64 - 1).map(lambda n: f"{n:032x}"),
    st.integers(0, 2**24 - 1).map(lambda n: f"{n:016x}{0:016x}"),
    st.integers(0, 2**12 - 1).map(lambda n: f"{n:08x}" * 4),
)
"""Random 128-bit ids, zero-padded 64-bit ids, and ids whose digits differ only late on."""


def test_zero_padded_ids_show_their_significant_part() -> None:
    assert short_id(YELP) == "a03ee8fff1dc"
    assert short_id("83a9efd15c1c98a977e0711cc93ee28b") == "83a9efd15c1c"
    assert short_id(f"{1:032x}") == "0000000000000001"
    assert short_id("00000000000000010000000000000000") == "0000000000000001000"


@given(st.lists(ids, max_size=30))
def test_short_ids_are_distinct_and_each_resolves_to_its_trace(trace_ids: list[str]) -> None:
    shown = short_ids(trace_ids)
    assert set(shown) == set(trace_ids)
    assert len(set(shown.values())) == len(shown)
    for trace_id, short in shown.items():
        assert significant_id(trace_id).startswith(short) or short == trace_id
        assert len(short) >= min(12, len(significant_id(trace_id)))
        assert any(trace_id.startswith(p) for p in lookup_prefixes(short)), (trace_id, short)


def test_a_foreign_id_equal_to_a_significant_part_shows_whole() -> None:
    """Ids a foreign writer stored unpadded can equal a padded id's significant part."""
    assert short_ids([YELP, "a03ee8fff1dcd9b9"]) == {
        YELP: YELP,
        "a03ee8fff1dcd9b9": "a03ee8fff1dcd9b9",
    }


def test_header_replay_links_tell_zero_padded_replays_apart() -> None:
    def row(trace_id: str, replay_of: str | None = None) -> TraceRow:
        return TraceRow(trace_id, "before_signup", "success", 0, replay_of=replay_of)

    replays = [row("00000000000000010000000000000000", YELP), row(f"{2:016x}{0:016x}", YELP)]
    header = header_content(row(YELP), replays).plain
    assert "replayed by 0000000000000001000…, 0000000000000002000…" in header
