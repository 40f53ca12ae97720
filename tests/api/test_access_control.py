"""Access control beyond the matrix (RELIABILITY.md AC-1, AC-4 .. AC-10).

Each test builds its own small world (tests/api/access_world.py) and runs through both doors on
both databases. Expected answers are PocketBase 0.40's unless a docstring says otherwise.
"""

from __future__ import annotations

from typing import Any

from tests.api.access_world import (
    CREATE_FAILED,
    LOCKED,
    NOT_FOUND,
    PASSWORD,
    SUPERUSER_ONLY,
    UNAUTHORIZED,
    USERS_ID,
    World,
    rules,
)
from tests.support.doors import open_door

BATCH_FAILED = "Batch transaction failed."


def batch_failure(index: int, response: dict[str, Any]) -> dict[str, Any]:
    """PocketBase's envelope for a batch whose item ``index`` failed with ``response``."""
    return {
        "data": {
            "requests": {
                str(index): {
                    "code": "batch_request_failed",
                    "message": "Batch request failed.",
                    "response": response,
                }
            }
        },
        "message": BATCH_FAILED,
        "status": 400,
    }


def records(collection: str, record_id: str = "") -> str:
    return f"/api/collections/{collection}/records" + (f"/{record_id}" if record_id else "")


class HookCounter:
    """Counts every record hook (before/after/commit of create/update/delete) on some collections."""

    def __init__(self, door: Any, *collections: str):
        self.events: list[tuple[str, str, str]] = []
        for action in ("create", "update", "delete"):
            for stage in ("before", "after", "commit"):
                door.runtime.hooks.register(action, stage, self._hook(action, stage), collections)

    def _hook(self, action: str, stage: str) -> Any:
        def hook(event: Any) -> None:
            self.events.append((event.collection_name, action, stage))

        return hook


# -- AC-1: default deny ------------------------------------------------------------------------


def test_a_new_collection_is_default_deny_on_every_endpoint(api):
    world = World(api)
    made = world.create_collection(
        {"name": "fresh", "type": "base", "fields": [{"name": "title", "type": "text"}]}
    )
    assert {
        rule: made[rule] for rule in ("listRule", "viewRule", "createRule", "updateRule", "deleteRule")
    } == rules(None)
    world.create_collection(
        {
            "name": "gateway",
            "type": "base",
            **rules(""),
            "fields": [{"name": "ref", "type": "relation", "collectionId": made["id"], "maxSelect": 1}],
        }
    )
    row = world.add("fresh", title="seed")
    pointer = world.add("gateway", ref=row["id"])
    hooks = HookCounter(api, "fresh")

    for name in ("guest", "userA", "unverified", "member"):
        attempts = {
            "list": world.as_(name, "GET", records("fresh")),
            "view": world.as_(name, "GET", records("fresh", row["id"])),
            "view missing": world.as_(name, "GET", records("fresh", "doesnotexist123")),
            "create": world.as_(name, "POST", records("fresh"), json={"title": f"by {name}"}),
            "update": world.as_(name, "PATCH", records("fresh", row["id"]), json={"title": "changed"}),
            "delete": world.as_(name, "DELETE", records("fresh", row["id"])),
        }
        for what, response in attempts.items():
            assert (response.status_code, response.json()) == (403, LOCKED), (name, what, response.text)
        items = [
            {"method": "POST", "url": records("fresh"), "body": {"title": "batched"}},
            {"method": "PUT", "url": records("fresh"), "body": {"id": row["id"], "title": "upserted"}},
            {"method": "PATCH", "url": records("fresh", row["id"]), "body": {"title": "batched"}},
            {"method": "DELETE", "url": records("fresh", row["id"])},
        ]
        for item in items:
            response = world.as_(name, "POST", "/api/batch", json={"requests": [item]})
            assert (response.status_code, response.json()) == (400, batch_failure(0, LOCKED)), (name, item)
        # expand through a public collection: the locked record is silently left out
        expanded = world.as_(name, "GET", records("gateway", pointer["id"]), params={"expand": "ref"})
        assert expanded.status_code == 200, expanded.text
        assert "ref" not in expanded.json().get("expand", {}), (name, expanded.text)
        # and a client filter may not reach into it (FLT-5)
        filtered = world.as_(name, "GET", records("gateway"), params={"filter": "ref.title = 'seed'"})
        assert filtered.status_code == 400, (name, filtered.text)

    assert hooks.events == [], "hooks ran for refused requests"
    assert world.all_records("fresh") == [row], "a refused request wrote to the collection"

    # positive control: a superuser can do all of it, and the hook counter does count
    su = "superuser"
    assert world.as_(su, "GET", records("fresh")).json()["totalItems"] == 1
    expanded = world.as_(su, "GET", records("gateway", pointer["id"]), params={"expand": "ref"})
    assert expanded.json()["expand"]["ref"]["id"] == row["id"]
    filtered = world.as_(su, "GET", records("gateway"), params={"filter": "ref.title = 'seed'"})
    assert filtered.json()["totalItems"] == 1
    assert world.as_(su, "GET", records("fresh", row["id"])).status_code == 200
    created = world.as_(su, "POST", records("fresh"), json={"title": "by su"})
    assert created.status_code == 200, created.text
    assert world.as_(su, "PATCH", records("fresh", row["id"]), json={"title": "su"}).status_code == 200
    batch = world.as_(
        su,
        "POST",
        "/api/batch",
        json={"requests": [{"method": "DELETE", "url": records("fresh", created.json()["id"])}]},
    )
    assert batch.status_code == 200, batch.text
    assert world.as_(su, "DELETE", records("fresh", row["id"])).status_code == 204
    expanded = world.as_(su, "GET", records("gateway", pointer["id"]), params={"expand": "ref"})
    assert expanded.json()["expand"] == {}  # the target is gone (deleted above); no error either
    assert {(action, stage) for _, action, stage in hooks.events} >= {
        ("create", "before"),
        ("update", "after"),
        ("delete", "commit"),
    }


def test_a_new_auth_collection_is_default_deny_for_its_own_records(api):
    """``members`` was created with no rules: even a member cannot list, view, change or delete
    members (its auth-with-password still works; authRule is ``""``)."""
    world = World(api)
    member = world["member"]
    for name in ("guest", "member", "userA"):
        for method, url, body in (
            ("GET", records("members"), None),
            ("GET", records("members", member.auth_id), None),
            (
                "POST",
                records("members"),
                {"email": "x@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD},
            ),
            ("PATCH", records("members", member.auth_id), {"emailVisibility": True}),
            ("DELETE", records("members", member.auth_id), None),
        ):
            response = world.as_(name, method, url, json=body) if body else world.as_(name, method, url)
            assert (response.status_code, response.json()) == (403, LOCKED), (name, method, url)
    assert [m["id"] for m in world.all_records("members")] == [member.auth_id]
    assert world.read("members", member.auth_id)["emailVisibility"] is False


# -- AC-4: the create rule is checked on the would-be record ------------------------------------


def test_create_rule_checks_the_would_be_record(api):
    world = World(api, members=False)
    world.items_collection("owned", {**rules("owner = @request.auth.id")})
    a, b = world["userA"].user_id, world["userB"].user_id

    refused = world.as_("userA", "POST", records("owned"), json={"title": "forged", "owner": b})
    assert (refused.status_code, refused.json()) == (400, CREATE_FAILED)
    refused = world.as_("guest", "POST", records("owned"), json={"title": "forged", "owner": a})
    assert (refused.status_code, refused.json()) == (400, CREATE_FAILED)
    # modifiers and id tricks do not get around it either
    refused = world.as_(
        "userA", "POST", records("owned"), json={"title": "forged", "owner": a, "owner-": a, "+owner": b}
    )
    assert refused.status_code == 400, refused.text
    assert world.all_records("owned") == [], "a refused create left a row"

    allowed = world.as_("userA", "POST", records("owned"), json={"title": "mine", "owner": a})
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["owner"] == a
    assert [r["title"] for r in world.all_records("owned")] == ["mine"]


def test_create_rule_without_an_auth_check_lets_a_guest_create_ownerless_rows(api):
    """PocketBase semantics, kept on purpose and documented here: for a guest ``@request.auth.id``
    is empty, and ``'' = null`` is true, so ``owner = @request.auth.id`` lets a guest create a row
    whose owner is empty — and later list/view/update it. Rules meant for signed-in users must say
    ``@request.auth.id != '' && owner = @request.auth.id``."""
    world = World(api, members=False)
    world.items_collection("naive", rules("owner = @request.auth.id"))
    world.items_collection("strict", rules("@request.auth.id != '' && owner = @request.auth.id"))
    naive = world.as_("guest", "POST", records("naive"), json={"title": "orphan"})
    assert naive.status_code == 200, naive.text
    assert world.list("guest", "naive").json()["totalItems"] == 1
    strict = world.as_("guest", "POST", records("strict"), json={"title": "orphan"})
    assert (strict.status_code, strict.json()) == (400, CREATE_FAILED)
    assert world.all_records("strict") == []


# -- AC-5: moving a row to another owner -------------------------------------------------------


def test_update_rule_with_isset_guard_refuses_moving_a_row(api):
    world = World(api, members=False)
    guarded = "owner = @request.auth.id && @request.body.owner:isset = false"
    world.items_collection("guarded", {**rules("owner = @request.auth.id"), "updateRule": guarded})
    a, b = world["userA"].user_id, world["userB"].user_id
    row = world.add("guarded", title="mine", owner=a)

    moved = world.as_("userA", "PATCH", records("guarded", row["id"]), json={"owner": b})
    assert (moved.status_code, moved.json()) == (404, NOT_FOUND)
    # even "moving" to itself is refused: the guard is about the key being sent at all
    same = world.as_("userA", "PATCH", records("guarded", row["id"]), json={"owner": a, "title": "x"})
    assert (same.status_code, same.json()) == (404, NOT_FOUND)
    assert world.read("guarded", row["id"]) == row

    edited = world.as_("userA", "PATCH", records("guarded", row["id"]), json={"title": "edited"})
    assert edited.status_code == 200, edited.text
    assert world.read("guarded", row["id"])["owner"] == a


def test_update_rule_without_a_guard_lets_the_owner_give_a_row_away(api):
    """PocketBase checks the update rule against the row as it is before the update (there is no
    WITH CHECK on the new row): the owner may hand the row to someone else, and then loses it."""
    world = World(api, members=False)
    world.items_collection("open", rules("owner = @request.auth.id"))
    a, b = world["userA"].user_id, world["userB"].user_id
    row = world.add("open", title="gift", owner=a)

    moved = world.as_("userA", "PATCH", records("open", row["id"]), json={"owner": b})
    assert moved.status_code == 200, moved.text
    assert moved.json()["owner"] == b
    assert world.read("open", row["id"])["owner"] == b
    again = world.as_("userA", "PATCH", records("open", row["id"]), json={"owner": a})
    assert (again.status_code, again.json()) == (404, NOT_FOUND)
    assert world.list("userB", "open").json()["totalItems"] == 1
    assert world.list("userA", "open").json()["totalItems"] == 0


def test_update_rule_can_pin_the_new_owner_with_request_body(api):
    """The WITH CHECK pattern in PocketBase's language: the new owner, when sent, must be the caller."""
    world = World(api, members=False)
    pinned = (
        "owner = @request.auth.id"
        " && (@request.body.owner:isset = false || @request.body.owner = @request.auth.id)"
    )
    world.items_collection("pinned", {**rules("owner = @request.auth.id"), "updateRule": pinned})
    a, b = world["userA"].user_id, world["userB"].user_id
    row = world.add("pinned", title="mine", owner=a)
    moved = world.as_("userA", "PATCH", records("pinned", row["id"]), json={"owner": b})
    assert (moved.status_code, moved.json()) == (404, NOT_FOUND)
    kept = world.as_("userA", "PATCH", records("pinned", row["id"]), json={"owner": a, "title": "kept"})
    assert kept.status_code == 200, kept.text
    assert world.read("pinned", row["id"])["owner"] == a


# -- AC-6: hidden fields and system fields ------------------------------------------------------

SECRET = "HIDDEN-VALUE-4f1c"


def test_hidden_fields_never_leave_the_server(api):
    world = World(api, members=False)
    sent: list[tuple[str, Any]] = []
    send = api.send

    def recording_send(request):
        response = send(request)
        sent.append((request.headers.get("authorization", ""), response))
        return response

    api.send = recording_send  # type: ignore[method-assign]
    world.set_rules("users", viewRule="", listRule="")
    world.items_collection("dossiers", rules(""), [{"name": "secret", "type": "text", "hidden": True}])
    a = world["userA"]
    row = world.add("dossiers", title="file", secret=SECRET, owner=a.user_id)
    assert world.raw_record("dossiers", row["id"])["secret"] == SECRET

    for name in ("guest", "userA", "userB"):
        for params in (
            {},
            {"expand": "owner"},
            {"fields": "secret"},
            {"fields": "*,secret,expand.owner.tokenKey"},
        ):
            listed = world.list(name, "dossiers", **params)
            assert listed.status_code == 200, listed.text
            for item in listed.json()["items"]:
                assert "secret" not in item
            viewed = world.as_(name, "GET", records("dossiers", row["id"]), params=params)
            assert viewed.status_code == 200, viewed.text
            assert "secret" not in viewed.json()
        for bad in ({"filter": f"secret = '{SECRET}'"}, {"filter": "secret ~ 'HIDDEN'"}, {"sort": "secret"}):
            refused = world.list(name, "dossiers", **bad)
            assert refused.status_code in (400, 403), refused.text
    # a non-superuser cannot write a hidden field: PocketBase ignores it
    made = world.as_("userA", "POST", records("dossiers"), json={"title": "mine", "secret": "planted"})
    assert made.status_code == 200, made.text
    assert "secret" not in made.json()
    assert world.raw_record("dossiers", made.json()["id"])["secret"] == ""
    patched = world.as_("userB", "PATCH", records("dossiers", row["id"]), json={"secret": "overwritten"})
    assert patched.status_code == 200, patched.text
    assert world.raw_record("dossiers", row["id"])["secret"] == SECRET

    # auth responses, expand of users, batch, refresh, errors: never a password hash or tokenKey
    world.as_("userA", "POST", "/api/collections/users/auth-refresh")
    world.as_("superuser", "GET", records("users"), params={"expand": "", "fields": "*,password,tokenKey"})
    world.as_("superuser", "GET", records("dossiers"), params={"expand": "owner"})
    world.as_("userA", "GET", records("users", a.user_id))
    world.as_("userA", "PATCH", records("users", a.user_id), json={"password": "new-password-1"})
    world.as_(
        "userA",
        "POST",
        "/api/batch",
        json={"requests": [{"method": "PATCH", "url": records("users", a.user_id), "body": {"name": "A"}}]},
    )
    world.as_(
        "guest",
        "POST",
        "/api/collections/users/auth-with-password",
        json={"identity": "usera@example.com", "password": "wrong-password"},
    )
    world.as_("userA", "GET", records("users"), params={"filter": "password != ''"})
    world.as_("userA", "GET", records("users"), params={"sort": "tokenKey"})

    forbidden = {SECRET}
    for who in ("userA", "userB", "unverified"):
        stored = world.raw_record("users", world[who].user_id)
        forbidden |= {str(stored["password"]), str(stored["tokenKey"])}
    for auth, response in sent:
        text = response.text
        leaked = [
            value
            for value in forbidden - ({SECRET} if auth == world.su["Authorization"] else set())
            if value in text
        ]
        assert not leaked, f"{response.request.method} {response.request.url} leaked {leaked}: {text[:300]}"
        path = response.request.url.path
        if (
            response.status_code < 300
            and text
            and ("/records" in path or "/auth-" in path or "batch" in path)
        ):
            assert not {"password", "tokenKey"} & set(_keys(response.json())), f"{path}: {text[:300]}"


def _keys(value: Any) -> list[str]:
    """Every object key anywhere in a JSON document."""
    if isinstance(value, dict):
        return [*value, *(k for v in value.values() for k in _keys(v))]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []


def test_non_superusers_cannot_set_system_fields_of_auth_records(api):
    world = World(api, members=False)
    a, b, v = world["userA"], world["userB"], world["unverified"]
    mismatch = {"code": "validation_values_mismatch", "message": "Values don't match."}

    # verified: refused with a field error, on sign-up and on update
    signup = world.as_(
        "guest",
        "POST",
        records("users"),
        json={
            "email": "eager@example.com",
            "password": PASSWORD,
            "passwordConfirm": PASSWORD,
            "verified": True,
        },
    )
    assert signup.status_code == 400, signup.text
    assert signup.json()["data"]["verified"] == mismatch
    assert world.all_records("users", "email = 'eager@example.com'") == []
    self_verify = world.as_(v, "PATCH", records("users", v.user_id), json={"verified": True})
    assert self_verify.status_code == 400, self_verify.text
    assert self_verify.json()["data"]["verified"] == mismatch
    assert world.raw_record("users", v.user_id)["verified"] is False

    # tokenKey: ignored (hidden field), so every issued token keeps working and no key is planted
    before = world.raw_record("users", a.user_id)
    planted = "k" * 50
    response = world.as_(a, "PATCH", records("users", a.user_id), json={"tokenKey": planted, "name": "A"})
    assert response.status_code == 200, response.text
    assert "tokenKey" not in response.json()
    assert world.raw_record("users", a.user_id)["tokenKey"] == before["tokenKey"]
    assert world.as_(a, "GET", records("users", a.user_id)).status_code == 200
    signup = world.as_(
        "guest",
        "POST",
        records("users"),
        json={
            "email": "keyed@example.com",
            "password": PASSWORD,
            "passwordConfirm": PASSWORD,
            "tokenKey": planted,
        },
    )
    assert signup.status_code == 200, signup.text
    assert world.raw_record("users", signup.json()["id"])["tokenKey"] != planted

    # created / updated: ignored
    response = world.as_(
        a,
        "PATCH",
        records("users", a.user_id),
        json={"created": "2001-01-01 00:00:00.000Z", "updated": "2001-01-01 00:00:00.000Z"},
    )
    assert response.status_code == 200, response.text
    after = world.read("users", a.user_id)
    assert after["created"] == before["created"]
    assert not after["updated"].startswith("2001")

    # email: only a manager may change it directly
    response = world.as_(a, "PATCH", records("users", a.user_id), json={"email": "new-a@example.com"})
    assert response.status_code == 400, response.text
    assert response.json()["data"]["email"] == mismatch
    assert world.raw_record("users", a.user_id)["email"] == "usera@example.com"

    # another user's record (emailVisibility, verified): the update rule hides it
    for body in ({"emailVisibility": True}, {"verified": False}):
        response = world.as_(a, "PATCH", records("users", b.user_id), json=body)
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    stored = world.raw_record("users", b.user_id)
    assert (stored["emailVisibility"], stored["verified"]) == (False, True)

    # positive control: a superuser may set verified and emailVisibility
    response = world.as_(
        "superuser", "PATCH", records("users", v.user_id), json={"verified": True, "emailVisibility": True}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["verified"], response.json()["emailVisibility"]) == (True, True)


# -- AC-7: expand respects the target's view rule at every level --------------------------------


def _expand_world(world: World) -> dict[str, Any]:
    deep = world.create_collection(
        {"name": "deep", "type": "base", **rules(""), "fields": [{"name": "title", "type": "text"}]}
    )
    vault = world.create_collection(
        {
            "name": "vault",
            "type": "base",
            **rules("owner = @request.auth.id"),
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "owner", "type": "relation", "collectionId": USERS_ID, "maxSelect": 1},
                {"name": "inner", "type": "relation", "collectionId": deep["id"], "maxSelect": 1},
            ],
        }
    )
    sealed = world.create_collection(
        {"name": "sealed", "type": "base", "fields": [{"name": "title", "type": "text"}]}
    )
    nodes = world.create_collection(
        {"name": "nodes", "type": "base", **rules(""), "fields": [{"name": "title", "type": "text"}]}
    )
    fields = [
        {"name": "title", "type": "text"},
        {"name": "next", "type": "relation", "collectionId": nodes["id"], "maxSelect": 1},
        {"name": "gate", "type": "relation", "collectionId": vault["id"], "maxSelect": 1},
        {"name": "gates", "type": "relation", "collectionId": vault["id"], "maxSelect": 5},
        {"name": "seal", "type": "relation", "collectionId": sealed["id"], "maxSelect": 1},
        {"name": "owner", "type": "relation", "collectionId": USERS_ID, "maxSelect": 1},
    ]
    # a self-relation needs the collection's id: add the fields once it exists
    response = world.door.patch(
        "/api/collections/nodes", headers=world.su, json={"fields": nodes["fields"][:1] + fields}
    )
    assert response.status_code == 200, response.text
    world.create_collection(
        {
            "name": "notes",
            "type": "base",
            **rules("owner = @request.auth.id"),
            "fields": [
                {"name": "body", "type": "text"},
                {"name": "node", "type": "relation", "collectionId": nodes["id"], "maxSelect": 1},
                {"name": "owner", "type": "relation", "collectionId": USERS_ID, "maxSelect": 1},
            ],
        }
    )
    a, b = world["userA"].user_id, world["userB"].user_id
    inner = world.add("deep", title="inner")
    vault_a = world.add("vault", title="va", owner=a, inner=inner["id"])
    vault_b = world.add("vault", title="vb", owner=b, inner=inner["id"])
    seal = world.add("sealed", title="sealed")
    chain = [world.add("nodes", title="n8")]
    for n in range(7, -1, -1):
        chain.insert(0, world.add("nodes", title=f"n{n}", next=chain[0]["id"]))
    n1 = chain[1]
    world.door.patch(records("nodes", n1["id"]), headers=world.su, json={"gate": vault_b["id"]})
    head = world.door.patch(
        records("nodes", chain[0]["id"]),
        headers=world.su,
        json={"gate": vault_b["id"], "gates": [vault_a["id"], vault_b["id"]], "seal": seal["id"], "owner": b},
    ).json()
    note_a = world.add("notes", body="a", node=head["id"], owner=a)
    note_b = world.add("notes", body="b", node=head["id"], owner=b)
    return {
        "chain": chain,
        "head": head,
        "va": vault_a,
        "vb": vault_b,
        "inner": inner,
        "na": note_a,
        "nb": note_b,
    }


def test_expand_leaves_out_what_the_caller_cannot_view(api):
    world = World(api, members=False)
    w = _expand_world(world)
    head = w["head"]
    expand = "gate.inner,gates,seal,owner,next.gate.inner,notes_via_node"

    def fetch(name: str) -> dict[str, Any]:
        response = world.as_(name, "GET", records("nodes", head["id"]), params={"expand": expand})
        assert response.status_code == 200, (name, response.text)
        listed = world.list(name, "nodes", expand=expand, filter=f"id = '{head['id']}'")
        assert listed.status_code == 200, (name, listed.text)
        assert listed.json()["items"] == [response.json()], "list and view expand differently"
        return response.json()["expand"]

    # userA: owns vault_a and note_a; vault_b, the sealed record and userB are not viewable
    got = fetch("userA")
    assert "gate" not in got
    assert [v["id"] for v in got["gates"]] == [w["va"]["id"]]
    assert "seal" not in got
    assert "owner" not in got
    assert got["next"]["id"] == w["chain"][1]["id"]
    assert "gate" not in got["next"].get("expand", {})
    assert [n["id"] for n in got["notes_via_node"]] == [w["na"]["id"]]

    # userB: owns vault_b, the head's owner and note_b; the sealed record stays hidden
    got = fetch("userB")
    assert got["gate"]["id"] == w["vb"]["id"]
    assert got["gate"]["expand"]["inner"]["id"] == w["inner"]["id"]
    assert [v["id"] for v in got["gates"]] == [w["vb"]["id"]]
    assert "seal" not in got
    assert got["owner"]["id"] == world["userB"].user_id
    assert got["next"]["expand"]["gate"]["expand"]["inner"]["id"] == w["inner"]["id"]
    assert [n["id"] for n in got["notes_via_node"]] == [w["nb"]["id"]]

    # guest: only the public chain
    got = fetch("guest")
    assert set(got) == {"next"}
    assert "gate" not in got["next"].get("expand", {})

    # superuser: everything
    got = fetch("superuser")
    assert got["gate"]["expand"]["inner"]["id"] == w["inner"]["id"]
    assert [v["id"] for v in got["gates"]] == [w["va"]["id"], w["vb"]["id"]]
    assert got["seal"]["title"] == "sealed"
    assert got["owner"]["id"] == world["userB"].user_id
    assert {n["id"] for n in got["notes_via_node"]} == {w["na"]["id"], w["nb"]["id"]}
    for user in [got["owner"]]:
        assert "password" not in user and "tokenKey" not in user

    # the projection cannot dig the hidden relation out either
    response = world.as_(
        "userA",
        "GET",
        records("nodes", head["id"]),
        params={"expand": "gate,seal", "fields": "id,expand.gate.title,expand.seal"},
    )
    assert response.status_code == 200, response.text
    assert response.json().get("expand", {}) == {}


def test_expand_stops_at_six_levels(api):
    world = World(api, members=False)
    w = _expand_world(world)
    chain = w["chain"]
    for name in ("guest", "userA", "superuser"):
        response = world.as_(
            name, "GET", records("nodes", chain[0]["id"]), params={"expand": ".".join(["next"] * 8)}
        )
        assert response.status_code == 200, response.text
        record = response.json()
        depth = 0
        while "next" in record.get("expand", {}):
            record = record["expand"]["next"]
            depth += 1
            assert record["id"] == chain[depth]["id"]
        assert depth == 6, (name, depth)


# -- AC-8: batch --------------------------------------------------------------------------------


def _batch_world(api: Any) -> tuple[World, dict[str, Any]]:
    world = World(api, members=False)
    world.items_collection("owned", rules("owner = @request.auth.id"))
    world.items_collection("shut", rules(None))
    a, b = world["userA"].user_id, world["userB"].user_id
    rows = {
        "a1": world.add("owned", title="a1", owner=a),
        "a2": world.add("owned", title="a2", owner=a),
        "b1": world.add("owned", title="b1", owner=b),
        "shut": world.add("shut", title="shut"),
    }
    return world, rows


def test_batch_checks_each_item_and_commits_nothing_on_a_refusal(api):
    world, rows = _batch_world(api)
    a, b = world["userA"].user_id, world["userB"].user_id
    snapshot = {key: world.read("owned" if key != "shut" else "shut", row["id"]) for key, row in rows.items()}
    allowed = [
        {"method": "POST", "url": records("owned"), "body": {"title": "new", "owner": a}},
        {"method": "PATCH", "url": records("owned", rows["a1"]["id"]), "body": {"title": "a1 changed"}},
        {"method": "DELETE", "url": records("owned", rows["a2"]["id"])},
    ]
    refusals = [
        (
            {"method": "PATCH", "url": records("owned", rows["b1"]["id"]), "body": {"title": "stolen"}},
            NOT_FOUND,
        ),
        ({"method": "DELETE", "url": records("owned", rows["b1"]["id"])}, NOT_FOUND),
        ({"method": "POST", "url": records("owned"), "body": {"title": "forged", "owner": b}}, CREATE_FAILED),
        ({"method": "PUT", "url": records("owned"), "body": {"title": "forged", "owner": b}}, CREATE_FAILED),
        ({"method": "PATCH", "url": records("shut", rows["shut"]["id"]), "body": {"title": "x"}}, LOCKED),
        ({"method": "POST", "url": records("shut"), "body": {"title": "x"}}, LOCKED),
    ]
    for refused, inner in refusals:
        response = world.as_("userA", "POST", "/api/batch", json={"requests": [*allowed, refused]})
        assert (response.status_code, response.json()) == (400, batch_failure(len(allowed), inner)), refused
        for key, row in rows.items():
            assert world.read("owned" if key != "shut" else "shut", row["id"]) == snapshot[key], (
                refused,
                key,
            )
        assert world.all_records("owned", "title = 'new'") == [], refused
        # the refusal first: nothing after it runs either
        response = world.as_("userA", "POST", "/api/batch", json={"requests": [refused, *allowed]})
        assert (response.status_code, response.json()) == (400, batch_failure(0, inner)), refused
        assert world.all_records("owned", "title = 'new'") == []

    # positive control: the same allowed items on their own commit together
    response = world.as_("userA", "POST", "/api/batch", json={"requests": allowed})
    assert response.status_code == 200, response.text
    assert [item["status"] for item in response.json()] == [200, 200, 204]
    assert world.read("owned", rows["a1"]["id"])["title"] == "a1 changed"
    assert world.read("owned", rows["a2"]["id"]) is None
    assert len(world.all_records("owned", "title = 'new'")) == 1
    assert world.read("owned", rows["b1"]["id"]) == snapshot["b1"]


def test_batch_upsert_of_someone_elses_record_is_a_404(api):
    """PocketBase's upsert looks the id up without any rule and, when the record exists, runs the
    update with its update rule (apis/batch.go): another user's record answers 404, as a PATCH
    would, and is not overwritten."""
    world, rows = _batch_world(api)
    b1 = rows["b1"]
    response = world.as_(
        "userA",
        "POST",
        "/api/batch",
        json={
            "requests": [
                {"method": "PUT", "url": records("owned"), "body": {"id": b1["id"], "title": "hijack"}}
            ]
        },
    )
    assert (response.status_code, response.json()) == (400, batch_failure(0, NOT_FOUND))
    assert world.read("owned", b1["id"]) == b1
    # positive control: the owner's upsert updates
    response = world.as_(
        "userB",
        "POST",
        "/api/batch",
        json={
            "requests": [
                {"method": "PUT", "url": records("owned"), "body": {"id": b1["id"], "title": "mine"}}
            ]
        },
    )
    assert response.status_code == 200, response.text
    assert world.read("owned", b1["id"])["title"] == "mine"


def test_batch_items_see_the_batch_request_context(api):
    """PocketBase runs every batch item with ``@request.context = "batch"``, so a rule can keep
    an action out of batches."""
    world, _ = _batch_world(api)
    world.items_collection("nobatch", {**rules(""), "createRule": '@request.context != "batch"'})
    direct = world.as_("userA", "POST", records("nobatch"), json={"title": "direct"})
    assert direct.status_code == 200, direct.text
    item = {"method": "POST", "url": records("nobatch"), "body": {"title": "batched"}}
    batched = world.as_("userA", "POST", "/api/batch", json={"requests": [item]})
    assert (batched.status_code, batched.json()) == (400, batch_failure(0, CREATE_FAILED)), batched.text
    assert [r["title"] for r in world.all_records("nobatch")] == ["direct"]


def test_batch_items_run_as_the_batch_requests_identity(api):
    """PocketBase gives every item the batch request's own auth (``event.Auth = baseEvent.Auth`` in
    apis/batch.go): an ``Authorization`` header inside an item is not authenticated again."""
    world, _ = _batch_world(api)
    a = world["userA"]
    item = {
        "method": "POST",
        "url": records("owned"),
        "headers": {"Authorization": a.headers["Authorization"]},
        "body": {"title": "as guest", "owner": a.user_id},
    }
    as_guest = world.as_("guest", "POST", "/api/batch", json={"requests": [item]})
    assert (as_guest.status_code, as_guest.json()) == (400, batch_failure(0, CREATE_FAILED)), as_guest.text
    assert world.all_records("owned", "title = 'as guest'") == []
    # positive control: the same item in userA's own batch is allowed
    as_a = world.as_("userA", "POST", "/api/batch", json={"requests": [item]})
    assert as_a.status_code == 200, as_a.text


# -- AC-9: authorization changes apply on the next request --------------------------------------


def _rule_change_sequence(world: World, doors: list[Any]) -> None:
    """Tighten, lock and reopen ``dyn``'s rules; after each change every door's next request obeys."""
    a = world["userA"]
    mine, theirs = world.all_records("dyn")

    def seen(door: Any) -> Any:
        return door.get(records("dyn"), headers=a.headers)

    for door in doors:  # every process has the collection cached now
        assert seen(door).json()["totalItems"] == 2
    world.set_rules("dyn", listRule="owner = @request.auth.id", viewRule="owner = @request.auth.id")
    for door in doors:
        response = seen(door)
        assert [i["id"] for i in response.json()["items"]] == [mine["id"]], door.name
        view = door.get(records("dyn", theirs["id"]), headers=a.headers)
        assert (view.status_code, view.json()) == (404, NOT_FOUND), door.name
    world.set_rules("dyn", listRule=None)
    for door in doors:
        response = seen(door)
        assert (response.status_code, response.json()) == (403, LOCKED), door.name
    world.set_rules("dyn", listRule="")
    for door in doors:
        assert seen(door).json()["totalItems"] == 2, door.name


def _dyn_world(api: Any) -> World:
    world = World(api, members=False)
    world.items_collection("dyn", rules(""))
    world.add("dyn", title="a", owner=world["userA"].user_id)
    world.add("dyn", title="b", owner=world["userB"].user_id)
    return world


def test_rule_changes_apply_on_the_next_request(api):
    _rule_change_sequence(_dyn_world(api), [api])


def test_rule_changes_apply_on_the_next_request_of_another_process(api, door_kind, make_settings):
    """Two app instances on one database (two workers, two Lambda containers): a rule changed
    through one is obeyed by the other's very next request (ASVS 8.3.2), not a cache TTL later."""
    world = _dyn_world(api)
    other = open_door("lambda" if door_kind == "asgi" else "asgi", make_settings())
    try:
        _rule_change_sequence(world, [api, other])
    finally:
        other.close()


def test_unverifying_or_deleting_a_user_applies_on_the_next_request(api):
    world = World(api, members=False)
    world.items_collection("club", rules("@request.auth.verified = true"))
    world.items_collection("signed", rules("@request.auth.id != ''"))
    world.add("club", title="c")
    world.add("signed", title="s")
    a = world["userA"]
    assert world.list(a, "club").json()["totalItems"] == 1

    assert (
        world.as_("superuser", "PATCH", records("users", a.user_id), json={"verified": False}).status_code
        == 200
    )
    assert world.list(a, "club").json()["totalItems"] == 0
    create = world.as_(a, "POST", records("club"), json={"title": "x"})
    assert (create.status_code, create.json()) == (400, CREATE_FAILED)

    assert world.list(a, "signed").json()["totalItems"] == 1
    assert world.as_("superuser", "DELETE", records("users", a.user_id)).status_code == 204
    assert world.list(a, "signed").json()["totalItems"] == 0
    create = world.as_(a, "POST", records("signed"), json={"title": "x"})
    assert (create.status_code, create.json()) == (400, CREATE_FAILED)
    refresh = world.as_(a, "POST", "/api/collections/users/auth-refresh")
    assert (refresh.status_code, refresh.json()) == (401, UNAUTHORIZED)
    # positive control: another user's token is unaffected
    assert world.list("userB", "signed").json()["totalItems"] == 1


# -- AC-10: superuser-only surfaces ---------------------------------------------------------------


def test_collections_api_is_for_superusers_only(api):
    world = World(api)
    world.items_collection("target", rules(""))
    before = world.as_("superuser", "GET", "/api/collections/target").json()
    definition = {"name": "intruder", "type": "base", **rules(""), "fields": []}
    surfaces = [
        ("GET", "/api/collections", None),
        ("POST", "/api/collections", definition),
        ("GET", "/api/collections/meta/scaffolds", None),
        ("PUT", "/api/collections/import", {"collections": [definition], "deleteMissing": False}),
        ("GET", "/api/collections/target", None),
        ("GET", f"/api/collections/{before['id']}", None),
        ("PATCH", "/api/collections/target", {"listRule": None, "deleteRule": ""}),
        ("DELETE", "/api/collections/target/truncate", None),
        ("DELETE", "/api/collections/target", None),
        ("GET", "/api/collections/users", None),
        ("PATCH", "/api/collections/users", {"createRule": None}),
    ]
    garbage = {"Authorization": "not-a-token"}
    for method, url, body in surfaces:
        kwargs = {"json": body} if body is not None else {}
        for name, expected in (
            ("guest", (401, UNAUTHORIZED)),
            ("userA", (403, SUPERUSER_ONLY)),
            ("unverified", (403, SUPERUSER_ONLY)),
            ("member", (403, SUPERUSER_ONLY)),
        ):
            response = world.as_(name, method, url, **kwargs)
            assert (response.status_code, response.json()) == expected, (name, method, url)
        response = api.request(method, url, headers=garbage, **kwargs)
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED), (method, url)

    assert world.as_("superuser", "GET", "/api/collections/target").json() == before
    assert world.as_("superuser", "GET", "/api/collections/intruder").status_code == 404
    # the superusers collection's records are locked for everyone else (api.md §3.12)
    for name in ("guest", "userA", "member"):
        response = world.as_(name, "GET", records("_superusers"))
        assert (response.status_code, response.json()) == (403, LOCKED)
        response = world.as_(
            name,
            "POST",
            records("_superusers"),
            json={"email": "x@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD},
        )
        assert (response.status_code, response.json()) == (403, LOCKED)

    # positive control: the superuser can use every one of them
    su = "superuser"
    assert world.as_(su, "GET", "/api/collections").status_code == 200
    assert world.as_(su, "GET", "/api/collections/meta/scaffolds").status_code == 200
    assert world.as_(su, "PATCH", "/api/collections/target", json={"deleteRule": None}).status_code == 200
    assert world.as_(su, "DELETE", "/api/collections/target/truncate").status_code == 204
    assert world.as_(su, "DELETE", "/api/collections/target").status_code == 204
    assert world.as_(su, "POST", "/api/collections", json=definition).status_code == 200
