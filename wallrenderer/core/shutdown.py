"""Stopping on SIGINT or SIGTERM within a bound, whatever a node is doing.

Every node (renderer, controller, relay, demo) stops itself cleanly when asked.
A watchdog makes sure the process is gone `STOP_BOUND_S` after the signal even
if some thread is stuck, because a stop that hangs turns every `systemctl
restart` on a panel PC into a 90-second wait for SIGKILL.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

log = logging.getLogger(__name__)

STOP_BOUND_S = 0.7
EXIT_FORCED = 3
KERNEL_BACKSTOP_S = 0.1
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_stopping: threading.Event | None = None


def stop_on_signals(bound_s: float = STOP_BOUND_S) -> threading.Event:
    """From now on, SIGINT or SIGTERM asks this process to stop; call from the main thread.

    Returns an event set at the first such signal; a later call returns the
    same event. The signal also reaches a watchdog thread through the
    interpreter's wake-up fd, which the C-level handler writes whichever
    thread the kernel interrupts, so a main thread blocked in a C call (where
    Python handlers never run) cannot keep the process alive: `bound_s` after
    the signal it exits with `EXIT_FORCED`, and should even the watchdog not
    be scheduled in time, the kernel ends it with SIGALRM a moment later.
    """
    global _stopping
    if _stopping is not None:
        return _stopping
    stopping = _stopping = threading.Event()
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    def request(*_) -> None:
        stopping.set()
        _arm_kernel_backstop(bound_s + KERNEL_BACKSTOP_S)

    for sig in _STOP_SIGNALS:
        signal.signal(sig, request)
    threading.Thread(target=_watchdog, args=(read_fd, stopping, bound_s),
                     name="stop-watchdog", daemon=True).start()
    return stopping


def _watchdog(read_fd: int, stopping: threading.Event, bound_s: float) -> None:
    while not any(signum in _STOP_SIGNALS for signum in os.read(read_fd, 64)):
        pass
    deadline = time.monotonic() + bound_s
    stopping.set()
    _arm_kernel_backstop(bound_s + KERNEL_BACKSTOP_S)
    time.sleep(max(0.0, deadline - time.monotonic()))
    log.warning("still stopping %.1f s after the signal; exiting now", bound_s)
    exit_now(EXIT_FORCED)


def _arm_kernel_backstop(seconds: float) -> None:
    """SIGALRM, left at its default action, ends the process `seconds` from now.

    The kernel does that without any thread of ours running, for a machine so
    loaded that even the watchdog is not scheduled in time.
    """
    if signal.getitimer(signal.ITIMER_REAL)[0] == 0:
        signal.setitimer(signal.ITIMER_REAL, seconds)


def exit_now(code: int) -> None:
    """End the process once a node has cleaned up after itself, skipping the interpreter's teardown.

    That teardown frees every object one by one: 0.1 to 0.3 s for a controller
    holding an hour of aggregates, spent after the node's own work is done.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
