"""The presenter's tablet: time from a tap to a switch every panel shows, and the page's weight.

Starts the headless demo (the shipped 2x2 wall, four renderer processes) with
the HTTP API and a PIN, opens the tablet page in Debian's chromium at 768x1024
through Playwright, enters the PIN, then taps scenario buttons in turn. For
each tap the page itself records the time until the live status (server-sent
events) shows the new scenario on every connected panel (`window.wallTimings`).
With --screenshots DIR it also saves the page in portrait and landscape, and its
Colour section on a phone.

Prints one JSON object as its last line:
{"tap_to_switch_ms": {"taps": 20, "median": ..., "p95": ...},
 "page_bytes": {"html": ..., "css": ..., "js": ..., "total": ..., "thumbnails": ...},
 "preview_refresh": {"median_s": ..., "max_s": ..., "png_bytes": ...}}
The preview refresh is measured on the event stream, as the page sees it.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import requests

from controller.demo import free_port_pair

PIN = "2468"
SCENARIOS = ("hello", "testcard", "monitoring", "visitor-tour")


def wait_healthy(base: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/api/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit("the demo wall did not become healthy")


def wait_thumbnails(base: str, timeout: float) -> int:
    """Wait for every scenario's picture; their total size in bytes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = requests.get(f"{base}/api/scenarios", timeout=5).json()["scenarios"]
        if all(s["thumbnail"] for s in listing):
            return sum(len(requests.get(base + s["thumbnail"], timeout=5).content)
                       for s in listing)
        time.sleep(1)
    return 0


def preview_interval(base: str, seconds: float = 10.0) -> dict[str, float]:
    """Watch the event stream as the page does: how often the live preview is refreshed."""
    seen: list[float] = []
    last = None
    deadline = time.monotonic() + seconds
    with requests.get(f"{base}/api/events", stream=True, timeout=10) as stream:
        for line in stream.iter_lines():
            if line.startswith(b"data: "):
                version = json.loads(line[6:])["preview"]
                if version is not None and version != last:
                    seen.append(time.monotonic())
                    last = version
            if time.monotonic() > deadline:
                break
    gaps = np.diff(seen) if len(seen) > 1 else np.array([float("nan")])
    size = len(requests.get(f"{base}/api/preview.png", timeout=10).content)
    return {"median_s": round(float(np.median(gaps)), 2), "max_s": round(float(np.max(gaps)), 2),
            "png_bytes": size}


def page_weight(base: str) -> dict[str, int]:
    sizes = {"html": len(requests.get(f"{base}/", timeout=5).content),
             "css": len(requests.get(f"{base}/static/tablet.css", timeout=5).content),
             "js": sum(len(requests.get(f"{base}/static/{name}", timeout=5).content)
                       for name in ("tablet.js", "colour.js"))}
    return {**sizes, "total": sum(sizes.values())}


def tap_taps(base: str, taps: int, screenshots: Path | None) -> list[float]:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            page = browser.new_page(viewport={"width": 768, "height": 1024}, has_touch=True)
            page.goto(base + "/")
            page.get_by_label("PIN").fill(PIN)
            page.get_by_role("button", name="Unlock").click()
            first = page.get_by_role("button", name=re.compile("^" + SCENARIOS[0]))
            expect(first).to_be_enabled()
            for i in range(taps):
                name = SCENARIOS[(i + 1) % len(SCENARIOS)]
                before = page.evaluate("window.wallTimings.length")
                page.get_by_role("button", name=re.compile("^" + re.escape(name))).tap()
                deadline = time.monotonic() + 20
                while page.evaluate("window.wallTimings.length") <= before:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"the page never saw the switch to {name}")
                    time.sleep(0.02)
            timings = page.evaluate("window.wallTimings")
            if screenshots is not None:
                screenshots.mkdir(parents=True, exist_ok=True)
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=str(screenshots / "tablet-portrait.png"))
                page.set_viewport_size({"width": 1024, "height": 768})
                time.sleep(1.0)
                page.screenshot(path=str(screenshots / "tablet-landscape.png"))
                page.set_viewport_size({"width": 390, "height": 844})
                page.get_by_text("Colour", exact=True).click()
                page.get_by_role("button", name="r0c1", exact=True).tap()
                page.locator("#colour").screenshot(path=str(screenshots / "tablet-colour.png"))
            return timings
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=20)
    parser.add_argument("--screenshots", type=Path, help="save the page's screenshots here")
    args = parser.parse_args()
    http = f"127.0.0.1:{free_port_pair()}"
    base = f"http://{http}"
    with tempfile.TemporaryDirectory() as tmp:
        demo = subprocess.Popen(
            [sys.executable, "-m", "wallrenderer", "demo", "--headless", "--http", http,
             "--token", "bench", "--pin", PIN, "--scenario", SCENARIOS[0], "--out-dir", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**__import__("os").environ, "XDG_CACHE_HOME": tmp})
        try:
            wait_healthy(base, 90)
            thumbnails = wait_thumbnails(base, 180)
            timings = tap_taps(base, args.taps, args.screenshots)
            weight = page_weight(base)
            preview = preview_interval(base)
        finally:
            demo.terminate()
            demo.wait(timeout=30)
    result = {
        "tap_to_switch_ms": {"taps": len(timings),
                             "median": round(float(np.median(timings)), 1),
                             "p95": round(float(np.percentile(timings, 95)), 1),
                             "max": round(float(np.max(timings)), 1)},
        "page_bytes": {**weight, "thumbnails": thumbnails},
        "preview_refresh": preview,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
