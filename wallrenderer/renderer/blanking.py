"""Screen blanking and DPMS off while fullscreen renderers run, as they were after.

The X server's screen saver and DPMS would blank an unattended wall after ten
minutes. `xset` turns both off; the settings belong to the whole X server, and
a two-monitor panel PC runs two renderers on it, so the first renderer saves
the settings it found and the last one to stop puts them back. Holders are
pid files under a per-server folder; a renderer that was killed is noticed as
a dead pid by the next one that starts or stops.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

OFF = [["s", "off"], ["s", "noblank"], ["-dpms"]]


def read_settings(display: str) -> dict:
    """Screen saver timeout and cycle, blanking preference and DPMS, from `xset q`."""
    text = _xset(display, "q")
    timeout = re.search(r"timeout:\s*(\d+)\s+cycle:\s*(\d+)", text)
    return {
        "timeout": int(timeout.group(1)) if timeout else 600,
        "cycle": int(timeout.group(2)) if timeout else 600,
        "blank": bool(re.search(r"prefer blanking:\s*yes", text)),
        "dpms": "DPMS is Enabled" in text,
        "has_dpms": "does not have the DPMS" not in text,
    }


def _apply(display: str, settings: dict) -> None:
    _xset(display, "s", str(settings["timeout"]), str(settings["cycle"]))
    _xset(display, "s", "blank" if settings["blank"] else "noblank")
    if settings["has_dpms"]:
        _xset(display, "+dpms" if settings["dpms"] else "-dpms")


def _xset(display: str, *args: str) -> str:
    done = subprocess.run(["xset", "-display", display, *args], capture_output=True, text=True,
                          timeout=10)
    if done.returncode != 0:
        raise OSError(done.stderr.strip() or f"xset {' '.join(args)} failed")
    return done.stdout


def _state_dir(display: str) -> Path:
    server = display.rsplit(".", 1)[0] if re.search(r":\d+\.\d+$", display) else display
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"wallrenderer-blanking-{re.sub(r'[^A-Za-z0-9]+', '_', server)}"


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(mode=0o700, exist_ok=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _live_holders(folder: Path) -> list[Path]:
    holders = []
    for pid_file in folder.glob("pid-*"):
        pid = int(pid_file.name[4:])
        try:
            os.kill(pid, 0)
            holders.append(pid_file)
        except ProcessLookupError:
            pid_file.unlink(missing_ok=True)
        except PermissionError:
            holders.append(pid_file)
    return holders


@contextlib.contextmanager
def blanking_off(display: str | None = None) -> Iterator[None]:
    """Screen saver, blanking and DPMS off on `display` for the block's duration.

    Without `xset` (Debian: x11-xserver-utils) or an X display it logs a
    warning and the renderer runs anyway: a lit wall matters more.
    """
    display = display or os.environ.get("DISPLAY", "")
    if not display or shutil.which("xset") is None:
        log.warning("cannot turn screen blanking off: %s",
                    "no DISPLAY" if not display else "xset not found (apt-get install "
                    "x11-xserver-utils); the screen may blank after its saver timeout")
        yield
        return
    folder = _state_dir(display)
    mine = folder / f"pid-{os.getpid()}"
    try:
        with _locked(folder):
            saved = folder / "saved.json"
            if not _live_holders(folder) or not saved.exists():
                saved.write_text(json.dumps(read_settings(display)))
            mine.touch()
            for args in OFF:
                if args == ["-dpms"] and not json.loads(saved.read_text())["has_dpms"]:
                    continue
                _xset(display, *args)
        log.info("screen saver, blanking and DPMS off on %s while this renderer runs", display)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        log.warning("cannot turn screen blanking off on %s: %s", display, exc)
    try:
        yield
    finally:
        _restore(display, folder, mine)


def _restore(display: str, folder: Path, mine: Path) -> None:
    """The last holder to leave puts back the settings the first one found."""
    try:
        with _locked(folder):
            mine.unlink(missing_ok=True)
            saved = folder / "saved.json"
            if _live_holders(folder) or not saved.exists():
                return
            _apply(display, json.loads(saved.read_text()))
            saved.unlink()
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        log.warning("cannot restore screen blanking on %s: %s", display, exc)
