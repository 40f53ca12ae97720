"""The internal tables (``_collections``, ``_params``) and the first-start bootstrap.

``_collections`` keeps each collection's whole PocketBase JSON definition (secrets included) in
one text column; ``_params`` holds key/value pairs, among them the schema version token that tells
other processes to reload. ``bootstrap`` is idempotent and safe to run from several processes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson
from pydal import Field as DalField

from ...db import Database, DatabaseError, SchemaMismatch, Transaction
from ...db.sql import where
from ...tools.datetimes import now
from ...tools.ids import random_string
from ..events import collection_change
from . import ddl
from .indexes import quote
from .model import Collection

log = logging.getLogger("emmettbase.schema")

SCHEMA_VERSION_KEY = "schema_version"


@dataclass
class InternalTables:
    collections: Any
    params: Any


def internal_tables(dal: Any) -> InternalTables:
    params = dal.define_table(
        "sys_params",
        DalField("key", "string", rname=quote("key")),
        DalField("value", "text", rname=quote("value")),
        DalField("updated", "string", rname=quote("updated")),
        primarykey=["key"],
        rname=quote("_params"),
        migrate=False,
        redefine=True,
    )
    collections = dal.define_table(
        "sys_collections",
        DalField("id", "string", rname=quote("id")),
        DalField("name", "string", rname=quote("name")),
        DalField("type", "string", rname=quote("type")),
        DalField("definition", "text", rname=quote("definition")),
        DalField("created", "string", rname=quote("created")),
        DalField("updated", "string", rname=quote("updated")),
        primarykey=["id"],
        rname=quote("_collections"),
        migrate=False,
        redefine=True,
    )
    return InternalTables(collections=collections, params=params)


SYSTEM_DDL = [
    'CREATE TABLE IF NOT EXISTS "_params" ("key" TEXT PRIMARY KEY NOT NULL, '
    "\"value\" TEXT DEFAULT '' NOT NULL, \"updated\" TEXT DEFAULT '' NOT NULL)",
    'CREATE TABLE IF NOT EXISTS "_collections" ("id" TEXT PRIMARY KEY NOT NULL, "name" TEXT NOT NULL, '
    '"type" TEXT NOT NULL, "definition" TEXT NOT NULL, "created" TEXT NOT NULL, "updated" TEXT NOT NULL)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "_collections_name_idx" ON "_collections" (lower("name"))',
]


def is_missing_table_error(exc: BaseException) -> bool:
    return isinstance(exc, SchemaMismatch)


def bump_version(tx: Transaction, internal: InternalTables) -> None:
    params = internal.params
    token = random_string(20)
    updated = where(params, params.key == SCHEMA_VERSION_KEY)._update(value=token, updated=now())
    if tx.execute(updated).rowcount == 0:
        tx.execute(params._insert(key=SCHEMA_VERSION_KEY, value=token, updated=now()))


def insert_collection(
    tx: Transaction, dialect: str, internal: InternalTables, collection: Collection
) -> None:
    """Create the table and store the definition (in the caller's transaction, with its change)."""
    stamp = now()
    collection.created = collection.created or stamp
    collection.updated = stamp
    for statement in ddl.create_table(collection, dialect):
        tx.execute(statement)
    tx.execute(
        internal.collections._insert(
            id=collection.id,
            name=collection.name,
            type=collection.type,
            definition=definition_text(collection),
            created=collection.created,
            updated=collection.updated,
        )
    )
    tx.changes.append(collection_change("create", None, collection.to_json()))


def definition_text(collection: Collection) -> str:
    data = collection.to_json()
    data.update(collection.options)  # the stored copy keeps the token secrets
    return orjson.dumps(data).decode()


def bootstrap(db: Database, internal: InternalTables) -> None:
    """Create the internal tables and the built-in collections when missing."""
    from .system import builtin_collections

    for attempt in range(1, 4):
        try:
            with db.transaction(schema_change=True) as tx:
                for statement in SYSTEM_DDL:
                    tx.execute(statement)
                table = internal.collections
                existing = {row[0] for row in tx.fetchall(where(table)._select(table.id))}
                params = internal.params
                has_version = tx.fetchone(where(params, params.key == SCHEMA_VERSION_KEY)._select(params.key))
                created = False
                for collection in builtin_collections():
                    # ``users`` is created on the very first start only: it may be deleted later
                    if collection.id not in existing and (collection.system or not has_version):
                        insert_collection(tx, db.dialect, internal, collection)
                        created = True
                if not has_version or created:
                    bump_version(tx, internal)
            return
        except DatabaseError:
            # Another process bootstrapped at the same moment: look again.
            if attempt == 3:
                raise
            log.info("bootstrap raced with another process; retrying")
            time.sleep(0.05 * attempt)
