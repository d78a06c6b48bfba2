"""`wallrenderer relay`: a controller feeding renderers through a tree of relays, as real processes.

controller (P) -> relay A (Q) -> relay B (R); renderer r0c0 hangs off A and
r1c1 off B, so r1c1's traffic crosses two relays each way.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import zmq
from conftest import wait_for, wall_command, write_yaml
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair
from controller.relay import Relay
from wallrenderer.core.address import endpoints
from wallrenderer.core.client import control_request


def relay_command(upstream: str, bind: str) -> list[str]:
    """The relay in its own process (`run_relay`, what `wallrenderer relay` runs)."""
    code = (
        "import logging, sys; logging.basicConfig(level=logging.INFO); "
        "from controller.relay import run_relay; "
        f"sys.exit(run_relay({upstream!r}, {bind!r}))"
    )
    return [sys.executable, "-c", code]


def connected(connect: str, displays: set[str], scenario: str = "testcard"):
    """The status answer once every display in `displays` is connected and shows `scenario`."""
    try:
        status = control_request(connect, "status", {}, timeout_s=1.5)
    except TimeoutError:
        return None
    ok = {r["id"] for r in status["renderers"]
          if r["connected"] and r.get("synced") and r.get("scenario") == scenario}
    return status if displays <= ok else None


def test_a_tree_of_relays_carries_updates_requests_captures_and_survives_a_restart(
    tmp_path, spawn
):
    wall = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    controller, relay_a, relay_b = (f"127.0.0.1:{free_port_pair()}" for _ in range(3))
    spawn(wall_command("controller", "--wall", str(wall), "--bind", controller))
    spawn(relay_command(controller, relay_a))
    second = spawn(relay_command(relay_a, relay_b))
    spawn(wall_command("renderer", "--connect", relay_a, "--display", "r0c0", "--headless"))
    spawn(wall_command("renderer", "--connect", relay_b, "--display", "r1c1", "--headless"))

    status = wait_for(lambda: connected(controller, {"r0c0", "r1c1"}), 30,
                      "both renderers to report the testcard up through the relays")
    rows = {r["id"]: r for r in status["renderers"]}
    assert not rows["r0c1"]["connected"] and not rows["r1c0"]["connected"]
    assert rows["r1c1"]["fps"] > 0

    # A control client two relays down gets the controller's own answer.
    through_two = control_request(relay_b, "status", {}, timeout_s=5)
    assert through_two["epoch"] == status["epoch"]
    assert through_two["scenario"] == "testcard"

    result = control_request(controller, "capture", {"dir": str(tmp_path / "shots")},
                             timeout_s=30)
    assert result["paths"].keys() == {"r0c0", "r1c1"}
    assert sorted(result["missing"]) == ["r0c1", "r1c0"]
    for path in result["paths"].values():
        assert (tmp_path / "shots").resolve() in Path(path).parents

    second.kill()
    second.wait()
    wait_for(lambda: not connected(controller, {"r1c1"}), 20,
             "the controller to notice r1c1 is gone with its relay")
    spawn(relay_command(relay_a, relay_b))
    wait_for(lambda: connected(controller, {"r0c0", "r1c1"}), 20,
             "r1c1 to reconnect on its own through the restarted relay")


def test_close_stops_both_proxies_and_leaves_no_threads():
    ctx = zmq.Context()
    before = set(threading.enumerate())
    upstream = f"127.0.0.1:{free_port_pair()}"
    relay = Relay(upstream, f"127.0.0.1:{free_port_pair()}", ctx)
    relay.start()
    assert relay.alive
    assert len(set(threading.enumerate()) - before) == 2
    relay.close()
    relay.close()  # idempotent
    assert not relay.alive
    assert set(threading.enumerate()) == before
    term = threading.Thread(target=ctx.term, daemon=True)
    term.start()
    term.join(timeout=5)
    assert not term.is_alive(), "the context could not terminate: a relay socket is still open"


def test_a_relay_whose_controller_is_gone_still_forwards_stats_and_stops_at_once():
    """Requests pile up for a dead upstream; the relay drops them rather than wedge on them."""
    ctx = zmq.Context()
    bind = f"127.0.0.1:{free_port_pair()}"
    relay = Relay(f"127.0.0.1:{free_port_pair()}", bind, ctx)  # nobody listens upstream
    relay.start()
    client = ctx.socket(zmq.DEALER)
    client.setsockopt(zmq.LINGER, 0)
    client.setsockopt(zmq.SNDHWM, 0)
    client.connect(endpoints(bind)[1])
    for _ in range(20_000):  # far past the relay's queue for the upstream controller
        client.send_multipart([b"ping", b"x" * 100])
    wait_for(lambda: relay.statistics().get("requests", {}).get("up_frames", 0) >= 40_000, 20,
             "the relay to read every request, and still answer for its statistics")
    started = time.monotonic()
    relay.close()
    assert time.monotonic() - started < 1.0
    assert not relay.alive
    client.close()
    ctx.term()
