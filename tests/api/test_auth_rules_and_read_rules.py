"""authRule, manageRule (PocketBase) and per-field read rules (``fields[].readRule``, EmmettBase)."""

from __future__ import annotations

from tests.support.scenario import create_user, superuser_headers, user_headers


def test_auth_rule_restricts_who_may_sign_in(api):
    su = superuser_headers(api)
    create_user(api, "new@example.com")
    assert (
        api.patch("/api/collections/users", headers=su, json={"authRule": "verified = true"}).status_code
        == 200
    )
    refused = api.post(
        "/api/collections/users/auth-with-password",
        json={"identity": "new@example.com", "password": "user-password-1"},
    )
    assert refused.status_code == 403
    assert (
        refused.json()["message"]
        == "The request doesn't satisfy the collection requirements to authenticate."
    )
    user_id = api.get("/api/collections/users/records", headers=su).json()["items"][0]["id"]
    api.patch(f"/api/collections/users/records/{user_id}", headers=su, json={"verified": True})
    assert user_headers(api, "new@example.com")
    api.patch("/api/collections/users", headers=su, json={"authRule": None})
    locked = api.post(
        "/api/collections/users/auth-with-password",
        json={"identity": "new@example.com", "password": "user-password-1"},
    )
    assert locked.status_code == 403, "a null authRule lets nobody sign in"


def test_manage_rule_gives_managers_email_and_password_control(api):
    su = superuser_headers(api)
    users = api.get("/api/collections/users", headers=su).json()
    fields = [*users["fields"], {"name": "admin", "type": "bool"}]
    rules = {
        "listRule": "",
        "viewRule": "",
        "updateRule": "id = @request.auth.id || @request.auth.admin = true",
        "manageRule": "@request.auth.admin = true",
    }
    response = api.patch("/api/collections/users", headers=su, json={"fields": fields, **rules})
    assert response.status_code == 200, response.text
    boss = create_user(api, "boss@example.com")
    worker = create_user(api, "worker@example.com")
    api.patch(f"/api/collections/users/records/{boss['id']}", headers=su, json={"admin": True})
    boss_h, worker_h = user_headers(api, "boss@example.com"), user_headers(api, "worker@example.com")
    seen_by_boss = api.get(f"/api/collections/users/records/{worker['id']}", headers=boss_h).json()
    assert seen_by_boss["email"] == "worker@example.com", "managers see hidden emails"
    seen_by_peer = api.get(f"/api/collections/users/records/{boss['id']}", headers=worker_h).json()
    assert "email" not in seen_by_peer
    changed = api.patch(
        f"/api/collections/users/records/{worker['id']}",
        headers=boss_h,
        json={"email": "moved@example.com", "password": "new-password-9", "passwordConfirm": "new-password-9",
              "verified": True},
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert user_headers(api, "moved@example.com", "new-password-9")
    own = api.patch(
        f"/api/collections/users/records/{worker['id']}",
        headers=user_headers(api, "moved@example.com", "new-password-9"),
        json={"email": "sneaky@example.com", "verified": False},
    )
    assert own.status_code == 400
    assert set(own.json()["data"]) == {"email", "verified"}


def test_own_password_change_needs_the_old_password(api):
    user = create_user(api, "self@example.com")
    headers = user_headers(api, "self@example.com")
    api.patch(
        "/api/collections/users", headers=superuser_headers(api), json={"updateRule": "id = @request.auth.id"}
    )
    url = f"/api/collections/users/records/{user['id']}"
    missing = api.patch(
        url, headers=headers, json={"password": "next-password-1", "passwordConfirm": "next-password-1"}
    )
    assert missing.json()["data"]["oldPassword"]["code"] == "validation_invalid_old_password"
    ok = api.patch(
        url,
        headers=headers,
        json={
            "password": "next-password-1",
            "passwordConfirm": "next-password-1",
            "oldPassword": "user-password-1",
        },
    )
    assert ok.status_code == 200
    assert api.get(url, headers=headers).status_code == 404, "the old token was revoked"


def test_field_read_rule_hides_values_and_their_filters(api):
    su = superuser_headers(api)
    alice = create_user(api, "alice@example.com")
    bob = create_user(api, "bob@example.com")
    created = api.post(
        "/api/collections",
        headers=su,
        json={
            "name": "profiles",
            "listRule": "",
            "viewRule": "",
            "createRule": "",
            "fields": [
                {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
                {"name": "nickname", "type": "text"},
                {"name": "salary", "type": "number", "readRule": "owner = @request.auth.id"},
            ],
        },
    )
    assert created.status_code == 200, created.text
    assert [f.get("readRule") for f in created.json()["fields"]] == [
        None,
        None,
        None,
        "owner = @request.auth.id",
    ]
    for owner, salary in ((alice, 100), (bob, 200)):
        api.post(
            "/api/collections/profiles/records",
            json={"owner": owner["id"], "nickname": "n", "salary": salary},
        )
    as_alice = api.get(
        "/api/collections/profiles/records", headers=user_headers(api, "alice@example.com")
    ).json()
    salaries = {item["owner"]: item.get("salary") for item in as_alice["items"]}
    assert salaries == {alice["id"]: 100, bob["id"]: None}
    assert all("nickname" in item for item in as_alice["items"])
    anonymous = api.get("/api/collections/profiles/records").json()
    assert all("salary" not in item for item in anonymous["items"])
    probe = api.get("/api/collections/profiles/records", params={"filter": "salary > 150"}).json()
    assert probe["totalItems"] == 0, "a field the caller cannot read is no filter oracle"
    assert (
        api.get("/api/collections/profiles/records", params={"filter": "salary > 150"}, headers=su).json()[
            "totalItems"
        ]
        == 1
    )
    assert api.get("/api/collections/profiles/records", params={"sort": "salary"}).status_code == 400
    one = api.get(f"/api/collections/profiles/records/{as_alice['items'][1]['id']}").json()
    assert "salary" not in one
    bad = api.patch(
        "/api/collections/profiles",
        headers=su,
        json={"fields": [dict(f, readRule="nosuch = 1") if f["name"] == "salary" else f
                         for f in created.json()["fields"]]},
    )  # fmt: skip
    assert bad.status_code == 400
    assert bad.json()["data"]["fields"]["3"]["readRule"]["code"] == "validation_invalid_rule"
