"""The recorder's pre-check: searches of a trace's packed bytes decide whether masking could
change anything, so most traces are not walked; it must never say no when masking would
change something."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipetrace.engine.record import _INPUT, _MARSHALLED, pack_facts, unpack_facts
from pipetrace.engine.redaction import KeyRules, Redactor
from pipetrace.engine.redaction.patterns import ShapeFilter

RULES = KeyRules()
HELPER = "helper-secret-77"
FRAGMENTS = [
    "hunter22", "Bearer abcd1234efgh", "BEARER abcd1234efgh", "eyJhbGciOiJI.eyJzdWIi.sig",
    "4242 4242 4242 4242", "4242424242424242", "4242-4242", "https://u:pw@h/x", "?token=abc",
    "&key=k", "password=x1", "pin=9876", "geo_risk=20", "Basic dXNlcjpwYXNz", HELPER, "risk",
    " ", "=", "-", "@", "://", "1234", "98765", "A", "ñ", "\ud800", "x" * 40,
]  # fmt: skip
KEYS = ["password", "pin", "otp", "note", "email", "name", "api_key", "url", "token_count", "x"]

texts = st.lists(st.sampled_from(FRAGMENTS), max_size=6).map("".join)
scalars = st.one_of(
    texts, st.sampled_from([7, 1234, 98765, 4242424242424242, 10**13 + 1, 2.5, True, None])
)
inputs = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=12,
).map(lambda value: {"v": value})


def unchanged_by_masking(
    given_input: dict[str, Any], script_texts: list[str], numbers: list[Any]
) -> tuple[bool, bool]:
    """What the pre-check said for a trace of this input whose scripts stored these texts
    and numbers, and whether masking left everything as it was."""
    facts: list[Any] = [None] * (_INPUT + 3)
    facts[_INPUT : _INPUT + 3] = given_input, script_texts, numbers
    packed = pack_facts(tuple(facts))
    scrub = Redactor(RULES, [HELPER]).for_trace()
    stored = unpack_facts(packed)[_INPUT]
    scrub.redact_keys(stored, note=True)
    before = copy.deepcopy(stored)
    said = packed[:1] == _MARSHALLED or scrub.may_mask(packed, numbers)  # as the recorder
    same = (
        scrub.mask(stored) == before
        and all(scrub.text(t) == t for t in script_texts)
        and all(scrub.mask(n) == n for n in numbers)
    )
    return said, same


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(inputs, st.lists(texts, max_size=4), st.lists(scalars, max_size=3))
@example({"v": {"pin": "9876"}}, ["tries 9876"], [])
@example({"v": {"password": "hunter22"}}, [], [])
@example({"v": {"pin": 98765}}, [], [98765])
def test_the_pre_check_never_skips_a_trace_that_masking_would_change(
    given_input: dict[str, Any], script_texts: list[str], numbers: list[Any]
) -> None:
    said, same = unchanged_by_masking(given_input, script_texts, numbers)
    assert said or same


def test_the_pre_check_skips_a_trace_with_nothing_to_mask() -> None:
    said, same = unchanged_by_masking(
        {"password": "hunter22", "email": "ana@example.com"},
        ["risk 20 (geo_risk=20)", "email_domain", "example.com"],
        [20, 1717000000000000000],
    )
    assert (said, same) == (False, True)


@pytest.mark.parametrize("length", [48, 65, 90, 300, 0x4142, 70_000])
def test_a_string_header_that_reads_as_letters_hides_no_name(length: int) -> None:
    text = ("pin=1234 " + "x" * length)[:length]
    packed = pack_facts(([1, text],))
    assert packed[:1] != _MARSHALLED and ShapeFilter(RULES.is_secret).may_match(packed)
