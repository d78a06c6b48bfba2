"""`webhook` source: posts pushed to the controller (`POST /api/ingest`) by any tool.

It has no thread: the controller's HTTP layer reads the request body as it
streams in, refusing it beyond `MAX_BODY_BYTES`, and hands it to `ingest`
(in a worker thread, so a large push does not hold the event loop), which
decodes it (a bare JSON list of posts, or `{"posts": [...]}`), validates
once against the post schema (docs/posts.md) and hands the posts to the
sink in slices of `SLICE_POSTS`. The answer says how many posts were accepted, how many
rejected and the first reasons why. A post whose id was pushed before (a
client retrying after a lost answer) is accepted again but counted once.
"""

from __future__ import annotations

import threading
from typing import Any

import msgspec
import numpy as np

from controller.posts import Fill, Problems, from_dicts
from controller.sources.base import RawSink, SeenIds, Sink, Source, by_reason, first_unseen

#: the largest body `POST /api/ingest` takes (about 40,000 typical posts)
MAX_BODY_BYTES = 8 * 1024 * 1024
#: posts validated and handed to the sink at once
SLICE_POSTS = 5000
#: rejection reasons an answer lists
ANSWER_REASONS = 5
EXAMPLE = '[POST, ...] or {"posts": [POST, ...]} (docs/posts.md)'


class WebhookError(Exception):
    """A push that cannot be read, with the HTTP status to answer (400)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


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
        self.seen = SeenIds(200_000)
        self._pushing = threading.Lock()   # HTTP threads push at once; `seen` is not shared-safe

    def start(self, sink: Sink, raw_sink: RawSink | None = None) -> None:
        """Accept pushes from now on (no thread to start)."""
        self.attach(sink, raw_sink)
        self._succeeded()

    def ingest(self, body: bytes) -> dict[str, Any]:
        """Decode and push one request body; the answer for the client.

        Raises:
            WebhookError: 400 for an empty or malformed body.
        """
        if not body.strip():
            raise WebhookError(400, f"missing JSON body: send {EXAMPLE}")
        try:
            decoded = msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            raise WebhookError(400, f"body is not valid JSON ({exc}); send {EXAMPLE}") from None
        posts = decoded.get("posts") if isinstance(decoded, dict) else decoded
        if not isinstance(posts, list):
            raise WebhookError(400, f"send {EXAMPLE}")
        return self.push_all(posts)

    def push(self, items: Any) -> tuple[int, int]:
        """Validate a pushed batch and hand the valid posts to the sink.

        Returns:
            (accepted, rejected); everything is rejected before `start()` or after `stop()`.
        """
        answer = self.push_all(items if isinstance(items, list) else [items])
        return answer["accepted"], answer["rejected"]

    def push_all(self, records: list[Any]) -> dict[str, Any]:
        """Push records in slices; the answer: accepted, rejected, duplicates, first reasons."""
        if self._sink is None or self.status()["state"] == "stopped":
            self.count_dropped(len(records), "webhook not running")
            return {"accepted": 0, "rejected": len(records), "duplicates": 0,
                    "reasons": [{"reason": "webhook not running", "count": len(records)}]}
        accepted = rejected = duplicates = 0
        problems = Problems()
        for start in range(0, len(records), SLICE_POSTS):
            batch, bad = from_dicts(records[start:start + SLICE_POSTS], self.fill, problems)
            with self._pushing:
                rows = first_unseen(batch.id, self.seen)
                fresh = batch.take(np.array(rows, dtype=np.int64))
                if self._deliver_batch(fresh, bad):
                    for post_id in fresh.id:
                        self.seen.add(post_id)
                    accepted += len(batch)
                    duplicates += len(batch) - len(rows)
                else:
                    bad += len(rows)
            rejected += bad
        self.count_validation(problems, len(records))
        self._succeeded()
        reasons = [{"reason": reason, **detail}
                   for reason, detail in by_reason(problems.dropped).items()][:ANSWER_REASONS]
        answer = {"accepted": accepted, "rejected": rejected, "duplicates": duplicates,
                  "reasons": reasons}
        if problems.fixed:
            answer["field_warnings"] = [{"reason": reason, **detail} for reason, detail
                                        in by_reason(problems.fixed).items()][:ANSWER_REASONS]
        return answer
