"""Size caps: the one-call marshal shortcut agrees with the JSON size estimate it stands in for."""

from __future__ import annotations

import marshal

from hypothesis import given
from hypothesis import strategies as st

from pipetrace.engine.values import SIZE_BOUND, approx_size, capped

json_like = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=12) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=60,
)


@given(json_like)
def test_the_estimate_never_exceeds_the_marshal_bound(value):
    assert approx_size(value) <= SIZE_BOUND * len(marshal.dumps(value, 2))


@given(json_like, st.integers(1, 6000))
def test_capped_keeps_exactly_the_values_the_estimate_allows(value, cap):
    size = approx_size(value)
    assert capped(value, cap) == (value if size <= cap else {"_truncated": True, "size": size})


def test_a_list_of_booleans_is_the_bound_s_worst_case():
    value = [True] * 100
    assert approx_size(value) == 2 + 100 * 9
    assert len(marshal.dumps(value, 2)) == 5 + 100
