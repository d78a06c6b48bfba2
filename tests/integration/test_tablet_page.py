"""The tablet page end to end: Debian's chromium (Playwright) drives a real wall of processes.

The page is driven as a presenter's screen reader would: by labels and
accessible names, which are the page's contract with scripts.
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import numpy as np
import pytest
import requests
from conftest import wait_for, wall_command, write_yaml
from PIL import Image
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair
from controller.http.livewall import MISSING_RGB
from wallrenderer.core.client import control_request
from wallrenderer.core.layout.walls import load_wall, wall_from_data
from wallrenderer.core.wallimage import BEZEL_RGB

CHROMIUM = Path("/usr/bin/chromium")
PIN = "1357"
GREEN = {"scenario": {"name": "green", "widgets": [{"kind": "rect", "rect": [0, 0, 1, 1],
                                                    "color": "#00ff00"}]}}
DISPLAYS = ("r0c0", "r0c1", "r1c0", "r1c1")
TOURS = {"welcome": [{"scenario": "green", "seconds": 600, "caption": "Welcome, visitors"},
                     {"scenario": "testcard", "seconds": 600}],
         "wrap-up": [{"scenario": "testcard", "seconds": 600}]}

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium (make test installs it)")


@pytest.fixture
def wall(tmp_path, spawn):
    """A controller with the tablet page and four small headless renderers."""
    wall_file = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    write_yaml(tmp_path / "scenarios" / "green.yaml", GREEN)
    for name, steps in TOURS.items():
        write_yaml(tmp_path / "tours" / f"{name}.yaml", {"tour": {"name": name, "steps": steps}})
    connect, http = f"127.0.0.1:{free_port_pair()}", free_port_pair()
    spawn(wall_command("controller", "--wall", str(wall_file), "--scenarios",
                       str(tmp_path / "scenarios"), "--tours", str(tmp_path / "tours"),
                       "--bind", connect,
                       "--http", f"127.0.0.1:{http}", "--token", "t", "--pin", PIN))
    renderers = {display: spawn(wall_command("renderer", "--connect", connect, "--display",
                                             display, "--headless", "--fps", "20"))
                 for display in DISPLAYS}
    base = f"http://127.0.0.1:{http}"
    wait_for(lambda: _healthy(base), 60, "every renderer to connect")
    return connect, base, renderers


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/api/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_a_tap_on_the_tablet_switches_every_panel_and_runs_a_tour(wall, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    connect, base, _ = wall
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page(viewport={"width": 768, "height": 1024}, has_touch=True)
            page.goto(base + "/")
            scenario = page.get_by_role("button", name=re.compile(r"^green"))
            expect(scenario).to_be_disabled()  # locked until the PIN
            page.get_by_label("PIN").fill(PIN)
            page.get_by_role("button", name="Unlock").click()
            expect(scenario).to_be_enabled()
            expect(page.get_by_label("PIN")).to_be_hidden()
            for name in ("Safe screen", "Start tour", "Next", "Previous", "Hold", "Stop tour"):
                expect(page.get_by_role("button", name=name, exact=True)).to_be_visible()
            match_one_panels_colour(page, base, tmp_path / "wall.yaml")
            scenario.tap()
            expect(scenario).to_have_attribute("aria-pressed", "true", timeout=10_000)
            for size in ({"width": 1024, "height": 768}, {"width": 390, "height": 844}):
                page.set_viewport_size(size)
                overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
                assert overflow <= 0, f"no sideways scrolling at {size}"
            assert len(page.get_by_role("listitem").filter(has_text="r1c1").all()) == 1
            _every_panel_is_green(base, connect, tmp_path)
            _run_a_tour_from_the_page(page, base, expect)
        finally:
            browser.close()


def _every_panel_is_green(base, connect, tmp_path) -> None:
    status = requests.get(f"{base}/api/status", timeout=10).json()
    assert status["scenario"] == "green"
    assert {r["id"]: r["scenario"] for r in status["renderers"]} == dict.fromkeys(DISPLAYS,
                                                                                 "green")
    shot = control_request(connect, "capture", {"dir": str(tmp_path / "shots")}, timeout_s=30)
    assert sorted(shot["paths"]) == sorted(DISPLAYS), shot
    for path in shot["paths"].values():
        image = np.asarray(Image.open(path).convert("RGB")).astype(int)
        assert (image == (0, 255, 0)).all(axis=-1).mean() > 0.99


def _run_a_tour_from_the_page(page, base, expect) -> None:
    def tour():
        return requests.get(f"{base}/api/status", timeout=10).json()["tour"]

    running = page.get_by_role("status", name="Running tour")
    expect(page.get_by_label("Tour to start")).to_have_value("welcome")  # the first tour
    expect(page.get_by_role("button", name="Next", exact=True)).to_be_disabled()
    page.get_by_role("button", name="Start tour").tap()
    expect(running).to_have_text("welcome: step 1 of 2, green", timeout=10_000)
    expect(page.get_by_text("“Welcome, visitors”")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Next step in (9|10):\d\d$"))).to_be_visible()
    started = tour()
    assert (started["name"], started["step"], started["caption"]) == ("welcome", 0,
                                                                       "Welcome, visitors")
    hold = page.get_by_role("button", name="Hold", exact=True)
    hold.tap()
    expect(hold).to_have_attribute("aria-pressed", "true", timeout=10_000)
    assert tour()["held"] is True and tour()["next_at"] is None
    hold.tap()
    expect(hold).to_have_attribute("aria-pressed", "false", timeout=10_000)
    assert tour()["held"] is False
    page.get_by_role("button", name="Next", exact=True).tap()
    expect(running).to_have_text("welcome: step 2 of 2, testcard", timeout=10_000)
    assert tour()["step"] == 1
    page.get_by_role("button", name="Stop tour").tap()
    expect(running).to_have_text("No tour is running", timeout=10_000)
    assert tour() is None


def test_the_wall_picture_has_the_bezels_of_the_wall_file_and_shows_a_dead_panel_as_missing(
        wall):
    connect, base, renderers = wall
    switched = requests.post(f"{base}/api/scenario", json={"name": "green"},
                             headers={"Authorization": "Bearer t"}, timeout=10)
    assert switched.status_code == 200
    time.sleep(max(0.0, switched.json()["activates_at"] - time.time()) + 1.0)  # and its fade
    geometry = wall_from_data(SMALL_GRID_WALL)
    snapshot = requests.get(f"{base}/api/snapshot.png", timeout=30)
    assert snapshot.status_code == 200 and snapshot.headers["X-Missing-Panels"] == ""
    image = np.asarray(Image.open(io.BytesIO(snapshot.content)).convert("RGB")).astype(int)
    assert (image.shape[1], image.shape[0]) == geometry.canvas
    left, right = geometry.panel("r0c0").rect, geometry.panel("r0c1").rect
    top, bottom = geometry.panel("r0c0").rect, geometry.panel("r1c0").rect
    assert right.x - left.right >= 5 and bottom.y - top.bottom >= 3, "the wall file has gaps"
    for panel in geometry.panels:
        r = panel.rect
        inside = image[r.y + 2:r.bottom - 2, r.x + 2:r.right - 2]
        assert (np.abs(inside - (0, 255, 0)).max(axis=-1) < 40).mean() > 0.98, panel.id
    assert (image[:, left.right + 1:right.x - 1] == BEZEL_RGB).all(), "a dark column gap"
    assert (image[top.bottom + 1:bottom.y - 1, :] == BEZEL_RGB).all(), "a dark row gap"

    renderers["r1c1"].kill()
    wait_for(lambda: not _healthy(base), 10, "the controller to notice the dead renderer")
    preview = requests.get(f"{base}/api/preview.png", timeout=30)
    assert preview.headers["X-Missing-Panels"] == "r1c1"
    small = np.asarray(Image.open(io.BytesIO(preview.content)).convert("RGB")).astype(int)
    scale = small.shape[1] / geometry.canvas[0]
    dead = geometry.panel("r1c1").rect
    area = small[round(dead.y * scale) + 2:round(dead.bottom * scale) - 2,
                 round(dead.x * scale) + 2:round(dead.right * scale) - 2]
    assert (area == MISSING_RGB).all(axis=-1).mean() > 0.3, "hatched, not its last frame"
    assert not (np.abs(area - (0, 255, 0)).max(axis=-1) < 40).any()


def match_one_panels_colour(page, base, wall_file):
    """The installer's Colour section: colour fields on, r0c1's red gain lowered, then saved."""
    from playwright.sync_api import expect

    page.get_by_text("Colour", exact=True).click()
    page.get_by_role("button", name="Show colour fields").tap()
    fields = page.get_by_role("button", name=re.compile(r"^calibration-colour"))
    expect(fields).to_have_attribute("aria-pressed", "true", timeout=10_000)
    page.get_by_role("button", name="r0c1", exact=True).tap()
    for name in ("Red gain", "Green gain", "Blue gain", "Gamma", "Brightness"):
        expect(page.get_by_label(name, exact=True)).to_have_value("1")
    for _ in range(10):
        page.get_by_role("button", name="Lower red gain").tap()
    expect(page.get_by_label("Red gain", exact=True)).to_have_value("0.9")

    def gain(panel):
        panels = requests.get(f"{base}/api/wall", timeout=10).json()["panels"]
        return next(p["color"]["gain"] for p in panels if p["id"] == panel)

    wait_for(lambda: gain("r0c1") == [0.9, 1.0, 1.0], 10, "the nudge to reach the wall")
    assert gain("r0c0") == [1.0, 1.0, 1.0]
    assert load_wall(wall_file).panel("r0c1").color.is_identity, "not saved before Save"
    page.get_by_role("button", name="Save colour").tap()
    expect(page.get_by_role("status", name="Message")).to_contain_text("Saved the colour of r0c1")
    assert load_wall(wall_file).panel("r0c1").color.gain == (0.9, 1.0, 1.0)
