"""Records API against the shapes PocketBase 0.40.6 returned (shared/pocketbase/api.md §3, §10).

Every test runs four ways: {SQLite, PostgreSQL} x {ASGI door, Lambda door}.
"""

from __future__ import annotations

import orjson
import pytest

from tests.support.scenario import DATE_RE, ID_RE, ArticlesWorld

ARTICLE_KEYS = [
    "author", "body", "collectionId", "collectionName", "cover", "created", "id", "meta",
    "published", "secret_doc", "tags", "title", "updated", "views",
]  # fmt: skip
GENERIC = "Something went wrong while processing your request."
NOT_FOUND = {"data": {}, "message": "The requested resource wasn't found.", "status": 404}


@pytest.fixture
def world(api):
    return ArticlesWorld(api)


def assert_article(item, world, **expected):
    assert list(item) == ARTICLE_KEYS, "keys are sorted and complete"
    assert ID_RE.match(item["id"])
    assert DATE_RE.match(item["created"]) and DATE_RE.match(item["updated"])
    assert item["collectionId"] == world.articles["id"]
    assert item["collectionName"] == "x_articles"
    for key, value in expected.items():
        assert item[key] == value, key


def test_list_envelope_filters_rows_by_the_list_rule(api, world):
    response = api.get("/api/collections/x_articles/records", params={"perPage": 2, "sort": "-created"})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["items", "page", "perPage", "totalItems", "totalPages"]
    assert (body["page"], body["perPage"], body["totalItems"], body["totalPages"]) == (1, 2, 4, 2)
    first, second = body["items"]
    assert_article(
        first, world, title="Hello world 4", published=True, views=40, meta={"n": 4}, cover="", tags=["a"]
    )
    assert_article(second, world, title="Hello world 3", author=world.alice["id"], secret_doc="", tags=[])
    assert first["created"] >= second["created"]


def test_page_two_with_a_multi_key_sort_as_the_owner(api, world):
    params = {"page": 2, "perPage": 2, "sort": "-views,title"}
    body = api.get("/api/collections/x_articles/records", params=params, headers=world.alice_h).json()
    assert (body["page"], body["totalItems"], body["totalPages"]) == (2, 5, 3)
    assert [i["title"] for i in body["items"]] == ["Hello world 2", "Hello world 1"]
    assert body["items"][1]["published"] is False


def test_filter_expand_and_fields_projection(api, world):
    params = {
        "filter": 'title ~ "world" && views >= 10',
        "expand": "author",
        "fields": "id,title,views,expand.author.name,expand.author.email",
    }
    body = api.get("/api/collections/x_articles/records", params=params, headers=world.alice_h).json()
    assert body["totalItems"] == 4
    for item in body["items"]:
        assert set(item) == {"id", "title", "views", "expand"}
        assert item["expand"] == {"author": {"email": "alice@example.com", "name": "Alice"}}
    assert sorted(i["views"] for i in body["items"]) == [10, 20, 30, 40]


def test_skip_total_and_excerpt(api, world):
    body = api.get(
        "/api/collections/x_articles/records",
        params={"skipTotal": 1, "perPage": 1, "fields": "id,body:excerpt(5,true)"},
        headers=world.alice_h,
    ).json()
    assert (body["totalItems"], body["totalPages"]) == (-1, -1)
    assert body["items"] == [{"body": "hi", "id": world.posts[0]["id"]}]


def test_view_with_expand_hidden_by_the_target_view_rule(api, world):
    record_id = world.posts[0]["id"]
    response = api.get(f"/api/collections/x_articles/records/{record_id}", params={"expand": "author"})
    assert response.status_code == 200
    body = response.json()
    assert body["expand"] == {}
    assert list(body) == sorted(body)
    own = api.get(
        f"/api/collections/x_articles/records/{record_id}", params={"expand": "author"}, headers=world.alice_h
    ).json()
    assert own["expand"]["author"]["id"] == world.alice["id"]


def test_create_returns_the_full_record(api, world):
    body = {
        "title": "Hello world 9",
        "body": "<p>hi</p>",
        "published": True,
        "views": 0,
        "tags": [],
        "meta": {"n": 0},
    }
    response = api.post("/api/collections/x_articles/records", json={**body, "author": world.alice["id"]},
                        headers=world.alice_h)  # fmt: skip
    assert response.status_code == 200
    assert_article(response.json(), world, **body, cover="", secret_doc="", author=world.alice["id"])


def test_update_with_modifiers(api, world):
    target = world.posts[0]
    response = api.patch(
        f"/api/collections/x_articles/records/{target['id']}",
        json={"title": "Hello world updated", "views+": 5, "tags+": "c"},
        headers=world.alice_h,
    )
    assert response.status_code == 200
    record = response.json()
    assert_article(record, world, title="Hello world updated", views=5, tags=["c"], created=target["created"])
    assert record["updated"] >= target["updated"]
    again = api.patch(
        f"/api/collections/x_articles/records/{target['id']}",
        json={"views-": 2, "+tags": "a", "tags-": "c"},
        headers=world.alice_h,
    ).json()
    assert (again["views"], again["tags"]) == (3, ["a"])


def test_back_relation_expand_is_a_list(api, world):
    article = world.posts[0]
    comment = api.post(
        "/api/collections/x_comments/records", json={"article": article["id"], "body": "nice"}
    ).json()
    body = api.get(
        f"/api/collections/x_articles/records/{article['id']}",
        params={"expand": "x_comments_via_article,author", "fields": "id,expand"},
    ).json()
    assert body == {
        "expand": {
            "x_comments_via_article": [
                {
                    "article": article["id"],
                    "body": "nice",
                    "collectionId": world.comments["id"],
                    "collectionName": "x_comments",
                    "created": comment["created"],
                    "id": comment["id"],
                }
            ]
        },
        "id": article["id"],
    }


def test_validation_errors_for_several_fields_at_once(api, world):
    response = api.post(
        "/api/collections/x_articles/records",
        json={"title": "abc", "views": 1.5, "tags": ["zzz"], "author": "nonexistent0000"},
        headers=world.alice_h,
    )
    assert response.status_code == 400
    assert response.json() == {
        "data": {
            "author": {
                "code": "validation_missing_rel_records",
                "message": "Failed to find all relation records with the provided ids.",
            },
            "tags": {
                "code": "validation_invalid_value",
                "message": "Invalid value zzz.",
                "params": {"value": "zzz"},
            },
            "title": {
                "code": "validation_min_text_constraint",
                "message": "Must be at least 5 character(s).",
                "params": {"min": 5},
            },
            "views": {
                "code": "validation_only_int_constraint",
                "message": "Decimal numbers are not allowed.",
            },
        },
        "message": "Failed to create record.",
        "status": 400,
    }


def test_locked_rule_is_403_and_hidden_or_missing_records_are_404(api, world):
    locked = api.get("/api/collections/_superusers/records")
    assert locked.status_code == 403
    assert locked.json() == {"data": {}, "message": "Only superusers can perform this action.", "status": 403}
    hidden = api.get(f"/api/collections/x_articles/records/{world.posts[1]['id']}")
    assert (hidden.status_code, hidden.json()) == (404, NOT_FOUND)
    foreign = api.patch(
        f"/api/collections/x_articles/records/{world.posts[0]['id']}",
        json={"title": "Mine now!"},
        headers=world.bob_h,
    )
    assert (foreign.status_code, foreign.json()) == (404, NOT_FOUND)
    missing = api.get("/api/collections/x_articles/records/doesnotexist123")
    assert (missing.status_code, missing.json()) == (404, NOT_FOUND)
    unknown = api.get("/api/collections/nope/records")
    assert unknown.status_code == 404
    assert unknown.json()["message"] == "Missing collection context."


def test_failed_create_rule_bad_filter_and_bad_sort_are_400(api, world):
    anonymous = api.post("/api/collections/x_articles/records", json={"title": "Anonymous post"})
    assert anonymous.json() == {"data": {}, "message": "Failed to create record.", "status": 400}
    for params in ({"filter": "title ~~ ("}, {"sort": "nosuch"}):
        response = api.get("/api/collections/x_articles/records", params=params)
        assert response.status_code == 400
        assert response.json() == {"data": {}, "message": GENERIC, "status": 400}


def test_request_identifiers_in_client_filters_are_superuser_only(api, world):
    params = {"filter": "author = @request.auth.id && created > @yesterday", "fields": "id", "perPage": 1}
    response = api.get("/api/collections/x_articles/records", params=params, headers=world.alice_h)
    assert response.status_code == 403
    assert response.json() == {
        "data": {},
        "message": "Only superusers can filter by @request.",
        "status": 403,
    }
    assert api.get("/api/collections/x_articles/records", params=params, headers=world.su).status_code == 200


def test_delete_then_gone_and_cascade(api, world):
    article = world.posts[0]
    comment = api.post(
        "/api/collections/x_comments/records", json={"article": article["id"], "body": "x"}
    ).json()
    response = api.delete(f"/api/collections/x_articles/records/{article['id']}", headers=world.alice_h)
    assert response.status_code == 204
    assert response.content == b""
    assert (
        api.get(f"/api/collections/x_articles/records/{article['id']}", headers=world.alice_h).status_code
        == 404
    )
    assert api.get(f"/api/collections/x_comments/records/{comment['id']}").status_code == 404


def test_required_relation_blocks_delete(api, world):
    response = api.patch(
        f"/api/collections/{world.comments['id']}",
        headers=world.su,
        json={"fields": [dict(f, cascadeDelete=False, required=True) if f["name"] == "article" else f
                         for f in world.comments["fields"]]},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    article = world.posts[0]
    api.post("/api/collections/x_comments/records", json={"article": article["id"], "body": "keep"})
    blocked = api.delete(f"/api/collections/x_articles/records/{article['id']}", headers=world.alice_h)
    assert blocked.status_code == 400
    assert blocked.json()["message"] == (
        "Failed to delete record. Make sure that the record is not part of a required relation reference."
    )
    assert (
        api.get(f"/api/collections/x_articles/records/{article['id']}", headers=world.alice_h).status_code
        == 200
    )


def test_client_supplied_ids_are_validated(api, world):
    good = api.post(
        "/api/collections/x_articles/records",
        json={"id": "myownid12345678", "title": "Custom id!", "author": world.alice["id"]},
        headers=world.alice_h,
    )
    assert (good.status_code, good.json()["id"]) == (200, "myownid12345678")
    for bad in ("short", "UPPERCASE000000", "has space 00000", "toolongid1234567890"):
        response = api.post("/api/collections/x_articles/records", json={"id": bad, "title": "Custom id!"},
                            headers=world.alice_h)  # fmt: skip
        assert response.status_code == 400
        assert "id" in response.json()["data"]
    duplicate = api.post(
        "/api/collections/x_articles/records",
        json={"id": "myownid12345678", "title": "Again please"},
        headers=world.alice_h,
    )
    assert duplicate.status_code == 400
    assert duplicate.json()["data"]["id"]["code"] == "validation_not_unique"


def test_pagination_limits_and_duplicate_query_keys(api, world):
    body = api.get("/api/collections/x_articles/records", params={"perPage": 10**9}).json()
    assert body["perPage"] == 1000
    body = api.get("/api/collections/x_articles/records?perPage=1&perPage=3").json()
    assert body["perPage"] == 1, "the first of duplicated keys wins, as in PocketBase"
    assert api.get("/api/collections/x_articles/records", params={"page": "x"}).status_code == 400
    assert api.get("/api/collections/x_articles/records", params={"page": -3}).json()["page"] == 1


def test_multipart_create_with_json_payload(api, world):
    payload = orjson.dumps(
        {"title": "From a form", "meta": {"deep": [1, 2]}, "author": world.alice["id"]}
    ).decode()
    # (None, value) parts are plain form fields: httpx sends a real multipart/form-data body.
    parts = {"@jsonPayload": (None, payload), "views": (None, "7"), "published": (None, "true")}
    response = api.post("/api/collections/x_articles/records", files=parts, headers=world.alice_h)
    assert response.status_code == 200, response.text
    record = response.json()
    assert (record["title"], record["meta"], record["views"], record["published"]) == (
        "From a form", {"deep": [1, 2]}, 7, True,
    )  # fmt: skip


def test_modifier_on_a_field_that_has_none_is_a_400(api, world):
    response = api.patch(
        f"/api/collections/x_articles/records/{world.posts[0]['id']}",
        json={"title+": "x"},
        headers=world.alice_h,
    )
    assert response.status_code == 400
    assert response.json()["data"]["title"]["code"] == "validation_unsupported_modifier"


def test_set_and_modifier_together_apply_the_set_first(api, world):
    response = api.patch(
        f"/api/collections/x_articles/records/{world.posts[0]['id']}",
        json={"views+": 2, "views": 10},
        headers=world.alice_h,
    )
    assert response.json()["views"] == 12


def test_invalid_json_body_is_a_400(api, world):
    response = api.post(
        "/api/collections/x_articles/records",
        content=b'{"title": ',
        headers={**world.alice_h, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Failed to load the submitted data due to invalid formatting."


def test_file_uploads_are_refused_until_storage_exists(api, world):
    response = api.post(
        "/api/collections/x_articles/records",
        data={"title": "With a file"},
        files={"cover": ("pic.png", b"\x89PNG....", "image/png")},
        headers=world.alice_h,
    )
    assert response.status_code == 400
    assert "cover" in response.json()["data"]


def test_ten_thousand_field_payload_is_handled(api, world):
    payload = {f"junk{i}": i for i in range(10_000)}
    payload.update({"title": "Many keys here", "author": world.alice["id"]})
    response = api.post("/api/collections/x_articles/records", json=payload, headers=world.alice_h)
    assert response.status_code == 200
    assert "junk1" not in response.json()
