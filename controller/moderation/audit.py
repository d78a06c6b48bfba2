"""The moderation audit log: who hid, approved, rejected or dropped which post, when and why."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from controller.store import Store
from wallrenderer.core.errors import WallError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditRecord:
    """One moderation event: who did what to which post, when and why."""

    time: float
    post_id: str
    handle: str
    action: str  # "hide", "approve", "reject" or "drop"
    reason: str
    by: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditRecord:
        return cls(float(data["time"]), str(data["post_id"]), str(data["handle"]),
                   str(data["action"]), str(data["reason"]), str(data["by"]))


class AuditLog:
    """Append-only record of moderation events, newest kept in memory and in the store.

    A store failure (disk full) is logged and the record kept in memory: the
    wall goes on moderating.
    """

    def __init__(self, store: Store | None = None, maxlen: int = 1000) -> None:
        """Start the log, with the newest records of an earlier run when `store` has them.

        Args:
            store: where records persist, or None to keep them in memory only.
            maxlen: records kept in memory.
        """
        self._store = store
        self._lock = threading.Lock()
        self._records: deque[AuditRecord] = deque(maxlen=maxlen)
        if store is not None:
            saved = guard_store(lambda: store.audit_recent(maxlen), "reading the audit log")
            for data in saved or ():
                try:
                    self._records.append(AuditRecord.from_dict(data))
                except (KeyError, TypeError, ValueError):
                    log.warning("skipping a malformed audit record from %s: %r", store.path, data)

    def append(self, record: AuditRecord) -> None:
        with self._lock:
            self._records.append(record)
        if self._store is not None:
            guard_store(lambda: self._store.audit_append(record.to_dict()), "writing the audit log")

    def recent(self, n: int = 100) -> list[AuditRecord]:
        """The newest `n` records, oldest first."""
        with self._lock:
            return list(self._records)[-n:] if n > 0 else []


def guard_store(work: Callable[[], Any], what: str) -> Any:
    """Run a store call; a failing store is logged, never allowed to stop moderation."""
    try:
        return work()
    except WallError as exc:
        log.warning("moderation store: %s: %s", what, exc)
        return None
