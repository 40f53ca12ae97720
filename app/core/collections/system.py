"""System collections and fields: what every collection type must contain, and the built-in ones.

``_superusers`` exists from the first start (all rules locked). Auth collections carry the system
fields ``password``, ``tokenKey``, ``email``, ``emailVisibility`` and ``verified``; every collection
carries the ``id`` text primary key.
"""

from __future__ import annotations

from .auth_options import default_auth_options, merge_auth_options
from .model import Collection, Field
from .names import bounded

SUPERUSERS = "_superusers"
SUPERUSERS_ID = "pbc_3142635823"
USERS_ID = "_pb_users_auth_"
INTERNAL_TABLES = {"_collections", "_params", "_migrations", "_logs"}
#: Record keys that can never be field names (they are part of every record's JSON).
RESERVED_FIELD_NAMES = {
    "null",
    "true",
    "false",
    "rowid",
    "oid",
    "_rowid_",
    "_rowid",
    "expand",
    "collectionId",
    "collectionName",
    # PostgreSQL's system columns: a column of that name cannot be created there, so no engine
    # accepts it (a schema stays portable between SQLite and PostgreSQL)
    "xmin",
    "xmax",
    "cmin",
    "cmax",
    "ctid",
    "tableoid",
}
AUTH_SYSTEM_FIELDS = ("password", "tokenKey", "email", "emailVisibility", "verified")


def id_field() -> Field:
    return Field(
        name="id",
        type="text",
        system=True,
        required=True,
        options={
            "autogeneratePattern": "[a-z0-9]{15}",
            "max": 15,
            "min": 15,
            "pattern": "^[a-z0-9]+$",
            "primaryKey": True,
        },
    )


def auth_system_fields() -> list[Field]:
    return [
        Field(name="password", type="password", system=True, hidden=True, required=True, options={"min": 8}),
        Field(
            name="tokenKey",
            type="text",
            system=True,
            hidden=True,
            required=True,
            options={"autogeneratePattern": "[a-zA-Z0-9]{50}", "max": 60, "min": 30},
        ),
        Field(name="email", type="email", system=True, required=True),
        Field(name="emailVisibility", type="bool", system=True),
        Field(name="verified", type="bool", system=True),
    ]


def autodate_fields() -> list[Field]:
    return [
        Field(name="created", type="autodate", options={"onCreate": True, "onUpdate": False}),
        Field(name="updated", type="autodate", options={"onCreate": True, "onUpdate": True}),
    ]


def auth_indexes(collection: Collection) -> list[str]:
    # PocketBase's names; an id too long for an identifier gets a bounded, still unique name
    name, token_index, email_index = (
        collection.name,
        bounded("idx_tokenKey_", collection.id),
        bounded("idx_email_", collection.id),
    )
    return [
        f"CREATE UNIQUE INDEX {token_index} ON {name} (tokenKey)",
        f"CREATE UNIQUE INDEX {email_index} ON {name} (email) WHERE email != ''",
    ]


def ensure_system_fields(collection: Collection) -> None:
    """Add the system fields a collection of its type must have (missing ones only, in front)."""
    required = [id_field()]
    if collection.is_auth:
        required += auth_system_fields()
    missing = [f for f in required if collection.field(f.name) is None]
    collection.fields = missing + collection.fields
    if collection.is_auth:
        collection.options = merge_auth_options(collection.options or None, {})
        present = " ".join(collection.indexes)
        for index in auth_indexes(collection):
            marker = index.split(" ON ")[0].split()[-1]
            if marker not in present:
                collection.indexes.append(index)


def superusers_collection() -> Collection:
    collection = Collection(name=SUPERUSERS, type="auth", id=SUPERUSERS_ID, system=True)
    collection.fields = [id_field(), *auth_system_fields(), *autodate_fields()]
    collection.options = default_auth_options()
    collection.options["authToken"]["duration"] = 86400
    collection.indexes = auth_indexes(collection)
    return collection


def users_collection() -> Collection:
    """PocketBase's default ``users`` auth collection (name and avatar on top of the system fields)."""
    collection = Collection(name="users", type="auth", id=USERS_ID)
    collection.fields = [
        id_field(),
        *auth_system_fields(),
        Field(name="name", type="text", options={"max": 255}),
        Field(
            name="avatar",
            type="file",
            options={
                "maxSelect": 1,
                "mimeTypes": ["image/jpeg", "image/png", "image/svg+xml", "image/gif", "image/webp"],
            },
        ),
        *autodate_fields(),
    ]
    collection.listRule = "id = @request.auth.id"
    collection.viewRule = "id = @request.auth.id"
    collection.createRule = ""
    collection.updateRule = "id = @request.auth.id"
    collection.deleteRule = "id = @request.auth.id"
    collection.options = default_auth_options()
    collection.options["authRule"] = ""
    collection.indexes = auth_indexes(collection)
    return collection


OWNER_RULE = (
    "@request.auth.id != '' && recordRef = @request.auth.id && collectionRef = @request.auth.collectionId"
)


def _ref_fields() -> list[Field]:
    return [
        Field(name="collectionRef", type="text", system=True, required=True),
        Field(name="recordRef", type="text", system=True, required=True),
    ]


def _system_autodates() -> list[Field]:
    return [
        Field(name="created", type="autodate", system=True, options={"onCreate": True, "onUpdate": False}),
        Field(name="updated", type="autodate", system=True, options={"onCreate": True, "onUpdate": True}),
    ]


def _system_base(name: str, fields: list[Field], indexes: list[str], delete_rule: bool = False) -> Collection:
    collection = Collection(name=name, type="base", system=True)
    collection.fields = [id_field(), *_ref_fields(), *fields, *_system_autodates()]
    collection.listRule = OWNER_RULE
    collection.viewRule = OWNER_RULE
    collection.deleteRule = OWNER_RULE if delete_rule else None
    collection.indexes = indexes
    return collection


def mfas_collection() -> Collection:
    """Pending multi-factor sign-ins: the first factor passed, waiting for a second one."""
    return _system_base(
        "_mfas",
        [Field(name="method", type="text", system=True, required=True)],
        ["CREATE INDEX idx_mfas_collectionRef_recordRef ON _mfas (collectionRef, recordRef)"],
    )


def otps_collection() -> Collection:
    """One-time passwords sent by email (the code itself stored hashed)."""
    return _system_base(
        "_otps",
        [
            Field(name="password", type="password", system=True, hidden=True, required=True),
            Field(name="sentTo", type="text", system=True, hidden=True),
        ],
        ["CREATE INDEX idx_otps_collectionRef_recordRef ON _otps (collectionRef, recordRef)"],
    )


def auth_origins_collection() -> Collection:
    """Devices/locations a record signed in from (auth alerts)."""
    return _system_base(
        "_authOrigins",
        [Field(name="fingerprint", type="text", system=True, required=True)],
        [
            "CREATE UNIQUE INDEX idx_authOrigins_unique_pairs "
            "ON _authOrigins (collectionRef, recordRef, fingerprint)"
        ],
        delete_rule=True,
    )


def external_auths_collection() -> Collection:
    """OAuth2 identities linked to auth records."""
    return _system_base(
        "_externalAuths",
        [
            Field(name="provider", type="text", system=True, required=True),
            Field(name="providerId", type="text", system=True, required=True),
        ],
        [
            "CREATE UNIQUE INDEX idx_externalAuths_record_provider "
            "ON _externalAuths (collectionRef, recordRef, provider)",
            "CREATE UNIQUE INDEX idx_externalAuths_collection_provider "
            "ON _externalAuths (collectionRef, provider, providerId)",
        ],
        delete_rule=True,
    )


def builtin_collections() -> list[Collection]:
    """Created on the first start (and on later starts when missing), in this order."""
    collections = [
        superusers_collection(),
        users_collection(),
        mfas_collection(),
        otps_collection(),
        auth_origins_collection(),
        external_auths_collection(),
    ]
    for collection in collections:
        if collection.indexes:
            from .indexes import format_index, parse_index

            collection.indexes = [format_index(parse_index(i), collection.name) for i in collection.indexes]
    return collections
