"""Frame composition: deltas applied in order rebuild the frame; the rate limit holds."""

# Test names say what each test checks; docstrings would repeat them.

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.aggregate.aggregator import Aggregator
from controller.frames import FrameComposer
from wallrenderer.core.dataframe import apply_delta

KEYS = ["volume", "terms", "alerts", "totals", "series"]
values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner,
                                                                 max_size=3),
    max_leaves=8,
)
frames = st.dictionaries(st.sampled_from(KEYS), values, max_size=len(KEYS))
steps = st.lists(
    st.tuples(frames, st.none() | st.sets(st.sampled_from(KEYS)), st.sampled_from([0.02, 0.1, 3.0]),
              st.booleans()),
    max_size=25,
)


@settings(max_examples=100, deadline=None)
@given(steps)
def test_applying_composed_deltas_in_order_rebuilds_the_frame_restricted_to_fields(sequence):
    composer = FrameComposer(max_rate_hz=10, full_every_s=10)
    state: dict = {}
    now, seq, shown = 0.0, 0, None
    for full, fields, dt, reset in sequence:
        now += dt
        if reset:
            composer.reset()
        delta = composer.compose(full, fields, now)
        wanted = full if fields is None else {k: v for k, v in full.items() if k in fields}
        if delta is None:
            if dt >= 0.1:  # not rate-limited, so nothing changed
                assert state == wanted
            continue
        assert delta["seq"] == seq + 1
        seq = delta["seq"]
        assert set(delta["set"]).isdisjoint(delta["drop"])
        state = apply_delta(state, delta)
        assert state == wanted
        shown = now
    if shown is not None:
        assert composer.seq == seq


def test_at_most_ten_frames_a_second():
    composer = FrameComposer(max_rate_hz=10)
    sent = [composer.compose({"totals": {"n": i}}, None, i * 0.01) for i in range(100)]
    assert sum(d is not None for d in sent) == 10
    assert [d["set"]["totals"]["n"] for d in sent if d is not None] == list(range(0, 100, 10))


def test_only_changed_keys_are_sent_and_unwanted_ones_dropped():
    composer = FrameComposer(full_every_s=60)
    first = composer.compose({"a": 1, "b": [1], "c": 3}, {"a", "b", "c"}, 0.0)
    assert first == {"seq": 1, "full": True, "set": {"a": 1, "b": [1], "c": 3}, "drop": []}
    assert composer.compose({"a": 1, "b": [1], "c": 3}, None, 1.0) is None
    second = composer.compose({"a": 2, "b": [1], "c": 3}, {"a", "b"}, 2.0)
    assert second == {"seq": 2, "full": False, "set": {"a": 2}, "drop": ["c"]}
    state = apply_delta(apply_delta({}, first), second)
    assert state == {"a": 2, "b": [1]}


def test_a_full_frame_goes_out_periodically_and_after_reset():
    composer = FrameComposer(full_every_s=5)
    assert composer.compose({"a": 1}, None, 0.0)["full"]
    assert not composer.compose({"a": 2}, None, 1.0)["full"]
    assert composer.compose({"a": 2}, None, 5.0)["full"]
    composer.reset()
    again = composer.compose({"a": 2}, None, 5.5)
    assert again["full"] and again["set"] == {"a": 2}


def test_apply_delta_leaves_its_input_alone():
    state = {"a": 1}
    assert apply_delta(state, {"seq": 1, "full": False, "set": {"b": 2}, "drop": ["a"]}) == {"b": 2}
    assert state == {"a": 1}


def test_composing_aggregator_frames_sends_only_the_scenario_fields():
    agg = Aggregator(["acme", "globex"], "acme")
    composer = FrameComposer()
    fields = {"volume", "alerts", "unknown-field"}
    delta = composer.compose(agg.frame(1_700_000_000.0), fields, 0.0)
    assert set(delta["set"]) == {"volume", "alerts"}
    assert set(Aggregator.frame_fields()) >= set(delta["set"])


def test_nonsense_rates_are_refused():
    with pytest.raises(ValueError):
        FrameComposer(max_rate_hz=0)
