"""The controller's memory across restarts: one SQLite file beside the controller.

Aggregation state (the KPIs on the wall), the moderation queue and the
moderation audit log are written here as they change and read back at start,
so restarting the controller does not reset the wall's figures to zero or lose
posts waiting for approval. Everything is JSON in a few small tables; the file
carries a schema version so an older controller refuses a newer file instead
of misreading it.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from wallrenderer.core.errors import WallError

SCHEMA_VERSION = 1
APPLICATION = "wallrenderer"
DEFAULT_AUDIT_LIMIT = 10_000

_T = TypeVar("_T")

_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated REAL NOT NULL)",
    "CREATE TABLE queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
    " post TEXT NOT NULL)",
    "CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL)",
)


class StoreError(WallError):
    """The state file cannot be used; the message names the file."""


class StoreCorrupt(StoreError):
    """The file is damaged or belongs to another program; it may be moved aside."""


class StoreVersionError(StoreError):
    """The file was written by a newer wallrenderer; moving it aside would lose its data."""


def _to_json(value: Any) -> str:
    # Aggregators may hand over numpy arrays or scalars; both have tolist().
    def default(obj: Any) -> Any:
        if hasattr(obj, "tolist"):
            return obj.tolist()
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable")

    return json.dumps(value, separators=(",", ":"), default=default)


class Store:
    """A SQLite file holding named state blobs, the approval queue and the audit log.

    One connection is shared by every thread behind a lock, so the HTTP thread
    (approve/reject) and the controller loop (aggregation, screening) can both
    write. Each method is one transaction: a crash leaves the previous value or
    the new one, never half of it. The file is in WAL mode, so a reader such as
    ``sqlite3 wall.db`` does not block the controller.
    """

    def __init__(self, path: str | Path, *, audit_limit: int = DEFAULT_AUDIT_LIMIT) -> None:
        """Open (or create) the store at `path`.

        Args:
            path: the SQLite file; missing parent folders are created.
            audit_limit: audit records kept in the file; older ones are pruned.

        Raises:
            StoreCorrupt: the file is not a database, is damaged, or is another program's.
            StoreVersionError: the file's schema is newer than this program reads.
            StoreError: the file cannot be opened at all (permissions, a folder).
        """
        self.path = Path(path)
        self.audit_limit = audit_limit
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path, check_same_thread=False, timeout=5.0)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: cannot open the state file: {exc}") from exc
        try:
            self._prepare()
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    @classmethod
    def open_or_recover(
        cls, path: str | Path, *, audit_limit: int = DEFAULT_AUDIT_LIMIT
    ) -> tuple[Store, str | None]:
        """Open the store, or move a damaged or foreign file aside and start empty.

        The wall must come up even when its state file was damaged (power cut
        on a cheap SD card, someone pointing it at another database): the bad
        file is renamed, not deleted, so it can still be inspected.

        Args:
            path: the SQLite file.
            audit_limit: as for `Store`.

        Returns:
            The store and, when a file had to be moved aside, a warning for the operator.

        Raises:
            StoreVersionError: a newer program's file is never moved aside.
            StoreError: the fresh file cannot be created either.
        """
        try:
            return cls(path, audit_limit=audit_limit), None
        except StoreCorrupt as exc:
            aside = _move_aside(Path(path))
            store = cls(path, audit_limit=audit_limit)
            return store, f"{exc}; moved it to {aside} and started with an empty store"

    # --- schema -----------------------------------------------------------

    def _prepare(self) -> None:
        conn = self._conn
        assert conn is not None
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous=NORMAL")
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.Error as exc:
            raise _error(exc, f"{self.path}: not a readable wallrenderer state file") from exc
        if check != "ok":
            raise StoreCorrupt(f"{self.path}: the state file is damaged ({check})")
        self.journal_mode = mode
        tables.discard("sqlite_sequence")
        if not tables:
            with conn:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.executemany("INSERT INTO meta VALUES (?, ?)",
                                 [("application", APPLICATION),
                                  ("schema_version", str(SCHEMA_VERSION))])
            return
        meta = {}
        if "meta" in tables:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("application") != APPLICATION:
            raise StoreCorrupt(f"{self.path}: not a wallrenderer state file "
                               f"(tables: {', '.join(sorted(tables))})")
        try:
            version = int(meta.get("schema_version", ""))
        except ValueError:
            raise StoreCorrupt(f"{self.path}: bad schema version "
                               f"{meta.get('schema_version')!r}") from None
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"{self.path}: written by a newer wallrenderer (schema version {version}; "
                f"this one reads up to {SCHEMA_VERSION}); upgrade, or give another file")
        missing = {"state", "queue", "audit"} - tables
        if missing:
            raise StoreCorrupt(f"{self.path}: the state file lacks the tables "
                               f"{', '.join(sorted(missing))}")

    # --- plumbing ---------------------------------------------------------

    def _run(self, what: str, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `work` as one transaction under the lock, with errors naming the file."""
        with self._lock:
            if self._conn is None:
                raise StoreError(f"{self.path}: the store is closed")
            try:
                with self._conn:
                    return work(self._conn)
            except sqlite3.Error as exc:
                raise _error(exc, f"{self.path}: {what}") from exc

    def _decode(self, text: str, what: str) -> Any:
        try:
            return json.loads(text)
        except ValueError as exc:
            raise StoreCorrupt(f"{self.path}: {what} is not valid JSON ({exc})") from exc

    # --- named state ------------------------------------------------------

    def save_state(self, key: str, state: dict[str, Any]) -> None:
        """Replace the state saved under `key` (e.g. the aggregator's ``to_state()``).

        Numpy arrays and scalars are stored as lists and numbers.
        """
        blob = _to_json(state)
        self._run(f"saving state {key!r}", lambda c: c.execute(
            "INSERT INTO state VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
            "value = excluded.value, updated = excluded.updated", (key, blob, time.time())))

    def load_state(self, key: str) -> dict[str, Any] | None:
        """The state last saved under `key`, or None if there is none."""
        row = self._run(f"loading state {key!r}", lambda c: c.execute(
            "SELECT value FROM state WHERE key = ?", (key,)).fetchone())
        return None if row is None else self._decode(row[0], f"state {key!r}")

    # --- approval queue ---------------------------------------------------

    def queue_put(self, post: dict[str, Any]) -> None:
        """Add a post to the queue's end; a post already queued keeps its place."""
        blob = _to_json(post)
        self._run("queueing a post", lambda c: c.execute(
            "INSERT INTO queue (id, post) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET "
            "post = excluded.post", (str(post["id"]), blob)))

    def queue_remove(self, post_id: str) -> bool:
        """Take a post out of the queue; False if it was not there."""
        cursor = self._run("removing a queued post", lambda c: c.execute(
            "DELETE FROM queue WHERE id = ?", (str(post_id),)))
        return cursor.rowcount > 0

    def queue_load(self) -> list[dict[str, Any]]:
        """Every queued post, oldest first."""
        rows = self._run("loading the queue", lambda c: c.execute(
            "SELECT id, post FROM queue ORDER BY seq").fetchall())
        return [self._decode(post, f"queued post {pid!r}") for pid, post in rows]

    # --- audit log --------------------------------------------------------

    def audit_append(self, record: dict[str, Any]) -> None:
        """Append a moderation audit record, keeping only the newest `audit_limit`."""
        blob = _to_json(record)

        def append(c: sqlite3.Connection) -> None:
            seq = c.execute("INSERT INTO audit (record) VALUES (?)", (blob,)).lastrowid
            c.execute("DELETE FROM audit WHERE seq <= ?", (seq - self.audit_limit,))

        self._run("appending to the audit log", append)

    def audit_recent(self, n: int) -> list[dict[str, Any]]:
        """The newest `n` audit records, oldest first."""
        rows = self._run("reading the audit log", lambda c: c.execute(
            "SELECT seq, record FROM audit ORDER BY seq DESC LIMIT ?", (max(n, 0),)).fetchall())
        return [self._decode(record, f"audit record {seq}") for seq, record in reversed(rows)]

    # --- lifetime ---------------------------------------------------------

    def close(self) -> None:
        """Fold the WAL into the file and close; safe to call twice."""
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass  # the data is safe in the WAL; SQLite replays it at next open
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _error(exc: sqlite3.Error, what: str) -> StoreError:
    """StoreCorrupt for a damaged or non-database file; StoreError for the rest (locks, disk)."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if code is not None:
        corrupt = code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    else:
        corrupt = "malformed" in str(exc) or "not a database" in str(exc)
    return (StoreCorrupt if corrupt else StoreError)(f"{what} ({exc})")


def _move_aside(path: Path) -> Path:
    """Rename a bad store and its WAL/SHM sidecars so a fresh one can take its place.

    The sidecars must go too: SQLite would replay a stale WAL into the new file.
    """
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.bad-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.bad-{stamp}-{n}")
    try:
        path.rename(aside)
        for suffix in ("-wal", "-shm"):
            extra = path.with_name(path.name + suffix)
            if extra.exists():
                extra.rename(aside.with_name(aside.name + suffix))
    except OSError as exc:
        raise StoreError(f"{path}: cannot move the bad state file aside: {exc}") from exc
    return aside
