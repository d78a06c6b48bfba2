"""HTTP for the polling sources (JSON APIs, Mastodon, feeds): conditional GETs and polite retries.

One `requests.Session` per source keeps connections alive between polls.
Answers are turned into what the source loop understands: a body, "nothing
new" (304), `RetryLater` when the service asks for a pause (429 or 503 with
Retry-After, or rate-limit headers), or `SourceError` with a message for the
operator. Timeouts are always set: a service that stops answering must not
hold a source thread forever.
"""

from __future__ import annotations

import re
import time
from typing import Any

import requests

from controller.posts import parse_time
from controller.sources.base import RetryLater, SourceError, parse_retry_after

_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")
USER_AGENT = "wallrenderer/0.1 (social media video wall)"


def rate_limit_wait(response: requests.Response) -> float | None:
    """Seconds until `X-RateLimit-Reset` (Mastodon's ISO 8601 time), by the server's own clock.

    The server's `Date` header is the reference when present, so a skewed
    local clock does not make us wait too long or too little.
    """
    reset = response.headers.get("X-RateLimit-Reset")
    if not reset:
        return None
    try:
        reset_at = parse_time(reset)
    except ValueError:
        return None
    try:
        now = parse_time(response.headers["Date"])
    except (KeyError, ValueError):
        now = time.time()
    return max(0.0, reset_at - now)


class Fetcher:
    """GETs with timeouts, ETag / Last-Modified revalidation and Retry-After.

    Args:
        timeout: seconds to connect and, separately, between bytes of the answer.
        headers: extra request headers (e.g. Authorization).
        session: a `requests.Session` to use (tests, proxies); one is made otherwise.
    """

    def __init__(self, timeout: float = 10.0, headers: dict[str, str] | None = None,
                 session: requests.Session | None = None):
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.update(headers or {})
        self._validators: dict[str, dict[str, str]] = {}

    def get(self, url: str, params: dict[str, Any] | None = None,
            conditional: bool = True) -> requests.Response | None:
        """The answer to a GET, or None when the server says nothing changed (304).

        Args:
            url: what to get.
            params: query parameters added to the URL.
            conditional: send the ETag / Last-Modified of the last answer
                `remember`ed for this URL, so an unchanged resource costs a 304 only.

        Raises:
            RetryLater: 429, or 503 with Retry-After: wait as the server says.
            SourceError: timeouts, refused connections, other 4xx/5xx answers.
        """
        headers = dict(self._validators.get(url, {})) if conditional else {}
        try:
            response = self.session.get(url, params=params, headers=headers,
                                        timeout=(self.timeout, self.timeout))
        except requests.Timeout:
            raise SourceError(f"{url}: no answer within {self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise SourceError(f"{url}: {_reason(exc)}") from None
        if response.status_code == 304:
            return None
        if response.status_code in (429, 503):
            after = parse_retry_after(response.headers.get("Retry-After"))
            if after is None:
                after = rate_limit_wait(response)
            what = "rate limited" if response.status_code == 429 else "service unavailable"
            hint = f", retry after {after:.0f} s" if after is not None else ""
            raise RetryLater(f"{url}: HTTP {response.status_code} ({what}{hint})", after)
        if response.status_code >= 400:
            raise SourceError(f"{url}: HTTP {response.status_code} {response.reason or ''}".strip())
        return response

    def remember(self, url: str, response: requests.Response) -> None:
        """Revalidate `url` against this answer from now on (ETag, Last-Modified).

        Call it only once the body has been used: a body that could not be
        parsed must be fetched whole again, not answered with 304 (which reads
        as "nothing new", so "ok") for good.
        """
        validators = {}
        if response.headers.get("ETag"):
            validators["If-None-Match"] = response.headers["ETag"]
        if response.headers.get("Last-Modified"):
            validators["If-Modified-Since"] = response.headers["Last-Modified"]
        self._validators[url] = validators

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()


def _reason(exc: requests.RequestException) -> str:
    """The operating system's reason inside a requests error, short enough for a status line."""
    pending: list[BaseException] = [exc]
    seen = set()
    while pending:
        error = pending.pop(0)
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, OSError) and error.strerror:
            return error.strerror.lower()
        pending += [a for a in error.args if isinstance(a, BaseException)]
        pending += [e for e in (getattr(error, "reason", None), error.__cause__,
                                error.__context__) if isinstance(e, BaseException)]
    found = _ERRNO.search(str(exc))
    if found:
        return found.group(1).strip().lower()
    text = str(exc)
    return text if len(text) < 200 else text[:197] + "..."
