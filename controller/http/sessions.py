"""Who may change the wall: the bearer token for scripts, a PIN session for the tablet.

A tablet that enters the PIN gets a random session id in an HttpOnly,
SameSite=Strict cookie; the session ends after its time to live. Wrong PINs
are slowed down per client address: after FREE_ATTEMPTS misses every further
try waits twice as long as the one before, so guessing a 4-digit PIN takes days.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

from controller.http.errors import ApiError

COOKIE = "wall_session"
FREE_ATTEMPTS = 3
MAX_DELAY_S = 300.0
FORGET_CLIENT_S = 3600.0  # a client's misses are forgotten after this long without one
MAX_CLIENTS = 10_000
MAX_SESSIONS = 1_000
TOKEN_NAME = "token"


@dataclass
class Session:
    """One tablet that entered the PIN: its name (for the audit log) and when it ends."""

    name: str
    expires: float


@dataclass
class _Misses:
    count: int = 0
    last: float = 0.0
    blocked_until: float = field(default=0.0)


class Sessions:
    """PIN check, per-client throttling and the live sessions; safe from any thread."""

    def __init__(self, pin: str | None, ttl_s: float):
        self.pin = pin
        self.ttl_s = ttl_s
        self._sessions: dict[str, Session] = {}
        self._misses: dict[str, _Misses] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.pin is not None

    def login(self, client: str, pin: str, name: str, now: float | None = None) -> tuple[str,
                                                                                            Session]:
        """A new session for a right PIN.

        Raises:
            ApiError: 404 without a PIN configured, 429 while this client must
                wait (with Retry-After), 403 for a wrong PIN.
        """
        if self.pin is None:
            raise ApiError(404, "this wall has no PIN: start the controller with --pin or "
                                "$WALL_PIN, or use the bearer token")
        now = time.time() if now is None else now
        with self._lock:
            misses = self._misses.get(client)
            if misses is not None and now < misses.blocked_until:
                wait = misses.blocked_until - now
                raise ApiError(429, f"too many wrong PINs: try again in {wait:.0f} s",
                               {"Retry-After": str(max(1, round(wait + 0.49)))})
            if not hmac.compare_digest(pin.encode(), self.pin.encode()):
                self._miss(client, now)
                raise ApiError(403, "wrong PIN")
            self._misses.pop(client, None)
            for sid in [s for s, v in self._sessions.items() if v.expires <= now]:
                del self._sessions[sid]
            if len(self._sessions) >= MAX_SESSIONS:
                del self._sessions[min(self._sessions, key=lambda s: self._sessions[s].expires)]
            sid = secrets.token_urlsafe(32)
            session = Session(name, now + self.ttl_s)
            self._sessions[sid] = session
            return sid, session

    def _miss(self, client: str, now: float) -> None:
        if len(self._misses) >= MAX_CLIENTS:
            for gone in [c for c, m in self._misses.items() if now - m.last > FORGET_CLIENT_S]:
                del self._misses[gone]
            if len(self._misses) >= MAX_CLIENTS:
                self._misses.clear()
        misses = self._misses.setdefault(client, _Misses())
        if now - misses.last > FORGET_CLIENT_S:
            misses.count = 0
        misses.count += 1
        misses.last = now
        if misses.count >= FREE_ATTEMPTS:
            delay = min(MAX_DELAY_S, 2.0 ** (misses.count - FREE_ATTEMPTS))
            misses.blocked_until = now + delay

    def lookup(self, sid: str | None, now: float | None = None) -> Session | None:
        """The live session with this id, or None (unknown or expired)."""
        if not sid:
            return None
        now = time.time() if now is None else now
        with self._lock:
            session = self._sessions.get(sid)
            if session is not None and session.expires <= now:
                del self._sessions[sid]
                return None
            return session

    def logout(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)
