"""Captures: every renderer's frame for one shared instant, as files or as small inline images.

The controller's loop publishes the order and sends the answer; this module
keeps what is under way and decides when each capture is complete.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

CAPTURE_LEAD_S = 0.5
MIN_CAPTURE_LEAD_S = 0.05
CAPTURE_TIMEOUT_S = 20.0
PREVIEW_LEAD_S = 0.15  # a preview's instant: soon, but after every renderer got the order


@dataclass
class Capture:
    """One capture order: who asked, for which instant, and what came back so far."""

    client: list[bytes] | None
    at: float
    expected: set[str]
    deadline: float
    absent: list[str]
    paths: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)  # display -> base64 JPEG (inline)
    future: Future | None = None  # set for captures asked in-process (capture_images)

    def answer(self) -> dict[str, Any]:
        shown = self.paths.keys() | self.images.keys()
        missing = sorted(self.absent + list(self.expected - shown))
        return {"paths": self.paths, "missing": missing, "errors": self.errors}


class Captures:
    """The captures under way, oldest first."""

    def __init__(self) -> None:
        self.pending: list[Capture] = []

    def start(self, client: list[bytes] | None, body: dict, now: float, connected: set[str],
              display_ids: Iterable[str], future: Future | None = None,
              wait_s: float = CAPTURE_TIMEOUT_S) -> dict[str, Any]:
        """Record a capture and return the order to publish.

        Renderers that are not connected are reported missing at once rather than waited for.
        The request may name the instant (`at`, controller clock, at least 50 ms ahead), or
        ask for the frames `inline` (their longest side) instead of files.
        """
        at = now + CAPTURE_LEAD_S
        if isinstance(body.get("at"), int | float) and not isinstance(body["at"], bool):
            at = max(now + MIN_CAPTURE_LEAD_S, float(body["at"]))
        absent = sorted(set(display_ids) - connected)
        self.pending.append(Capture(client, at, connected, at + wait_s, absent, future=future))
        order = {"at": at, "dir": str(body.get("dir", "."))}
        if isinstance(body.get("inline"), int) and not isinstance(body["inline"], bool):
            order["inline"] = body["inline"]
        return order

    def received(self, display: str, body: dict) -> None:
        """A renderer's `captured` report: a file, an inline image or an error."""
        for capture in self.pending:
            if capture.at == body.get("at"):
                if body.get("image"):
                    capture.images[display] = str(body["image"])
                elif body.get("path"):
                    capture.paths[display] = str(body["path"])
                else:
                    capture.errors[display] = str(body.get("error"))

    def finished(self, now: float) -> list[Capture]:
        """The captures every renderer answered, or whose deadline passed; no longer pending."""
        done = []
        for capture in list(self.pending):
            shown = capture.paths.keys() | capture.images.keys()
            if capture.expected <= shown | capture.errors.keys() or now >= capture.deadline:
                self.pending.remove(capture)
                done.append(capture)
        return done

    def expire(self) -> None:
        """On the way out: every capture is due now."""
        for capture in self.pending:
            capture.deadline = 0.0
