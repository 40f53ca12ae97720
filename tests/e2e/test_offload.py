"""The request path's offload hop (app.api.offload): a slow query no longer freezes the process.

The app is served in-process by Granian's embedded server (RSGI, what ``emmettbase serve`` runs) on
a loopback port. A test-only websocket route streams a tick every 20 ms; while two clients loop a
slow filter, the stream must keep flowing and a get-one by id must still answer promptly. Before
the hop every statement ran on the event loop's thread, and each slow query stopped the ticks and
every other request for its whole duration.

"Slow" is made test-only and the same on both databases: each row the filter reads sleeps 0.3 s
(SQLite: ``like`` replaced on the test's connections by a sleeping one; PostgreSQL: the collection's
table behind a view whose ``body`` column calls ``pg_sleep``), so one filter takes about a second.
The thresholds are generous (a functional test, not a benchmark): the ticks' largest gap and the
slowest get-one must stay well under one slow query.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.support.server import serve_embedded

pytestmark = pytest.mark.e2e

ROW_SLEEP = 0.3  # seconds per row read by the slow filter
SLOW_ROWS = 3
SLOW_FILTER = '(body ~ "qqzzqq")'
TICK = 0.02
#: far under one slow query (about ROW_SLEEP * SLOW_ROWS = 0.9 s), far over a tick or a get-one
PROMPT = 0.45


def _app(settings: Any) -> Any:
    from emmett import websocket

    from app import create_app

    app = create_app(settings)

    @app.api_module.websocket("/test-ticks")
    async def ticks() -> None:
        await websocket.accept()
        n = 0
        while True:
            n += 1
            await websocket.send(str(n))
            await asyncio.sleep(TICK)

    for name in ("posts", "slow"):
        app.runtime.collections.create(
            {
                "name": name,
                "type": "base",
                "listRule": "",
                "viewRule": "",
                "createRule": "",
                "fields": [{"name": "body", "type": "text"}],
            }
        )
    return app


@contextlib.contextmanager
def _serve(settings: Any) -> Iterator[tuple[str, Any]]:
    from granian.constants import Interfaces

    from app.serving import HealthFastPath

    app = _app(settings)
    try:
        with serve_embedded(HealthFastPath(app), Interfaces.RSGI) as url:
            yield url, app
    finally:
        app.runtime.close()


@pytest.fixture
def served(make_settings: Any) -> Iterator[tuple[str, Any]]:
    with _serve(make_settings(offload_requests=True)) as served:
        yield served


def _make_slow(app: Any) -> None:
    """Every row the ``slow`` collection's filter reads now sleeps ROW_SLEEP seconds."""
    db = app.runtime.db
    if db.dialect == "sqlite":
        import re

        def sleepy_like(pattern: str, value: Any, escape: str | None = None) -> bool:
            time.sleep(ROW_SLEEP)  # releases the GIL, as a real scan in SQLite's C code does
            regex = re.escape(pattern).replace("%", ".*").replace("_", ".")
            return value is not None and re.fullmatch(regex, str(value), re.I | re.S) is not None

        def connector(connect: Any) -> Any:
            def wrapped() -> Any:
                conn = connect()
                conn.create_function("like", 2, sleepy_like)
                conn.create_function("like", 3, sleepy_like)
                return conn

            return wrapped

        db.pool.wrap_connect(connector)
        db.pool.close_all()  # idle connections were made without it
        return
    columns = [
        name
        for (name,) in db.fetchall(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'slow' "
            "ORDER BY ordinal_position"
        )
    ]
    select = ", ".join(f'test_sleepy("{c}") AS "{c}"' if c == "body" else f'"{c}"' for c in columns)
    db.executescript(
        [
            "CREATE FUNCTION test_sleepy(value text) RETURNS text LANGUAGE plpgsql VOLATILE AS "
            f"$$ BEGIN PERFORM pg_sleep({ROW_SLEEP}); RETURN value; END $$",
            'ALTER TABLE "slow" RENAME TO "slow_rows"',
            f'CREATE VIEW "slow" AS SELECT {select} FROM "slow_rows"',
        ]
    )


def test_slow_filters_do_not_freeze_the_stream_or_a_get_one(served: tuple[str, Any]):
    url, app = served
    base = f"http://{url}/api/collections"
    post = httpx.post(f"{base}/posts/records", json={"body": "hello"}).json()
    for i in range(SLOW_ROWS):
        assert httpx.post(f"{base}/slow/records", json={"body": f"row {i}"}).status_code == 200
    _make_slow(app)

    # the filter really is slow (else this test could not fail)
    started = time.monotonic()
    alone = httpx.get(f"{base}/slow/records", params={"filter": SLOW_FILTER}, timeout=30)
    assert alone.status_code == 200 and alone.json()["totalItems"] == 0
    assert time.monotonic() - started >= ROW_SLEEP * SLOW_ROWS * 0.9

    stop = threading.Event()
    slow_statuses: list[int] = []

    def loop_slow_filter() -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                response = client.get(f"{base}/slow/records", params={"filter": SLOW_FILTER})
                slow_statuses.append(response.status_code)

    gaps: list[float] = []
    with connect(f"ws://{url}/api/test-ticks", open_timeout=5, close_timeout=2) as ws:
        ws.recv(timeout=5)

        def watch_ticks() -> None:
            last = time.monotonic()
            while not stop.is_set():
                ws.recv(timeout=10)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        with ThreadPoolExecutor(max_workers=3) as pool:
            watcher = pool.submit(watch_ticks)
            slow = [pool.submit(loop_slow_filter) for _ in range(2)]
            time.sleep(0.3)  # both slow filters are running
            latencies = []
            with httpx.Client(timeout=30) as client:
                deadline = time.monotonic() + 3.0
                while time.monotonic() < deadline:
                    started = time.monotonic()
                    response = client.get(f"{base}/posts/records/{post['id']}")
                    latencies.append(time.monotonic() - started)
                    assert response.status_code == 200 and response.json()["id"] == post["id"]
                    time.sleep(0.05)
            stop.set()
            for future in (watcher, *slow):
                future.result(timeout=30)

    assert slow_statuses and set(slow_statuses) == {200}
    assert len(latencies) > 10
    assert max(latencies) < PROMPT, sorted(latencies)[-5:]
    assert len(gaps) > 50  # the stream kept receiving (3 s of 20 ms ticks)
    assert max(gaps) < PROMPT, sorted(gaps)[-5:]


def test_a_request_that_finds_every_thread_busy_waits_then_gets_a_503(make_settings: Any):
    """One worker thread, busy with a slow filter: a get-one waits for it up to the pool timeout,
    then answers 503 in the error envelope with Retry-After (not a hang, not a 500)."""
    with _serve(make_settings(db_pool_size=1, db_pool_timeout=0.3, offload_requests=True)) as (url, app):
        base = f"http://{url}/api/collections"
        post = httpx.post(f"{base}/posts/records", json={"body": "hello"}).json()
        for i in range(SLOW_ROWS):
            assert httpx.post(f"{base}/slow/records", json={"body": f"row {i}"}).status_code == 200
        _make_slow(app)
        with ThreadPoolExecutor(max_workers=1) as pool:
            slow = pool.submit(httpx.get, f"{base}/slow/records", params={"filter": SLOW_FILTER}, timeout=30)
            time.sleep(0.2)  # the slow filter holds the only thread
            started = time.monotonic()
            busy = httpx.get(f"{base}/posts/records/{post['id']}", timeout=30)
            waited = time.monotonic() - started
            assert slow.result().status_code == 200
        assert busy.status_code == 503, busy.text
        assert busy.json()["status"] == 503 and busy.json()["message"]
        assert busy.headers.get("retry-after")
        assert 0.25 <= waited < ROW_SLEEP * SLOW_ROWS  # it waited, but not for the slow filter
        # once the thread is free again, the same request is served
        assert httpx.get(f"{base}/posts/records/{post['id']}").status_code == 200


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_concurrent_requests_use_several_pooled_connections_on_postgres(served: tuple[str, Any]):
    url, app = served
    base = f"http://{url}/api/collections"
    for i in range(20):
        assert httpx.post(f"{base}/posts/records", json={"body": f"post {i}"}).status_code == 200
    db = app.runtime.db
    dbname = db.scalar("SELECT current_database()")

    def list_posts(_: int) -> int:
        with httpx.Client(timeout=30) as client:
            return client.get(f"{base}/posts/records", params={"perPage": 20}).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(list_posts, range(100)))
    assert statuses == [200] * 100
    # the server's own view: more than one session of this app on the test's database
    from tests.support.pg import _connect

    db_url = app.runtime.settings.database_url
    admin = _connect(db_url)
    try:
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = %s AND application_name = 'emmettbase'",
                (dbname,),
            )
            sessions = cursor.fetchone()[0]
    finally:
        admin.close()
    assert sessions > 1, db_url
    assert db.pool.peak_in_use > 1  # and the pool's own count agrees
