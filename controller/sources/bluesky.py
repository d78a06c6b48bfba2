"""`bluesky` source: Bluesky posts live, from the public Jetstream firehose.

Jetstream serves the network's events as WebSocket JSON (its `/subscribe`
endpoint); this source asks for the `app.bsky.feed.post` collection only,
keeps the new posts that mention a brand (a keyword in the text, or a
hashtag), and turns each post's facets into hashtags and URLs. Authors'
handles, display names and follower counts come from the public profile API
(`app.bsky.actor.getProfiles`, 25 at a time) and are cached, so a busy author
costs one lookup an hour.

Every event carries a position (`cursor` on Jetstream v2, else `time_us`);
the position of the last event handled is kept, in memory and in
`cursor_file` when given, and a reconnect or a restart asks for the stream
from there (Jetstream replays from that position inclusively). Events at or
before it are skipped, so the stream resumes without gaps or duplicates. The
position moves only once the sink took the posts before it.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import msgspec
import websockets.exceptions
from websockets.sync.client import connect

from controller.posts import Fill, Problems, match_brand
from controller.sources.base import SeenIds, Source, SourceError
from controller.sources.fetch import Fetcher

log = logging.getLogger(__name__)

JETSTREAM = "wss://jetstream2.us-east.bsky.network/subscribe"
PROFILES = "https://public.api.bsky.app"
COLLECTION = "app.bsky.feed.post"
#: actors per getProfiles request (the API's maximum)
PROFILE_BATCH = 25
#: how long a resolved profile is trusted
PROFILE_TTL_S = 3600.0
PROFILE_CACHE = 50_000
#: posts handed over at once, and the longest a matched post waits for its batch
BATCH_POSTS = 500
BATCH_SECONDS = 0.5
#: how often the cursor file is rewritten
CURSOR_SAVE_S = 2.0


class _Feature(msgspec.Struct, gc=False):
    tag: str | None = None
    uri: str | None = None


class _Facet(msgspec.Struct, gc=False):
    features: list[_Feature] = []


class _Ref(msgspec.Struct, gc=False):
    uri: str = ""


class _Reply(msgspec.Struct, gc=False):
    parent: _Ref | None = None


class _External(msgspec.Struct, gc=False):
    uri: str = ""


class _Embed(msgspec.Struct, gc=False):
    external: _External | None = None


class _Post(msgspec.Struct, gc=False):
    text: str = ""
    langs: list[str] = []
    facets: list[_Facet] = []
    reply: _Reply | None = None
    embed: _Embed | None = None


class _Commit(msgspec.Struct, gc=False):
    operation: str = ""
    collection: str = ""
    rkey: str = ""
    record: msgspec.Raw = msgspec.Raw(b"")


class _Event(msgspec.Struct, gc=False):
    did: str
    time_us: int
    kind: str = ""
    cursor: int | None = None
    commit: _Commit | None = None


_EVENT = msgspec.json.Decoder(_Event)
_POST = msgspec.json.Decoder(_Post)


class BlueskySource(Source):
    """Follows Jetstream and hands over the new posts that mention a brand.

    Args:
        url: the Jetstream `/subscribe` endpoint (`ws://` for a local server).
        brands: brand name -> keywords (the controller's), or brand names
            (`?brands=acme,globex` in the spec), each its own keyword.
        profiles: base URL of the profile API (`/xrpc/app.bsky.actor.getProfiles`).
        cursor_file: where the stream position is kept across restarts.
        timeout: seconds for the connection, the profile API, and silence on
            the stream before it counts as lost.
    """

    SPEC_OPTIONS = {"brands": list, "profiles": str, "cursor_file": str, "timeout": float}

    def __init__(self, url: str = JETSTREAM, *,
                 brands: dict[str, list[str]] | list[str] | None = None,
                 profiles: str = PROFILES, cursor_file: str | None = None,
                 timeout: float = 30.0, own_accounts: tuple[str, ...] | list[str] = (),
                 session=None, name: str | None = None, backoff: float = 1.0,
                 backoff_max: float = 60.0):
        super().__init__(name or f"bluesky:{url}", backoff=backoff, backoff_max=backoff_max)
        self.url = url
        self.brands = {b: [b] for b in brands} if isinstance(brands, list) else dict(brands or {})
        if not self.brands:
            raise ValueError("bluesky: say which brands to follow (brands=acme,globex)")
        self.fill = Fill("bluesky", own_accounts=tuple(own_accounts))
        self.profiles = profiles.rstrip("/")
        self.fetcher = Fetcher(timeout, session=session)
        self.timeout = timeout
        self.stop_timeout = timeout + 2
        self.cursor_file = Path(cursor_file) if cursor_file else None
        self.position: int | None = self._load_position()
        self.seen = SeenIds()
        self._profiles: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._saved_at = 0.0
        self._saved: int | None = self.position
        words = sorted({w.lower().lstrip("#") for ws in self.brands.values() for w in ws
                        if w.strip("#")}, key=len,
                       reverse=True)
        self._mentions = re.compile("|".join(map(re.escape, words)), re.I)

    # -- the stream ---------------------------------------------------------------

    def subscribe_url(self) -> str:
        """The endpoint with the collection and, after the first event, the position to resume."""
        query = {"wantedCollections": COLLECTION}
        if self.position is not None:
            query["cursor"] = str(self.position)
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}{urlencode(query)}"

    def poll(self) -> float:
        """Read the stream until it ends or the source stops; a lost stream is a SourceError."""
        try:
            with connect(self.subscribe_url(), open_timeout=self.timeout, close_timeout=1,
                         max_size=2**22, compression=None) as stream:
                self._succeeded()
                self._follow(stream)
        except (OSError, websockets.exceptions.WebSocketException, TimeoutError) as exc:
            self._save_position(force=True)
            raise SourceError(f"{self.url}: {_reason(exc)}") from None
        self._save_position(force=True)
        return 0.0

    def _follow(self, stream) -> None:
        """Read frames; every `BATCH_SECONDS` (or `BATCH_POSTS` matches) hand over what matched."""
        pending: list[tuple[_Event, _Post]] = []
        frames, last = 0, None
        problems = Problems()
        deadline = heard = time.monotonic()
        while not self._stopping.is_set():
            try:
                frame = stream.recv(timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                frame = None
            except websockets.exceptions.ConnectionClosed:
                self.hand_over(pending, frames, last, problems)   # what was read is kept
                raise
            now = time.monotonic()
            if frame is not None:
                heard = now
                frames += 1
                found = self.read_frame(frame, problems)
                if found is not None:
                    last, post = found
                    if post is not None:
                        pending.append((last, post))
            if len(pending) >= BATCH_POSTS or now >= deadline:
                if frames:
                    self.hand_over(pending, frames, last, problems)
                    pending, frames, problems = [], 0, Problems()
                if now - heard > self.timeout:
                    raise TimeoutError(f"no event for {self.timeout:g} s")
                deadline = now + BATCH_SECONDS
        if frames:
            self.hand_over(pending, frames, last, problems)

    def read_frame(self, frame: str | bytes,
                   problems: Problems) -> tuple[_Event, _Post | None] | None:
        """The event of one frame and, when it is a new post that may mention a brand, the post.

        Returns:
            None for a frame that is malformed (counted in `problems`) or
            already handled (at or before the position).
        """
        try:
            event = _EVENT.decode(frame)
        except msgspec.DecodeError as exc:   # ValidationError is one
            problems.drop("malformed frame", "frame", f"{frame[:60]!r}: {_first_line(exc)}")
            return None
        position = event.cursor if event.cursor is not None else event.time_us
        if self.position is not None and position <= self.position:
            return None
        commit = event.commit
        if event.kind != "commit" or commit is None or commit.operation != "create" \
                or commit.collection != COLLECTION or not commit.record:
            return event, None
        raw = bytes(commit.record)
        if self._mentions.search(raw.decode("utf-8", "replace")) is None:
            return event, None
        try:
            return event, _POST.decode(raw)
        except msgspec.DecodeError as exc:
            problems.drop("malformed post record", "record", f"{raw[:60]!r}: {_first_line(exc)}")
            return event, None

    def hand_over(self, pending: list[tuple[_Event, _Post]], frames: int, last: _Event | None,
                  problems: Problems) -> None:
        """Match brands, resolve authors, emit, then move the position past these frames."""
        records = [r for r in (self.to_post(event, post) for event, post in pending)
                   if r is not None]
        self._add_authors(records, problems)
        if records:
            self.emit(records, problems, items=frames)
        else:
            self.count_validation(problems, frames)
        if last is not None:
            self.position = last.cursor if last.cursor is not None else last.time_us
            self._save_position()

    def to_post(self, event: _Event, post: _Post) -> dict[str, Any] | None:
        """The schema record of a post that mentions a brand, else None."""
        tags, urls = [], []
        for facet in post.facets:
            for feature in facet.features:
                if feature.tag:
                    tags.append(feature.tag.lower())
                elif feature.uri:
                    urls.append(feature.uri)
        if post.embed is not None and post.embed.external is not None and post.embed.external.uri:
            urls.append(post.embed.external.uri)
        brand = match_brand(post.text, tags, self.brands)
        if not brand:
            return None
        uri = f"at://{event.did}/{COLLECTION}/{event.commit.rkey}"
        if uri in self.seen:
            return None
        self.seen.add(uri)
        parent = post.reply.parent.uri if post.reply is not None and post.reply.parent else ""
        return {
            "id": uri, "time": event.time_us / 1e6, "network": "bluesky",
            "did": event.did, "text": post.text, "language": post.langs[0] if post.langs else "",
            "brand": brand, "hashtags": list(dict.fromkeys(tags)),
            "urls": list(dict.fromkeys(urls)), "in_reply_to": parent,
        }

    # -- authors --------------------------------------------------------------------

    def _add_authors(self, records: list[dict[str, Any]], problems: Problems) -> None:
        """Handles, display names and follower counts from the cache, else the profile API."""
        now = time.monotonic()
        missing = list(dict.fromkeys(r["did"] for r in records
                                     if now - self._profiles.get(r["did"], (-1e18, {}))[0]
                                     > PROFILE_TTL_S))
        for start in range(0, len(missing), PROFILE_BATCH):
            batch = missing[start:start + PROFILE_BATCH]
            try:
                found = self._fetch_profiles(batch)
            except (SourceError, ValueError) as exc:
                problems.fix("author: profile not resolved", "author", str(exc), len(batch))
                continue
            for did in batch:
                self._profiles[did] = (now, found.get(did, {}))
                self._profiles.move_to_end(did)
            while len(self._profiles) > PROFILE_CACHE:
                self._profiles.popitem(last=False)
        for record in records:
            did = record.pop("did")
            profile = self._profiles.get(did, (0.0, {}))[1]
            handle = profile.get("handle") or did
            record.update(handle=handle, author=profile.get("displayName") or handle,
                          followers=profile.get("followersCount"))

    def _fetch_profiles(self, dids: list[str]) -> dict[str, dict[str, Any]]:
        response = self.fetcher.get(f"{self.profiles}/xrpc/app.bsky.actor.getProfiles",
                                    params=[("actors", did) for did in dids], conditional=False)
        profiles = response.json().get("profiles")
        if not isinstance(profiles, list):
            raise ValueError("the profile API answered without a profiles list")
        return {p["did"]: p for p in profiles if isinstance(p, dict) and "did" in p}

    # -- the position across restarts ---------------------------------------------------

    def _load_position(self) -> int | None:
        if self.cursor_file is None:
            return None
        try:
            return int(self.cursor_file.read_text().strip())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("source %s: cursor file %s unreadable (%s); starting live",
                        self.name, self.cursor_file, exc)
            return None

    def _save_position(self, force: bool = False) -> None:
        if self.cursor_file is None or self.position is None or self.position == self._saved:
            return
        if not force and time.monotonic() - self._saved_at < CURSOR_SAVE_S:
            return
        temporary = self.cursor_file.with_suffix(self.cursor_file.suffix + ".tmp")
        try:
            temporary.write_text(f"{self.position}\n")
            os.replace(temporary, self.cursor_file)
        except OSError as exc:
            log.warning("source %s: cursor not saved to %s: %s", self.name, self.cursor_file, exc)
            return
        self._saved, self._saved_at = self.position, time.monotonic()

    def close(self) -> None:
        self._save_position(force=True)
        self.fetcher.close()


def _first_line(exc: Exception) -> str:
    return str(exc).split(" - at ")[0]


def _reason(exc: BaseException) -> str:
    """What went wrong with the stream, short enough for the status line."""
    if isinstance(exc, websockets.exceptions.ConnectionClosed):
        if exc.rcvd is None:
            return "the stream closed without a close frame"
        return f"the stream closed ({exc.rcvd.code} {exc.rcvd.reason})".replace(" )", ")")
    if isinstance(exc, websockets.exceptions.InvalidStatus):
        return f"refused with HTTP {exc.response.status_code}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__
