"""Fault soak: a controller, six headless renderers and the simulator, under random faults.

For `--minutes` (default 10) the script kills and restarts renderers and the
controller at random, switches scenarios over the HTTP API and pushes
garbage at both controller ports (raw bytes at the publisher, malformed
frames at the request socket). After each fault it measures how long until
every renderer is back on the controller's scenario and data: connected,
synced, showing the controller's scenario, and holding a data sequence at
least the controller's when it was back. Everything runs on loopback, bounded
in time, and is gone when the script ends.

Prints one JSON object as its last line:
{"faults": {KIND: {"count", "p50_s", "p99_s", "max_s", "unconverged"}},
 "blank_reports": N, "dropped": {"controller": N, "renderers": N},
 "rss_mb_per_hour": {PROCESS#RUN: growth}, "rss_mb": {PROCESS#RUN: [first, last]},
 "steady": [...], "minutes": M}

`blank_reports` counts, per fault, the renderers that the controller saw
connected while showing no scenario at all (the dark "waiting" frame): the
closest thing to a blank frame the renderers report. Convergence times
include a restarted renderer's own start-up (Python, GL context, fonts).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import requests
import yaml
import zmq

from controller.demo import die_with_parent, free_port_pair
from wallrenderer.core.client import control_request

WALL = {"wall": {"name": "soak-3x2", "grid": {"rows": 2, "cols": 3, "panel": {
    "resolution": [320, 180], "active_mm": [201.6, 113.4],
    "bezel_mm": {"left": 1, "right": 1, "top": 1, "bottom": 1}}}}}
DISPLAYS = [f"r{r}c{c}" for r in range(2) for c in range(3)]
SCENARIOS = ["monitoring", "crisis", "testcard", "hello", "product-launch", "visitor-tour"]
TOKEN = "soak-token"
CONVERGE_LIMIT_S = 30.0
WARM_UP_S = 60.0
MIN_MEASURED_S = 600.0


class Wall:
    """The processes under test, each started from its command line and killable alone."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port_pair()
        self.http_port = free_port_pair()
        self.connect = f"127.0.0.1:{self.port}"
        wall = folder / "wall.yaml"
        wall.write_text(yaml.safe_dump(WALL))
        wallrenderer = [sys.executable, "-m", "wallrenderer"]
        self.commands = {"controller": [
            *wallrenderer, "controller", "--wall", str(wall), "--bind", self.connect,
            "--http", f"127.0.0.1:{self.http_port}", "--token", TOKEN, "--source",
            "simulator?backfill=600", "--store", str(folder / "state.sqlite")]}
        for display in DISPLAYS:
            self.commands[display] = [
                *wallrenderer, "renderer", "--connect", self.connect, "--display", display,
                "--headless", "--fps", "10", "--cache", str(folder / f"{display}.json"),
                "--capture-dir", str(folder)]
        self.procs: dict[str, subprocess.Popen] = {}
        self.rss: dict[str, list[tuple[float, float]]] = {}
        self.starts: dict[str, int] = {}

    def start(self, name: str) -> None:
        self.starts[name] = self.starts.get(name, 0) + 1
        log = open(self.folder / f"{name}.log", "a")
        self.procs[name] = subprocess.Popen(
            self.commands[name], stdout=log, stderr=log, start_new_session=True,
            preexec_fn=die_with_parent, env={**os.environ, "XDG_STATE_HOME": str(self.folder)})
        log.close()

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def sample_rss(self, now: float) -> None:
        for name, proc in self.procs.items():
            try:
                text = Path(f"/proc/{proc.pid}/status").read_text()
            except OSError:
                continue
            kb = int(next(line.split()[1] for line in text.splitlines()
                          if line.startswith("VmRSS:")))
            self.rss.setdefault(f"{name}#{self.starts[name]}", []).append((now, kb / 1024))

    def stop(self) -> None:
        for name in list(self.procs):
            self.kill(name)

    def status(self) -> dict | None:
        try:
            return control_request(self.connect, "status", {}, timeout_s=1.0)
        except TimeoutError:
            return None


def converged(status: dict | None, since_seq: int) -> bool:
    if status is None:
        return False
    rows = {r["id"]: r for r in status["renderers"]}
    return all(
        d in rows and rows[d]["connected"] and rows[d].get("synced")
        and rows[d].get("scenario") == status["scenario"] and status.get("switching_to") is None
        and (rows[d].get("seq") or 0) >= since_seq
        for d in DISPLAYS
    )


def wait_converged(wall: Wall, stats: dict) -> float | None:
    """Seconds from now (the fault over) until every renderer follows the controller."""
    start = time.monotonic()
    first = None
    blank: set[str] = set()
    try:
        while time.monotonic() - start < CONVERGE_LIMIT_S:
            status = wall.status()
            if status is not None:
                first = first if first is not None else status["seq"]
                blank |= {r["id"] for r in status["renderers"]
                          if r["connected"] and r.get("scenario") is None}
                if converged(status, first):
                    return time.monotonic() - start
            time.sleep(0.05)
        return None
    finally:
        stats["blank_reports"] += len(blank)


def garbage(wall: Wall) -> None:
    """Raw bytes at the publisher's port, malformed frames at the request socket."""
    with socket.create_connection(("127.0.0.1", wall.port), timeout=2) as raw:
        raw.sendall(os.urandom(4096))
    dealer = zmq.Context.instance().socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 500)
    dealer.connect(f"tcp://127.0.0.1:{wall.port + 1}")
    for frames in ([b"\xff\xfe"], [b"{}", b"[]"], [b'{"v":1,"k":"report","s":0,"e":0,"t":1e400}',
                                                 b"{}"], [os.urandom(64), os.urandom(64)]):
        dealer.send_multipart(frames)
    dealer.close()


def switch(wall: Wall, rng: random.Random) -> None:
    requests.post(f"http://127.0.0.1:{wall.http_port}/api/scenario",
                  json={"name": rng.choice(SCENARIOS)},
                  headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)


def run(minutes: float, seed: int, steady: set[str]) -> dict:
    rng = random.Random(seed)
    stats = {"blank_reports": 0}
    times: dict[str, list[float]] = {}
    unconverged: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="wallrenderer-soak-") as tmp:
        wall = Wall(Path(tmp))
        for name in wall.commands:
            wall.start(name)
        try:
            if wait_converged(wall, {"blank_reports": 0}) is None:   # first start: no cache yet
                raise SystemExit("the wall never came up; see the logs in " + tmp)
            end = time.monotonic() + minutes * 60
            victims = [d for d in DISPLAYS if d not in steady]
            kinds = [k for k in ["renderer", "renderer", "controller", "switch", "switch",
                                 "garbage"] if k not in steady and (k != "renderer" or victims)]
            while time.monotonic() < end:
                wall.sample_rss(time.monotonic())
                kind = rng.choice(kinds)
                if kind == "renderer":
                    victim = rng.choice(victims)
                    wall.kill(victim)
                    time.sleep(rng.uniform(0.2, 2.0))
                    wall.start(victim)
                elif kind == "controller":
                    wall.kill("controller")
                    time.sleep(rng.uniform(0.5, 5.0))
                    wall.start("controller")
                    while wall.status() is None:    # "back": it answers again
                        time.sleep(0.02)
                elif kind == "switch":
                    switch(wall, rng)
                else:
                    garbage(wall)
                took = wait_converged(wall, stats)
                if took is None:
                    unconverged[kind] = unconverged.get(kind, 0) + 1
                else:
                    times.setdefault(kind, []).append(took)
                time.sleep(rng.uniform(1.0, 5.0))
            status = wall.status() or {}
            dropped = {"controller": status.get("dropped"),
                       "renderers": sum(r.get("dropped") or 0
                                        for r in status.get("renderers", []))}
        finally:
            wall.stop()
        growth = rss_growth(wall.rss)
        return {
            "faults": {kind: summary(values, unconverged.get(kind, 0))
                       for kind, values in times.items()},
            "blank_reports": stats["blank_reports"],
            "dropped": dropped,
            "rss_mb_per_hour": growth,
            "rss_mb": {name: [round(wall.rss[name][0][1], 1), round(wall.rss[name][-1][1], 1)]
                       for name in growth},
            "steady": sorted(steady),
            "minutes": minutes,
            "seed": seed,
        }


def summary(values: list[float], unconverged: int) -> dict:
    arr = np.array(values)
    return {"count": len(values), "p50_s": round(float(np.percentile(arr, 50)), 3),
            "p99_s": round(float(np.percentile(arr, 99)), 3),
            "max_s": round(float(arr.max()), 3), "unconverged": unconverged}


def rss_growth(series: dict[str, list[tuple[float, float]]]) -> dict:
    """MB per hour: slope of RSS after a minute's warm-up, for process runs long enough to tell."""
    growth = {}
    for name, samples in series.items():
        if not samples:
            continue
        t0 = samples[0][0]
        late = [(t, mb) for t, mb in samples if t - t0 >= WARM_UP_S]
        if len(late) < 5 or late[-1][0] - late[0][0] < MIN_MEASURED_S - WARM_UP_S:
            continue
        t, mb = np.array(late).T
        growth[name] = round(float(np.polyfit(t, mb, 1)[0] * 3600), 2)
    return growth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to soak")
    parser.add_argument("--seed", type=int, default=1, help="seed of the fault sequence")
    parser.add_argument("--steady", default="r1c1,r1c2", metavar="NAMES",
                        help="comma-separated processes never killed (displays or controller)")
    args = parser.parse_args()
    steady = {name for name in args.steady.split(",") if name}
    unknown = steady - {"controller", *DISPLAYS}
    if unknown:
        parser.error(f"--steady: unknown {', '.join(sorted(unknown))} "
                     f"(controller, {', '.join(DISPLAYS)})")
    print(json.dumps(run(args.minutes, args.seed, steady)))


if __name__ == "__main__":
    main()
