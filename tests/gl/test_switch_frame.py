"""The frame that shows a switch builds nothing: all first-time work happens before the tick.

A real controller (in a thread) and a real renderer on loopback; the test
turns the renderer's loop itself, so it sees exactly which frame did what.
"""

from __future__ import annotations

import copy
import threading
import time

import pytest
import yaml
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair
from controller.library import load_library
from controller.node import Controller
from controller.sample import sample_frame
from wallrenderer.renderer.node import Renderer, RendererOptions


@pytest.fixture
def wall(tmp_path):
    """A controller serving the shipped scenarios, with a data frame published, and one renderer."""
    path = tmp_path / "wall.yaml"
    path.write_text(yaml.safe_dump(SMALL_GRID_WALL))
    library = load_library(path, None)
    connect = f"127.0.0.1:{free_port_pair()}"
    controller = Controller(library.wall_data, library.scenarios, "testcard",
                            list(library.wall.ids), connect)
    stop = threading.Event()
    loop = threading.Thread(target=controller.run, args=(stop.is_set,))
    loop.start()
    renderer = Renderer(RendererOptions(connect, "r0c0", fps=60))
    try:
        yield controller, renderer
    finally:
        renderer.close()
        stop.set()
        loop.join()
        controller.close()


def publish(controller: Controller, frame: dict, seq: int, full: bool) -> None:
    delta = {"seq": seq, "full": full, "set": frame, "drop": []}
    assert controller.call(lambda: controller.publish_data(delta)).result(timeout=5)


def step_until(renderer: Renderer, done, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        renderer.step()


def test_data_arriving_between_prepare_and_the_switch_tick_is_built_before_the_tick(wall):
    controller, renderer = wall
    now = time.time()
    first = sample_frame(now, hours=1)
    later = copy.deepcopy(first)
    later["volume"] = sample_frame(now + 120, hours=1)["volume"]
    later["feed"] = list(reversed(first["feed"]))
    publish(controller, first, 1, full=True)

    def synced():
        rows = controller.call(controller.status).result(timeout=5)["renderers"]
        return any(r["id"] == "r0c0" and r.get("synced") for r in rows)

    step_until(renderer, synced, 60, "the renderer to sync")
    switch = controller.request_switch("monitoring")
    step_until(renderer, switch.done, 10, "the switch to be committed")
    result = switch.result()
    assert result["acknowledged"] == ["r0c0"]
    publish(controller, later, 2, full=False)  # after the acknowledgement, before the tick
    step_until(renderer, lambda: renderer.activated_tick is not None, 10, "the switch frame")

    assert renderer.activated_tick == result["tick"]
    assert renderer.view.scenario.name == "monitoring"
    assert renderer.data["volume"] == later["volume"], "the new data reached the renderer"
    assert renderer.view.built_last == 0, "the switch frame rebuilt widgets on air"
