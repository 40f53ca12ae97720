"""Issue 8 finding 8: superuser DDL that used to fail inside the database (500) is a 400 with a
validation code, and leaves nothing behind — on SQLite and PostgreSQL, through both doors.

Tables and indexes share one namespace on both engines; PostgreSQL also has system columns, a
32-column index limit, and truncates identifiers to 63 bytes.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.scenario import superuser_headers


@pytest.fixture
def su(api):
    headers = superuser_headers(api)
    first = {"name": "things", "fields": [{"name": "t", "type": "text"}],
             "indexes": ["CREATE INDEX idx_things_t ON things (t)"]}  # fmt: skip
    assert api.post("/api/collections", headers=headers, json=first).status_code == 200
    return headers


def names(api, su) -> list[str]:
    response = api.get("/api/collections", headers=su, params={"perPage": 500})
    return sorted(c["name"] for c in response.json()["items"])


def refused(api, su, method: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
    before = names(api, su)
    response = api.request(method, url, headers=su, json=body)
    assert response.status_code == 400, response.text
    payload = response.json()
    assert payload["status"] == 400 and payload["message"].startswith("Failed to")
    assert names(api, su) == before  # rolled back / never started
    return payload["data"]


def base(name: str, indexes: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "fields": [{"name": "t", "type": "text"}], "indexes": indexes or [], **extra}


def test_index_named_like_an_existing_table(api, su):
    for taken in ("things", "THINGS", "users", "_superusers", "_collections", "_params"):
        data = refused(api, su, "POST", "/api/collections", base("a1", [f"CREATE INDEX {taken} ON a1 (t)"]))
        assert data["indexes"]["0"]["code"] == "validation_invalid_index_expression", (taken, data)
    # its own table too
    data = refused(api, su, "POST", "/api/collections", base("a1", ["CREATE INDEX a1 ON a1 (t)"]))
    assert data["indexes"]["0"]["code"] == "validation_invalid_index_expression"


def test_index_named_like_an_index_of_another_collection(api, su):
    for taken, owner in (("idx_things_t", "things"), ("IDX_THINGS_T", "things"),
                         ("idx_tokenKey__pb_users_auth_", "users")):  # fmt: skip
        data = refused(api, su, "POST", "/api/collections", base("a2", [f"CREATE INDEX {taken} ON a2 (t)"]))
        error = data["indexes"]["0"]
        assert error["code"] == "validation_existing_index_name", (taken, data)
        assert error["params"] == {"usedTableName": owner}
    # the same through an update and an import
    assert api.post("/api/collections", headers=su, json=base("a2")).status_code == 200
    data = refused(
        api, su, "PATCH", "/api/collections/a2", {"indexes": ["CREATE INDEX idx_things_t ON a2 (t)"]}
    )
    assert data["indexes"]["0"]["code"] == "validation_existing_index_name"
    data = refused(api, su, "PUT", "/api/collections/import",
                   {"collections": [base("a3", ["CREATE INDEX idx_things_t ON a3 (t)"])]})  # fmt: skip
    assert data["collections"]["0"]["indexes"]["0"]["code"] == "validation_existing_index_name"
    # re-creating its own index on update is fine
    keep = api.patch(
        "/api/collections/things", headers=su, json={"indexes": ["CREATE INDEX idx_things_t ON things (t)"]}
    )
    assert keep.status_code == 200, keep.text


def test_collection_named_like_an_existing_index(api, su):
    for taken in ("idx_things_t", "idx_email__pb_users_auth_"):
        data = refused(api, su, "POST", "/api/collections", base(taken))
        assert data["name"]["code"] == "validation_collection_name_exists", data
    assert api.post("/api/collections", headers=su, json=base("other")).status_code == 200
    data = refused(api, su, "PATCH", "/api/collections/other", {"name": "idx_things_t"})
    assert data["name"]["code"] == "validation_collection_name_exists"


def test_names_postgresql_keeps_after_a_rename_are_a_400(api, su):
    """PostgreSQL does not rename a table's primary-key index with the table: the database's own
    "already exists" answer becomes a 400 too (SQLite has no such object and accepts)."""
    renamed = api.patch("/api/collections/things", headers=su, json={"name": "stuff"})
    assert renamed.status_code == 200, renamed.text
    response = api.post("/api/collections", headers=su, json=base("things_pkey"))
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["data"]["name"]["code"] == "validation_collection_name_exists"
    response = api.post(
        "/api/collections", headers=su, json=base("a4", ["CREATE INDEX things_pkey ON a4 (t)"])
    )
    assert response.status_code == 400, response.text
    assert response.json()["data"]["indexes"]["0"]["code"].startswith("validation_")


@pytest.mark.parametrize("column", ["xmin", "xmax", "cmin", "cmax", "ctid", "tableoid", "oid"])
def test_postgresql_system_column_names_are_reserved_on_both_engines(api, su, column):
    body = {"name": "sys", "fields": [{"name": column, "type": "text"}]}
    data = refused(api, su, "POST", "/api/collections", body)
    assert data["fields"]["1"]["name"]["code"] == "validation_not_in_invalid"
    fields = [{"name": "t", "type": "text"}, {"name": column, "type": "number"}]
    data = refused(api, su, "PATCH", "/api/collections/things", {"fields": fields})
    assert data["fields"]["2"]["name"]["code"] == "validation_not_in_invalid"


def test_index_column_limit(api, su):
    fields = [{"name": f"f{i}", "type": "text"} for i in range(33)]
    columns = ", ".join(f"f{i}" for i in range(33))
    body = {"name": "wide", "fields": fields, "indexes": [f"CREATE INDEX idx_wide ON wide ({columns})"]}
    data = refused(api, su, "POST", "/api/collections", body)
    assert data["indexes"]["0"]["code"] == "validation_invalid_index_expression"
    body["indexes"] = ["CREATE INDEX idx_wide ON wide (" + ", ".join(f"f{i}" for i in range(32)) + ")"]
    assert api.post("/api/collections", headers=su, json=body).status_code == 200


@pytest.mark.parametrize("kind", ["base", "auth"])
def test_long_collection_ids_sharing_a_prefix(api, su, kind):
    """Ids up to 100 characters (PocketBase's bound) work; names made from them stay distinct
    within PostgreSQL's 63-byte identifiers."""
    made = []
    for suffix in ("1", "2"):
        body = {"id": "x" * 99 + suffix, "name": f"long{suffix}", "type": kind,
                "fields": [{"name": "t", "type": "text"}]}  # fmt: skip
        response = api.post("/api/collections", headers=su, json=body)
        assert response.status_code == 200, response.text
        made.append(response.json())
    for collection in made:
        for text in collection["indexes"]:
            name = text.split(" INDEX ")[1].split(" ON ")[0].strip("`")
            assert len(name) <= 63, name
    if kind == "auth":
        index_names = [set(c["indexes"]) for c in made]
        assert not index_names[0] & index_names[1]
        secret = "pass-word-1"
        body = {"email": "l@example.com", "password": secret, "passwordConfirm": secret}
        user = api.post("/api/collections/long2/records", headers=su, json=body)
        assert user.status_code == 200, user.text
    else:
        assert api.post("/api/collections/long2/records", headers=su, json={"t": "a"}).status_code == 200
    too_long = {"id": "y" * 101, "name": "long3"}
    data = refused(api, su, "POST", "/api/collections", too_long)
    assert data["id"]["code"] == "validation_length_out_of_range"
