"""The controller's data path: sources -> validation -> aggregation -> data frames.

Sources hand posts to a queue from their own threads, validated batches or
raw JSON lines; one pipeline thread validates the lines in bulk, and for
every batch (`ingest`) scores missing sentiment, feeds the aggregator and
screens the newest posts for the wall's feed; at most 10 times a second it
publishes a delta-encoded data frame (`full_frame`) through the controller.
`controller.sample` runs the same steps without threads. Aggregates and
the moderation queue live in a SQLite store, so a restart keeps the KPIs.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any

from controller.aggregate.aggregator import Aggregator
from controller.aggregate.campaign import tracked_keys
from controller.frames import FrameComposer
from controller.moderation.audit import AuditLog
from controller.moderation.moderator import Moderator
from controller.moderation.policy import ModerationPolicy
from controller.postbatch import PostBatch, score_missing
from controller.posts import Problems, parse_lines
from controller.sources.base import Source
from controller.sources.simulator import SimulatorSource
from controller.sources.spec import parse_source_spec
from controller.sources.webhook import WebhookSource
from controller.store import Store
from wallrenderer.core.errors import WallError

log = logging.getLogger(__name__)

DEFAULT_BRANDS = ("acme", "globex", "initech", "umbrella")
FEED_SIZE = 40
FEED_TEXT_CHARS = 280  # a feed card shows a tweet's worth; longer texts are cut before screening
INBOX_ITEMS = 64
DRAIN_MAX_RECORDS = 50_000  # per turn, so frames keep flowing while a backlog is worked off
TURN_ERRORS_LOGGED = 5
SAVE_EVERY_S = 30.0
PIPELINE_JOIN_S = 0.3
"""How long stopping waits for a pipeline turn to end; the save takes the lock either way."""
SOURCES_JOIN_S = 0.2
"""How long stopping waits for all sources together; one stuck in a request is left behind."""
STATE_KEY = "aggregate"


class DataPipeline:
    """Runs the sources and turns what they deliver into data frames.

    Args:
        specs: `--source` specs; none means no live data (the wall shows layouts only).
        brands: the brands compared on the wall; the first is ours.
        publish: called with each delta frame (from the pipeline thread); returns a
            future whose result is False when the frame could not be sent.
        store: where aggregates and the approval queue persist, or None.
        policy: moderation for what the feed shows.
        fields: the data-frame keys the wall draws now (None: all); asked each frame.
        tracked: campaign hashtags and URLs (`--track`) counted in the `campaign` field.

    Raises:
        WallError: a tracked term is malformed, repeated, or one too many.
    """

    def __init__(
        self,
        specs: list[str],
        brands: list[str],
        publish: Callable[[dict[str, Any]], Future],
        store: Store | None = None,
        policy: ModerationPolicy | None = None,
        max_rate_hz: float = 10.0,
        fields: Callable[[], Iterable[str] | None] = lambda: None,
        tracked: Iterable[str] = (),
    ):
        self.brands = list(brands)
        self.tracked = list(tracked)
        try:
            tracked_keys(self.tracked)
        except ValueError as exc:  # before a saved state is judged unreadable because of it
            raise WallError(f"--track: {exc}") from None
        self.publish = publish
        self.fields = fields
        self.store = store
        self.sources: list[Source] = [
            parse_source_spec(spec, brands={b: [b] for b in self.brands}) for spec in specs
        ]
        saved = self._load_saved(store)
        self.aggregator = self._restore(saved) if saved else self._fresh_aggregator()
        self.moderator = Moderator(
            policy or ModerationPolicy(), AuditLog(store), store=store
        )
        self.composer = FrameComposer(max_rate_hz)
        self.feed: deque[dict[str, Any]] = deque(maxlen=FEED_SIZE)
        # Bounded: a source faster than aggregation (a replay at speed=0) waits here.
        self._inbox: queue.Queue = queue.Queue(maxsize=INBOX_ITEMS)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.rejected = 0
        self.failures = 0
        self._last_publish: Future | None = None

    def track(self, term: str) -> bool:
        """Start counting a campaign term now, as a calendar event asks; False if already counted.

        The aggregates are carried over as a restart with a longer `--track`
        list carries them: every figure stays, and the new term counts from now.

        Raises:
            WallError: the term is malformed, or one more than the aggregation can count.
        """
        try:
            if tracked_keys([term])[0] in tracked_keys(self.tracked):
                return False
            wanted = [*self.tracked, term]
            tracked_keys(wanted)
        except ValueError as exc:
            raise WallError(f"cannot track {term!r}: {exc}") from None
        with self._lock:
            self.aggregator = Aggregator.from_state(self.aggregator.to_state(), tracked=wanted)
            self.tracked = wanted
        log.info("tracking %s from now on", term)
        return True

    @staticmethod
    def _load_saved(store: Store | None) -> dict[str, Any] | None:
        if store is None:
            return None
        try:
            return store.load_state(STATE_KEY)
        except Exception as exc:  # a damaged row: start from zero rather than not at all
            log.warning("saved aggregates unreadable (%s); starting from zero", exc)
            return None

    def _fresh_aggregator(self) -> Aggregator:
        return Aggregator(self.brands, self.brands[0], tracked=self.tracked)

    def _restore(self, state: dict[str, Any]) -> Aggregator:
        # The tracked list is today's; the saved terms that remain keep their figures.
        try:
            aggregator = Aggregator.from_state(state, tracked=self.tracked)
        except Exception as exc:  # a state from another version must not stop the controller
            log.warning("saved aggregates could not be loaded (%s); starting from zero", exc)
            return self._fresh_aggregator()
        if aggregator.brands != self.brands:
            log.warning("saved aggregates are for brands %s; starting from zero", aggregator.brands)
            return self._fresh_aggregator()
        log.info("aggregates restored from the store")
        return aggregator

    # --- sources ---------------------------------------------------------------------

    @property
    def webhook(self) -> WebhookSource | None:
        return next((s for s in self.sources if isinstance(s, WebhookSource)), None)

    @property
    def simulator(self) -> SimulatorSource | None:
        return next((s for s in self.sources if isinstance(s, SimulatorSource)), None)

    def source_status(self) -> list[dict[str, Any]]:
        """Per source: name, state (ok / degraded / ...), ingested, dropped."""
        return [source.status() for source in self.sources]

    def start(self) -> None:
        for source in self.sources:
            def take_batch(batch, rejected, source=source):
                self._put((source, False, (batch, rejected)))

            def take_lines(lines, source=source):
                self._put((source, True, lines))

            source.start(take_batch, raw_sink=take_lines)
        self._thread = threading.Thread(target=self._run, name="data-pipeline", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sources and the pipeline thread, and save the aggregates; safe twice.

        Every thread is told first and the aggregates are saved before waiting
        on any source: a stopping process has well under a second before its
        watchdog ends it, and a source stuck in a request must not cost the
        last save or a clean exit (its daemon thread ends with the process).
        """
        for source in self.sources:
            source.request_stop()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=PIPELINE_JOIN_S)
            self._thread = None
        self._save()
        deadline = time.monotonic() + SOURCES_JOIN_S
        for source in self.sources:
            source.stop(max(0.0, deadline - time.monotonic()))

    def _put(self, item: tuple) -> None:
        """From a source's thread: wait while the pipeline is behind (until it stops)."""
        while not self._stop.is_set():
            try:
                self._inbox.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def acknowledge(self, alert_id: str, by: str) -> bool:
        """An operator saw an alert (from the HTTP thread)."""
        with self._lock:
            return self.aggregator.acknowledge(alert_id, by)

    # --- the pipeline thread ---------------------------------------------------------

    def _run(self) -> None:
        next_save = time.monotonic() + SAVE_EVERY_S
        while not self._stop.is_set():
            try:
                self._turn()
            except Exception:  # the data path must outlive any one bad batch
                self.failures += 1
                if self.failures <= TURN_ERRORS_LOGGED:
                    log.exception("data pipeline turn failed")
                time.sleep(0.1)
            if time.monotonic() >= next_save:
                self._save()
                next_save = time.monotonic() + SAVE_EVERY_S

    def _turn(self) -> None:
        self._drain(timeout=0.05)
        full = self.full_frame(time.time())
        if self._last_publish is not None and self._last_publish.done():
            if self._last_publish.result() is False:
                log.warning("a data frame was too large to send; starting again from a full one")
                self.composer.reset()
            self._last_publish = None
        delta = self.composer.compose(full, self.fields(), time.monotonic())
        if delta is not None:
            self._last_publish = self.publish(delta)

    def full_frame(self, now: float) -> dict[str, Any]:
        """The whole data frame at `now`: aggregates, feed, source health, moderation queue."""
        with self._lock:
            full = self.aggregator.frame(now)
            full["feed"] = list(self.feed)
        # Renderers have the shared clock; a timestamp would make every frame "changed".
        full.pop("time", None)
        # Only what a widget or the status line shows: health, not the moment of the last poll.
        full["sources"] = [{**{k: s[k] for k in ("name", "state", "ingested", "dropped",
                                                 "drop_share")},
                            "drop_reason": max(s["drops"], key=lambda r: s["drops"][r]["count"],
                                               default="")}
                           for s in self.source_status()]
        full["moderation"] = {"queued": len(self.moderator.queue())}
        return full

    def add_to_feed(self, post: dict[str, Any]) -> None:
        """Put a post at the top of the feed (an approved one, from the HTTP thread)."""
        with self._lock:
            self.feed.appendleft(post)

    def _drain(self, timeout: float) -> None:
        """Everything the sources delivered since last time; raw lines in one batch per source.

        Raw lines that fail validation count as dropped for their source (a
        source that validates its own records counts those itself).
        """
        pending: dict[tuple[int, bool], tuple[Source, list]] = {}
        deadline = time.monotonic() + timeout
        taken = 0
        while taken < DRAIN_MAX_RECORDS:
            try:
                source, raw, items = self._inbox.get(
                    timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            _, gathered = pending.setdefault((id(source), raw), (source, []))
            if raw:
                gathered.extend(items)
                taken += len(items)
            else:
                gathered.append(items)
                taken += len(items[0]) + items[1]
        for (_, raw), (source, items) in pending.items():
            if raw:
                problems = Problems()
                batch, rejected = parse_lines(items, source.fill, problems)
                source.count_validation(problems, len(batch) + rejected)
                self.ingest(batch, rejected)
            else:
                for batch, rejected in items:
                    self.ingest(batch, rejected)

    def ingest(self, batch: PostBatch, rejected: int) -> None:
        """One validated batch into the aggregates and the feed; `rejected` counts in the totals."""
        self.rejected += rejected
        if len(batch):
            score_missing(batch)
        with self._lock:
            self.aggregator.ingest(batch, rejected)
        if len(batch):
            self._screen(batch)

    def _screen(self, batch: PostBatch) -> None:
        """Moderate the newest customer posts into the feed (aggregates count everything)."""
        for post in batch.posts(last=FEED_SIZE):
            record = post.to_dict()
            for key in ("text", "author", "handle"):
                if isinstance(record.get(key), str) and len(record[key]) > FEED_TEXT_CHARS:
                    record[key] = record[key][: FEED_TEXT_CHARS - 1] + "\u2026"
            decision = self.moderator.screen(record)
            if decision.action == "show" and decision.post is not None:
                self.add_to_feed(decision.post)

    def _save(self) -> None:
        if self.store is not None:
            try:
                with self._lock:
                    state = self.aggregator.to_state()
                self.store.save_state(STATE_KEY, state)
            except Exception as exc:  # persistence must never stop the data path
                log.warning("aggregates not saved: %s", exc)
