"""``GET/PATCH /api/settings``: PocketBase's shape, superusers only, secrets write-only, shared
by every process through the database."""

from __future__ import annotations

from tests.support.doors import open_door
from tests.support.scenario import create_user, superuser_headers, user_headers


def test_defaults_and_superuser_only(api):
    assert api.get("/api/settings").status_code == 401
    create_user(api, "someone@example.com")
    assert api.get("/api/settings", headers=user_headers(api, "someone@example.com")).status_code == 403
    settings = api.get("/api/settings", headers=superuser_headers(api)).json()
    assert set(settings) == {"meta", "smtp", "batch", "rateLimits", "trustedProxy"}
    assert settings["batch"] == {"enabled": False, "maxRequests": 50, "timeout": 3, "maxBodySize": 0}
    assert settings["meta"]["appName"] == "Acme"
    assert "password" not in settings["smtp"]
    assert settings["rateLimits"]["enabled"] is True
    assert [r["label"] for r in settings["rateLimits"]["rules"]] == ["*:auth"]


def test_patch_merges_and_keeps_secrets_out_of_responses(api):
    su = superuser_headers(api)
    response = api.patch(
        "/api/settings",
        headers=su,
        json={"meta": {"appName": "Mine", "senderAddress": "no-reply@mine.test"},
              "smtp": {"enabled": True, "host": "127.0.0.1", "port": 2525, "password": "s3cret"}},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["appName"] == "Mine" and body["meta"]["appURL"] == "http://localhost:8090"
    assert body["smtp"]["port"] == 2525 and "password" not in body["smtp"]
    assert "s3cret" not in response.text
    again = api.patch("/api/settings", headers=su, json={"smtp": {"port": 2626}})
    assert again.status_code == 200
    assert api.runtime.app_settings.get()["smtp"]["password"] == "s3cret", "an omitted secret is kept"


def test_invalid_values_are_400_and_change_nothing(api):
    su = superuser_headers(api)
    before = api.get("/api/settings", headers=su).json()
    bad = api.patch(
        "/api/settings",
        headers=su,
        json={"meta": {"appURL": "not a url"}, "rateLimits": {"rules": [{"label": "", "duration": 0}]}},
    )
    assert bad.status_code == 400
    assert set(bad.json()["data"]) == {"meta", "rateLimits"}
    assert api.get("/api/settings", headers=su).json() == before


def test_a_change_reaches_other_processes_on_their_next_request(door_kind, make_settings):
    settings = make_settings()
    a, b = open_door(door_kind, settings), open_door(door_kind, settings)
    try:
        su = superuser_headers(a)
        b.get("/api/settings", headers=su)
        a.patch("/api/settings", headers=su, json={"batch": {"enabled": True}})
        assert b.get("/api/settings", headers=su).json()["batch"]["enabled"] is True
        # enabled: the batch is read and validated (an empty one is PocketBase's 400), not refused (403)
        empty = b.post("/api/batch", headers=su, json={"requests": []})
        assert (empty.status_code, empty.json()["message"]) == (400, "Invalid batch request data.")
    finally:
        a.close()
        b.close()
