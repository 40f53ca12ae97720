"""Auth routes common to every auth collection: ``auth-with-password`` and ``auth-refresh``.

The full set (verification, reset, email change, OTP, MFA, OAuth2, impersonation) arrives with the
auth issue; these two are what superusers (and the collections API) need.
"""

from __future__ import annotations

from typing import Any

from ..auth.passwords import hash_password, needs_rehash, verify_password
from ..auth.tokens import issue, signing_key
from ..core.collections.auth_options import token_duration, token_secret
from ..core.errors import BadRequest, Forbidden, NotFound, Unauthorized
from ..core.rules.context import AuthState, RequestInfo
from ..db.sql import where
from ..runtime import Runtime
from .request import read_body, request_info
from .responses import json_response

FAILED = "Failed to authenticate."
# A real argon2id hash (of a random string) to verify against when the identity is unknown, so both
# failures cost the same time and do not reveal which accounts exist.
_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password("emmettbase-timing-equalizer"))
    return _DUMMY_HASH[0]


def auth_token(compiled: Any, record: dict[str, Any], refreshable: bool = True) -> str:
    options = compiled.collection.options
    key = signing_key(str(record["tokenKey"]), token_secret(options, "authToken"))
    return issue(
        record["id"], compiled.id, "auth", key, token_duration(options, "authToken"), refreshable=refreshable
    )


AUTH_RULE_FAILED = "The request doesn't satisfy the collection requirements to authenticate."


def auth_response(runtime: Runtime, compiled: Any, record: dict[str, Any], info: RequestInfo) -> Any:
    if not runtime.records.allowed_to_authenticate(compiled, record["id"], info):
        raise Forbidden(AUTH_RULE_FAILED)
    viewer = RequestInfo(auth=AuthState(compiled, record), query=info.query)
    token = auth_token(compiled, record)
    wire = runtime.records.present_record(
        compiled, record, viewer, _param(info, "expand"), _param(info, "fields")
    )
    return json_response({"record": wire, "token": token}, sort_keys=True)


def _param(info: RequestInfo, key: str) -> str:
    value = info.query.get(key, "")
    return str(value[0] if isinstance(value, list) and value else value or "")


def mount(api: Any, runtime: Runtime) -> None:
    max_body = runtime.settings.max_body_size

    def auth_collection(key: str) -> Any:
        compiled = runtime.records.collection(key)
        if not compiled.collection.is_auth:
            raise BadRequest("The collection is not an auth collection.")
        return compiled

    @api.route(
        "/collections/<str:collection>/auth-with-password", name="auth_with_password", methods=["post"]
    )
    async def auth_with_password(collection: str) -> Any:
        compiled = auth_collection(collection)
        options = compiled.collection.options
        if not options.get("passwordAuth", {}).get("enabled", True):
            raise Forbidden("The collection is not configured to allow password authentication.")
        body = await read_body(max_body)
        info = await request_info(runtime, body)
        identity = body.data.get("identity")
        password = body.data.get("password")
        if not isinstance(identity, str) or not isinstance(password, str) or not identity or not password:
            raise BadRequest(FAILED)
        fields = options.get("passwordAuth", {}).get("identityFields") or ["email"]
        requested = body.data.get("identityField")
        if requested:
            if requested not in fields:
                raise BadRequest(FAILED)
            fields = [requested]
        record = _find_by_identity(runtime, compiled, fields, identity)
        stored = str(record.get("password") or "") if record else _dummy_hash()
        if not verify_password(password, stored) or record is None:
            raise BadRequest(FAILED)
        if needs_rehash(stored):
            _store_new_hash(runtime, compiled, record, password)
        return auth_response(runtime, compiled, record, info)

    @api.route("/collections/<str:collection>/auth-refresh", name="auth_refresh", methods=["post"])
    async def auth_refresh(collection: str) -> Any:
        compiled = auth_collection(collection)
        info = await request_info(runtime)
        if info.auth is None or info.auth.collection.id != compiled.id:
            raise Unauthorized()
        return auth_response(runtime, compiled, info.auth.record, info)


def _find_by_identity(
    runtime: Runtime, compiled: Any, fields: list[str], identity: str
) -> dict[str, Any] | None:
    if len(identity) > 255 or "\x00" in identity:
        return None
    for name in fields:
        if name not in compiled.fields:
            continue
        column = compiled.columns[name]
        sql = where(compiled.table, column == identity)._select(*compiled.all_columns, limitby=(0, 1))
        row = runtime.db.fetchone(sql)
        if row:
            return compiled.row_to_python(row, compiled.collection.fields)
    return None


def _store_new_hash(runtime: Runtime, compiled: Any, record: dict[str, Any], password: str) -> None:
    new_hash = hash_password(password)
    column = compiled.columns["password"]
    runtime.db.execute(
        where(compiled.table, compiled.id_column == record["id"])._update(**{column.name: new_hash})
    )
    record["password"] = new_hash


__all__ = ["NotFound", "auth_response", "auth_token", "mount"]
