"""``POST /api/batch``: PocketBase's wire format, one transaction, all or nothing (AC-8 basics)."""

from __future__ import annotations

import orjson
import pytest

from tests.support.scenario import ArticlesWorld, enable_batch


@pytest.fixture
def world(api):
    world = ArticlesWorld(api)
    enable_batch(api, world.su)
    return world


def test_batch_is_off_until_a_superuser_enables_it(api):
    world = ArticlesWorld(api)
    off = api.post("/api/batch", headers=world.su, json={"requests": []})
    assert (off.status_code, off.json()["message"]) == (403, "Batch requests are not allowed.")
    enable_batch(api, world.su, max_requests=2)
    three = [{"method": "DELETE", "url": "/api/collections/x_articles/records/x"}] * 3
    response = api.post("/api/batch", headers=world.su, json={"requests": three})
    assert response.json()["data"]["requests"]["code"] == "validation_length_too_long"


def count(api, world):
    return api.get("/api/collections/x_articles/records", headers=world.su).json()["totalItems"]


def test_batch_create_update_upsert_delete(api, world):
    target, doomed = world.posts[0], world.posts[3]
    requests = [
        {"method": "POST", "url": "/api/collections/x_articles/records",
         "body": {"title": "Batch one", "author": world.alice["id"]}},
        {"method": "PATCH", "url": f"/api/collections/x_articles/records/{target['id']}",
         "body": {"views": 99, "tags": ["c"], "title": "Hello world updated"}},
        {"method": "PUT", "url": "/api/collections/x_articles/records",
         "body": {"id": "batchupsert0001", "title": "Upserted!", "author": world.alice["id"]}},
        {"method": "PUT", "url": "/api/collections/x_articles/records?fields=id,title",
         "body": {"id": "batchupsert0001", "title": "Upserted twice"}},
        {"method": "DELETE", "url": f"/api/collections/x_articles/records/{doomed['id']}"},
    ]  # fmt: skip
    response = api.post("/api/batch", headers=world.alice_h, json={"requests": requests})
    assert response.status_code == 200, response.text
    results = response.json()
    assert [r["status"] for r in results] == [200, 200, 200, 200, 204]
    assert results[0]["body"]["title"] == "Batch one" and results[0]["body"]["author"] == world.alice["id"]
    assert (results[1]["body"]["views"], results[1]["body"]["tags"]) == (99, ["c"])
    assert results[2]["body"]["id"] == "batchupsert0001"
    assert results[3]["body"] == {"id": "batchupsert0001", "title": "Upserted twice"}
    assert results[4] == {"body": None, "status": 204}
    assert count(api, world) == 6


def test_one_failing_item_rolls_back_everything(api, world):
    before = count(api, world)
    requests = [
        {"method": "POST", "url": "/api/collections/x_articles/records", "body": {"title": "Batch good"}},
        {"method": "POST", "url": "/api/collections/x_articles/records", "body": {"title": "abc"}},
    ]
    response = api.post("/api/batch", headers=world.alice_h, json={"requests": requests})
    assert response.status_code == 400
    assert response.json() == {
        "data": {
            "requests": {
                "1": {
                    "code": "batch_request_failed",
                    "message": "Batch request failed.",
                    "response": {
                        "data": {
                            "title": {
                                "code": "validation_min_text_constraint",
                                "message": "Must be at least 5 character(s).",
                                "params": {"min": 5},
                            }
                        },
                        "message": "Failed to create record.",
                        "status": 400,
                    },
                }
            }
        },
        "message": "Batch transaction failed.",
        "status": 400,
    }
    assert count(api, world) == before


def test_only_record_urls_are_allowed(api, world):
    response = api.post(
        "/api/batch", headers=world.su, json={"requests": [{"method": "GET", "url": "/api/collections"}]}
    )
    assert response.status_code == 400
    assert response.json()["data"]["requests"]["0"]["response"] == {
        "data": {},
        "message": "Something went wrong while processing your request.",
        "status": 400,
    }


def test_each_item_is_checked_against_the_rules(api, world):
    foreign = world.posts[0]
    requests = [
        {"method": "POST", "url": "/api/collections/x_articles/records", "body": {"title": "Bob's post"}},
        {
            "method": "PATCH",
            "url": f"/api/collections/x_articles/records/{foreign['id']}",
            "body": {"views": 1},
        },
    ]
    response = api.post("/api/batch", headers=world.bob_h, json={"requests": requests})
    assert response.status_code == 400
    assert response.json()["data"]["requests"]["1"]["response"]["status"] == 404
    assert count(api, world) == 5
    anonymous = api.post("/api/batch", json={"requests": requests[:1]})
    assert anonymous.json()["data"]["requests"]["0"]["response"]["message"] == "Failed to create record."


def test_item_authorization_headers_are_not_authenticated_again(api, world):
    """As in PocketBase, every item runs with the batch request's own auth."""
    requests = [
        {"method": "POST", "url": "/api/collections/x_articles/records", "body": {"title": "As Alice"},
         "headers": {"Authorization": world.alice_h["Authorization"]}},
    ]  # fmt: skip
    anonymous = api.post("/api/batch", json={"requests": requests})
    assert anonymous.status_code == 400
    assert api.post("/api/batch", json={"requests": requests}, headers=world.alice_h).status_code == 200


def test_multipart_batch_with_json_payload(api, world):
    payload = {"requests": [{"method": "POST", "url": "/api/collections/x_articles/records",
                             "body": {"title": "Multipart batch", "author": world.alice["id"]}}]}  # fmt: skip
    response = api.post(
        "/api/batch", headers=world.alice_h, files={"@jsonPayload": (None, orjson.dumps(payload).decode())}
    )
    assert response.status_code == 200, response.text
    assert response.json()[0]["body"]["title"] == "Multipart batch"


def test_malformed_and_oversized_batches(api, world):
    assert api.post("/api/batch", headers=world.su, json={"requests": "nope"}).status_code == 400
    assert api.post("/api/batch", headers=world.su, json={}).status_code == 400
    too_many = [{"method": "DELETE", "url": "/api/collections/x_articles/records/x"}] * 51
    response = api.post("/api/batch", headers=world.su, json={"requests": too_many})
    assert response.status_code == 400
    assert response.json()["data"]["requests"]["code"] == "validation_length_too_long"
