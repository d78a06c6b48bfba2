"""The SQLite store: state, queue and audit survive a restart; bad files are named and set aside."""

# Test names say what each test checks; docstrings would repeat them.

from __future__ import annotations

import sqlite3
import threading

import numpy as np
import pytest

from controller.store import (
    SCHEMA_VERSION,
    Store,
    StoreCorrupt,
    StoreError,
    StoreVersionError,
)
from wallrenderer.core.errors import WallError


def post(n: int) -> dict:
    return {"id": f"p{n}", "time": 1_700_000_000.0 + n, "network": "mastodon",
            "author": f"Author {n}", "handle": f"@a{n}", "text": f"post {n} ✓",
            "hashtags": ["wall"], "urls": [], "sentiment": None, "own": False}


def test_state_round_trips_and_is_replaced(tmp_path):
    with Store(tmp_path / "wall.db") as store:
        assert store.load_state("aggregate") is None
        store.save_state("aggregate", {"mentions": {"acme": [1, 2, 3]}, "nan": None})
        store.save_state("aggregate", {"mentions": {"acme": [4]}, "since": 1.5})
        assert store.load_state("aggregate") == {"mentions": {"acme": [4]}, "since": 1.5}


def test_numpy_values_are_saved_as_lists_and_numbers(tmp_path):
    with Store(tmp_path / "wall.db") as store:
        store.save_state("k", {"counts": np.arange(3), "total": np.float64(2.5)})
        assert store.load_state("k") == {"counts": [0, 1, 2], "total": 2.5}


def test_restart_keeps_state_queue_and_audit(tmp_path):
    path = tmp_path / "state" / "wall.db"  # the folder is created
    store = Store(path)
    store.save_state("aggregate", {"mentions": 42})
    for n in range(4):
        store.queue_put(post(n))
    assert store.queue_remove("p1")
    assert not store.queue_remove("p1")
    store.audit_append({"time": 1.0, "post_id": "p1", "action": "reject", "by": "ana"})
    store.close()
    store.close()  # twice is fine

    again = Store(path)
    assert again.load_state("aggregate") == {"mentions": 42}
    assert [p["id"] for p in again.queue_load()] == ["p0", "p2", "p3"]
    assert again.queue_load()[0] == post(0)
    assert again.audit_recent(10) == [
        {"time": 1.0, "post_id": "p1", "action": "reject", "by": "ana"}]
    again.close()


def test_queue_put_of_a_queued_post_keeps_its_place(tmp_path):
    with Store(tmp_path / "wall.db") as store:
        for n in range(3):
            store.queue_put(post(n))
        store.queue_put({**post(0), "text": "edited"})
        loaded = store.queue_load()
        assert [p["id"] for p in loaded] == ["p0", "p1", "p2"]
        assert loaded[0]["text"] == "edited"


def test_audit_recent_is_oldest_first_and_pruned_to_the_limit(tmp_path):
    with Store(tmp_path / "wall.db", audit_limit=5) as store:
        for n in range(12):
            store.audit_append({"n": n})
        assert store.audit_recent(3) == [{"n": 9}, {"n": 10}, {"n": 11}]
        assert store.audit_recent(100) == [{"n": n} for n in range(7, 12)]
        assert store.audit_recent(0) == []


def test_file_is_in_wal_mode_and_carries_its_schema_version(tmp_path):
    path = tmp_path / "wall.db"
    with Store(path) as store:
        assert store.journal_mode == "wal"
    conn = sqlite3.connect(path)
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    conn.close()
    assert meta == {"application": "wallrenderer", "schema_version": str(SCHEMA_VERSION)}


def test_newer_schema_is_refused_and_never_moved_aside(tmp_path):
    path = tmp_path / "wall.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                     (str(SCHEMA_VERSION + 1),))
    conn.close()
    with pytest.raises(StoreVersionError, match="newer wallrenderer") as info:
        Store(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, WallError)
    with pytest.raises(StoreVersionError):
        Store.open_or_recover(path)
    assert path.exists() and list(tmp_path.iterdir()) == [path]


def test_garbage_file_is_named_and_recovered_by_moving_it_aside(tmp_path):
    path = tmp_path / "wall.db"
    path.write_bytes(b"this is not sqlite, just some bytes " * 200)
    with pytest.raises(StoreCorrupt) as info:
        Store(path)
    assert str(path) in str(info.value)

    store, warning = Store.open_or_recover(path)
    try:
        assert warning is not None and str(path) in warning and "moved it to" in warning
        aside = [p for p in tmp_path.iterdir() if p.name.startswith("wall.db.bad-")]
        assert len(aside) == 1
        assert aside[0].read_bytes().startswith(b"this is not sqlite")
        assert store.load_state("aggregate") is None
        store.save_state("aggregate", {"ok": True})
        assert store.load_state("aggregate") == {"ok": True}
    finally:
        store.close()


def test_damaged_database_is_recovered(tmp_path):
    path = tmp_path / "wall.db"
    with Store(path) as store:
        for n in range(200):
            store.queue_put(post(n))
    data = bytearray(path.read_bytes())
    page = 4096
    data[page:] = b"\xff" * (len(data) - page)  # every page but the header one
    path.write_bytes(bytes(data))
    store, warning = Store.open_or_recover(path)
    try:
        assert warning is not None
        assert store.queue_load() == []
    finally:
        store.close()


def test_foreign_database_is_named_and_moved_aside(tmp_path):
    path = tmp_path / "wall.db"
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.close()
    with pytest.raises(StoreCorrupt, match="not a wallrenderer state file"):
        Store(path)
    store, warning = Store.open_or_recover(path)
    store.close()
    assert warning is not None and "invoices" in warning


def test_healthy_file_opens_without_warning(tmp_path):
    Store(tmp_path / "wall.db").close()
    store, warning = Store.open_or_recover(tmp_path / "wall.db")
    store.close()
    assert warning is None


def test_unopenable_path_is_a_plain_store_error(tmp_path):
    folder = tmp_path / "wall.db"
    folder.mkdir()
    with pytest.raises(StoreError, match="wall.db") as info:
        Store(folder)
    assert not isinstance(info.value, StoreCorrupt)


def test_closed_store_says_so(tmp_path):
    store = Store(tmp_path / "wall.db")
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.load_state("x")


def test_concurrent_writes_from_threads_all_land(tmp_path):
    path = tmp_path / "wall.db"
    store = Store(path)
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            for n in range(50):
                store.queue_put(post(t * 1000 + n))
                store.audit_append({"t": t, "n": n})
                store.save_state(f"worker{t}", {"n": n})
                if n % 2:
                    store.queue_remove(f"p{t * 1000 + n}")
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    assert errors == []

    with Store(path) as again:
        assert len(again.queue_load()) == 8 * 25
        assert len(again.audit_recent(10_000)) == 8 * 50
        assert all(again.load_state(f"worker{t}") == {"n": 49} for t in range(8))
