"""On Lambda nothing after commit may be left for a later invocation (issue 9): the instance
freezes once the handler returns, so a coroutine commit hook scheduled on the loop used to finish
during the next invocation, or never. The Lambda door now awaits it before answering."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.doors import open_door
from tests.support.scenario import superuser_headers


@pytest.fixture
def lambda_door(make_settings: Any) -> Any:
    door = open_door("lambda", make_settings())
    yield door
    door.close()


def test_a_coroutine_commit_hook_has_finished_when_the_handler_returns(lambda_door):
    door = lambda_door
    su = superuser_headers(door)
    body = {"name": "notes", "createRule": "", "fields": [{"name": "body", "type": "text"}]}
    assert door.post("/api/collections", json=body, headers=su).status_code == 200
    finished: list[str] = []

    @door.runtime.hooks.on_record_create("notes", stage="commit")
    async def deliver(event: Any) -> None:
        await asyncio.sleep(0.05)  # e.g. a webhook round trip
        finished.append(event.record["id"])

    response = door.post("/api/collections/notes/records", json={"body": "hi"})
    assert response.status_code == 200, response.text
    assert finished == [response.json()["id"]], "the hook ran to its end inside this invocation"


def test_a_failing_coroutine_commit_hook_does_not_change_the_answer(lambda_door):
    door = lambda_door
    su = superuser_headers(door)
    body = {"name": "notes", "createRule": "", "fields": [{"name": "body", "type": "text"}]}
    assert door.post("/api/collections", json=body, headers=su).status_code == 200

    @door.runtime.hooks.on_record_create("notes", stage="commit")
    async def broken(event: Any) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("webhook down")

    response = door.post("/api/collections/notes/records", json={"body": "hi"})
    assert response.status_code == 200, response.text
    listed = door.get("/api/collections/notes/records", headers=su).json()
    assert listed["totalItems"] == 1
