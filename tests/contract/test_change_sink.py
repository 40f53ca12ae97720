"""The change-sink contract (``app.core.events``), on SQLite and PostgreSQL.

Every kind of write — records API, batch, cascade delete and detach, truncate, auth flows (OTP,
MFA, auth origins, password reset and verification confirms, auth leftovers), hooks' own writes,
collection create/update/delete — must reach the sink as exactly one change per affected record,
with before/after equal to the stored rows, once committed and never while the transaction is open;
nothing after a rollback (a failing batch, a hook that raises).

The check is generic: each operation is run between two snapshots of every table, and the net
effect of the published changes (first ``before``, last ``after`` per record) must be the snapshot
difference, with no record left out and none made up.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from app.core.errors import BadRequest
from app.core.events import CollectionChange, RecordChange
from app.db.sql import where
from tests.api.test_auth_signin import enable, request_code
from tests.support.doors import AsgiDoor
from tests.support.mailbox import last_mail
from tests.support.scenario import create_user, enable_batch, superuser_headers, user_headers

USERS = "/api/collections/users"


class RecordingSink:
    """Keeps every published batch; fails the test if it is called inside a transaction."""

    def __init__(self) -> None:
        self.batches: list[list[Any]] = []
        self.db: Any = None
        self.published_inside_transaction = False

    def publish(self, changes: Sequence[Any]) -> None:
        if self.db is not None and self.db.in_transaction:
            self.published_inside_transaction = True
        self.batches.append(list(changes))

    def take(self) -> list[list[Any]]:
        batches, self.batches = self.batches, []
        return batches


@pytest.fixture
def door(make_settings: Any) -> Iterator[Any]:
    from app import create_app

    sink = RecordingSink()
    door = AsgiDoor(create_app(make_settings(), change_sink=sink))
    sink.db = door.runtime.db
    door.sink = sink
    door.su = superuser_headers(door)
    yield door
    assert not sink.published_inside_transaction, "the sink was called while a transaction was open"
    door.close()


def snapshot(runtime: Any) -> dict[tuple[str, str], dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for compiled in runtime.registry.all():
        if compiled.collection.is_view:
            continue
        for row in runtime.db.fetchall(where(compiled.table)._select(*compiled.all_columns)):
            record = compiled.row_to_python(row, compiled.collection.fields)
            rows[(compiled.name, str(record["id"]))] = record
    return rows


def comparable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if values is None else {k: str(v) for k, v in values.items()}


def expect_changes(door: Any, operation: Any) -> list[RecordChange]:
    """Run ``operation``; check the published changes against the tables' difference; return them."""
    door.sink.take()
    before = snapshot(door.runtime)
    operation()
    after = snapshot(door.runtime)
    changes = [c for batch in door.sink.take() for c in batch if isinstance(c, RecordChange)]
    net: dict[tuple[str, str], list[Any]] = {}
    for change in changes:
        key = (change.collection_name, change.record_id)
        if key in net:
            # two writes of one record chain: a change repeated or left out would break it
            assert comparable(change.before) == comparable(net[key][1]), f"changes of {key} do not chain"
            net[key][1] = change.after
        else:
            net[key] = [change.before, change.after]
    touched = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert touched <= net.keys(), f"writes without a change: {sorted(touched - net.keys())}"
    for key, (first, last) in net.items():
        assert comparable(first) == comparable(before.get(key)), f"wrong 'before' for {key}"
        assert comparable(last) == comparable(after.get(key)), f"wrong 'after' for {key}"
    return changes


def actions(changes: list[RecordChange]) -> list[tuple[str, str]]:
    return [(c.collection_name, c.action) for c in changes]


def make_world(door: Any) -> None:
    su = door.su
    for body in (
        {"name": "authors", "fields": [{"name": "name", "type": "text"}]},
        {
            "name": "posts",
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "author", "type": "relation", "collectionId": "authors", "cascadeDelete": True},
            ],
        },
        {
            "name": "notes",
            "fields": [
                {"name": "body", "type": "text"},
                {"name": "authors", "type": "relation", "collectionId": "authors", "maxSelect": 5},
            ],
        },
    ):
        for field in body["fields"]:
            if field.get("collectionId"):
                field["collectionId"] = door.get(
                    f"/api/collections/{field['collectionId']}", headers=su
                ).json()["id"]
        for rule in ("listRule", "viewRule", "createRule", "updateRule", "deleteRule"):
            body[rule] = ""
        response = door.post("/api/collections", json=body, headers=su)
        assert response.status_code == 200, response.text


def create(door: Any, collection: str, body: dict[str, Any], headers: Any = None) -> dict[str, Any]:
    response = door.post(f"/api/collections/{collection}/records", json=body, headers=headers or {})
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- records API ---------------------------------------------------------------------------------


def test_create_update_delete_each_publish_one_change_after_commit(door):
    make_world(door)
    create_user(door, "ann@example.com")
    ann = user_headers(door, "ann@example.com")
    created: dict[str, Any] = {}

    def do_create() -> None:
        created.update(create(door, "authors", {"name": "Ann"}, ann))

    changes = expect_changes(door, do_create)
    assert actions(changes) == [("authors", "create")]
    assert changes[0].before is None and changes[0].after["name"] == "Ann"
    assert changes[0].auth is not None and changes[0].auth.record["email"] == "ann@example.com"
    url = f"/api/collections/authors/records/{created['id']}"
    changes = expect_changes(door, lambda: door.patch(url, json={"name": "Anna"}))
    assert actions(changes) == [("authors", "update")]
    assert (changes[0].before["name"], changes[0].after["name"]) == ("Ann", "Anna")
    changes = expect_changes(door, lambda: door.delete(url))
    assert actions(changes) == [("authors", "delete")]
    assert changes[0].before["name"] == "Anna" and changes[0].after is None
    assert len({c.id for c in changes}) == len(changes)


def test_the_sink_sees_nothing_while_the_transaction_is_open_and_a_hook_write_joins_it(door):
    make_world(door)
    seen_inside: list[int] = []

    @door.runtime.hooks.on_record_create("posts", stage="after")
    def write_a_note(event: Any) -> None:
        seen_inside.append(len(door.sink.batches))
        door.runtime.records.create("notes", {"body": "by a hook"}, _system())

    author = create(door, "authors", {"name": "A"})
    door.sink.take()
    changes = expect_changes(door, lambda: create(door, "posts", {"title": "t", "author": author["id"]}))
    assert seen_inside == [0], "nothing published before the commit"
    assert actions(changes) == [("posts", "create"), ("notes", "create")]


def test_a_hook_that_raises_rolls_back_and_publishes_nothing(door):
    make_world(door)

    @door.runtime.hooks.on_record_create("authors", stage="after")
    def refuse(event: Any) -> None:
        door.runtime.records.create("notes", {"body": "lost with the rollback"}, _system())
        raise BadRequest("No.")

    changes = expect_changes(door, lambda: door.post("/api/collections/authors/records", json={"name": "x"}))
    assert changes == []


# -- batch -----------------------------------------------------------------------------------------


def test_a_batch_is_one_publish_and_a_failing_batch_publishes_nothing(door):
    make_world(door)
    enable_batch(door, door.su)
    author = create(door, "authors", {"name": "A"})
    door.sink.take()
    ok = {
        "requests": [
            {"method": "POST", "url": "/api/collections/authors/records", "body": {"name": "B"}},
            {
                "method": "PATCH",
                "url": f"/api/collections/authors/records/{author['id']}",
                "body": {"name": "A2"},
            },
        ]
    }
    door.sink.take()
    before = snapshot(door.runtime)
    assert door.post("/api/batch", json=ok).status_code == 200
    batches = door.sink.batches
    assert len(batches) == 1 and len(batches[0]) == 2, "one publish with both changes"
    door.sink.take()
    assert len(snapshot(door.runtime)) == len(before) + 1
    failing = {
        "requests": [
            {"method": "POST", "url": "/api/collections/authors/records", "body": {"name": "C"}},
            {"method": "PATCH", "url": "/api/collections/authors/records/missingmissing1", "body": {}},
        ]
    }
    changes = expect_changes(door, lambda: door.post("/api/batch", json=failing))
    assert changes == [] and door.sink.batches == []


# -- cascades and truncate -----------------------------------------------------------------------


def test_cascade_delete_and_detach_publish_one_change_per_affected_record(door):
    make_world(door)
    a = create(door, "authors", {"name": "A"})
    b = create(door, "authors", {"name": "B"})
    create(door, "posts", {"title": "p1", "author": a["id"]})
    create(door, "posts", {"title": "p2", "author": a["id"]})
    note = create(door, "notes", {"body": "n", "authors": [a["id"], b["id"]]})
    changes = expect_changes(door, lambda: door.delete(f"/api/collections/authors/records/{a['id']}"))
    assert sorted(actions(changes)) == [
        ("authors", "delete"), ("notes", "update"), ("posts", "delete"), ("posts", "delete"),
    ]  # fmt: skip
    detach = next(c for c in changes if c.collection_name == "notes")
    assert detach.record_id == note["id"]
    assert (detach.before["authors"], detach.after["authors"]) == ([a["id"], b["id"]], [b["id"]])


def test_truncate_deletes_record_by_record_and_detaches_relations(door):
    make_world(door)
    a = create(door, "authors", {"name": "A"})
    b = create(door, "authors", {"name": "B"})
    create(door, "posts", {"title": "p", "author": b["id"]})
    create(door, "notes", {"body": "n", "authors": [a["id"], b["id"]]})
    url = "/api/collections/authors/truncate"
    changes = expect_changes(door, lambda: door.delete(url, headers=door.su))
    assert sorted(actions(changes)) == [
        ("authors", "delete"), ("authors", "delete"), ("notes", "update"), ("notes", "update"),
        ("posts", "delete"),
    ]  # fmt: skip
    assert all(c.auth is not None and c.auth.is_superuser for c in changes), "made by the superuser"
    notes = door.get("/api/collections/notes/records").json()["items"]
    assert [n["authors"] for n in notes] == [[]], "no relation left pointing at a truncated record"
    assert door.get("/api/collections/posts/records").json()["items"] == [], "cascaded"


# -- auth flows ------------------------------------------------------------------------------------


def test_otp_mfa_and_auth_origin_writes_are_changes(door):
    create_user(door, "mia@example.com", password="mia-password-77")
    enable(door, otp={"enabled": True}, mfa={"enabled": True}, authAlert={"enabled": True})
    session: dict[str, Any] = {}

    def first_factor() -> None:
        response = door.post(
            f"{USERS}/auth-with-password", json={"identity": "mia@example.com", "password": "mia-password-77"}
        )
        assert response.status_code == 401, response.text
        session["mfa"] = response.json()["mfaId"]

    assert actions(expect_changes(door, first_factor)) == [("_mfas", "create")]
    code: dict[str, str] = {}

    def request() -> None:
        code["id"], code["code"] = request_code(door, "mia@example.com")

    assert actions(expect_changes(door, request)) == [("_otps", "create")]

    def second_factor() -> None:
        body = {"otpId": code["id"], "password": code["code"], "mfaId": session["mfa"]}
        assert door.post(f"{USERS}/auth-with-otp", json=body).status_code == 200

    changes = actions(expect_changes(door, second_factor))
    # the OTP proved the email: the user is marked verified as well (as in PocketBase)
    assert sorted(changes) == [
        ("_authOrigins", "create"), ("_mfas", "delete"), ("_otps", "delete"), ("users", "update"),
    ]  # fmt: skip
    # a second sign-in from the same origin refreshes it (an update change)
    enable(door, mfa={"enabled": False})

    def again() -> None:
        body = {"identity": "mia@example.com", "password": "mia-password-77"}
        assert door.post(f"{USERS}/auth-with-password", json=body).status_code == 200

    assert actions(expect_changes(door, again)) == [("_authOrigins", "update")]
    mia = door.get(f"{USERS}/records", headers=door.su).json()["items"][0]
    changes = expect_changes(door, lambda: door.delete(f"{USERS}/records/{mia['id']}", headers=door.su))
    assert sorted(actions(changes)) == [("_authOrigins", "delete"), ("users", "delete")]


def test_password_reset_and_verification_confirms_are_changes(door):
    user = create_user(door, "rita@example.com")
    assert door.post(f"{USERS}/request-verification", json={"email": "rita@example.com"}).status_code == 204
    token = last_mail(door, "rita@example.com").link_token()
    changes = expect_changes(door, lambda: door.post(f"{USERS}/confirm-verification", json={"token": token}))
    assert actions(changes) == [("users", "update")]
    assert (changes[0].before["verified"], changes[0].after["verified"]) == (False, True)
    assert door.post(f"{USERS}/request-password-reset", json={"email": "rita@example.com"}).status_code == 204
    token = last_mail(door, "rita@example.com").link_token()
    body = {"token": token, "password": "brand-new-pass-1", "passwordConfirm": "brand-new-pass-1"}
    changes = expect_changes(door, lambda: door.post(f"{USERS}/confirm-password-reset", json=body))
    assert actions(changes) == [("users", "update")] and changes[0].record_id == user["id"]
    assert changes[0].before["tokenKey"] != changes[0].after["tokenKey"], "the rotated key is in the change"


# -- collections -----------------------------------------------------------------------------------


def test_collection_create_update_delete_publish_collection_changes(door):
    su = door.su
    door.sink.take()
    created = door.post("/api/collections", json={"name": "things", "type": "base"}, headers=su).json()
    door.patch("/api/collections/things", json={"name": "stuff"}, headers=su)
    door.delete("/api/collections/stuff", headers=su)
    changes = [c for batch in door.sink.take() for c in batch]
    assert all(isinstance(c, CollectionChange) for c in changes)
    assert [(c.action, c.collection_id) for c in changes] == [
        ("create", created["id"]), ("update", created["id"]), ("delete", created["id"]),
    ]  # fmt: skip
    assert (changes[1].before["name"], changes[1].after["name"]) == ("things", "stuff")
    assert changes[0].before is None and changes[2].after is None


def _system() -> Any:
    from app.core.rules.context import RequestInfo

    return RequestInfo(context="system")


# -- OAuth2 linking and code-first collections ---------------------------------------------------


def test_oauth2_sign_up_and_linking_are_changes(door):
    from tests.api.test_oauth2 import ALICE, configure, oidc, sign_in
    from tests.support.fake_oauth2 import FakeOAuth2Provider

    fake = FakeOAuth2Provider().start()
    try:
        configure(door, door.su, oidc(fake))

        def sign_up() -> None:
            assert sign_in(door, fake, ALICE).status_code == 200

        changes = actions(expect_changes(door, sign_up))
        assert ("users", "create") in changes and ("_externalAuths", "create") in changes
        create_user(door, "erin@example.com", "erin-password-1")
        own = user_headers(door, "erin@example.com", "erin-password-1")
        proof = {"sub": "erin-g", "email": "erin@example.com", "email_verified": True}

        def link() -> None:
            assert sign_in(door, fake, proof, headers=own).status_code == 200

        changes = actions(expect_changes(door, link))
        assert ("_externalAuths", "create") in changes and ("users", "update") in changes
    finally:
        fake.stop()


def test_code_first_collections_and_their_records_are_changes(make_settings):
    from app import create_app

    sink = RecordingSink()
    door = AsgiDoor(create_app(make_settings(modules=("tests.support.codefirst_models",)), change_sink=sink))
    door.sink = sink
    try:
        door.runtime.sync_code_collections()
        synced = [c for batch in sink.take() for c in batch]
        assert {c.collection_name for c in synced if isinstance(c, CollectionChange)} >= {"products", "posts"}
        su = superuser_headers(door)
        create_product = lambda: create(door, "products", {"name": "Lamp", "price": 12.5}, su)  # noqa: E731
        changes = expect_changes(door, create_product)
        assert actions(changes) == [("products", "create")]
        assert changes[0].after["available"] is True, "the model's default is in the stored values"
    finally:
        door.close()


def test_a_rehash_at_sign_in_is_an_update_change(door):
    import bcrypt

    user = create_user(door, "legacy@example.com")
    compiled = door.runtime.registry.get("users")
    old = bcrypt.hashpw(b"old-pocketbase-pw", bcrypt.gensalt(4)).decode().replace("$2b$", "$2a$")
    door.runtime.records.update_columns(compiled, user["id"], {"password": old}, _system())

    def sign_in() -> None:
        body = {"identity": "legacy@example.com", "password": "old-pocketbase-pw"}
        assert door.post(f"{USERS}/auth-with-password", json=body).status_code == 200

    changes = expect_changes(door, sign_in)
    rehash = [c for c in changes if c.collection_name == "users"]
    assert len(rehash) == 1 and rehash[0].before["password"] == old
    assert rehash[0].after["password"].startswith("$argon2id$")


def test_through_the_lambda_door_the_change_is_published_before_the_handler_returns(make_settings):
    from app.adapters.lambda_http import build_handler
    from tests.support.doors import LambdaDoor

    sink = RecordingSink()
    settings = make_settings().with_(serverless=True, serverless_ephemeral=True)
    door = LambdaDoor(build_handler(settings, change_sink=sink))
    sink.db = door.runtime.db
    door.sink = sink
    try:
        door.su = superuser_headers(door)
        make_world(door)
        changes = expect_changes(door, lambda: create(door, "authors", {"name": "L"}))
        assert actions(changes) == [("authors", "create")]
        assert not sink.published_inside_transaction
    finally:
        door.close()
