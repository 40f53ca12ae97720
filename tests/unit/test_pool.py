"""The connection pool: LIFO reuse, size cap, idle expiry, and discarding broken connections."""

from __future__ import annotations

import pytest

from app.db.errors import DatabaseUnavailable
from app.db.pool import ConnectionPool


class FakeConnection:
    opened = 0

    def __init__(self):
        FakeConnection.opened += 1
        self.number = FakeConnection.opened
        self.closed = False

    def close(self):
        self.closed = True


@pytest.fixture(autouse=True)
def reset_counter():
    FakeConnection.opened = 0


def test_reuses_the_most_recent_connection():
    pool = ConnectionPool(FakeConnection, size=2)
    first = pool.acquire()
    second = pool.acquire()
    pool.release(first)
    pool.release(second)
    assert pool.acquire() is second
    assert FakeConnection.opened == 2


def test_size_cap_refuses_with_database_unavailable():
    pool = ConnectionPool(FakeConnection, size=1)
    pool.acquire()
    with pytest.raises(DatabaseUnavailable):
        pool.acquire()
    assert pool.open_count == 1


def test_broken_connection_is_closed_and_frees_its_slot():
    pool = ConnectionPool(FakeConnection, size=1)
    conn = pool.acquire()
    conn.broken = True
    pool.release(conn)
    assert conn.raw.closed
    assert pool.open_count == 0
    assert pool.acquire().raw.number == 2


def test_idle_connections_expire_by_wall_clock(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("app.db.pool.time.time", lambda: clock[0])
    pool = ConnectionPool(FakeConnection, size=1, idle_timeout=60)
    conn = pool.acquire()
    pool.release(conn)
    clock[0] += 61
    fresh = pool.acquire()
    assert fresh is not conn
    assert conn.raw.closed
    assert pool.open_count == 1


def test_failed_connect_does_not_leak_a_slot():
    def failing():
        raise DatabaseUnavailable("down")

    pool = ConnectionPool(failing, size=1)
    for _ in range(3):
        with pytest.raises(DatabaseUnavailable):
            pool.acquire()
    assert pool.open_count == 0


def test_close_all_closes_idle_connections():
    pool = ConnectionPool(FakeConnection, size=3)
    conns = [pool.acquire() for _ in range(3)]
    for conn in conns:
        pool.release(conn)
    pool.close_all()
    assert all(conn.raw.closed for conn in conns)
    assert pool.open_count == 0


# -- several threads (requests run on worker threads: app.api.offload) ----------------------------


def test_a_thread_waits_for_a_connection_another_returns():
    import threading
    import time

    pool = ConnectionPool(FakeConnection, size=1, wait_timeout=5)
    held = pool.acquire()
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(pool.acquire()))
    waiter.start()
    time.sleep(0.1)
    assert not got  # still waiting, not refused
    pool.release(held)
    waiter.join(5)
    assert got == [held]
    assert FakeConnection.opened == 1


def test_the_wait_for_a_connection_is_bounded():
    import threading
    import time

    pool = ConnectionPool(FakeConnection, size=1, wait_timeout=0.2)
    pool.acquire()
    errors: list[BaseException] = []

    def take() -> None:
        try:
            pool.acquire()
        except DatabaseUnavailable as exc:
            errors.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=take)
    thread.start()
    thread.join(5)
    assert len(errors) == 1
    assert 0.15 <= time.monotonic() - started < 3


def test_concurrent_threads_get_distinct_connections():
    import threading

    pool = ConnectionPool(FakeConnection, size=4, wait_timeout=5)
    barrier = threading.Barrier(4)
    got: list[object] = []

    def take() -> None:
        conn = pool.acquire()
        got.append(conn)
        barrier.wait(5)  # all four hold one at the same time
        pool.release(conn)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len({id(conn) for conn in got}) == 4
    assert pool.peak_in_use == 4
