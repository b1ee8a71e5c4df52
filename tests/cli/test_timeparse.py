"""The time parser the commands and the viewer share refuses what the store cannot hold."""

from __future__ import annotations

import pytest

from pipetrace.app.timeparse import NS, TimeFormatError, parse_age, parse_time

NOW = 1_790_000_000 * NS  # 2026-09-21


@pytest.mark.parametrize(
    "text",
    ["36501d", "100000000w", "99999999999d", pytest.param("1" + "0" * 400 + "d", id="1e400d")],
)
def test_ages_over_a_hundred_years_are_refused(text: str) -> None:
    with pytest.raises(TimeFormatError, match="too large: use at most 36500d"):
        parse_age(text)


@pytest.mark.parametrize(
    "text", ["0001-01-01", "1969-12-31T23:59:59Z", "2200-01-01", "9999-12-31", "30000d"]
)
def test_times_outside_1970_to_2199_are_refused(text: str) -> None:
    with pytest.raises(TimeFormatError, match="out of range: use one between 1970 and 2199"):
        parse_time(text, NOW)


def test_times_inside_the_window_still_parse() -> None:
    assert parse_age("36500d") == 36500 * 86400 * NS
    assert parse_time("1970-01-01", NOW) == 0
    assert parse_time("2199-12-31T23:59:59Z", NOW) > NOW
    assert parse_time("7d", NOW) == NOW - 7 * 86400 * NS
