"""Switch skew and clock offset error for 8 headless renderers of small panels.

Starts a controller (with its HTTP API) and 8 renderer processes at 60 fps,
optionally with busy processes keeping both cores loaded, switches scenarios
several times, and reads what the renderers report: the tick and present time
at which each first drew the new scenario, and its clock offset estimate. All
processes share this machine's clock, so the true offset is zero and the
reported offset is the estimate's error.

Prints one JSON object as its last line:
{"switch": {"renderers": 8, "switches": N, "same_tick_fraction": ..., "skew_ms": {...}},
 "clock": {"offset_error_us": {"p50": ..., "p99": ..., "max": ...}, ...}}
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
from wallrenderer.core.client import control_request

TOKEN = "bench"
WALL = {"wall": {"name": "bench-4x2", "grid": {"rows": 2, "cols": 4, "panel": {
    "resolution": [320, 180], "active_mm": [201.6, 113.4],
    "bezel_mm": {"left": 2, "right": 2, "top": 2, "bottom": 2}}}}}
OTHER = {"scenario": {"name": "other", "widgets": [
    {"kind": "rect", "rect": [0.1, 0.1, 0.8, 0.8], "color": "#2060ff"},
    {"kind": "text", "cells": "r0c0:r1c3", "text": "Switched"}]}}
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
    parser.add_argument("--switches", type=int, default=10)
    parser.add_argument("--load", type=int, default=2, help="busy processes (0: idle machine)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="wall-bench-"))
    (work / "scenarios").mkdir()
    (work / "wall.yaml").write_text(yaml.safe_dump(WALL))
    (work / "scenarios" / "other.yaml").write_text(yaml.safe_dump(OTHER))
    port, http_port = free_port_pair(), free_port_pair()
    connect, api = f"127.0.0.1:{port}", f"http://127.0.0.1:{http_port}"
    ids = [f"r{r}c{c}" for r in range(2) for c in range(4)]
    procs = [subprocess.Popen(wall_cmd(
        "controller", "--wall", str(work / "wall.yaml"), "--scenarios", str(work / "scenarios"),
        "--bind", connect, "--http", f"127.0.0.1:{http_port}", "--token", TOKEN),
        stderr=subprocess.DEVNULL)]
    procs += [subprocess.Popen(wall_cmd("renderer", "--connect", connect, "--display", d,
                                        "--headless", "--fps", "60"), stderr=subprocess.DEVNULL)
              for d in ids]
    budget = 60.0 + 4.0 * args.switches
    procs += [subprocess.Popen([sys.executable, "-c", SPIN, str(budget)])
              for _ in range(args.load)]
    same_tick, skews, late_ticks, offsets, bounds = [], [], [], [], []
    try:
        wait_showing(connect, "testcard", ids, 60, switched=False)
        time.sleep(2.0)
        for i in range(args.switches):
            name = "other" if i % 2 == 0 else "testcard"
            answer = requests.post(f"{api}/api/scenario", json={"name": name}, timeout=10,
                                   headers={"Authorization": f"Bearer {TOKEN}"}).json()
            rows = wait_showing(connect, name, ids, 30)
            ticks = [r["activated_tick"] for r in rows.values()]
            on_time = [r["activated_at"] for r in rows.values()
                       if r["activated_tick"] == answer["tick"]]
            same_tick.append(len(on_time) == len(ids))
            late_ticks.append(max(ticks) - answer["tick"])
            if len(on_time) > 1:
                skews.append(1000 * (max(on_time) - min(on_time)))
            for row in rows.values():
                offsets.append(abs(row["clock_offset_ms"]) * 1000)
                bounds.append(row["clock_error_ms"] * 1000)
            print(f"switch {i + 1} to {name}: ticks {sorted(set(ticks))} (commit "
                  f"{answer['tick']}), skew {skews[-1] if skews else float('nan'):.2f} ms",
                  flush=True)
            time.sleep(1.0)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)

    def summary(values, unit: int = 3) -> dict:
        arr = np.array(values, dtype=float)
        return {"p50": round(float(np.percentile(arr, 50)), unit),
                "p99": round(float(np.percentile(arr, 99)), unit),
                "max": round(float(arr.max()), unit)}

    print(json.dumps({
        "switch": {
            "renderers": len(ids),
            "switches": args.switches,
            "busy_processes": args.load,
            "same_tick_fraction": sum(same_tick) / len(same_tick),
            "max_ticks_late": int(max(late_ticks)),
            "skew_ms": summary(skews),
        },
        "clock": {"offset_error_us": summary(offsets, 1), "error_bound_us": summary(bounds, 1)},
    }))


if __name__ == "__main__":
    main()
