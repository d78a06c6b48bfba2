"""The first step of the data flow: what every source shares, and `--source SPEC` parsing.

A source gathers social posts from one place (the simulator, a recorded file,
a JSON API, Mastodon, a feed, the webhook) and hands them, as lists of
normalised post dicts, to a sink the controller gives it. Each source works in
its own daemon thread, so a slow network never holds up the controller; it
never raises into the controller: a failure makes it "degraded" (shown on
`/api/status` and the wall's status line) and it retries on its own with
exponential back-off until it is "ok" again.

The normalised post (the schema `replay:` JSON-lines files hold too):

    id (str), time (float, Unix seconds), network (str), author, handle,
    followers (int), text, language ("en" or ""), country (ISO alpha-2 or ""),
    brand (matched brand or topic, or ""), hashtags (lower-case, no '#'),
    urls (list), sentiment (-1..1, or None when the source has none),
    in_reply_to (id or ""), own (bool: the author is one of our brand accounts)
"""

from __future__ import annotations

import datetime
import email.utils
import functools
import html.parser
import logging
import math
import random
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

Sink = Callable[[list[dict[str, Any]]], None]
RawSink = Callable[[list[bytes]], None]

POST_FIELDS = (
    "id", "time", "network", "author", "handle", "followers", "text", "language",
    "country", "brand", "hashtags", "urls", "sentiment", "in_reply_to", "own",
)


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

    # -- the controller's side -------------------------------------------------

    def start(self, sink: Sink, raw_sink: RawSink | None = None) -> None:
        """Start the source's thread; posts go to `sink` from that thread.

        Args:
            sink: called with each batch of normalised post dicts.
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

    def stop(self) -> None:
        """Stop the thread and wait for it (at most `stop_timeout`); safe to call twice."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.stop_timeout)
            if thread.is_alive():
                log.warning("source %s: thread still busy %.0f s after stop", self.name,
                            self.stop_timeout)
        self.close()
        with self._lock:
            self._state = "stopped"

    def close(self) -> None:
        """Release what the source holds (sessions, files); called by `stop()`."""

    def status(self) -> dict[str, Any]:
        """Health and counters, as `/api/status` lists them per source.

        `last_error` is the most recent failure and stays after a recovery, so
        an operator can still see what happened; `last_ok_at` is the Unix time
        of the last successful poll.
        """
        with self._lock:
            return {
                "name": self.name,
                "state": self._state,
                "ingested": self._ingested,
                "dropped": self._dropped,
                "last_error": self._last_error,
                "last_ok_at": self._last_ok_at,
            }

    def count_dropped(self, n: int, reason: str | None = None) -> None:
        """Count records that failed validation (the controller reports raw lines it rejected)."""
        if n <= 0:
            return
        with self._lock:
            self._dropped += n
        if reason:
            log.debug("source %s: dropped %d: %s", self.name, n, reason)

    # -- the subclass's side ---------------------------------------------------

    def poll(self) -> float | None:
        """Do one unit of work; the seconds to wait before the next, or None when finished.

        Raises:
            SourceError: the poll failed (the source turns degraded and backs off).
            RetryLater: the service asked for a pause of `after` seconds.
        """
        raise NotImplementedError

    def emit(self, posts: list[dict[str, Any]]) -> None:
        """Hand a batch of normalised posts to the sink; a failing sink costs the batch only."""
        self._deliver(self._sink, posts)

    def emit_new(self, items: Iterable[Any], to_post: Callable[[Any], dict[str, Any]],
                 seen: Any, unmapped: str) -> None:
        """Map polled items to posts and emit, oldest first, those not seen before.

        Items that do not map (`to_post` raises, as odd JSON makes it do) are
        counted as dropped, with `unmapped` as the reason.
        """
        posts, bad = [], 0
        for item in items:
            try:
                post = to_post(item)
            except (ValueError, TypeError, AttributeError):
                bad += 1
                continue
            if seen.add(post["id"]):
                posts.append(post)
        self.count_dropped(bad, unmapped)
        posts.sort(key=lambda p: p["time"])
        self.emit(posts)

    def emit_raw(self, lines: list[bytes]) -> None:
        """Hand a batch of raw JSON lines to the raw sink (the controller's fast path)."""
        self._deliver(self._raw_sink, lines)

    def _deliver(self, sink: Callable[[list], None] | None, batch: list) -> None:
        if not batch:
            return
        if sink is None:
            self.count_dropped(len(batch), "no sink")
            return
        try:
            sink(batch)
        except Exception as exc:      # the controller's bug must not kill the source
            log.exception("source %s: the sink refused %d posts", self.name, len(batch))
            with self._lock:
                self._dropped += len(batch)
                self._last_error = f"sink refused {len(batch)} posts: {exc}"
            return
        with self._lock:
            self._ingested += len(batch)

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


def parse_time(value: Any) -> float:
    """Unix seconds from a number (ms when it is too large for seconds), ISO 8601 or RFC 2822.

    Raises:
        ValueError: not a time.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds):
            raise ValueError(f"not a time: {value!r}")
        return seconds / 1000.0 if abs(seconds) > 1e11 else seconds
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a time: {value!r}")
    text = value.strip()
    try:
        return parse_time(float(text))
    except ValueError:
        pass
    try:
        return _parse_iso8601(text)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"not a time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


_ISO_FRACTION = re.compile(r"(\.\d+)")


def _parse_iso8601(text: str) -> float:
    """ISO 8601 with 'Z' and any number of fraction digits (Python 3.10 knows neither)."""
    text = text.replace("Z", "+00:00").replace("z", "+00:00")
    text = _ISO_FRACTION.sub(lambda m: m.group(1)[:7].ljust(7, "0"), text, count=1)
    parsed = datetime.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


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


@functools.lru_cache(maxsize=32)
def _brand_patterns(brands: tuple[tuple[str, tuple[str, ...]], ...]):
    patterns = []
    for brand, keywords in brands:
        words = sorted({k.strip().lower().lstrip("#") for k in keywords if k.strip()},
                       key=len, reverse=True)
        if words:
            alternatives = "|".join(re.escape(w) for w in words)
            patterns.append((brand, re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I),
                             frozenset(words)))
    return patterns


def match_brand(text: str, hashtags: Iterable[str], brands: dict[str, list[str]] | None) -> str:
    """The first brand (in configured order) whose keyword is in the text or the hashtags.

    Keywords match case-insensitively on word boundaries, so "acme" matches
    "Acme's" and "#acme" but not "acmeist". Sources that do not know which
    brand a post is about (JSON APIs, Mastodon, feeds) call this.

    Returns:
        The brand, or "" when none matches.
    """
    if not brands:
        return ""
    key = tuple((brand, tuple(words)) for brand, words in brands.items())
    tags = {t.lower().lstrip("#") for t in hashtags}
    for brand, pattern, words in _brand_patterns(key):
        if tags & words or pattern.search(text or ""):
            return brand
    return ""


def is_own(handle: str, own_accounts: Iterable[str]) -> bool:
    """Whether a handle is one of our brand accounts (case and a leading '@' ignored)."""
    handle = handle.lower().lstrip("@")
    return bool(handle) and handle in {a.lower().lstrip("@") for a in own_accounts}


def normalise_post(
    raw: dict[str, Any],
    *,
    network: str,
    brands: dict[str, list[str]] | None = None,
    own_accounts: Iterable[str] = (),
) -> dict[str, Any]:
    """A complete post dict from a partial one, with types checked.

    Missing optional fields get their empty value; `brand` is matched from the
    text when absent and `own` from the handle.

    Raises:
        ValueError: no id, no usable time, or a field of the wrong type.
    """
    if not isinstance(raw, dict):
        raise ValueError(f"a post is a JSON object, got {type(raw).__name__}")
    post_id = raw.get("id")
    if isinstance(post_id, bool) or not isinstance(post_id, str | int) or post_id == "":
        raise ValueError(f"id: need a non-empty string, got {post_id!r}")
    if raw.get("time") is None:
        raise ValueError("time: missing")
    post: dict[str, Any] = {"id": str(post_id), "time": parse_time(raw["time"])}
    for field in ("network", "author", "handle", "text", "language", "country", "brand"):
        value = raw.get(field)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ValueError(f"{field}: need a string, got {value!r}")
        post[field] = value
    post["network"] = post["network"] or network
    post["language"] = post["language"].lower()
    post["country"] = post["country"].upper()
    if post["country"] and not re.fullmatch(r"[A-Z]{2}", post["country"]):
        raise ValueError(f"country: need an ISO alpha-2 code, got {raw.get('country')!r}")
    followers = raw.get("followers") or 0
    if isinstance(followers, bool) or not isinstance(followers, int | float) or followers < 0:
        raise ValueError(f"followers: need a count, got {followers!r}")
    post["followers"] = int(followers)
    for field in ("hashtags", "urls"):
        values = raw.get(field) or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(f"{field}: need a list of strings, got {values!r}")
        post[field] = values
    post["hashtags"] = [t.lower().lstrip("#") for t in post["hashtags"] if t.strip("#")]
    sentiment = raw.get("sentiment")
    if sentiment is not None:
        if isinstance(sentiment, bool) or not isinstance(sentiment, int | float) \
                or not -1.0 <= sentiment <= 1.0:
            raise ValueError(f"sentiment: need a number from -1 to 1 or null, got {sentiment!r}")
        sentiment = float(sentiment)
    post["sentiment"] = sentiment
    reply = raw.get("in_reply_to")
    if isinstance(reply, bool) or not isinstance(reply, str | int | type(None)):
        raise ValueError(f"in_reply_to: need an id, got {reply!r}")
    post["in_reply_to"] = "" if reply is None else str(reply)
    own = raw.get("own")
    if own is not None and not isinstance(own, bool):
        raise ValueError(f"own: need true or false, got {own!r}")
    post["own"] = own if own is not None else is_own(post["handle"], own_accounts)
    if not post["brand"]:
        post["brand"] = match_brand(post["text"], post["hashtags"], brands)
    return {name: post[name] for name in POST_FIELDS}


class SeenIds:
    """The most recent ids a source handed over, to drop repeats; bounded memory."""

    def __init__(self, size: int = 20000):
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

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
