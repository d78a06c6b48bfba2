"""Publish-to-receipt latency from the controller to 1, 8 and 32 renderer links.

The real `Controller` publishes data frames; each subscriber is a separate
process running the renderer's own `Link`, whose agent thread timestamps every
published message as it arrives (`Link.receipt_s`, on the controller's clock
as the link estimates it). The render thread picks messages up once per frame,
so that hop is part of publish-to-present latency, reported by renderers.

Prints one JSON object as its last line:
{"subscribers": {"1": {"p50_ms": ..., "p99_ms": ...}, "8": {...}, "32": {...}}}
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time

import numpy as np

from controller.demo import free_port_pair
from controller.node import Controller

WALL = {"wall": {"name": "bench", "grid": {"rows": 1, "cols": 1, "panel": {
    "resolution": [320, 180], "active_mm": [201.6, 113.4],
    "bezel_mm": {"left": 1, "right": 1, "top": 1, "bottom": 1}}}}}
SCENARIOS = {"testcard": {"scenario": {"name": "testcard", "widgets": [{"kind": "testcard"}]}}}

SUBSCRIBER = """
import json, sys, time
from wallrenderer.renderer.link import Link
link = Link(sys.argv[1], sys.argv[2])
while not any(e.kind == "state" for e in link.poll()):
    link.wait(0.5)
print("ready", flush=True)
link.receipt_s.clear()
sys.stdin.readline()  # the benchmark says when publishing is over
print(json.dumps(list(link.receipt_s)), flush=True)
link.close()
"""


def run_round(subscribers: int, rate_hz: float, seconds: float) -> list[float]:
    port = free_port_pair()
    connect = f"127.0.0.1:{port}"
    controller = Controller(WALL, SCENARIOS, "testcard", ["r0c0"], connect)
    stop = threading.Event()
    loop = threading.Thread(target=controller.run, args=(stop.is_set,))
    loop.start()
    procs = [
        subprocess.Popen([sys.executable, "-c", SUBSCRIBER, connect, f"s{i}"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for i in range(subscribers)
    ]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        payload = {"mentions_per_min": list(range(60)), "sentiment": 12.5}
        end = time.monotonic() + seconds + 1.0
        period = 1.0 / rate_hz
        n = 0
        while time.monotonic() < end:
            n += 1
            delta = {"seq": n, "full": False, "set": {**payload, "n": n}, "drop": []}
            controller.call(lambda delta=delta: controller.publish_data(delta))
            time.sleep(period)
        time.sleep(0.5)
        latencies = []
        for proc in procs:
            out, _ = proc.communicate("done\n", timeout=30)
            latencies += json.loads(out.strip().splitlines()[-1])
        return latencies
    finally:
        for proc in procs:
            proc.kill()
        stop.set()
        loop.join()
        controller.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1,8,32", help="subscriber counts")
    parser.add_argument("--rate", type=float, default=50.0, help="data frames per second")
    parser.add_argument("--seconds", type=float, default=4.0, help="measured seconds per round")
    args = parser.parse_args()
    results = {}
    for count in (int(c) for c in args.counts.split(",")):
        ms = np.array(run_round(count, args.rate, args.seconds)) * 1000
        results[str(count)] = {
            "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "max_ms": round(float(ms.max()), 3),
            "samples": int(ms.size),
        }
        print(f"{count} subscribers: {results[str(count)]}", flush=True)
    print(json.dumps({"subscribers": results, "rate_hz": args.rate}))


if __name__ == "__main__":
    main()
