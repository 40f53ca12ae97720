"""Turning a provider identity into an auth record: find the linked one, link an existing one, or
create one. All of it runs in one transaction, so a failed step leaves neither a half-created record
nor a dangling ``_externalAuths`` row.

Which record, in PocketBase's order:
1. the record an ``_externalAuths`` row links to (collection, provider, provider user id);
2. else the caller's own record, when the request carries a token of this collection (linking
   another provider to a signed-in account);
3. else the record whose email is the provider's *verified* email;
4. else a new record: ``createData`` + the provider email + mapped fields + a random password,
   created under the collection's createRule (``@request.context = "oauth2"``), and marked
   verified when its email is the provider's.

Pre-hijacking (AUTH-9). A record found by email that is still unverified may have been registered
by someone who does not own the address, waiting for the owner to sign in with a provider: it is
never linked that way (400; the owner verifies the address or resets the password first, which
also ends the squatter's sessions). A signed-in but unverified record may only link a provider
that vouches for its own address, so nobody can plant an identity on an account before its
address is proven. docs/oauth2.md has the reasoning.
"""

from __future__ import annotations

import logging
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...core.errors import BadRequest
from ...core.rules.context import SUPERUSER_SYSTEM, RequestInfo
from ...db.sql import where
from ...tools.ids import random_string
from ..identity import find_by_email, find_by_field
from ..record_tokens import load_record
from .user import AuthUser

if TYPE_CHECKING:
    from ...core.collections.compiled import CompiledCollection
    from ...runtime import Runtime

log = logging.getLogger("emmettbase.oauth2")

EXTERNAL_AUTHS = "_externalAuths"
SUPERUSERS = "_superusers"
FAILED = "Failed to authenticate."
UNVERIFIED_ACCOUNT = (
    "An account with this email address exists but its address is not verified yet. Verify it"
    " (or reset its password) first, then sign in with this provider again."
)
UNVERIFIED_LINK = "Verify your email address before linking another sign-in method."
_ALPHANUMERIC = string.ascii_letters + string.digits
RANDOM_PASSWORD_LENGTH = 30


@dataclass
class SignIn:
    record: dict[str, Any]
    is_new: bool


def sign_in(
    runtime: Runtime,
    compiled: CompiledCollection,
    provider: str,
    user: AuthUser,
    create_data: dict[str, Any],
    info: RequestInfo,
) -> SignIn:
    records = runtime.records
    links = records.collection(EXTERNAL_AUTHS)
    with runtime.db.transaction():
        link = _find_link(runtime, links, compiled.id, provider, user.id)
        record = None
        if link is not None:
            record = load_record(runtime.db, compiled, link["recordRef"])
            if record is None:
                # the record was deleted and its link stayed behind: forget the link
                records.delete(EXTERNAL_AUTHS, link["id"], SUPERUSER_SYSTEM)
                link = None
        if record is None and info.auth is not None and info.auth.collection.id == compiled.id:
            record = load_record(runtime.db, compiled, info.auth.id)
            if record is not None:
                _check_can_link(record, user)
        if record is None and user.email:
            record = find_by_email(runtime.db, compiled, user.email)
            if record is not None and not record.get("verified"):
                raise BadRequest(UNVERIFIED_ACCOUNT)  # AUTH-9: never link by an unproven address
        is_new = record is None
        if record is None:
            record = _create(runtime, compiled, user, create_data, info)
        else:
            _complete_existing(runtime, compiled, record, user)
        if link is None:
            _link(runtime, compiled.id, str(record["id"]), provider, user.id)
        final = load_record(runtime.db, compiled, record["id"])
    if final is None:  # pragma: no cover - deleted by a hook inside our own transaction
        raise BadRequest(FAILED)
    return SignIn(final, is_new)


def _link(runtime: Runtime, collection_id: str, record_id: str, provider: str, provider_id: str) -> None:
    values = {
        "collectionRef": collection_id,
        "recordRef": record_id,
        "provider": provider,
        "providerId": provider_id,
    }
    try:
        runtime.records.create(EXTERNAL_AUTHS, values, SUPERUSER_SYSTEM)
    except BadRequest as exc:
        # e.g. the record is already linked to another account of this provider; the field errors
        # of a system collection mean nothing to the client
        raise BadRequest(FAILED, detail=f"cannot link the identity: {exc.data}") from None


# -- an existing record ---------------------------------------------------------------------------


def _check_can_link(record: dict[str, Any], user: AuthUser) -> None:
    """A signed-in record may add a provider identity once its address is proven (verified), or
    when the provider vouches for that very address: an unverified account (maybe registered by
    someone else with the owner's address) must not collect identities its real owner never made."""
    if not record.get("verified") and not (user.email and user.email == record.get("email")):
        raise BadRequest(UNVERIFIED_LINK)


def _complete_existing(
    runtime: Runtime, compiled: CompiledCollection, record: dict[str, Any], user: AuthUser
) -> None:
    """Fill what the provider proves: a missing email, and the verified state when the provider
    vouches for the record's own address."""
    updates: dict[str, Any] = {}
    email = str(record.get("email") or "")
    if not email and user.email:
        updates["email"] = email = user.email  # created earlier through a provider without email
    if not record.get("verified") and user.email and email == user.email:
        updates["verified"] = True
    if updates:
        runtime.records.update(compiled.id, record["id"], updates, SUPERUSER_SYSTEM)


# -- a new record ---------------------------------------------------------------------------------


def _create(
    runtime: Runtime,
    compiled: CompiledCollection,
    user: AuthUser,
    create_data: dict[str, Any],
    info: RequestInfo,
) -> dict[str, Any]:
    if compiled.collection.name == SUPERUSERS:
        raise BadRequest(FAILED, detail="superusers cannot sign up with OAuth2")
    payload = dict(create_data)
    if not isinstance(payload.get("email"), str) or not payload.get("email"):
        payload["email"] = user.email
    mapped = compiled.collection.options.get("oauth2", {}).get("mappedFields") or {}
    for key, value in (("id", user.id), ("name", user.name)):
        name = mapped.get(key)
        if name and name not in payload:
            payload[name] = value
    name = mapped.get("username")
    if name and name not in payload and _can_assign_username(runtime, compiled, name, user.username):
        payload[name] = user.username
    name = mapped.get("avatarURL")
    if name and name not in payload and user.avatar_url:
        field = compiled.fields.get(name)
        if field is not None and field.type == "file":
            # PocketBase downloads the picture into a file field; file uploads do not exist yet here
            log.info("OAuth2 avatar not stored: field %r is a file field", name)
        else:
            payload[name] = user.avatar_url
    if "password" not in payload:
        password = random_string(RANDOM_PASSWORD_LENGTH, _ALPHANUMERIC)
        payload.update(password=password, passwordConfirm=password)
    create_info = RequestInfo(
        auth=info.auth,
        method="POST",
        query=info.query,
        headers=info.headers,
        body=payload,
        context="oauth2",
    )
    _, record = runtime.records.create(compiled.id, payload, create_info)
    if user.email and record.get("email") == user.email and not record.get("verified"):
        _, record = runtime.records.update(compiled.id, record["id"], {"verified": True}, SUPERUSER_SYSTEM)
    return dict(record)


def _can_assign_username(runtime: Runtime, compiled: CompiledCollection, name: str, username: str) -> bool:
    """PocketBase maps the provider username only when it is valid for the field and not taken."""
    field = compiled.fields.get(name)
    if field is None or not username:
        return False
    if field.type == "text":
        try:
            value = field.kind.prepare(field, username)
        except Exception:  # any casting problem means: not assignable
            return False
        if field.kind.validate(field, value, True):
            return False
    return find_by_field(runtime.db, compiled, name, username) is None


# -- lookups --------------------------------------------------------------------------------------


def _find_link(
    runtime: Runtime, links: CompiledCollection, collection_id: str, provider: str, provider_id: str
) -> Any:
    columns = links.columns
    query = (
        (columns["collectionRef"] == collection_id)
        & (columns["provider"] == provider)
        & (columns["providerId"] == provider_id)
    )
    row = runtime.db.fetchone(where(links.table, query)._select(*links.all_columns, limitby=(0, 1)))
    return links.row_to_python(row, links.collection.fields) if row else None
