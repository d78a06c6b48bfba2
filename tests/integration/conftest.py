"""Real processes on loopback: every process a test starts is gone when the test ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from services import Service

from controller.demo import die_with_parent

WALL_BIN = Path(sys.executable).with_name("wallrenderer")

def wall_command(*args: str) -> list[str]:
    """The installed `wallrenderer` console script (falls back to `python -m` in a checkout)."""
    if WALL_BIN.exists():
        return [str(WALL_BIN), *args]
    return [sys.executable, "-m", "wallrenderer", *args]


def write_yaml(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def children_of(pid: int) -> dict[int, str]:
    """Direct children of a process with their command lines (from /proc)."""
    found = {}
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            pids = (task / "children").read_text().split()
        except OSError:
            continue
        for child in pids:
            try:
                cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            found[int(child)] = cmd
    return found


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@pytest.fixture
def spawn(tmp_path):
    """Start a process in its own process group; the whole group is killed at teardown."""
    started: list[subprocess.Popen] = []

    def start(argv: list[str], **kwargs) -> subprocess.Popen:
        kwargs.setdefault("cwd", tmp_path)
        proc = subprocess.Popen(argv, start_new_session=True, preexec_fn=die_with_parent,
                                **kwargs)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


@pytest.fixture
def service():
    """A local HTTP server whose routes each test sets (`tests/services.py`)."""
    running = Service()
    yield running
    running.close()


@pytest.fixture
def sources():
    """Sources a test starts; all stopped at teardown, even when the test fails."""
    started = []
    yield started
    for source in started:
        source.stop()
