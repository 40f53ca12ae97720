"""The API pipe's stale-schema retry: bounded, and never once something took effect.

A test-only route stands in for a handler that meets a stale schema (``SchemaMismatch``) after it
did something a retry would repeat (queued a mail, committed a write), or that keeps meeting one.
"""

from __future__ import annotations

from collections import Counter

from app.api.pipes import SCHEMA_ATTEMPTS
from app.api.responses import json_response
from app.db.errors import SchemaMismatch
from app.mail import Message


def _route(api, name, handler):
    api.app.api_module.route(f"/_test/{name}", name=f"test_{name}", methods=["post"])(handler)


def test_a_stale_schema_is_retried_until_it_is_fresh(api):
    calls: Counter[str] = Counter()

    async def flaky():
        calls["flaky"] += 1
        if calls["flaky"] < SCHEMA_ATTEMPTS:
            raise SchemaMismatch("no such column: renamed")
        return json_response({"attempts": calls["flaky"]})

    _route(api, "flaky", flaky)
    response = api.post("/api/_test/flaky")
    assert response.status_code == 200, response.text
    assert response.json() == {"attempts": SCHEMA_ATTEMPTS}


def test_a_schema_that_keeps_changing_is_a_503_not_a_500(api):
    calls: Counter[str] = Counter()

    async def stale():
        calls["stale"] += 1
        raise SchemaMismatch("table x has no column named y")

    _route(api, "stale", stale)
    response = api.post("/api/_test/stale")
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert response.json()["status"] == 503
    assert calls["stale"] == SCHEMA_ATTEMPTS, "bounded"


def test_a_request_that_queued_mail_is_never_run_again(api):
    calls: Counter[str] = Counter()
    sent: list[Message] = []
    api.runtime.mail_queue.mailer.prepare = lambda message: type("T", (), {"send": sent.append})()

    async def mails_then_stale():
        calls["run"] += 1
        api.runtime.mail_queue.submit(Message(to=[("", "a@example.com")], subject="hi", html="<p>hi</p>"))
        raise SchemaMismatch("no such table: gone")

    _route(api, "mail", mails_then_stale)
    response = api.post("/api/_test/mail")
    api.runtime.mail_queue.drain()
    assert response.status_code == 503, response.text
    assert calls["run"] == 1 and len(sent) == 1, "the mail went out once"


def test_a_request_that_committed_is_never_run_again(api):
    calls: Counter[str] = Counter()
    db = api.runtime.db
    db.execute("CREATE TABLE probe (note TEXT)")

    async def writes_then_stale():
        calls["run"] += 1
        with db.transaction() as tx:
            tx.execute("INSERT INTO probe (note) VALUES ('once')")
        raise SchemaMismatch("relation gone does not exist")

    _route(api, "write", writes_then_stale)
    response = api.post("/api/_test/write")
    assert response.status_code == 503, response.text
    assert calls["run"] == 1
    assert db.scalar("SELECT count(*) FROM probe") == 1, "the write was not repeated"
