"""Scenario thumbnails for the tablet's buttons, drawn by the renderers' own code.

The controller process never loads GL: a worker process
(`python -m wallrenderer.renderer.thumbnails`) draws each scenario on the wall with
simulated data. Pictures are cached on disk under a key made of the scenario's
content, the wall's and the size, so a restart reuses them and a changed file
(after a reload) gets a new picture while the old one is still shown.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

THUMBNAIL_SIDE = 480
FORMAT = 1  # bump when the drawing changes, so cached pictures are drawn again


def cache_key(wall: dict[str, Any], scenario: dict[str, Any], side: int) -> str:
    """What a picture depends on: the wall, the scenario and the size."""
    text = json.dumps([FORMAT, side, wall, scenario], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def default_cache_dir() -> Path:
    """The user's cache folder for thumbnails."""
    import os

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "wallrenderer" / "thumbnails"


class Thumbnails:
    """Keeps one picture per scenario up to date, drawing missing ones in the background.

    `url()` and `png()` are safe from any thread; drawing happens on one thread
    of its own that feeds a single worker process, one scenario at a time.
    """

    def __init__(self, cache_dir: Path, side: int = THUMBNAIL_SIDE):
        self.cache_dir = Path(cache_dir)
        self.side = side
        self._keys: dict[str, str] = {}  # scenario -> key of the picture wanted
        self._ready: dict[str, str] = {}  # scenario -> key of the newest picture on disk
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._worker: subprocess.Popen | None = None
        self._stop = threading.Event()
        self.failures: dict[str, str] = {}

    def start(self, wall: dict[str, Any], scenarios: dict[str, dict[str, Any]]) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="wall-thumbnails", daemon=True)
        self._thread.start()
        self.update(wall, scenarios)

    def update(self, wall: dict[str, Any], scenarios: dict[str, dict[str, Any]]) -> None:
        """Want a picture of each scenario as it is now; draw those not cached yet."""
        missing = []
        with self._lock:
            self._keys = {n: cache_key(wall, data, self.side) for n, data in scenarios.items()}
            for name, key in self._keys.items():
                if self._path(key).exists():
                    self._ready[name] = key
                else:
                    missing.append((name, key, scenarios[name]))
        if missing:
            self._jobs.put((wall, missing))

    def url(self, name: str) -> str | None:
        """Where the page finds the scenario's picture; the key makes each version its own URL."""
        with self._lock:
            key = self._ready.get(name)
        return f"/api/thumbnails/{name}.png?v={key}" if key else None

    def png(self, name: str) -> bytes | None:
        with self._lock:
            key = self._ready.get(name)
        try:
            return self._path(key).read_bytes() if key else None
        except OSError:
            return None

    def close(self) -> None:
        self._stop.set()
        self._jobs.put(None)
        if self._thread is not None:
            self._thread.join(5.0)
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.kill()
            worker.wait()

    def _path(self, key: str) -> Path:
        return self.cache_dir / f"{key}.png"

    # --- the drawing thread ---------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            job = self._jobs.get()
            if job is None:
                return
            wall, missing = job
            data = self._sample_data()
            for name, key, scenario in missing:
                with self._lock:
                    if self._stop.is_set() or self._keys.get(name) != key:
                        continue  # stopping, or superseded by a newer reload
                error = self._draw({"wall": wall, "scenario": scenario, "data": data,
                                    "t": time.time(), "max_side": self.side,
                                    "out": str(self._path(key))})
                with self._lock:
                    if error is None:
                        self._ready[name] = key
                        self.failures.pop(name, None)
                    else:
                        self.failures[name] = error
                if error is not None:
                    log.warning("no thumbnail for scenario %r: %s", name, error)

    @staticmethod
    def _sample_data() -> dict[str, Any]:
        from controller.sample import sample_frame

        return sample_frame(time.time(), hours=1.0)

    def _draw(self, job: dict[str, Any]) -> str | None:
        """One job through the worker, started (again) when needed; None, or what went wrong."""
        try:
            worker = self._worker
            if worker is None or worker.poll() is not None:
                worker = self._worker = subprocess.Popen(
                    [sys.executable, "-m", "wallrenderer.renderer.thumbnails"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            worker.stdin.write(json.dumps(job, default=str) + "\n")
            worker.stdin.flush()
            line = worker.stdout.readline()
        except OSError as exc:
            return f"the thumbnail worker failed: {exc}"
        if not line:
            return "the thumbnail worker ended"
        answer = json.loads(line)
        return None if answer.get("ok") else str(answer.get("error"))
