"""Collections API (superusers): definitions, DDL changes, validation, import/export, scaffolds.

Runs four ways: {SQLite, PostgreSQL} x {ASGI door, Lambda door}. VAL-5 lives here too.
"""

from __future__ import annotations

import pytest

from tests.support.scenario import ARTICLES, create_user, superuser_headers, user_headers


@pytest.fixture
def su(api):
    return superuser_headers(api)


def create(api, su, definition, status=200):
    response = api.post("/api/collections", headers=su, json=definition)
    assert response.status_code == status, response.text
    return response.json()


def test_create_returns_pocketbase_collection_json(api, su):
    collection = create(api, su, ARTICLES)
    assert collection["id"].startswith("pbc_")
    assert (collection["name"], collection["type"], collection["system"]) == ("x_articles", "base", False)
    assert collection["listRule"] == ARTICLES["listRule"]
    id_field, title = collection["fields"][0], collection["fields"][1]
    assert id_field == {
        "autogeneratePattern": "[a-z0-9]{15}", "help": "", "hidden": False, "id": "text3208210256", "max": 15,
        "min": 15, "name": "id", "pattern": "^[a-z0-9]+$", "presentable": False, "primaryKey": True,
        "required": True, "system": True, "type": "text",
    }  # fmt: skip
    assert title == {
        "autogeneratePattern": "", "help": "", "hidden": False, "id": "text724990059", "max": 200, "min": 5,
        "name": "title", "pattern": "", "presentable": False, "primaryKey": False, "required": True,
        "system": False, "type": "text",
    }  # fmt: skip
    by_name = {f["name"]: f for f in collection["fields"]}
    assert by_name["views"]["max"] is None and by_name["views"]["onlyInt"] is True
    assert by_name["author"]["collectionId"] == "_pb_users_auth_"
    assert by_name["author"]["cascadeDelete"] is False and by_name["author"]["minSelect"] == 0
    assert by_name["cover"]["thumbs"] == ["100x100", "0x50"]
    assert collection["indexes"] == ["CREATE INDEX `idx_x_articles_created` ON `x_articles` (`created`)"]
    assert api.get(f"/api/collections/{collection['id']}", headers=su).json() == collection
    assert api.get("/api/collections/x_articles", headers=su).json()["id"] == collection["id"]


def test_create_validation_errors_have_pocketbase_shapes(api, su):
    bad = create(
        api, su, {"name": "bad name!", "fields": [{"name": "t", "type": "text", "min": -1}]}, status=400
    )
    assert bad == {
        "data": {
            "fields": {
                "1": {
                    "min": {
                        "code": "validation_min_greater_equal_than_required",
                        "message": "Must be no less than 0.",
                        "params": {"threshold": 0},
                    }
                }
            },
            "name": {"code": "validation_match_invalid", "message": "Must be in a valid format."},
        },
        "message": "Failed to create collection.",
        "status": 400,
    }
    create(api, su, {"name": "things"})
    duplicate = create(api, su, {"name": "THINGS"}, status=400)
    assert duplicate["data"] == {
        "name": {
            "code": "validation_collection_name_exists",
            "message": "Collection name must be unique (case insensitive).",
        }
    }
    garbage = api.post("/api/collections", headers={**su, "content-type": "application/json"}, content=b"[1,")
    assert garbage.json() == {
        "data": {},
        "message": "Failed to load the submitted data due to invalid formatting.",
        "status": 400,
    }


def test_sql_and_pydal_reserved_words_work_as_names(api, su):
    fields = [
        {"name": name, "type": "text"} for name in ("order", "group", "update", "values", "where", "select")
    ]
    create(api, su, {"name": "select", "fields": fields, "listRule": "", "viewRule": "", "createRule": ""})
    create(api, su, {"name": "tables", "listRule": "", "fields": [{"name": "commit", "type": "number"}]})
    record = api.post(
        "/api/collections/select/records", json={"order": "1", "where": "w", "select": "s"}
    ).json()
    assert (record["order"], record["where"], record["select"]) == ("1", "w", "s")
    listed = api.get(
        "/api/collections/select/records", params={"filter": 'where = "w"', "sort": "-order"}
    ).json()
    assert [i["id"] for i in listed["items"]] == [record["id"]]
    assert api.get("/api/collections/tables/records").json()["totalItems"] == 0


def test_update_renames_retypes_adds_and_drops_with_data(api, su):
    collection = create(
        api,
        su,
        {
            "name": "gadgets",
            "listRule": "",
            "viewRule": "",
            "createRule": "",
            "fields": [
                {"name": "label", "type": "text"},
                {"name": "count", "type": "text"},
                {"name": "kind", "type": "select", "values": ["x", "y"], "maxSelect": 1},
                {"name": "obsolete", "type": "bool"},
            ],
        },
    )
    record = api.post(
        "/api/collections/gadgets/records",
        json={"label": "one", "count": "42", "kind": "y", "obsolete": True},
    ).json()
    fields = {f["name"]: f for f in collection["fields"]}
    fields["label"]["name"] = "title"  # rename (same field id)
    fields["count"]["type"] = "number"  # retype text -> number
    fields["kind"]["maxSelect"] = 2  # single -> multiple
    new_fields = [
        fields["id"],
        fields["label"],
        fields["count"],
        fields["kind"],
        {"name": "extra", "type": "text"},
    ]
    response = api.patch(
        "/api/collections/gadgets", headers=su, json={"name": "widgets", "fields": new_fields}
    )
    assert response.status_code == 200, response.text
    assert [f["name"] for f in response.json()["fields"]] == ["id", "title", "count", "kind", "extra"]
    moved = api.get(f"/api/collections/widgets/records/{record['id']}").json()
    assert (
        moved["title"] == "one" and moved["count"] == 42 and moved["kind"] == ["y"] and moved["extra"] == ""
    )
    assert "obsolete" not in moved and "label" not in moved
    assert api.get("/api/collections/gadgets/records").status_code == 404


def test_failed_update_changes_nothing(api, su):
    create(api, su, {"name": "stable", "listRule": "", "fields": [{"name": "a", "type": "text"}]})
    before = api.get("/api/collections/stable", headers=su).json()
    bad = api.patch(
        "/api/collections/stable",
        headers=su,
        json={"fields": [*before["fields"], {"name": "b", "type": "nope"}]},
    )
    assert bad.status_code == 400
    assert bad.json()["data"]["fields"]["2"]["type"]["code"] == "validation_in_invalid"
    assert api.get("/api/collections/stable", headers=su).json() == before


def test_delete_truncate_and_dependencies(api, su):
    parent = create(api, su, {"name": "parents", "listRule": "", "createRule": ""})
    create(
        api,
        su,
        {
            "name": "kids",
            "createRule": "",
            "fields": [{"name": "p", "type": "relation", "collectionId": parent["id"]}],
        },
    )
    blocked = api.delete("/api/collections/parents", headers=su)
    assert blocked.status_code == 400
    assert blocked.json()["message"] == "Failed to delete collection due to existing dependency."
    system = api.delete("/api/collections/_superusers", headers=su)
    assert system.status_code == 400
    for _ in range(3):
        api.post("/api/collections/parents/records", json={})
    assert api.get("/api/collections/parents/records").json()["totalItems"] == 3
    assert api.delete("/api/collections/parents/truncate", headers=su).status_code == 204
    assert api.get("/api/collections/parents/records").json()["totalItems"] == 0
    assert api.delete("/api/collections/kids", headers=su).status_code == 204
    assert api.delete("/api/collections/parents", headers=su).status_code == 204
    assert api.get("/api/collections/parents", headers=su).status_code == 404


def test_list_with_filter_sort_fields_and_pagination(api, su):
    for name in ("x_alpha", "x_beta", "y_gamma"):
        create(api, su, {"name": name})
    body = api.get(
        "/api/collections", headers=su, params={"filter": 'name ~ "x_"', "perPage": 1, "sort": "-name",
                                               "fields": "id,name,type"},
    ).json()  # fmt: skip
    assert (body["totalItems"], body["totalPages"]) == (2, 2)
    assert body["items"][0]["name"] == "x_beta" and set(body["items"][0]) == {"id", "name", "type"}
    names = [
        c["name"] for c in api.get("/api/collections", headers=su, params={"perPage": 100}).json()["items"]
    ]
    assert {"_superusers", "users", "x_alpha"} <= set(names)


def test_import_with_delete_missing_and_scaffolds(api, su):
    create(api, su, {"name": "to_remove"})
    keep = create(api, su, {"name": "to_keep", "fields": [{"name": "a", "type": "text"}]})
    keep["fields"].append({"name": "b", "type": "number"})
    response = api.put(
        "/api/collections/import",
        headers=su,
        json={"collections": [keep, {"name": "brand_new", "fields": [{"name": "x", "type": "bool"}]}],
              "deleteMissing": True},
    )  # fmt: skip
    assert response.status_code == 204, response.text
    names = {c["name"] for c in api.get("/api/collections", headers=su).json()["items"]}
    assert {"to_keep", "brand_new", "_superusers", "_otps", "_mfas", "_externalAuths"} <= names
    assert "to_remove" not in names and "users" not in names, (
        "non-system collections not imported are deleted"
    )
    assert [f["name"] for f in api.get("/api/collections/to_keep", headers=su).json()["fields"]] == [
        "id",
        "a",
        "b",
    ]
    scaffolds = api.get("/api/collections/meta/scaffolds", headers=su).json()
    assert set(scaffolds) == {"auth", "base", "view"}
    assert [f["name"] for f in scaffolds["base"]["fields"]] == ["id"]
    assert [f["name"] for f in scaffolds["auth"]["fields"]][:6] == [
        "id", "password", "tokenKey", "email", "emailVisibility", "verified",
    ]  # fmt: skip
    assert scaffolds["auth"]["authToken"] == {"duration": 432000}, "secrets are never sent"


def test_collections_api_is_superuser_only(api, su):
    assert api.get("/api/collections").status_code == 401
    create_user(api, "user@example.com")
    user = user_headers(api, "user@example.com")
    response = api.get("/api/collections", headers=user)
    assert response.status_code == 403
    assert response.json()["message"] == "The authorized record is not allowed to perform this action."
    assert api.post("/api/collections", headers=user, json={"name": "nope"}).status_code == 403


@pytest.mark.parametrize(
    ("definition", "where"),
    [
        ({"name": ""}, "name"),
        ({"name": "_private"}, "name"),
        ({"name": "a" * 64}, "name"),
        ({"name": "posts_via_x"}, "name"),
        ({"name": "ok", "fields": [{"name": "expand", "type": "text"}]}, "fields"),
        ({"name": "ok", "fields": [{"name": "a", "type": "text"}, {"name": "A", "type": "text"}]}, "fields"),
        (
            {"name": "ok", "fields": [{"name": "r", "type": "relation", "collectionId": "pbc_missing"}]},
            "fields",
        ),
        ({"name": "ok", "fields": [{"name": "s", "type": "select", "values": []}]}, "fields"),
        ({"name": "ok", "fields": [{"name": "p", "type": "password"}]}, "fields"),
        ({"name": "ok", "indexes": ["DROP TABLE users"]}, "indexes"),
        ({"name": "ok", "indexes": ["CREATE INDEX i ON ok (nosuch)"]}, "indexes"),
        ({"name": "ok", "listRule": "nosuch = 1"}, "listRule"),
        ({"name": "ok", "type": "view"}, "type"),
        ({"name": "ok", "fields": [{"name": f"f{i}", "type": "text"} for i in range(1000)]}, "fields"),
    ],
)
def test_invalid_definitions_are_400_and_create_nothing(api, su, definition, where):
    """VAL-5: invalid names, reserved words, duplicates, 1000 fields, bad relations, indexes, rules."""
    response = api.post("/api/collections", headers=su, json=definition)
    assert response.status_code == 400, response.text
    if where:
        assert where in response.json()["data"]
    names = {
        c["name"] for c in api.get("/api/collections", headers=su, params={"perPage": 500}).json()["items"]
    }
    assert names == {"_superusers", "users", "_mfas", "_otps", "_authOrigins", "_externalAuths"}


def test_circular_relations_are_allowed(api, su):
    a = create(api, su, {"name": "aa", "listRule": "", "viewRule": "", "createRule": "", "updateRule": ""})
    b = create(
        api,
        su,
        {"name": "bb", "listRule": "", "viewRule": "", "createRule": "",
         "fields": [{"name": "a", "type": "relation", "collectionId": a["id"]}]},
    )  # fmt: skip
    fields = [*a["fields"], {"name": "b", "type": "relation", "collectionId": b["id"]},
              {"name": "self", "type": "relation", "collectionId": a["id"]}]  # fmt: skip
    assert api.patch("/api/collections/aa", headers=su, json={"fields": fields}).status_code == 200
    first = api.post("/api/collections/aa/records", json={}).json()
    second = api.post("/api/collections/bb/records", json={"a": first["id"]}).json()
    api.patch(f"/api/collections/aa/records/{first['id']}", json={"b": second["id"], "self": first["id"]})
    expanded = api.get(
        f"/api/collections/aa/records/{first['id']}", params={"expand": "b.a.b.a.b.a.b.a,self"}
    ).json()
    assert expanded["expand"]["self"]["id"] == first["id"]
    depth, node = 0, expanded
    while node.get("expand", {}).get("b") or node.get("expand", {}).get("a"):
        node = node["expand"].get("b") or node["expand"].get("a")
        depth += 1
    assert depth == 6, "expand stops at 6 levels"
