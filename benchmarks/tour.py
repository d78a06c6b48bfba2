"""Step timing of a 5-step visitor tour on the headless demo wall.

Starts `wallrenderer demo --headless` (the shipped 2x2 wall and scenarios,
the simulator's data) with a 5-step tour of different durations, starts the
tour over HTTP and reads, from every renderer's report, the tick at which it
first drew each step. A step's error is when a renderer showed it minus when
it was due (the tick the first step was committed for, plus the durations
before it), in milliseconds, for steps 2 to 5. The first step is reported
apart: when it was committed for and when the renderers first drew it, both
from the request.

Prints one JSON object as its last line:
{"tour": {"steps": 5, "renderers": 4, "boundaries": 16, "error_ms": {"p50", "p95", "max"},
 "first_step_committed_ms": ..., "first_step_shown_ms": ...}}
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import requests
import yaml

from controller.demo import free_port_pair
from wallrenderer.core.timing import time_of

TOKEN = "bench"
STEPS = [("visitor-tour", 4.0), ("monitoring", 3.0), ("crisis", 5.0), ("product-launch", 3.0),
         ("hello", 4.0)]


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="wall-tour-bench-"))
    (work / "tours").mkdir()
    tour = {"tour": {"name": "bench", "loop": False, "steps": [
        {"scenario": s, "seconds": d, "caption": f"Step {i + 1}"}
        for i, (s, d) in enumerate(STEPS)]}}
    (work / "tours" / "bench.yaml").write_text(yaml.safe_dump(tour))
    http = free_port_pair()
    api = f"http://127.0.0.1:{http}"
    demo = subprocess.Popen(
        [sys.executable, "-m", "wallrenderer", "demo", "--headless", "--http",
         f"127.0.0.1:{http}", "--token", TOKEN, "--tours", str(work / "tours"),
         "--out-dir", str(work)], stderr=subprocess.DEVNULL)
    seen: dict[str, list[tuple[str, int]]] = {}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            rows = status(api).get("renderers") or []
            if len(rows) == 4 and all(r.get("synced") for r in rows):
                break
            time.sleep(0.5)
        time.sleep(3.0)
        requested = time.time()
        requests.post(f"{api}/api/tour/start", json={"name": "bench"}, timeout=10,
                      headers={"Authorization": f"Bearer {TOKEN}"}).raise_for_status()
        end = time.monotonic() + sum(d for _, d in STEPS) + 10
        committed = None
        while time.monotonic() < end:
            now = status(api)
            tour = now.get("tour") or {}
            if committed is None and tour.get("step") == 0 and tour.get("next_at"):
                committed = tour["next_at"] - STEPS[0][1]
            for row in now.get("renderers") or []:
                shown = (row.get("scenario"), row.get("activated_tick"))
                track = seen.setdefault(row["id"], [])
                if shown[1] is not None and (not track or track[-1] != shown):
                    track.append(shown)
            time.sleep(0.05)
    finally:
        demo.terminate()
        demo.wait(timeout=20)
    errors, latencies = [], []
    names = [s for s, _ in STEPS]
    for display, track in sorted(seen.items()):
        ticks = dict(track)  # scenario -> first tick it was drawn
        if names[0] in ticks:  # (a renderer still building joins late, with no tick)
            latencies.append(1000 * (time_of(ticks[names[0]]) - requested))
        due = committed
        for (name, _), (_, seconds) in zip(STEPS[1:], STEPS, strict=False):
            due += seconds
            if name in ticks:
                errors.append(1000 * (time_of(ticks[name]) - due))
        print(f"{display}: " + ", ".join(f"{n} {ticks.get(n)}" for n in names), flush=True)
    result = {"tour": {
        "steps": len(STEPS), "renderers": len(seen), "boundaries": len(errors),
        "error_ms": {"p50": pct(errors, 50), "p95": pct(errors, 95),
                     "max": round(float(np.max(np.abs(errors))), 1) if errors else None},
        "first_step_committed_ms": round(1000 * (committed - requested), 1),
        "first_step_shown_ms": round(float(np.max(latencies)), 1) if latencies else None,
    }}
    print(json.dumps(result))


def status(api: str) -> dict:
    try:
        return requests.get(f"{api}/api/status", timeout=2).json()
    except requests.RequestException:
        return {}


def pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(np.abs(values), q)), 1) if values else None


if __name__ == "__main__":
    main()
