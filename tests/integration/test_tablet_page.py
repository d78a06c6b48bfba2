"""The tablet page end to end: Debian's chromium (Playwright) drives a real wall of processes.

The page is driven as a presenter's screen reader would: by labels and
accessible names, which are the page's contract with scripts.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import requests
from conftest import wait_for, wall_command, write_yaml
from PIL import Image
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair
from wallrenderer.core.client import control_request

CHROMIUM = Path("/usr/bin/chromium")
PIN = "1357"
GREEN = {"scenario": {"name": "green", "widgets": [{"kind": "rect", "rect": [0, 0, 1, 1],
                                                    "color": "#00ff00"}]}}
DISPLAYS = ("r0c0", "r0c1", "r1c0", "r1c1")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium (make test installs it)")


@pytest.fixture
def wall(tmp_path, spawn):
    """A controller with the tablet page and four small headless renderers."""
    wall_file = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    write_yaml(tmp_path / "scenarios" / "green.yaml", GREEN)
    connect, http = f"127.0.0.1:{free_port_pair()}", free_port_pair()
    spawn(wall_command("controller", "--wall", str(wall_file), "--scenarios",
                       str(tmp_path / "scenarios"), "--bind", connect,
                       "--http", f"127.0.0.1:{http}", "--token", "t", "--pin", PIN))
    for display in DISPLAYS:
        spawn(wall_command("renderer", "--connect", connect, "--display", display,
                           "--headless", "--fps", "20"))
    base = f"http://127.0.0.1:{http}"
    wait_for(lambda: _healthy(base), 60, "every renderer to connect")
    return connect, base


def _healthy(base: str) -> bool:
    try:
        return requests.get(f"{base}/api/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_a_tap_on_the_tablet_switches_every_panel(wall, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    connect, base = wall
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
            scenario.tap()
            expect(scenario).to_have_attribute("aria-pressed", "true", timeout=10_000)
            for size in ({"width": 1024, "height": 768}, {"width": 390, "height": 844}):
                page.set_viewport_size(size)
                overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
                assert overflow <= 0, f"no sideways scrolling at {size}"
            assert len(page.get_by_role("listitem").filter(has_text="r1c1").all()) == 1
        finally:
            browser.close()
    status = requests.get(f"{base}/api/status", timeout=10).json()
    assert status["scenario"] == "green"
    assert {r["id"]: r["scenario"] for r in status["renderers"]} == dict.fromkeys(DISPLAYS,
                                                                                 "green")
    shot = control_request(connect, "capture", {"dir": str(tmp_path / "shots")}, timeout_s=30)
    assert sorted(shot["paths"]) == sorted(DISPLAYS), shot
    for path in shot["paths"].values():
        image = np.asarray(Image.open(path).convert("RGB")).astype(int)
        assert (image == (0, 255, 0)).all(axis=-1).mean() > 0.99
