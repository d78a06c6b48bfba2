"""`mastodon:HOST/tags/NAME` and `mastodon:HOST/public[/local]`: statuses from Mastodon's REST API.

Uses the public, unauthenticated endpoints

    GET /api/v1/timelines/tag/:hashtag      statuses with a hashtag
    GET /api/v1/timelines/public            the federated timeline (local=true: this server's)

which answer newest first. The first poll takes the latest page only
(`limit=40`); later polls ask for what is newer than the newest status seen
(`since_id`) and, while pages come back full, follow the `Link: rel="next"`
header (older pages, `max_id`) down to that status, so a busy tag loses
nothing between polls (up to `max_pages` pages per poll).

Rate limits: the server's `X-RateLimit-Remaining` / `X-RateLimit-Reset`
headers are honoured (the next poll waits for the reset when the budget is
nearly spent), and a 429 waits for Retry-After or the reset time.

Boosts (reblogs) are skipped: a boost is not a new post, and its original
status is counted when it appears itself. Public and tag timelines do not
list boosts anyway; the check guards servers that do. Mastodon has no
location, so `country` is "".
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from controller.posts import Fill, match_brand
from controller.sources.base import (
    SeenIds,
    Source,
    SourceError,
    html_to_text,
    remove_shortcodes,
)
from controller.sources.fetch import Fetcher, rate_limit_wait

_TAG = re.compile(r"^[\w\u00b7\u200c]+$")


def parse_timeline(target: str) -> dict[str, Any]:
    """Server and timeline from `HOST/tags/NAME`, `HOST/public` or `HOST/public/local`.

    HTTPS unless the target starts with `http://` (for tests and local servers).

    Raises:
        ValueError: the target is none of these forms.
    """
    scheme = "https"
    for prefix in ("https://", "http://"):
        if target.startswith(prefix):
            scheme, target = prefix[:-3], target[len(prefix):]
    host, _, path = target.partition("/")
    parts = [p for p in path.split("/") if p]
    if not host or not re.fullmatch(r"[A-Za-z0-9.\-]+(:\d+)?|\[[0-9A-Fa-f:]+\](:\d+)?", host):
        raise ValueError(f"{host!r} is not a server name (write mastodon:HOST/tags/NAME)")
    if len(parts) == 2 and parts[0] == "tags":
        tag = parts[1].lstrip("#")
        if not _TAG.match(tag):
            raise ValueError(f"{parts[1]!r} is not a hashtag (letters, digits and _)")
        return {"base_url": f"{scheme}://{host}", "tag": tag}
    if parts == ["public"]:
        return {"base_url": f"{scheme}://{host}", "local": False}
    if parts == ["public", "local"]:
        return {"base_url": f"{scheme}://{host}", "local": True}
    raise ValueError(f"unknown timeline {path!r}: use HOST/tags/NAME, HOST/public "
                     f"or HOST/public/local")


def _id_key(status_id: str) -> tuple[int, str]:
    """Sort key of status ids: numeric strings (Mastodon) and fixed-width flake ids (Pleroma)."""
    return len(status_id), status_id


class MastodonSource(Source):
    """Polls one Mastodon timeline and hands over new statuses as posts.

    Args:
        base_url: the server, e.g. `https://mastodon.social`.
        tag: hashtag timeline (without '#'); None for the public timeline.
        local: with no tag, only this server's statuses.
        interval: seconds between polls (Mastodon allows 300 requests per 5 minutes per IP).
        limit: statuses per page (Mastodon's maximum is 40).
        max_pages: pages fetched per poll to catch up after a burst.
        timeout: seconds to wait for the connection and for each read.
        token: an access token, for servers that close their timelines to anonymous readers.
        brands: brand keywords; a tag timeline's posts matching none get the tag as topic.
        own_accounts: our brand accounts, as Mastodon writes `acct` (`acme` on their own
            server, `acme@mastodon.social` elsewhere).
    """

    SPEC_OPTIONS = {"interval": float, "limit": int, "max_pages": int, "timeout": float}

    def __init__(self, base_url: str, *, tag: str | None = None, local: bool = False,
                 interval: float = 15.0, limit: int = 40, max_pages: int = 5,
                 timeout: float = 10.0, token: str | None = None,
                 brands: dict[str, list[str]] | None = None,
                 own_accounts: tuple[str, ...] | list[str] = (), session=None,
                 name: str | None = None, backoff: float = 1.0, backoff_max: float = 60.0):
        where = f"tags/{tag}" if tag else ("public/local" if local else "public")
        super().__init__(name or f"mastodon:{base_url}/{where}", backoff=backoff,
                         backoff_max=backoff_max)
        self.base_url = base_url.rstrip("/")
        self.host = self.base_url.split("://", 1)[-1]
        self.tag = tag
        self.local = local
        self.interval = interval
        self.limit = max(1, min(limit, 40))
        self.max_pages = max(1, max_pages)
        self.brands = brands
        self.fill = Fill("mastodon", own_accounts=tuple(own_accounts))
        headers = {"Authorization": f"Bearer {token}"} if token else None
        self.fetcher = Fetcher(timeout, headers, session)
        self.stop_timeout = 2 * timeout + 1
        self.since_id: str | None = None
        self.seen = SeenIds()

    @property
    def endpoint(self) -> str:
        """The timeline's URL."""
        if self.tag:
            return f"{self.base_url}/api/v1/timelines/tag/{quote(self.tag)}"
        return f"{self.base_url}/api/v1/timelines/public"

    def poll(self) -> float:
        """Fetch what is new since the last poll (the latest page on the first)."""
        params: dict[str, Any] = {"limit": self.limit}
        if self.local and not self.tag:
            params["local"] = "true"
        if self.since_id is not None:
            params["since_id"] = self.since_id
        statuses: list[dict] = []
        url = self.endpoint
        for _ in range(self.max_pages if self.since_id is not None else 1):
            response = self.fetcher.get(url, params, conditional=False)
            try:
                page = response.json()
            except ValueError as exc:
                raise SourceError(f"{url}: malformed JSON ({exc})") from None
            if not isinstance(page, list):
                raise SourceError(f"{url}: expected a list of statuses, got "
                                  f"{type(page).__name__}")
            page = [s for s in page if isinstance(s, dict) and isinstance(s.get("id"), str)]
            statuses += page
            if len(page) < self.limit:
                break
            older = response.links.get("next", {}).get("url")
            oldest = min((s["id"] for s in page), key=_id_key)
            if older:
                url = older
                params = {} if "since_id=" in older else {"since_id": self.since_id}
            else:
                params = {**params, "max_id": oldest}
        wait = self.interval
        remaining = response.headers.get("X-RateLimit-Remaining", "")
        if remaining.isdigit() and int(remaining) <= self.max_pages:
            wait = max(wait, rate_limit_wait(response) or 0.0)
        self._hand_over(statuses)
        return wait

    def _hand_over(self, statuses: list[dict]) -> None:
        if statuses:
            newest = max((s["id"] for s in statuses), key=_id_key)
            if self.since_id is None or _id_key(newest) > _id_key(self.since_id):
                self.since_id = newest
        originals = (s for s in statuses if not s.get("reblog"))  # boosts are skipped
        self.emit_new(originals, self.to_post, self.seen, "statuses that do not map to a post")

    def to_post(self, status: dict[str, Any]) -> dict[str, Any]:
        """The normalised post of one status.

        Raises:
            ValueError: the status lacks what a post needs.
        """
        account = status.get("account") or {}
        text, links = html_to_text(status.get("content") or "")
        text = remove_shortcodes(text, _shortcodes(status))
        if status.get("spoiler_text"):
            text = f"CW: {status['spoiler_text']}\n{text}"
        hashtags = [t["name"].lower() for t in status.get("tags") or [] if t.get("name")]
        urls = list(dict.fromkeys(u for u in [status.get("url"), *links] if u))
        reply_to = status.get("in_reply_to_id")
        handle = account.get("acct") or account.get("username") or ""
        brand = match_brand(text, hashtags, self.brands) or (self.tag or "").lower()
        return {
            "id": f"mastodon:{self.host}:{status['id']}",
            "time": status.get("created_at"),
            "network": "mastodon",
            "author": remove_shortcodes(account.get("display_name") or "", _shortcodes(account))
            or account.get("username") or handle,
            "handle": handle,
            "followers": account.get("followers_count") or 0,
            "text": text,
            "language": status.get("language") or "",
            "country": "",
            "brand": brand,
            "hashtags": hashtags,
            "urls": urls,
            "sentiment": None,
            "in_reply_to": f"mastodon:{self.host}:{reply_to}" if reply_to else "",
        }

    def close(self) -> None:
        self.fetcher.close()


def _shortcodes(owner: dict[str, Any]) -> list[str]:
    """The custom emoji codes a status or account uses (its `emojis` list)."""
    return [e.get("shortcode") or "" for e in owner.get("emojis") or [] if isinstance(e, dict)]
