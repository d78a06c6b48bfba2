"""The first step of the data flow: what every source shares.

A source gathers social posts from one place (the simulator, a recorded file,
a JSON API, Mastodon, a feed, the webhook), maps its format onto the post
schema (`controller.posts`, docs/posts.md), validates the records there and
hands the valid ones, as a `PostBatch`, to a sink the controller gives it.
Each source works in its own daemon thread, so a slow network never holds up
the controller; it never raises into the controller: a failure makes it
"degraded" (shown on `/api/status` and the wall's status line) and it retries
on its own with exponential back-off until it is "ok" again. A source that
works but drops more than `WARN_DROP_SHARE` of its recent items reads
"warning": what it dropped, by reason with one example each, is on
`/api/status` and in the log once per reason per `LOG_INTERVAL_S`.
"""

from __future__ import annotations

import datetime
import email.utils
import html.parser
import logging
import random
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from controller.postbatch import PostBatch
from controller.posts import NO_FILL, Fill, Problems, from_dicts

log = logging.getLogger(__name__)

#: a working source that drops more than this share of its recent items reads "warning"
WARN_DROP_SHARE = 0.2
#: the share is taken over at least this many of the latest items (whole batches)
HEALTH_WINDOW_ITEMS = 200
#: each drop reason is logged at most once per this many seconds
LOG_INTERVAL_S = 60.0
#: longest example value shown on /api/status
EXAMPLE_CHARS = 120

#: takes validated posts and how many records the source rejected in validation
Sink = Callable[[PostBatch, int], None]
#: takes raw JSON lines, which the controller validates in bulk (`posts.parse_lines`)
RawSink = Callable[[list[bytes]], None]



class SourceError(Exception):
    """A failed poll, with a message written for the operator (it becomes `last_error`)."""


class RetryLater(SourceError):
    """The service asked us to wait (429, 503, rate-limit headers): retry after `after` seconds."""

    def __init__(self, message: str, after: float | None):
        super().__init__(message)
        self.after = after


class Source:
    """A source of posts with its own thread, health and counters.

    Subclasses implement `poll()`: one unit of work (one request, one batch of
    lines) that hands what it found to `emit()` and returns how long to wait
    before the next one. The base class runs it in a loop, turns exceptions into
    the "degraded" state and waits with exponential back-off (with jitter, so
    many walls do not hammer a recovering service in step) before retrying.

    Args:
        name: how `/api/status` and the wall's status line call the source.
        backoff: first wait after a failure, in seconds; doubles per failure.
        backoff_max: longest wait between retries.
    """

    #: longest wait a service may impose with Retry-After or rate-limit headers
    MAX_SERVER_WAIT_S = 3600.0
    #: what this source fills in where its records leave a field empty
    fill: Fill = NO_FILL

    def __init__(self, name: str, *, backoff: float = 1.0, backoff_max: float = 60.0):
        self.name = name
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.stop_timeout = 5.0
        self._lock = threading.Lock()
        self._state = "starting"
        self._ingested = 0
        self._dropped = 0
        self._last_error: str | None = None
        self._last_ok_at: float | None = None
        self._failures = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._sink: Sink | None = None
        self._raw_sink: RawSink | None = None
        self._jitter = random.Random()
        self._problems = Problems()
        self._recent: deque[tuple[int, int]] = deque()
        self._logged_at: dict[tuple[str, str], tuple[float, int]] = {}

    # -- the controller's side -------------------------------------------------

    def start(self, sink: Sink, raw_sink: RawSink | None = None) -> None:
        """Start the source's thread; posts go to `sink` from that thread.

        Args:
            sink: called with each batch of valid posts and the count rejected.
            raw_sink: sources that read JSON lines (replay) hand the raw lines
                here instead, so the controller can parse them in bulk.
        """
        if self._thread is not None:
            raise RuntimeError(f"source {self.name} is already started")
        self.attach(sink, raw_sink)
        self._thread = threading.Thread(target=self._run, name=f"source {self.name}", daemon=True)
        self._thread.start()

    def attach(self, sink: Sink, raw_sink: RawSink | None = None) -> None:
        """Say where posts go without starting the thread (the webhook; tests calling `poll()`)."""
        self._sink = sink
        self._raw_sink = raw_sink

    def request_stop(self) -> None:
        """Tell the thread to stop without waiting for it; `stop()` waits."""
        self._stopping.set()

    def stop(self, wait_s: float | None = None) -> None:
        """Stop the thread and wait for it (at most `stop_timeout`, or `wait_s`); safe twice."""
        self.request_stop()
        thread = self._thread
        wait_s = self.stop_timeout if wait_s is None else min(wait_s, self.stop_timeout)
        if thread is not None and thread is not threading.current_thread():
            thread.join(wait_s)
            if thread.is_alive():
                log.warning("source %s: thread still busy %.1f s after stop", self.name,
                            wait_s)
        self.close()
        with self._lock:
            self._state = "stopped"

    def close(self) -> None:
        """Release what the source holds (sessions, files); called by `stop()`."""

    def status(self) -> dict[str, Any]:
        """Health and counters, as `/api/status` lists them per source.

        `state` is "warning" while the source works but drops more than
        `WARN_DROP_SHARE` of its recent items. `drops` and `field_warnings` map
        each reason to its count and one example. `last_error` is the most
        recent failure and stays after a recovery, so an operator can still
        see what happened; `last_ok_at` is the Unix time of the last
        successful poll.
        """
        with self._lock:
            items = sum(n for n, _ in self._recent)
            share = sum(d for _, d in self._recent) / items if items else 0.0
            state = self._state
            if state == "ok" and share > WARN_DROP_SHARE:
                state = "warning"
            return {
                "name": self.name,
                "state": state,
                "ingested": self._ingested,
                "dropped": self._dropped,
                "drop_share": round(share, 3),
                "drops": by_reason(self._problems.dropped),
                "field_warnings": by_reason(self._problems.fixed),
                "last_error": self._last_error,
                "last_ok_at": self._last_ok_at,
            }

    def count_dropped(self, n: int, reason: str | None = None, field: str = "",
                      value: Any = None) -> None:
        """Count `n` items dropped for `reason`, with one example (`field` and its `value`).

        The drop also counts against the source's health window, as `n` items
        of which `n` were dropped.
        """
        if n <= 0:
            return
        problems = Problems()
        problems.drop(reason or "dropped", field, value, n)
        self.count_validation(problems, n)

    def count_validation(self, problems: Problems, items: int) -> None:
        """Add what validating `items` items found to the counters, the health window and the log.

        The controller calls it for the raw lines it validated for the source.
        """
        dropped = sum(entry[0] for entry in problems.dropped.values())
        if items <= 0 and not problems.fixed:
            return
        now = time.monotonic()
        due = []
        with self._lock:
            self._dropped += dropped
            if items > 0:
                self._recent.append((items, dropped))
                while len(self._recent) > 1 and \
                        sum(n for n, _ in self._recent) - self._recent[0][0] >= HEALTH_WINDOW_ITEMS:
                    self._recent.popleft()
            for kind, found, total in (("dropped", problems.dropped, self._problems.dropped),
                                       ("field warning", problems.fixed, self._problems.fixed)):
                for reason, (count, field, value) in found.items():
                    entry = total.setdefault(reason, [0, field, value])
                    entry[0] += count
                    last, count_then = self._logged_at.get((kind, reason), (-LOG_INTERVAL_S, 0))
                    if now - last >= LOG_INTERVAL_S:
                        self._logged_at[(kind, reason)] = (now, entry[0])
                        due.append((kind, reason, entry[0] - count_then, field, entry[2]))
        for kind, reason, count, field, value in due:
            log.warning("source %s: %s %d (%s), e.g. %s=%s", self.name, kind, count, reason,
                        field or "item", _example(value))

    # -- the subclass's side ---------------------------------------------------

    def poll(self) -> float | None:
        """Do one unit of work; the seconds to wait before the next, or None when finished.

        Raises:
            SourceError: the poll failed (the source turns degraded and backs off).
            RetryLater: the service asked for a pause of `after` seconds.
        """
        raise NotImplementedError

    def emit(self, records: list[Any], problems: Problems | None = None,
             items: int | None = None) -> tuple[int, int]:
        """Validate records of the post schema and hand the valid ones to the sink.

        Args:
            records: the records.
            problems: what the source itself found while mapping (added to its own).
            items: how many items the source read, when more than `records`.

        Returns:
            (valid, rejected); the rejected ones are counted as dropped.
        """
        problems = Problems() if problems is None else problems
        batch, rejected = from_dicts(records, self.fill, problems)
        self.count_validation(problems, len(records) if items is None else items)
        self._deliver_batch(batch, rejected)
        return len(batch), rejected

    def emit_new(self, items: Iterable[Any], to_record: Callable[[Any], dict[str, Any]],
                 seen: SeenIds, unmapped: str) -> None:
        """Map polled items to schema records; emit the valid ones not seen before, oldest first.

        Items that do not map (`to_record` raises, as odd JSON makes it do) are
        counted as dropped, with `unmapped` as the reason and the error as the
        example. Ids are remembered only once the sink took their posts, so a
        batch the sink refused is offered again on the next poll.
        """
        problems = Problems()
        records = []
        for item in items:
            try:
                records.append(to_record(item))
            except (ValueError, TypeError, AttributeError) as exc:
                problems.drop(unmapped, "", str(exc))
        batch, rejected = from_dicts(records, self.fill, problems)
        self.count_validation(problems, len(records) + problems.dropped.get(unmapped, [0])[0])
        new = np.array(first_unseen(batch.id, seen), dtype=np.int64)
        batch = batch.take(new[np.argsort(batch.time[new], kind="stable")])
        if self._deliver_batch(batch, rejected):
            for post_id in batch.id:
                seen.add(post_id)

    def emit_raw(self, lines: list[bytes]) -> None:
        """Hand a batch of raw JSON lines to the raw sink (the controller's fast path)."""
        if lines:
            self._deliver(len(lines), self._raw_sink, lines)

    def _deliver_batch(self, batch: PostBatch, rejected: int) -> bool:
        """True when the sink took the batch (or there was nothing to take)."""
        if len(batch) or rejected:
            return self._deliver(len(batch), self._sink, batch, rejected)
        return True

    def _deliver(self, count: int, sink: Callable[..., None] | None, *payload: Any) -> bool:
        if sink is None:
            self.count_dropped(count, "no sink")
            return False
        try:
            sink(*payload)
        except Exception as exc:      # the controller's bug must not kill the source
            log.exception("source %s: the sink refused %d posts", self.name, count)
            with self._lock:
                self._dropped += count
                self._last_error = f"sink refused {count} posts: {exc}"
            return False
        with self._lock:
            self._ingested += count
        return True

    # -- the loop --------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                wait = self.poll()
            except RetryLater as exc:
                wait = self._failed(exc, exc.after)
            except Exception as exc:  # a source never raises into the controller
                wait = self._failed(exc, None)
            else:
                self._succeeded()
                if wait is None:
                    break
            self._stopping.wait(max(0.0, wait))
        with self._lock:
            self._state = "stopped"

    def _succeeded(self) -> None:
        with self._lock:
            if self._state == "degraded":
                log.info("source %s: recovered", self.name)
            if self._state != "stopped":
                self._state = "ok"
            self._last_ok_at = time.time()
            self._failures = 0

    def _failed(self, exc: Exception, after: float | None) -> float:
        """Record a failure; the wait before the retry (the server's, else back-off)."""
        message = str(exc) if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._failures += 1
            if after is None:
                step = min(self.backoff_max, self.backoff * 2 ** (self._failures - 1))
                wait = step / 2 + self._jitter.uniform(0, step / 2)
            else:
                wait = min(max(after, 0.0), self.MAX_SERVER_WAIT_S)
            if self._state != "stopped":
                self._state = "degraded"
            self._last_error = message
        log.warning("source %s: %s (retry in %.1f s)", self.name, message, wait)
        return wait


# -- helpers shared by the sources ------------------------------------------------


def _example(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS - 1] + "\u2026"


def by_reason(counts: dict[str, list]) -> dict[str, dict[str, Any]]:
    """Reason -> count and one example, as /api/status shows them."""
    return {reason: {"count": count, "field": field, "example": _example(value)}
            for reason, (count, field, value) in counts.items()}


def first_unseen(ids: list[str], seen: SeenIds) -> list[int]:
    """Rows whose id is neither in `seen` nor earlier in `ids`."""
    earlier: set[str] = set()
    rows = []
    for row, post_id in enumerate(ids):
        if post_id not in seen and post_id not in earlier:
            rows.append(row)
        earlier.add(post_id)
    return rows


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class SeenIds:
    """The most recent ids a source handed over, to drop repeats; bounded memory."""

    def __init__(self, size: int = 20000):
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, post_id: str) -> bool:
        return post_id in self._ids

    def add(self, post_id: str) -> bool:
        """Remember an id; False when it was already seen."""
        if post_id in self._ids:
            self._ids.move_to_end(post_id)
            return False
        self._ids[post_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


class _TextExtractor(html.parser.HTMLParser):
    BLOCKS = {"p", "div", "li", "blockquote", "pre", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}
    HIDDEN = {"script", "style"}
    NOT_LINKS = {"mention", "hashtag"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag == "br" or tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in self.HIDDEN:
            self._hidden += 1
        elif tag == "a":
            attributes = dict(attrs)
            href = attributes.get("href") or ""
            classes = set((attributes.get("class") or "").split())
            if href.startswith(("http://", "https://")) and not classes & self.NOT_LINKS:
                self.links.append(href)

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag in self.HIDDEN:
            self._hidden = max(0, self._hidden - 1)

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


_NOT_IN_TAG = re.compile(r"[^\w\u00b7\u200c]+")


def as_hashtag(term: str) -> str:
    """A category or keyword in the grammar of hashtags: letters, digits and `_`, lower case.

    `Smart Home` -> `smarthome`, `gowanuscanal(brooklyn,ny)` -> `gowanuscanalbrooklynny`:
    what a person would type after `#`, so feed categories count with the tags of social posts.
    """
    return _NOT_IN_TAG.sub("", term).lower()


def remove_shortcodes(text: str, shortcodes: Iterable[str]) -> str:
    """Text without the `:shortcode:` of custom emoji, which show as codes outside their server.

    Mastodon gives no text alternative for them, so they are removed and the
    spaces around them closed up.
    """
    codes = [code for code in shortcodes if code]
    if not codes or ":" not in text:
        return text
    pattern = re.compile(":(?:" + "|".join(map(re.escape, codes)) + "):")
    return "\n".join(" ".join(line.split()) for line in pattern.sub("", text).split("\n")).strip()


def html_to_text(markup: str) -> tuple[str, list[str]]:
    """Plain text and outgoing links of an HTML fragment (Mastodon content, feed summaries).

    Paragraphs and line breaks become newlines, runs of spaces one space;
    mention and hashtag links are not counted as links.
    """
    parser = _TextExtractor()
    parser.feed(markup or "")
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line), parser.links
