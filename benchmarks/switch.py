"""Switch skew and clock offset error for 6 headless renderers of small panels, data flowing.

Starts a controller (with its HTTP API and, by default, the simulator with an
hour of history) and 6 renderer processes at 60 fps for a 2x3 wall, optionally
with busy processes keeping both cores loaded, and switches through the shipped
data scenarios (monitoring, crisis, product-launch, visitor-tour) several
times. It reads what the renderers report: the tick and present time at which
each first drew the new scenario, and its clock offset estimate. The first
switch into each scenario, when a renderer builds it with live data for the
first time, is reported apart from the rest. All processes share this
machine's clock, so the true offset is zero and the reported offset is the
estimate's error.

Prints one JSON object as its last line:
{"switch": {"renderers": 6, "switches": N, "source": ..., "same_tick_fraction": ...,
            "skew_ms": {...}, "first_into_scenario": {"same_tick_fraction": ...,
            "skew_ms": {...}}},
 "clock": {"offset_error_us": {"p50": ..., "p99": ..., "max": ...}, ...}}
where `skew_ms` is the spread of the renderers' present times for the switch
frame, and `same_tick_fraction` the share of switches every renderer showed on
the committed tick.
"""

from __future__ import annotations

import argparse
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
from controller.sources.simulator import SimulatorSource
from wallrenderer.core.client import control_request

TOKEN = "bench"
WALL = {"wall": {"name": "bench-2x3", "grid": {"rows": 2, "cols": 3, "panel": {
    "resolution": [192, 108], "active_mm": [201.6, 113.4],
    "bezel_mm": {"left": 2, "right": 2, "top": 2, "bottom": 2}}}}}
SCENARIOS = ("monitoring", "crisis", "product-launch", "visitor-tour")
DEFAULT_SOURCE = "simulator?backfill=3600"
SPIN = "import time\nend = time.monotonic() + float(__import__('sys').argv[1])\n" \
       "while time.monotonic() < end: pass\n"


def wall_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "wallrenderer", *args]


def showing(connect: str, scenario: str, ids: list[str], switched: bool) -> dict | None:
    try:
        status = control_request(connect, "status", {}, timeout_s=2)
    except TimeoutError:
        return None
    rows = {r["id"]: r for r in status["renderers"]
            if r["connected"] and r.get("scenario") == scenario
            and (r.get("activated_at") or not switched)}
    return rows if set(ids) <= rows.keys() else None


def wait_showing(connect: str, scenario: str, ids: list[str], timeout: float,
                 switched: bool = True) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = showing(connect, scenario, ids, switched)
        if rows:
            return rows
        time.sleep(0.1)
    raise TimeoutError(f"renderers did not all show {scenario}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=12)
    parser.add_argument("--load", type=int, default=0, help="busy processes (0: idle machine)")
    parser.add_argument("--source", default=DEFAULT_SOURCE,
                        help=f"the controller's --source (default {DEFAULT_SOURCE}; "
                             "'none': no data)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="wall-bench-"))
    (work / "wall.yaml").write_text(yaml.safe_dump(WALL))
    port, http_port = free_port_pair(), free_port_pair()
    connect, api = f"127.0.0.1:{port}", f"http://127.0.0.1:{http_port}"
    ids = [f"r{r}c{c}" for r in range(2) for c in range(3)]
    controller = wall_cmd("controller", "--wall", str(work / "wall.yaml"), "--bind", connect,
                          "--http", f"127.0.0.1:{http_port}", "--token", TOKEN)
    if args.source != "none":
        controller += ["--source", args.source, "--store", str(work / "state.sqlite")]
        if args.source.split("?")[0] == "simulator":
            for term in SimulatorSource().campaign_terms:
                controller += ["--track", term]
    procs = [subprocess.Popen(controller, stderr=subprocess.DEVNULL)]
    procs += [subprocess.Popen(wall_cmd("renderer", "--connect", connect, "--display", d,
                                        "--headless", "--fps", "60"), stderr=subprocess.DEVNULL)
              for d in ids]
    budget = 60.0 + 4.0 * args.switches
    procs += [subprocess.Popen([sys.executable, "-c", SPIN, str(budget)])
              for _ in range(args.load)]
    first, rest = {"same_tick": [], "skews": []}, {"same_tick": [], "skews": []}
    late_ticks, offsets, bounds = [], [], []
    try:
        wait_showing(connect, "testcard", ids, 60, switched=False)
        time.sleep(2.0)
        for i in range(args.switches):
            name = SCENARIOS[i % len(SCENARIOS)]
            answer = requests.post(f"{api}/api/scenario", json={"name": name}, timeout=10,
                                   headers={"Authorization": f"Bearer {TOKEN}"}).json()
            rows = wait_showing(connect, name, ids, 30)
            ticks = [r["activated_tick"] for r in rows.values()]
            presented = [r["activated_at"] for r in rows.values()]
            kind = first if i < len(SCENARIOS) else rest
            kind["same_tick"].append(set(ticks) == {answer["tick"]})
            kind["skews"].append(1000 * (max(presented) - min(presented)))
            late_ticks.append(max(ticks) - answer["tick"])
            for row in rows.values():
                offsets.append(abs(row["clock_offset_ms"]) * 1000)
                bounds.append(row["clock_error_ms"] * 1000)
            print(f"switch {i + 1} to {name}{' (first)' if kind is first else ''}: ticks "
                  f"{sorted(set(ticks))} (commit {answer['tick']}), skew "
                  f"{kind['skews'][-1]:.2f} ms", flush=True)
            time.sleep(1.0)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)

    def summary(values, unit: int = 3) -> dict:
        arr = np.array(values, dtype=float)
        if not len(arr):
            return {}
        return {"p50": round(float(np.percentile(arr, 50)), unit),
                "p99": round(float(np.percentile(arr, 99)), unit),
                "max": round(float(arr.max()), unit)}

    def fraction(flags: list[bool]) -> float | None:
        return sum(flags) / len(flags) if flags else None

    print(json.dumps({
        "switch": {
            "renderers": len(ids),
            "switches": args.switches,
            "source": args.source,
            "busy_processes": args.load,
            "same_tick_fraction": fraction(rest["same_tick"]),
            "max_ticks_late": int(max(late_ticks)),
            "skew_ms": summary(rest["skews"]),
            "first_into_scenario": {
                "same_tick_fraction": fraction(first["same_tick"]),
                "skew_ms": summary(first["skews"]),
            },
        },
        "clock": {"offset_error_us": summary(offsets, 1), "error_bound_us": summary(bounds, 1)},
    }))


if __name__ == "__main__":
    main()
