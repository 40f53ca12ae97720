"""SLS-2: recovery after PostgreSQL drops the app's connection, through both doors.

A test-only table and two routes stand in for the records API: ``GET`` reads through the
database port, ``POST`` writes two rows in one transaction and can kill its own backend between them.
"""

from __future__ import annotations

import pytest

from app.api.responses import json_response

pytestmark = pytest.mark.pg


@pytest.fixture
def backend():
    return "postgres"


@pytest.fixture
def pg_api(api, pg_database):
    db = api.runtime.db
    db.execute("CREATE TABLE probe (id SERIAL PRIMARY KEY, note TEXT NOT NULL)")

    from emmett import current

    async def count():
        return json_response({"rows": db.scalar("SELECT count(*) FROM probe")})

    async def write():
        kill = current.request.query_params.get("kill") == "1"
        with db.transaction() as tx:
            tx.execute("INSERT INTO probe (note) VALUES ('first')")
            if kill:
                pg_database.terminate_backends("emmettbase")
            tx.execute("INSERT INTO probe (note) VALUES ('second')")
        return json_response({"ok": True})

    module = api.app.api_module
    module.route("/_test/count", name="test_count", methods=["get"])(count)
    module.route("/_test/write", name="test_write", methods=["post"])(write)
    return api


def test_read_after_backend_killed_succeeds(pg_api, pg_database):
    assert pg_api.get("/api/_test/count").json() == {"rows": 0}
    assert pg_database.terminate_backends("emmettbase") >= 1
    response = pg_api.get("/api/_test/count")
    assert response.status_code == 200
    assert response.json() == {"rows": 0}


def test_write_after_backend_killed_reconnects_before_begin(pg_api, pg_database):
    pg_api.get("/api/_test/count")
    pg_database.terminate_backends("emmettbase")
    response = pg_api.post("/api/_test/write")
    assert response.status_code == 200
    assert pg_api.get("/api/_test/count").json() == {"rows": 2}


def test_connection_lost_mid_transaction_is_503_and_nothing_is_applied(pg_api):
    response = pg_api.post("/api/_test/write?kill=1")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["status"] == 503
    # The first insert ran before the kill: it must not survive on its own.
    assert pg_api.get("/api/_test/count").json() == {"rows": 0}
    # And the app keeps working afterwards.
    assert pg_api.post("/api/_test/write").status_code == 200
    assert pg_api.get("/api/_test/count").json() == {"rows": 2}


def test_no_connection_leak_over_100_requests(pg_api, pg_database):
    for index in range(100):
        if index % 25 == 0:
            pg_database.terminate_backends("emmettbase")
        method = pg_api.post if index % 2 else pg_api.get
        url = "/api/_test/write" if index % 2 else "/api/_test/count"
        assert method(url).status_code == 200
    size = pg_api.runtime.settings.db_pool_size
    assert 1 <= pg_database.backend_count() <= size
    assert pg_api.runtime.db.pool.open_count <= size
