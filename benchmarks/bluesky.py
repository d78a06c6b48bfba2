"""Bluesky source throughput: a replay of recorded-format Jetstream events over a real WebSocket.

A local server speaking Jetstream's protocol (tests/jetstream.py, in its own
process on the other core) sends `--events` events (default 100,000: posts
about the brands and not, likes, deletes, identity and account events) as
fast as the socket takes them; this process, pinned to one core, runs the
`bluesky` source on them: decoding every frame, skipping what is no new post,
matching brands, resolving authors through a local profile API (cached) and
validating the posts into batches for a counting sink. The clock runs from
the connection to the last event's position being handed over.

Rates are events per second of wall-clock time and of this process's CPU
time (the source's thread, the profile API and the sink share the core).

Prints one JSON object as its last line:
{"events": ..., "events_per_s": ..., "events_per_cpu_s": ..., "posts": ..., ...}
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from jetstream import recorded_stream  # noqa: E402
from services import Answer, Service  # noqa: E402

from controller.sources.bluesky import BlueskySource  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) > 1:
        os.sched_setaffinity(0, {cores[0]})
    events = recorded_stream(args.events)
    with tempfile.TemporaryDirectory() as folder:
        frames = Path(folder) / "frames.jsonl"
        frames.write_text("".join(json.dumps(e) + "\n" for e in events))
        server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "jetstream.py"),
                                   str(frames)], stdout=subprocess.PIPE, text=True,
                                  preexec_fn=lambda: os.sched_setaffinity(0, {cores[-1]}))
        profiles = Service()
        profiles.routes["/xrpc/app.bsky.actor.getProfiles"] = lambda request: Answer(
            200, {"profiles": [{"did": did, "handle": f"{did[-8:]}.bsky.social",
                                "displayName": did[-8:], "followersCount": 100}
                               for did in request.lists.get("actors", [])]})
        try:
            port = server.stdout.readline().strip()
            posts = []
            source = BlueskySource(f"ws://127.0.0.1:{port}/subscribe", brands=["acme", "globex"],
                                   profiles=profiles.base, timeout=10)
            last = events[-1]["time_us"]
            began, cpu_began = time.perf_counter(), time.process_time()
            source.start(lambda batch, rejected: posts.append(len(batch)))
            while source.position != last:
                time.sleep(0.005)
                if time.perf_counter() - began > 600:
                    raise SystemExit("the source did not reach the last event in 10 minutes")
            seconds, cpu = time.perf_counter() - began, time.process_time() - cpu_began
            source.stop()
        finally:
            server.kill()
            server.wait()
            profiles.close()
    print(json.dumps({
        "events": args.events, "seconds": round(seconds, 3),
        "events_per_s": round(args.events / seconds),
        "events_per_cpu_s": round(args.events / cpu), "posts": sum(posts),
        "dropped": source.status()["dropped"],
    }))


if __name__ == "__main__":
    main()
