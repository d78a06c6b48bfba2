"""The tablet's side of the HTTP API: PIN sessions, reloads, tours, safe screen, live events.

A real Controller loop in a thread and real HTTP, as in test_http.py.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest
import requests
from conftest import wait_for, write_yaml
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair
from controller.http import HttpApi
from controller.library import LibrarySource, load_library
from controller.node import Controller
from wallrenderer.core.layout.tours import load_tours

TOKEN = "tablet-test-token"
PIN = "2468"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def scenario(name: str, kind: str = "rect") -> dict:
    widget = {"kind": kind} if kind == "testcard" else {"kind": kind, "rect": [0, 0, 1, 1]}
    return {"scenario": {"name": name, "widgets": [widget]}}


@pytest.fixture
def files(tmp_path):
    wall = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    folder = tmp_path / "scenarios"
    write_yaml(folder / "a.yaml", scenario("a", "testcard"))
    write_yaml(folder / "b.yaml", scenario("b"))
    write_yaml(folder.parent / "tours" / "ab.yaml", {"tour": {"name": "ab", "steps": [
        {"scenario": "a", "seconds": 60, "caption": "first"}, {"scenario": "b", "seconds": 60}]}})
    return wall, folder


@pytest.fixture
def served(files):
    """A controller from files, its loop in a thread, and its API with a PIN."""
    wall, folder = files
    library = load_library(wall, folder)
    tours, problems = load_tours(folder.parent / "tours", library.scenarios)
    assert not problems
    ctl = Controller(library.wall_data, library.scenarios, "a", list(library.wall.ids),
                     bind=f"127.0.0.1:{free_port_pair()}", scenario_fields=library.fields,
                     tours=tours)
    stop = threading.Event()
    loop = threading.Thread(target=ctl.run, args=(stop.is_set,), daemon=True)
    loop.start()
    api = HttpApi(ctl, "127.0.0.1", 0, TOKEN, pin=PIN,
                  library=LibrarySource(wall, folder, library.paths))
    api.start()
    yield api
    api.close()
    stop.set()
    loop.join(timeout=5)
    ctl.close()


def login(api, pin=PIN, name="front tablet", session=None):
    return (session or requests).post(f"{api.url}/api/session", json={"pin": pin, "name": name},
                                      timeout=10)


def test_the_pin_opens_a_strict_httponly_session_that_may_switch(served):
    with requests.Session() as tablet:
        assert tablet.post(f"{served.url}/api/scenario", json={"name": "b"},
                           timeout=10).status_code == 401
        answer = login(served, session=tablet)
        assert answer.status_code == 200 and answer.json()["name"] == "front tablet"
        cookie = answer.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert tablet.get(f"{served.url}/api/session", timeout=10).json()["unlocked"] is True
        switched = tablet.post(f"{served.url}/api/scenario", json={"name": "b"}, timeout=10)
        assert switched.status_code == 200 and switched.json()["name"] == "b"
        # A page of another site cannot use the tablet's cookie.
        forged = tablet.post(f"{served.url}/api/scenario", json={"name": "a"}, timeout=10,
                             headers={"Origin": "http://evil.example"})
        assert forged.status_code == 403
        tablet.delete(f"{served.url}/api/session", timeout=10)
        assert tablet.post(f"{served.url}/api/scenario", json={"name": "a"},
                           timeout=10).status_code == 401


def test_wrong_pins_are_slowed_down_per_client(served):
    for _ in range(3):
        assert login(served, pin="0000").status_code == 403
    blocked = login(served)  # even the right PIN waits now
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    assert "try again" in blocked.json()["error"]
    other_client = served.sessions.login("10.0.0.9", PIN, "other")
    assert other_client[1].name == "other", "another client is not slowed down"
    time.sleep(1.1)
    assert login(served).status_code == 200


def test_a_session_expires(served):
    served.sessions.ttl_s = 1.0
    answer = login(served)
    assert answer.status_code == 200
    # Sent by hand: the server must refuse it even from a client that keeps expired cookies.
    cookie = {"Cookie": f"wall_session={answer.cookies['wall_session']}"}
    time.sleep(1.1)
    late = requests.post(f"{served.url}/api/scenario", json={"name": "b"}, headers=cookie,
                         timeout=10)
    assert late.status_code == 401 and "expired" in late.json()["error"]


@pytest.mark.parametrize("body", [{}, {"pin": 2468}, {"pin": PIN, "name": "x" * 41}])
def test_bad_login_bodies_are_400(served, body):
    assert requests.post(f"{served.url}/api/session", json=body, timeout=10).status_code == 400


def test_reload_takes_good_files_and_refuses_bad_ones_keeping_the_old(served, files):
    _, folder = files
    write_yaml(folder / "c.yaml", scenario("c"))
    (folder / "b.yaml").write_text("scenario:\n  name: b\n  widgets:\n    - kind: rectangle\n"
                                   "      rect: [0, 0, 1, 1]\n")
    assert requests.post(f"{served.url}/api/scenarios/reload", timeout=10).status_code == 401
    answer = requests.post(f"{served.url}/api/scenarios/reload", headers=AUTH, timeout=10)
    assert answer.status_code == 422
    report = answer.json()
    assert report["added"] == ["c"] and report["kept"] == ["b"]
    assert any("b.yaml:4" in p and "kind" in p for p in report["problems"]), report["problems"]
    names = [s["name"] for s in requests.get(f"{served.url}/api/scenarios", timeout=10)
             .json()["scenarios"]]
    assert {"a", "b", "c"} <= set(names)
    assert served.controller.scenarios["b"] == scenario("b"), "b keeps its previous version"
    write_yaml(folder / "b.yaml", scenario("b", "testcard"))
    fixed = requests.post(f"{served.url}/api/scenarios/reload", headers=AUTH, timeout=10)
    assert fixed.status_code == 200 and fixed.json()["changed"] == ["b"]


def test_a_reload_that_changes_the_scenario_on_the_wall_shows_it_at_once(served, files):
    _, folder = files
    ctl = served.controller
    assert ctl.scenario_name == "a" and ctl.scenario_data == scenario("a", "testcard")
    write_yaml(folder / "a.yaml", scenario("a"))
    answer = requests.post(f"{served.url}/api/scenarios/reload", headers=AUTH, timeout=10)
    assert answer.status_code == 200 and answer.json()["changed"] == ["a"]
    wait_for(lambda: ctl.scenario_data == scenario("a"), 10, "the new version of a on the wall")
    assert ctl.scenario_name == "a"

    # While a tour runs, its step stays as it is until the tour moves on.
    assert requests.post(f"{served.url}/api/tour/start", json={"name": "ab"}, headers=AUTH,
                         timeout=10).status_code == 200
    time.sleep(1.5)  # the tour's first step is on the wall (a switch takes under 0.6 s)
    shown = ctl.scenario_data
    assert shown != scenario("a"), "the step carries its caption"
    write_yaml(folder / "a.yaml", scenario("a", "testcard"))
    requests.post(f"{served.url}/api/scenarios/reload", headers=AUTH, timeout=10)
    time.sleep(1.5)
    assert ctl.scenario_data == shown, "a reload does not cut into a tour step"


def test_tours_next_previous_hold_and_stop(served, caplog):
    caplog.set_level(logging.INFO, logger="controller.http")
    listing = requests.get(f"{served.url}/api/tours", timeout=10).json()
    assert [t["name"] for t in listing["tours"]] == ["ab"] and listing["running"] is None
    assert [s["scenario"] for s in listing["tours"][0]["steps"]] == ["a", "b"]
    assert requests.post(f"{served.url}/api/tour/next", headers=AUTH,
                         timeout=10).status_code == 409
    assert requests.post(f"{served.url}/api/tour/start", json={"name": "ab"},
                         timeout=10).status_code == 401, "a tour is a change"
    with requests.Session() as tablet:
        login(served, session=tablet)
        started = tablet.post(f"{served.url}/api/tour/start", json={"name": "ab"}, timeout=10)
    assert started.status_code == 200
    tour = started.json()["tour"]
    assert (tour["name"], tour["step"], tour["steps"], tour["scenario"], tour["caption"]) == (
        "ab", 0, 2, "a", "first")
    assert any("tour ab started over HTTP by front tablet" in r.getMessage()
               for r in caplog.records), "the log names who started it"
    step = requests.post(f"{served.url}/api/tour/next", headers=AUTH, timeout=10).json()["tour"]
    assert (step["step"], step["scenario"]) == (1, "b")
    wait_for(lambda: served.controller.scenario_name == "b", 5, "the tour's next step")
    held = requests.post(f"{served.url}/api/tour/hold", headers=AUTH, timeout=10).json()["tour"]
    assert held["held"] is True and held["next_at"] is None
    status = requests.get(f"{served.url}/api/status", timeout=10).json()["tour"]
    assert (status["step"], status["held"]) == (1, True)
    resumed = requests.post(f"{served.url}/api/tour/hold", headers=AUTH, json={"held": False},
                            timeout=10).json()["tour"]
    assert resumed["held"] is False
    back = requests.post(f"{served.url}/api/tour/previous", headers=AUTH,
                         timeout=10).json()["tour"]
    assert (back["step"], back["scenario"]) == (0, "a")
    assert requests.post(f"{served.url}/api/tour/start", headers=AUTH, json={"name": "nope"},
                         timeout=10).status_code == 404
    for body, message in (({}, 'missing "name"'), ({"name": 3}, '"name" must be'),
                          ({"scenarios": ["a"], "seconds": 0}, '"seconds" must be a number '
                                                               'from 1 to 3600')):
        bad = requests.post(f"{served.url}/api/tour/start", headers=AUTH, json=body, timeout=10)
        assert bad.status_code == 400 and message in bad.json()["error"], bad.text
    bad = requests.post(f"{served.url}/api/tour/hold", headers=AUTH, json={"held": "yes"},
                        timeout=10)
    assert bad.status_code == 400 and '"held" must be true' in bad.json()["error"]
    stopped = requests.post(f"{served.url}/api/tour/stop", headers=AUTH, timeout=10).json()
    assert stopped["stopped"] is True
    assert requests.get(f"{served.url}/api/status", timeout=10).json()["tour"] is None


def test_a_tour_whose_scenario_was_reloaded_away_stops_with_a_reason(served, files):
    _, folder = files
    requests.post(f"{served.url}/api/tour/start", headers=AUTH, json={"name": "ab"}, timeout=10)
    (folder / "b.yaml").unlink()
    report = requests.post(f"{served.url}/api/scenarios/reload", headers=AUTH, timeout=10).json()
    assert report["removed"] == ["b"]
    step = requests.post(f"{served.url}/api/tour/next", headers=AUTH, timeout=10)
    assert step.status_code == 409 and "'b'" in step.json()["error"], step.text
    assert requests.get(f"{served.url}/api/status", timeout=10).json()["tour"] is None
    assert served.controller.call(lambda: 1).result(5) == 1, "the controller loop runs on"


def test_safe_screen_stops_the_tour_and_switches_in_one_go(served):
    requests.post(f"{served.url}/api/tour/start", headers=AUTH, json={"name": "ab"},
                  timeout=10)
    answer = requests.post(f"{served.url}/api/safe-screen", headers=AUTH, timeout=10)
    assert answer.status_code == 200 and answer.json()["name"] == "safe-screen"
    wait_for(lambda: served.controller.scenario_name == "safe-screen", 5, "the safe screen")
    assert served.controller.tours.running is None


def panel_colours(api) -> dict[str, dict]:
    panels = requests.get(f"{api.url}/api/wall", timeout=10).json()["panels"]
    return {p["id"]: p["color"] for p in panels}


def test_panel_colour_needs_credentials_names_a_bad_field_and_records_who(served, caplog):
    url = f"{served.url}/api/panel/colour"
    identity = {"gain": [1.0, 1.0, 1.0], "gamma": 1.0, "brightness": 1.0}
    assert requests.post(url, json={"panel": "r0c1", "gamma": 1.1}, timeout=10).status_code == 401
    for body, error in [({"panel": "r0c1", "gain": [1, 0.9]}, '"gain" must be 3 numbers'),
                        ({"panel": "r0c1", "gamma": 0}, '"gamma" must be a number from 0.2'),
                        ({"panel": "r0c1", "brightness": "1"}, '"brightness" must be a number'),
                        ({"gamma": 1.1}, 'missing "panel"'),
                        ({"panel": "r9c9", "gamma": 1.1}, "unknown display id 'r9c9'")]:
        refused = requests.post(url, headers=AUTH, json=body, timeout=10)
        assert refused.status_code in (400, 404) and error in refused.json()["error"], body
    assert all(c == identity for c in panel_colours(served).values()), "nothing changed"

    caplog.set_level(logging.INFO, logger="controller.http")
    with requests.Session() as tablet:
        login(served, session=tablet)
        nudged = tablet.post(url, json={"panel": "r0c1", "gain": [1, 0.9, 1]}, timeout=10)
        assert nudged.status_code == 200, nudged.text
        assert nudged.json() == {"panel": "r0c1", "gain": [1.0, 0.9, 1.0], "gamma": 1.0,
                                 "brightness": 1.0, "saved": None, "by": "front tablet"}
        assert panel_colours(served)["r0c1"] == {**identity, "gain": [1.0, 0.9, 1.0]}
        assert panel_colours(served)["r0c0"] == identity
        assert "panel r0c1 colour set over HTTP by front tablet" in caplog.text
        unsaved = tablet.post(url, json={"panel": "r0c1", "brightness": 0.9, "save": True},
                              timeout=10)
    assert unsaved.status_code == 409 and "no wall file" in unsaved.json()["error"]
    assert panel_colours(served)["r0c1"]["brightness"] == 0.9, "the live change stands"


def test_moderation_reads_need_credentials(served):
    for path in ("/api/moderation/queue", "/api/moderation/audit"):
        assert requests.get(f"{served.url}{path}", timeout=10).status_code == 401
        assert requests.get(f"{served.url}{path}", headers=AUTH, timeout=10).status_code == 404


def test_events_stream_the_status_and_end_when_the_api_closes(served):
    with requests.get(f"{served.url}/api/events", stream=True, timeout=10) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines) == b"event: status"
        event = json.loads(next(lines).removeprefix(b"data: "))
        assert event["scenario"] == "a" and event["queue"] is None
        started = time.monotonic()
        served.close()
        assert list(lines) is not None
        assert time.monotonic() - started < 5


def test_page_ships_without_outside_assets(served):
    page = requests.get(f"{served.url}/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    for name in ("tablet.js", "colour.js", "tablet.css"):
        asset = requests.get(f"{served.url}/static/{name}", timeout=10)
        assert asset.status_code == 200 and name in page.text
        assert "http://" not in asset.text and "https://" not in asset.text
    assert "https://" not in page.text and "http://" not in page.text


def test_the_wheel_carries_the_page(tmp_path):
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-q", "-w", str(tmp_path), str(root)], check=True, timeout=240)
    wheel = next(tmp_path.glob("wallrenderer-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("index.html", "tablet.js", "colour.js", "tablet.css"):
        assert f"controller/http/static/{name}" in names


def test_thumbnails_are_drawn_by_a_worker_cached_and_redrawn_when_a_scenario_changes(tmp_path):
    import io

    from PIL import Image

    from controller.http.thumbnails import Thumbnails

    green = {"scenario": {"name": "g", "widgets": [{"kind": "rect", "rect": [0, 0, 1, 1],
                                                    "color": "#00ff00"}]}}
    thumbs = Thumbnails(tmp_path, side=200)
    thumbs.start(SMALL_GRID_WALL, {"g": green})
    try:
        first = wait_for(lambda: thumbs.url("g"), 60, "the first picture")
        image = Image.open(io.BytesIO(thumbs.png("g"))).convert("RGB")
        assert image.width == 200 and 0.5 < image.height / image.width < 0.6
        assert image.getpixel((50, 25)) == (0, 255, 0)
        red = {"scenario": {**green["scenario"], "widgets": [
            {"kind": "rect", "rect": [0, 0, 1, 1], "color": "#ff0000"}]}}
        thumbs.update(SMALL_GRID_WALL, {"g": red})
        second = wait_for(lambda: thumbs.url("g") != first and thumbs.url("g"), 60,
                          "a new picture of the changed scenario")
        assert second.startswith("/api/thumbnails/g.png?v=")
        image = Image.open(io.BytesIO(thumbs.png("g"))).convert("RGB")
        assert image.getpixel((50, 25)) == (255, 0, 0)
    finally:
        thumbs.close()
    again = Thumbnails(tmp_path, side=200)
    again.update(SMALL_GRID_WALL, {"g": green})
    assert again.url("g") == first, "a restart reuses the cached picture"
