"""Issue 8 finding 7: a multipart body whose part name, value or file name is not UTF-8 is a
malformed body — 400 in the error envelope on every route that reads a body, never a 500."""

from __future__ import annotations

import pytest

from tests.support.scenario import create_user, enable_batch, superuser_headers

INVALID_BODY = "Failed to load the submitted data due to invalid formatting."
#: The batch route words an unreadable body its own way, as PocketBase does.
INVALID_BATCH = "Failed to read the submitted batch data."
BOUNDARY = "b0undary"

BODIES = {
    "value": b'Content-Disposition: form-data; name="title"\r\n\r\n\xff\xfe\xc3(',
    "name": b'Content-Disposition: form-data; name="ti\xfftle"\r\n\r\nabc',
    "jsonPayload": b'Content-Disposition: form-data; name="@jsonPayload"\r\n\r\n{"title": "\xff"}',
}


def multipart(part: bytes) -> bytes:
    return b"--" + BOUNDARY.encode() + b"\r\n" + part + b"\r\n--" + BOUNDARY.encode() + b"--\r\n"


# Every route that reads a request body (method, path; {rid}/{uid} are filled in).
ROUTES = [
    ("POST", "/api/collections/things/records"),
    ("PATCH", "/api/collections/things/records/{rid}"),
    ("POST", "/api/batch"),
    ("POST", "/api/collections/users/auth-with-password"),
    ("POST", "/api/collections/users/auth-with-otp"),
    ("POST", "/api/collections/users/auth-with-oauth2"),
    ("POST", "/api/collections/users/request-otp"),
    ("POST", "/api/collections/users/request-verification"),
    ("POST", "/api/collections/users/confirm-verification"),
    ("POST", "/api/collections/users/request-password-reset"),
    ("POST", "/api/collections/users/confirm-password-reset"),
    ("POST", "/api/collections/users/request-email-change"),
    ("POST", "/api/collections/users/confirm-email-change"),
    ("POST", "/api/collections/users/impersonate/{uid}"),
    ("POST", "/api/collections"),
    ("PATCH", "/api/collections/things"),
    ("PUT", "/api/collections/import"),
    ("PATCH", "/api/settings"),
    ("POST", "/api/settings/test/email"),
]


@pytest.fixture
def world(api):
    su = superuser_headers(api)
    enable_batch(api, su)
    definition = {"name": "things", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
                  "fields": [{"name": "title", "type": "text"}, {"name": "doc", "type": "file"}]}  # fmt: skip
    assert api.post("/api/collections", headers=su, json=definition).status_code == 200
    record = api.post("/api/collections/things/records", json={"title": "x"}).json()
    user = create_user(api, "body@example.com")
    # auth-with-oauth2 checks that OAuth2 is on before it reads the body.
    oauth2 = api.patch("/api/collections/users", headers=su, json={"oauth2": {"enabled": True}})
    assert oauth2.status_code == 200, oauth2.text
    return {"su": su, "rid": record["id"], "uid": user["id"]}


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_non_utf8_multipart_is_a_400_on_every_body_route(api, world, kind):
    headers = {**world["su"], "content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    for method, path in ROUTES:
        url = path.format(rid=world["rid"], uid=world["uid"])
        response = api.request(method, url, content=multipart(BODIES[kind]), headers=headers)
        assert response.status_code == 400, (method, url, response.status_code, response.text)
        message = INVALID_BATCH if path == "/api/batch" else INVALID_BODY
        assert response.json() == {"data": {}, "message": message, "status": 400}, (method, url)
    # Nothing was written by the refused requests, and the app still serves.
    listed = api.get("/api/collections/things/records").json()
    assert [item["title"] for item in listed["items"]] == ["x"]


def test_non_utf8_file_name_is_refused_or_kept_safe(api, world):
    """A file part's name is metadata too: it never turns into a 500."""
    part = b'Content-Disposition: form-data; name="doc"; filename="\xff\xfe.txt"\r\n'
    part += b"Content-Type: text/plain\r\n\r\nhello"
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    response = api.post("/api/collections/things/records", content=multipart(part), headers=headers)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["status"] == 400
    else:
        assert response.json()["doc"].endswith(".txt")
