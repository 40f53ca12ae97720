"""A small world for the access-control tests: identities, rule fixture collections, and helpers.

Identities (RELIABILITY.md AC-2): ``guest`` (no token), ``userA``, ``userB`` (verified users),
``unverified`` (a user whose ``verified`` is false), ``superuser``, and ``member`` (a verified record
of a second auth collection, ``members``, created through the collections API).

Users sign up through ``POST /api/collections/users/records`` (users' createRule is ``""``) and are
verified by a superuser ``PATCH``; tokens come from ``auth-with-password``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.auth.session import load_record
from tests.support.scenario import enable_batch, superuser_headers

PASSWORD = "user-password-1"
USERS_ID = "_pb_users_auth_"
RULES = ("listRule", "viewRule", "createRule", "updateRule", "deleteRule")

NOT_FOUND = {"data": {}, "message": "The requested resource wasn't found.", "status": 404}
CREATE_FAILED = {"data": {}, "message": "Failed to create record.", "status": 400}
LOCKED = {"data": {}, "message": "Only superusers can perform this action.", "status": 403}
SUPERUSER_ONLY = {
    "data": {},
    "message": "The authorized record is not allowed to perform this action.",
    "status": 403,
}
UNAUTHORIZED = {
    "data": {},
    "message": "The request requires valid record authorization token.",
    "status": 401,
}
FILTER_REQUEST_FORBIDDEN = {"data": {}, "message": "Only superusers can filter by @request.", "status": 403}

#: The fields of every fixture collection: a title, an owner (relation to users) and a counter.
ITEM_FIELDS: list[dict[str, Any]] = [
    {"name": "title", "type": "text"},
    {"name": "owner", "type": "relation", "collectionId": USERS_ID, "maxSelect": 1},
    {"name": "views", "type": "number"},
]


def rules(value: str | None) -> dict[str, str | None]:
    return dict.fromkeys(RULES, value)


@dataclass
class Identity:
    name: str
    headers: dict[str, str] = field(default_factory=dict)
    #: the users record id, when the identity is a record of ``users``
    user_id: str | None = None
    #: the auth record id whatever its collection (None for guests and superusers)
    auth_id: str | None = None
    verified: bool = False
    superuser: bool = False


class World:
    """The identities, and helpers acting as a superuser (setup and read-back)."""

    def __init__(self, door: Any, members: bool = True):
        self.door = door
        self.su = superuser_headers(door)
        enable_batch(door, self.su)  # off by default, as in PocketBase
        self.ids: dict[str, Identity] = {
            "guest": Identity("guest"),
            "superuser": Identity("superuser", headers=self.su, verified=True, superuser=True),
        }
        for name, verified in (("userA", True), ("userB", True), ("unverified", False)):
            self.ids[name] = self.sign_up(name, verified)
        if members:
            self.create_collection({"name": "members", "type": "auth", **rules(None)})
            self.ids["member"] = self.auth_record("members", "member", verified=True)

    # -- identities ---------------------------------------------------------------------------

    def sign_up(self, name: str, verified: bool = True) -> Identity:
        email = f"{name.lower()}@example.com"
        body = {"email": email, "password": PASSWORD, "passwordConfirm": PASSWORD}
        response = self.door.post("/api/collections/users/records", json=body)
        assert response.status_code == 200, response.text
        user_id = response.json()["id"]
        if verified:
            response = self.door.patch(
                f"/api/collections/users/records/{user_id}", headers=self.su, json={"verified": True}
            )
            assert response.status_code == 200, response.text
            assert response.json()["verified"] is True
        return Identity(
            name,
            headers=self.login("users", email),
            user_id=user_id,
            auth_id=user_id,
            verified=verified,
        )

    def auth_record(self, collection: str, name: str, verified: bool = True) -> Identity:
        email = f"{name.lower()}@example.com"
        body = {"email": email, "password": PASSWORD, "passwordConfirm": PASSWORD, "verified": verified}
        response = self.door.post(f"/api/collections/{collection}/records", headers=self.su, json=body)
        assert response.status_code == 200, response.text
        record_id = response.json()["id"]
        return Identity(name, headers=self.login(collection, email), auth_id=record_id, verified=verified)

    def login(self, collection: str, email: str, password: str = PASSWORD) -> dict[str, str]:
        response = self.door.post(
            f"/api/collections/{collection}/auth-with-password",
            json={"identity": email, "password": password},
        )
        assert response.status_code == 200, response.text
        return {"Authorization": response.json()["token"]}

    def __getitem__(self, name: str) -> Identity:
        return self.ids[name]

    # -- collections ----------------------------------------------------------------------------

    def create_collection(self, definition: dict[str, Any]) -> dict[str, Any]:
        response = self.door.post("/api/collections", headers=self.su, json=definition)
        assert response.status_code == 200, response.text
        return response.json()

    def items_collection(self, name: str, rule_values: dict[str, Any], extra_fields: list[Any] = ()) -> Any:
        definition = {
            "name": name,
            "type": "base",
            "fields": [dict(f) for f in ITEM_FIELDS] + [dict(f) for f in extra_fields],
            **rule_values,
        }
        return self.create_collection(definition)

    def set_rules(self, collection: str, **values: Any) -> dict[str, Any]:
        response = self.door.patch(f"/api/collections/{collection}", headers=self.su, json=values)
        assert response.status_code == 200, response.text
        return response.json()

    # -- records as superuser -------------------------------------------------------------------

    def add(self, collection: str, **values: Any) -> dict[str, Any]:
        response = self.door.post(f"/api/collections/{collection}/records", headers=self.su, json=values)
        assert response.status_code == 200, response.text
        return response.json()

    def read(self, collection: str, record_id: str) -> dict[str, Any] | None:
        response = self.door.get(f"/api/collections/{collection}/records/{record_id}", headers=self.su)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return response.json()

    def all_records(self, collection: str, filter_: str = "") -> list[dict[str, Any]]:
        params = {"perPage": 1000, "filter": filter_} if filter_ else {"perPage": 1000}
        response = self.door.get(f"/api/collections/{collection}/records", headers=self.su, params=params)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def raw_record(self, collection: str, record_id: str) -> dict[str, Any] | None:
        """The stored values, hidden fields included (straight from the database)."""
        compiled = self.door.runtime.records.collection(collection)
        return load_record(self.door.runtime.db, compiled, record_id)

    # -- requests as an identity ----------------------------------------------------------------

    def as_(self, identity: str | Identity, method: str, url: str, **kwargs: Any) -> Any:
        who = self.ids[identity] if isinstance(identity, str) else identity
        headers = {**who.headers, **kwargs.pop("headers", {})}
        return self.door.request(method, url, headers=headers, **kwargs)

    def list(self, identity: str | Identity, collection: str, **params: Any) -> Any:
        """``GET .../records`` as ``identity`` (perPage 1000 unless given)."""
        query = {"perPage": 1000, **params}
        return self.as_(identity, "GET", f"/api/collections/{collection}/records", params=query)
