"""Publish-to-receipt latency from the controller to 1, 8 and 32 renderer links.

The real `Controller` publishes data frames; each subscriber is a separate
process running the renderer's own `Link`, whose agent thread timestamps every
published message as it arrives (`Link.receipt_s`, on the controller's clock
as the link estimates it). The render thread picks messages up once per frame,
so that hop is part of publish-to-present latency, reported by renderers.

In the same run, for each count, bare pyzmq SUB processes receive the same
frames from a bare PUB socket at the same rate and timestamp them the same
way, so the link's cost reads as a ratio to plain ZeroMQ on this machine at
this moment, not as a figure that depends on the machine and its load. Link
and bare rounds alternate (`--repeats`), and each side's samples are pooled.

Prints one JSON object as its last line:
{"subscribers": {"1": {"p50_ms": ..., "p99_ms": ...}, "8": {...}, "32": {...}},
 "baseline": {"1": {...}, ...}, "p99_ratio": {"1": link p99 / bare p99, ...}}
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time

import numpy as np
import zmq

from controller.demo import free_port_pair
from controller.node import Controller
from wallrenderer.core.protocol import TOPIC_ALL, Message

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


BARE_SUBSCRIBER = """
import json, sys, time, zmq
sub = zmq.Context.instance().socket(zmq.SUB)
sub.setsockopt(zmq.SUBSCRIBE, b"")
sub.connect(sys.argv[1])
ready, receipts = False, []
while True:
    topic, header, body = sub.recv_multipart()
    received = time.time()
    head = json.loads(header)
    if head["k"] == "end":
        break
    if head["k"] == "hb":
        if not ready:
            print("ready", flush=True)
            ready = True
        continue
    json.loads(body)
    receipts.append(received - head["t"])
print(json.dumps(receipts), flush=True)
"""


def payload_delta(n: int) -> dict:
    """The data frame both rounds send: the same bytes for the link and for bare pyzmq."""
    payload = {"mentions_per_min": list(range(60)), "sentiment": 12.5}
    return {"seq": n, "full": False, "set": {**payload, "n": n}, "drop": []}


def run_baseline_round(subscribers: int, rate_hz: float, seconds: float) -> list[float]:
    """Bare PUB to bare SUB processes, the same frames at the same rate."""
    port = free_port_pair()
    pub = zmq.Context.instance().socket(zmq.PUB)
    pub.setsockopt(zmq.SNDHWM, 1000)
    pub.bind(f"tcp://127.0.0.1:{port}")
    procs = [subprocess.Popen([sys.executable, "-c", BARE_SUBSCRIBER, f"tcp://127.0.0.1:{port}"],
                              stdout=subprocess.PIPE, text=True) for _ in range(subscribers)]

    def send(kind: str, body: dict) -> None:
        pub.send_multipart([TOPIC_ALL, *Message(kind, body, time=time.time()).encode()])

    try:
        waiting = list(procs)
        poller_deadline = time.monotonic() + 60
        while waiting and time.monotonic() < poller_deadline:
            send("hb", {})
            time.sleep(0.05)
            waiting = [p for p in waiting if not _said_ready(p)]
        time.sleep(0.5)
        end = time.monotonic() + seconds + 1.0
        n = 0
        while time.monotonic() < end:
            n += 1
            send("data", payload_delta(n))
            time.sleep(1.0 / rate_hz)
        time.sleep(0.5)
        for _ in range(5):
            send("end", {})
        latencies = []
        for proc in procs:
            out, _ = proc.communicate(timeout=30)
            latencies += json.loads(out.strip().splitlines()[-1])
        return latencies
    finally:
        for proc in procs:
            proc.kill()
        pub.close(linger=0)


def _said_ready(proc: subprocess.Popen) -> bool:
    import select

    if select.select([proc.stdout], [], [], 0)[0]:
        return proc.stdout.readline().strip() == "ready"
    return False


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
        end = time.monotonic() + seconds + 1.0
        period = 1.0 / rate_hz
        n = 0
        while time.monotonic() < end:
            n += 1
            delta = payload_delta(n)
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
    parser.add_argument("--repeats", type=int, default=2,
                        help="link and bare rounds alternate this many times per count, so "
                             "a change in the machine's load falls on both")
    args = parser.parse_args()
    results, baseline, ratio = {}, {}, {}
    for count in (int(c) for c in args.counts.split(",")):
        link, bare = [], []
        for _ in range(args.repeats):
            link += run_round(count, args.rate, args.seconds)
            bare += run_baseline_round(count, args.rate, args.seconds)
        results[str(count)] = summary(link)
        baseline[str(count)] = summary(bare)
        ratio[str(count)] = round(results[str(count)]["p99_ms"] /
                                  max(1e-6, baseline[str(count)]["p99_ms"]), 2)
        print(f"{count} subscribers: link {results[str(count)]}, "
              f"bare pyzmq {baseline[str(count)]}", flush=True)
    print(json.dumps({"subscribers": results, "baseline": baseline, "p99_ratio": ratio,
                      "rate_hz": args.rate, "repeats": args.repeats}))


def summary(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "max_ms": round(float(ms.max()), 3),
        "samples": int(ms.size),
    }


if __name__ == "__main__":
    main()
