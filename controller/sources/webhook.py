"""`webhook` source: posts pushed to the controller (`POST /api/ingest`) by any tool.

It has no thread: the controller's HTTP handler calls `push()` with the
decoded JSON batch; the records are validated once, against the post schema
(docs/posts.md), and the valid posts go to the sink from that thread. Invalid
records are rejected and counted as dropped.
"""

from __future__ import annotations

from typing import Any

from controller.posts import Fill
from controller.sources.base import RawSink, Sink, Source


class WebhookSource(Source):
    """The source behind `POST /api/ingest`.

    Args:
        brands: brand keywords, for posts pushed without a brand.
        own_accounts: handles of our brand accounts, for posts pushed without `own`.
    """

    SPEC_OPTIONS: dict[str, type] = {}

    def __init__(self, *, brands: dict[str, list[str]] | None = None,
                 own_accounts: tuple[str, ...] | list[str] = (), name: str | None = None):
        super().__init__(name or "webhook")
        self.fill = Fill("webhook", brands, tuple(own_accounts))

    def start(self, sink: Sink, raw_sink: RawSink | None = None) -> None:
        """Accept pushes from now on (no thread to start)."""
        self.attach(sink, raw_sink)
        self._succeeded()

    def push(self, items: Any) -> tuple[int, int]:
        """Validate a pushed batch and hand the valid posts to the sink.

        Returns:
            (accepted, rejected); everything is rejected before `start()` or after `stop()`.
        """
        batch = items if isinstance(items, list) else [items]
        if self._sink is None or self.status()["state"] == "stopped":
            self.count_dropped(len(batch), "webhook not running")
            return 0, len(batch)
        accepted, rejected = self.emit(batch)
        self._succeeded()
        return accepted, rejected
