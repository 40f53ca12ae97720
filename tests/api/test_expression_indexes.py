"""Issue 9: PocketBase's partial and expression indexes import, on SQLite and PostgreSQL.

Valid PocketBase collection JSON carries indexes such as ``CREATE UNIQUE INDEX ... (lower(name))``,
``... WHERE status != 'archived'`` or ``(email COLLATE NOCASE DESC)``; they used to be refused.
They are now parsed with a real SQL parser, checked against the collection's fields, and rendered
for each engine: the index exists in the database, a unique partial index refuses duplicates only
where its WHERE holds, and a case-insensitive unique index refuses case variants on both engines.
Anything that is not a plain index definition is a 400 and creates nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.scenario import superuser_headers

FIELDS = [
    {"name": "name", "type": "text"},
    {"name": "slug", "type": "text"},
    {"name": "email", "type": "email"},
    {"name": "status", "type": "select", "values": ["draft", "active", "archived"], "maxSelect": 1},
    {"name": "score", "type": "number"},
    {"name": "active", "type": "bool"},
    {"name": "meta", "type": "json"},
]

# Real definitions: PocketBase's own system collections (as its 0.40.6 exports them, renamed onto
# this collection) and the user indexes PocketBase accepts (checked against the real binary).
POCKETBASE_INDEXES = {
    "idx_members_slug": "CREATE UNIQUE INDEX `idx_members_slug` ON `members` (`slug`) WHERE `slug` != ''",
    "idx_members_refs": "CREATE INDEX `idx_members_refs` ON `members` (status,score)",
    "idx_members_pairs": "CREATE UNIQUE INDEX `idx_members_pairs` ON `members` (name, email, slug)",
    "idx_members_name_ci": "CREATE UNIQUE INDEX idx_members_name_ci ON members (lower(name))",
    "idx_members_email_nc": "CREATE INDEX idx_members_email_nc ON members (email COLLATE NOCASE DESC)",
    "idx_members_live": (
        "CREATE UNIQUE INDEX idx_members_live ON members (email) WHERE active = 1 AND status != 'archived'"
    ),
    "idx_members_city": (
        "CREATE INDEX idx_members_city ON members (json_extract(meta, '$.address.city'))"
        " WHERE meta IS NOT NULL"
    ),
    "idx_members_trim": "CREATE INDEX IF NOT EXISTS idx_members_trim ON members (trim(name), upper(status))",
    "idx_members_top": "CREATE INDEX idx_members_top ON members (score DESC) WHERE score >= 10 OR NOT active",
}


@pytest.fixture
def su(api):
    return superuser_headers(api)


def database_indexes(api: Any, table: str) -> dict[str, str]:
    """Index name -> the definition the engine itself holds for ``table``."""
    db = api.runtime.db
    if db.dialect == "postgres":
        rows = db.fetchall("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", (table,))
    else:
        rows = db.fetchall(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,)
        )
    return {name: sql or "" for name, sql in rows}


def tables(api: Any) -> set[str]:
    db = api.runtime.db
    if db.dialect == "postgres":
        rows = db.fetchall("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    else:
        rows = db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row[0] for row in rows}


def test_pocketbase_index_definitions_import_and_exist_in_the_database(api, su):
    collection = {
        "name": "members",
        "type": "base",
        "fields": FIELDS,
        "indexes": list(POCKETBASE_INDEXES.values()),
    }
    response = api.put("/api/collections/import", headers=su, json={"collections": [collection]})
    assert response.status_code == 204, response.text
    stored = api.get("/api/collections/members", headers=su).json()["indexes"]
    assert len(stored) == len(POCKETBASE_INDEXES)
    present = database_indexes(api, "members")
    assert set(POCKETBASE_INDEXES) <= set(present), sorted(present)
    nocase = present["idx_members_email_nc"]
    city = present["idx_members_city"]
    if api.runtime.db.dialect == "postgres":
        assert "lower(email)" in nocase and "DESC" in nocase
        assert "#>>" in city and "{address,city}" in city
        assert "active = true" in present["idx_members_live"]
    else:
        assert "COLLATE NOCASE DESC" in nocase
        assert "json_extract" in city
    # The stored text is itself a valid definition: re-importing the exported collection is a no-op.
    exported = api.get("/api/collections/members", headers=su).json()
    again = api.put("/api/collections/import", headers=su, json={"collections": [exported]})
    assert again.status_code == 204, again.text
    assert api.get("/api/collections/members", headers=su).json()["indexes"] == stored


def create_accounts(api, su, indexes: list[str]) -> None:
    definition = {
        "name": "accounts",
        "listRule": "",
        "createRule": "",
        "fields": [
            {"name": "handle", "type": "text"},
            {"name": "nick", "type": "text"},
            {"name": "active", "type": "bool"},
            {"name": "meta", "type": "json"},
        ],
        "indexes": indexes,
    }
    response = api.post("/api/collections", headers=su, json=definition)
    assert response.status_code == 200, response.text


def post(api, **record: Any):
    return api.post("/api/collections/accounts/records", json=record)


def test_a_unique_partial_index_holds_only_where_its_condition_does(api, su):
    create_accounts(api, su, ["CREATE UNIQUE INDEX idx_live_handle ON accounts (handle) WHERE active = TRUE"])
    assert post(api, handle="sam", active=False).status_code == 200
    assert post(api, handle="sam", active=False).status_code == 200, "inactive duplicates are allowed"
    assert post(api, handle="sam", active=True).status_code == 200
    duplicate = post(api, handle="sam", active=True)
    assert duplicate.status_code == 400, duplicate.text
    assert duplicate.json()["data"]["handle"]["code"] == "validation_not_unique"
    assert post(api, handle="kim", active=True).status_code == 200
    listed = api.get("/api/collections/accounts/records", params={"filter": "handle='sam'"}).json()
    assert listed["totalItems"] == 3


def test_case_insensitive_unique_indexes_refuse_case_variants_on_both_engines(api, su):
    create_accounts(
        api,
        su,
        [
            "CREATE UNIQUE INDEX idx_handle_lower ON accounts (lower(handle))",
            "CREATE UNIQUE INDEX idx_nick_nocase ON accounts (nick COLLATE NOCASE)",
        ],
    )
    assert post(api, handle="Bob", nick="Nick").status_code == 200
    assert post(api, handle="bOB", nick="other").status_code == 400
    assert post(api, handle="alice", nick="nICK").status_code == 400
    assert post(api, handle="alice", nick="nick2").status_code == 200


def test_a_unique_index_on_a_json_path_with_a_partial_condition(api, su):
    create_accounts(
        api,
        su,
        ["CREATE UNIQUE INDEX idx_meta_ref ON accounts (json_extract(meta, '$.ref')) WHERE handle != ''"],
    )
    assert post(api, handle="a", meta={"ref": "x1"}).status_code == 200
    assert post(api, handle="", meta={"ref": "x1"}).status_code == 200, "outside the WHERE"
    assert post(api, handle="b", meta={"ref": "x1"}).status_code == 400
    assert post(api, handle="b", meta={"ref": "x2"}).status_code == 200


HOSTILE = [
    "CREATE INDEX idx_h ON accounts (handle); DROP TABLE users",
    "CREATE INDEX idx_h ON accounts (handle) WHERE handle = (SELECT email FROM _superusers LIMIT 1)",
    "CREATE INDEX idx_h ON accounts (handle) WHERE handle IN (SELECT id FROM users)",
    "CREATE INDEX idx_h ON accounts ((SELECT 1))",
    "CREATE INDEX idx_h ON accounts (users.email)",
    "CREATE INDEX idx_h ON main.accounts (handle)",
    "CREATE INDEX idx_h ON accounts (random())",
    "CREATE INDEX idx_h ON accounts (load_extension('/tmp/x'))",
    "CREATE INDEX idx_h ON accounts (handle) WHERE handle LIKE 'a%'",
    "CREATE INDEX idx_h ON accounts (handle || nick)",
    "CREATE INDEX idx_h ON accounts (handle COLLATE BINARY)",
    'CREATE INDEX "idx""; DROP TABLE users; --" ON accounts (handle)',
    "CREATE INDEX idx_h ON accounts (handle) WHERE 1",
    "CREATE INDEX idx_h ON accounts (handle) WHERE handle",
    "CREATE INDEX idx_h ON accounts (lower(active))",
    "CREATE INDEX idx_h ON accounts (handle) WHERE meta = '{}'",
    "CREATE INDEX idx_h ON accounts (handle) WHERE handle = NULL",
    "CREATE INDEX idx_h ON accounts (json_extract(meta, '$..a'))",
    "CREATE INDEX idx_h ON accounts (nosuch)",
    "CREATE INDEX idx_h ON accounts (lower(nosuch))",
    "CREATE INDEX idx_h ON accounts (handle) WHERE nosuch != ''",
    "CREATE INDEX CONCURRENTLY idx_h ON accounts (handle)",
    "CREATE INDEX idx_h ON accounts (handle) WHERE " + "(" * 400 + "handle = 'a'" + ")" * 400,
    "CREATE INDEX idx_h ON accounts (handle) WHERE " + " OR ".join(["handle = 'a'"] * 40),
    "CREATE TABLE evil (a TEXT)",
    "PRAGMA writable_schema = 1",
]


@pytest.mark.parametrize("definition", HOSTILE)
def test_hostile_index_definitions_are_400_and_change_nothing(api, su, definition):
    body = {
        "name": "accounts",
        "fields": [{"name": "handle", "type": "text"}, {"name": "nick", "type": "text"},
                   {"name": "active", "type": "bool"}, {"name": "meta", "type": "json"}],
        "indexes": [definition],
    }  # fmt: skip
    before = tables(api)
    response = api.post("/api/collections", headers=su, json=body)
    assert response.status_code == 400, response.text
    payload = response.json()
    assert payload["status"] == 400
    assert payload["data"]["indexes"]["0"]["code"] == "validation_invalid_index_expression", payload
    assert api.get("/api/collections/accounts", headers=su).status_code == 404
    assert api.get("/api/collections/users", headers=su).status_code == 200
    assert tables(api) == before
