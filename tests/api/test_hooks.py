"""Record hooks: before/after in the transaction, commit hooks after it (CON-4, CON-5)."""

from __future__ import annotations

import pytest

from app.core.errors import BadRequest
from tests.support.scenario import ArticlesWorld, enable_batch


@pytest.fixture
def world(api):
    return ArticlesWorld(api)


def test_before_hook_can_change_the_record_and_fill_required_fields(api, world):
    hooks = api.runtime.hooks

    @hooks.on_record_create("x_articles")
    def stamp(event):
        event.record["title"] = event.record["title"] or "Filled by a hook"
        event.record["views"] = 7

    response = api.post(
        "/api/collections/x_articles/records", json={"published": True}, headers=world.alice_h
    )
    assert response.status_code == 200, response.text
    assert (response.json()["title"], response.json()["views"]) == ("Filled by a hook", 7)


def test_after_hook_failure_rolls_back_and_skips_commit_hooks(api, world):
    hooks = api.runtime.hooks
    committed = []

    @hooks.on_record_create("x_articles", stage="after")
    def refuse(event):
        raise BadRequest("Refused by a hook.", {"title": {"code": "hook", "message": "no"}})

    @hooks.on_record_create("x_articles", stage="commit")
    def record(event):
        committed.append(event.record["id"])

    response = api.post(
        "/api/collections/x_articles/records", json={"title": "Never stored"}, headers=world.alice_h
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Refused by a hook."
    listed = api.get("/api/collections/x_articles/records", params={"filter": 'title = "Never stored"'},
                     headers=world.su).json()  # fmt: skip
    assert listed["totalItems"] == 0, "the INSERT was rolled back"
    assert committed == [], "no commit hook for a rolled-back write"


def test_unexpected_hook_error_is_a_500_and_rolls_back(api, world):
    @api.runtime.hooks.on_record_update("x_articles")
    def crash(event):
        raise RuntimeError("boom")

    target = world.posts[0]
    response = api.patch(
        f"/api/collections/x_articles/records/{target['id']}", json={"views": 1000}, headers=world.alice_h
    )
    assert response.status_code == 500
    assert "boom" not in response.text
    stored = api.get(f"/api/collections/x_articles/records/{target['id']}", headers=world.alice_h).json()
    assert stored["views"] == target["views"]


def test_commit_hooks_run_once_per_committed_write_with_the_final_record(api, world):
    events = []
    hooks = api.runtime.hooks
    for action in ("create", "update", "delete"):
        hooks.register(
            action, "commit", lambda e: events.append((e.action, e.record["id"], e.record.get("views")))
        )
    created = api.post(
        "/api/collections/x_articles/records",
        json={"title": "Hooked post", "views": 1, "author": world.alice["id"]},
        headers=world.alice_h,
    ).json()
    api.patch(
        f"/api/collections/x_articles/records/{created['id']}", json={"views+": 1}, headers=world.alice_h
    )
    api.delete(f"/api/collections/x_articles/records/{created['id']}", headers=world.alice_h)
    assert events == [
        ("create", created["id"], 1),
        ("update", created["id"], 2),
        ("delete", created["id"], 2),
    ]


def test_a_failing_batch_item_rolls_back_earlier_items_and_their_hooks(api, world):
    committed = []
    api.runtime.hooks.register("create", "commit", lambda e: committed.append(e.record["title"]))
    enable_batch(api, world.su)
    requests = [
        {"method": "POST", "url": "/api/collections/x_articles/records", "body": {"title": "First of two"}},
        {"method": "POST", "url": "/api/collections/x_articles/records", "body": {"title": "bad"}},
    ]
    assert api.post("/api/batch", headers=world.alice_h, json={"requests": requests}).status_code == 400
    assert committed == []


def test_cascaded_deletes_fire_delete_hooks(api, world):
    deleted = []
    api.runtime.hooks.register("delete", "commit", lambda e: deleted.append(e.collection.name))
    article = world.posts[0]
    api.post("/api/collections/x_comments/records", json={"article": article["id"], "body": "c1"})
    api.delete(f"/api/collections/x_articles/records/{article['id']}", headers=world.alice_h)
    assert sorted(deleted) == ["x_articles", "x_comments"]


def test_in_transaction_hooks_must_be_plain_functions(api):
    async def coroutine_hook(event):
        return None

    with pytest.raises(TypeError):
        api.runtime.hooks.register("create", "before", coroutine_hook)
