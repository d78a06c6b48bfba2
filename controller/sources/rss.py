"""`rss:URL` source: news and blog feeds (RSS, Atom) for the press and influencer screens.

The feed is fetched with `requests` (conditional GET: ETag / Last-Modified)
and parsed by `feedparser`, which copes with the many malformed feeds in the
wild. Each entry becomes a post: the entry's author (else the feed's title),
the site's host name as handle, title and summary as text, the link first in
`urls`, the published (else updated) time. Entries are handed over once,
deduplicated by their id (else link).
"""

from __future__ import annotations

import calendar
import hashlib
import time
from typing import Any
from urllib.parse import urlsplit

import feedparser

from controller.posts import Fill, is_own
from controller.sources.base import SeenIds, Source, SourceError, as_hashtag, html_to_text
from controller.sources.fetch import Fetcher

#: longest summary kept in a post's text; feeds sometimes carry whole articles
MAX_SUMMARY_CHARS = 600


class RssSource(Source):
    """Polls one feed and hands over its new entries as posts.

    Args:
        url: the feed's address.
        interval: seconds between polls (feeds rarely change faster than minutes).
        timeout: seconds to wait for the connection and for each read.
        brands: brand keywords, matched in title and summary.
        own_accounts: our own sites' host names or authors (e.g. our newsroom's feed).
    """

    SPEC_OPTIONS = {"interval": float, "timeout": float}

    def __init__(self, url: str, *, interval: float = 300.0, timeout: float = 10.0,
                 brands: dict[str, list[str]] | None = None,
                 own_accounts: tuple[str, ...] | list[str] = (), session=None,
                 name: str | None = None, backoff: float = 1.0, backoff_max: float = 60.0):
        super().__init__(name or f"rss:{url}", backoff=backoff, backoff_max=backoff_max)
        self.url = url
        self.interval = interval
        self.own_accounts = tuple(own_accounts)
        self.fill = Fill("rss", brands)
        self.fetcher = Fetcher(timeout, {"Accept": "application/rss+xml, application/atom+xml, "
                                                   "application/xml;q=0.9, */*;q=0.8"}, session)
        self.stop_timeout = 2 * timeout + 1
        self.seen = SeenIds()

    def poll(self) -> float:
        """One conditional GET; new entries become posts."""
        response = self.fetcher.get(self.url)
        if response is None:
            return self.interval
        feed = feedparser.parse(response.content, response_headers={
            "content-type": response.headers.get("Content-Type", ""),
            "content-location": response.url,
        })
        if not feed.entries and (feed.bozo or not feed.version):
            reason = feed.get("bozo_exception") or "not RSS or Atom"
            raise SourceError(f"{self.url}: unreadable feed ({reason})")
        self.fetcher.remember(self.url, response)
        self.emit_new(feed.entries, lambda entry: self.to_post(entry, feed.feed), self.seen,
                      "entries without id, link or title")
        return self.interval

    def to_post(self, entry: Any, channel: Any) -> dict[str, Any]:
        """The normalised post of one feed entry.

        Raises:
            ValueError: the entry has neither id, link nor title to know it by.
        """
        link = entry.get("link") or ""
        title = " ".join((entry.get("title") or "").split())
        summary, links = html_to_text(entry.get("summary") or "")
        if not summary and entry.get("content"):   # Atom: content, with an empty summary
            summary, links = html_to_text(entry.content[0].get("value") or "")
        if len(summary) > MAX_SUMMARY_CHARS:
            summary = summary[:MAX_SUMMARY_CHARS - 1].rstrip() + "\u2026"
        text = title if not summary or summary == title else f"{title}\n{summary}".strip()
        key = entry.get("id") or link
        if not key:
            if not title:
                raise ValueError("entry without id, link or title")
            key = hashlib.sha1(title.encode()).hexdigest()
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        site = urlsplit(channel.get("link") or link or self.url).hostname or ""
        hashtags = [as_hashtag(t.get("term") or "") for t in entry.get("tags") or []]
        author = _person_name(entry) or channel.get("title") or site
        return {
            "id": f"rss:{key}",
            "time": calendar.timegm(stamp) if stamp else time.time(),
            "network": "rss",
            "author": author,
            "handle": site,
            "followers": 0,
            "text": text,
            "language": channel.get("language") or "",
            "country": "",
            "hashtags": list(dict.fromkeys(t for t in hashtags if t)),
            "urls": list(dict.fromkeys(u for u in [link, *links] if u)),
            "sentiment": None,
            "own": is_own(site, self.own_accounts) or is_own(author, self.own_accounts),
        }

    def close(self) -> None:
        self.fetcher.close()


def _person_name(entry: Any) -> str:
    """The author's name, never their address: feeds write `jo@x.example (Jo)` or `Jo <jo@...>`."""
    name = (entry.get("author_detail") or {}).get("name") or entry.get("author") or ""
    return "" if "@" in name and " " not in name.strip() else name.strip()
