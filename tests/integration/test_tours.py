"""Tours on a real controller and renderer: step timing, control, a presenter, a restart."""

from __future__ import annotations

import signal
import time

import requests
from conftest import wait_for, wall_command, write_yaml
from test_data import api_status

from controller.demo import free_port_pair
from wallrenderer.core.timing import TICK_HZ

TOKEN = "t"
FPS = 30
ONE_PANEL = {"wall": {"name": "one", "grid": {"rows": 1, "cols": 1, "panel": {
    "resolution": [320, 180], "active_mm": [201.6, 113.4],
    "bezel_mm": {"left": 3.0, "right": 3.0, "top": 2.0, "bottom": 2.0}}}}}
STEPS = [("a", 1.5), ("b", 1.0), ("c", 2.0)]


def start_controller(spawn, tmp_path, connect, http):
    return spawn(wall_command(
        "controller", "--wall", str(tmp_path / "wall.yaml"), "--scenarios",
        str(tmp_path / "scenarios"), "--tours", str(tmp_path / "tours"), "--bind", connect,
        "--http", f"127.0.0.1:{http}", "--token", TOKEN, "--store", str(tmp_path / "s.sqlite")))


def test_a_tour_runs_its_steps_on_time_and_obeys_the_presenter(tmp_path, spawn):
    write_yaml(tmp_path / "wall.yaml", ONE_PANEL)
    for name, color in zip("abcd", ("#400000", "#004000", "#000040", "#404000"), strict=True):
        write_yaml(tmp_path / "scenarios" / f"{name}.yaml", {"scenario": {
            "name": name, "widgets": [{"kind": "rect", "rect": [0, 0, 1, 1], "color": color}]}})
    write_yaml(tmp_path / "tours" / "t.yaml", {"tour": {"name": "t", "steps": [
        {"scenario": s, "seconds": d, "caption": f"step {s}"} for s, d in STEPS]}})
    connect, http = f"127.0.0.1:{free_port_pair()}", free_port_pair()
    controller = start_controller(spawn, tmp_path, connect, http)
    spawn(wall_command("renderer", "--connect", connect, "--display", "r0c0", "--headless",
                       "--fps", str(FPS)))
    base, auth = f"http://127.0.0.1:{http}", {"Authorization": f"Bearer {TOKEN}"}

    def post(path, body=None):
        answer = requests.post(base + path, json=body, headers=auth, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def renderer():
        rows = (api_status(http) or {}).get("renderers") or [{}]
        return rows[0] if rows[0].get("synced") else None

    wait_for(renderer, 60, "the renderer")
    # A renderer's first frames (fonts, shaping) can take seconds: time steps once it is warm.
    post("/api/scenario", {"name": "d"})
    wait_for(lambda: (renderer() or {}).get("scenario") == "d", 30, "a first switch drawn")
    assert [t["name"] for t in requests.get(base + "/api/tours", timeout=5).json()["tours"]] \
        == ["t"]
    post("/api/tour/start", {"name": "t"})
    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 20
    while len(seen) < 4 and time.monotonic() < deadline:
        row = renderer() or {}
        shown = (row.get("scenario"), row.get("activated_tick"))
        if shown[1] is not None and shown[0] != "d" and (not seen or shown != seen[-1]):
            seen.append(shown)
        time.sleep(0.05)
    assert [s for s, _ in seen] == ["a", "b", "c", "a"], seen
    frame = TICK_HZ // FPS
    for (_, tick), (_, after), (_, seconds) in zip(seen, seen[1:], STEPS, strict=False):
        assert abs((after - tick) - seconds * TICK_HZ) <= frame, (seen, seconds)

    held = post("/api/tour/hold")["tour"]
    assert held["held"] and held["next_at"] is None
    step = held["step"]
    time.sleep(2.0)
    assert api_status(http)["tour"]["step"] == step, "a held step stays"
    tour = post("/api/tour/next")["tour"]
    assert (tour["step"], tour["scenario"]) == ((step + 1) % 3, STEPS[(step + 1) % 3][0])
    assert post("/api/tour/previous")["tour"]["step"] == step
    assert post("/api/tour/hold")["tour"]["step"] == step
    post("/api/tour/hold", {"held": False})
    post("/api/scenario", {"name": "d"})
    status = wait_for(lambda: (s := api_status(http))["scenario"] == "d" and s, 5, "d shown")
    assert status["tour"]["held"], "the presenter's switch holds the tour"
    left = status["tour"]["left_s"]
    time.sleep(1.0)
    assert api_status(http)["scenario"] == "d", "the tour did not override the presenter"

    controller.send_signal(signal.SIGTERM)
    controller.wait(timeout=10)
    start_controller(spawn, tmp_path, connect, http)
    resumed = wait_for(lambda: (api_status(http) or {}).get("tour"), 30, "the tour after restart")
    assert resumed["step"] == step and resumed["held"] and abs(resumed["left_s"] - left) < 0.2
    post("/api/tour/hold", {"held": False})
    wait_for(lambda: api_status(http)["scenario"] == STEPS[step][0], 5, "the held step again")
    assert post("/api/tour/stop")["stopped"] is True
    assert api_status(http)["tour"] is None
