"""Controller addresses and the shared tick grid: pure functions both nodes rely on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallrenderer.core.address import DEFAULT_PORT, endpoints, parse_address
from wallrenderer.core.errors import WallError
from wallrenderer.core.timing import TICK_HZ, next_tick, tick_at, ticks_per_frame, time_of
from wallrenderer.renderer.link import ClockEstimate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wallctl", ("wallctl", DEFAULT_PORT)),
        ("10.0.0.5:7800", ("10.0.0.5", 7800)),
        ("::1", ("[::1]", DEFAULT_PORT)),
        ("[::1]:7800", ("[::1]", 7800)),
        (":7800", ("127.0.0.1", 7800)),
    ],
)
def test_parse_address_accepts_what_an_operator_types(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["host:http", "host:0", "host:65535", "[::1]:x"])
def test_parse_address_rejects_bad_ports_with_a_message(text):
    with pytest.raises(WallError, match="port"):
        parse_address(text)


def test_endpoints_are_port_and_port_plus_one():
    assert endpoints("wallctl:7700") == ("tcp://wallctl:7700", "tcp://wallctl:7701")


@given(st.floats(min_value=1e9, max_value=3e9, allow_nan=False))
def test_next_tick_is_strictly_after_and_within_one_step(t):
    k = next_tick(t)
    assert time_of(k) > t - 1e-9
    assert k - tick_at(t) == 1


@given(st.floats(min_value=1e9, max_value=3e9, allow_nan=False), st.sampled_from([1, 2, 6]))
def test_capped_renderers_share_ticks_on_multiples_of_their_step(t, every):
    k = next_tick(t, every)
    assert k % every == 0 and 0 < k - tick_at(t) <= every


def test_ticks_per_frame_maps_caps_to_grid_steps():
    assert ticks_per_frame(TICK_HZ) == 1
    assert ticks_per_frame(10) == 6
    assert ticks_per_frame(1000) == 1


def test_clock_estimate_leaves_out_controller_processing_and_keeps_the_shortest_path():


    clock = ClockEstimate()
    # Controller 5 s ahead; 1 ms each way, 3 ms of processing that must not count as delay.
    clock.add(t0=100.000, t1=105.001, t2=105.004, t3=100.005)
    assert clock.offset == pytest.approx(5.0)
    assert clock.error == pytest.approx(0.001)
    # A slower, lopsided exchange (reply held up 4 ms) must not move the estimate.
    clock.add(t0=200.000, t1=205.001, t2=205.001, t3=200.006)
    assert clock.offset == pytest.approx(5.0)
