"""The database names a collection occupies, and the checks that keep them apart.

Tables and indexes share one namespace on both engines (SQLite's schema, a PostgreSQL schema's
relations), so a collection occupies its table name, its index names, and the names of what the
engines add: on PostgreSQL the hidden ``_rowid`` index, the primary key's ``<table>_pkey`` index and
the identity sequence ``<table>__rowid_seq``. Names we generate from a collection id are bounded to
PostgreSQL's 63-byte identifiers (it truncates longer ones silently, so two long ids sharing a
prefix collided): a longer one keeps a readable prefix and ends in a hash of the whole name.

``namespace_errors`` finds the collisions a definition would cause, with PocketBase's codes
(``validation_existing_index_name``, ``validation_invalid_index_expression``), before any DDL runs;
``conflict_name`` reads the name out of the engine's "already exists" error for what the
definitions cannot foresee (a renamed table keeps its old ``_pkey``/``_seq`` names on PostgreSQL).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ..errors import field_error
from .indexes import IndexError_, parse_index
from .model import Collection

MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1 (bytes; our names are ASCII)
RESERVED_PREFIXES = ("sqlite_", "pg_")
#: relations of the internal tables (tables.py SYSTEM_DDL), with PostgreSQL's primary-key indexes
INTERNAL_RELATIONS = ("_params", "_params_pkey", "_collections", "_collections_pkey", "_collections_name_idx")


def bounded(prefix: str, core: str, suffix: str = "") -> str:
    """``prefix + core + suffix`` if it fits in an identifier; else ``core`` is cut and a hash of
    the full name is appended, so distinct cores give distinct names of at most 63 characters."""
    name = prefix + core + suffix
    if len(name.encode()) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:12]
    room = MAX_IDENTIFIER - len(prefix) - len(suffix) - len(digest) - 1
    return f"{prefix}{core[:room]}_{digest}{suffix}"


def rowid_index_name(collection: Collection) -> str:
    return bounded("_", collection.id, "_rowid")


def occupied(collection: Collection) -> dict[str, str]:
    """Lowercased names -> "table" or "index", for every database object of ``collection``."""
    names = {collection.name.lower(): "table"}
    # PostgreSQL's own names for the primary key and the identity sequence (both relations); it
    # shortens the table part so the whole fits in 63 characters.
    for suffix in ("_pkey", "__rowid_seq"):
        names[(collection.name[: MAX_IDENTIFIER - len(suffix)] + suffix).lower()] = "table"
    names[rowid_index_name(collection).lower()] = "index"
    for text in collection.indexes:
        try:
            names.setdefault(parse_index(text).name.lower(), "index")  # a clash with the table stays "table"
        except IndexError_:
            continue
    return names


def namespace_errors(new: Collection, others: list[Collection]) -> tuple[Any, dict[str, Any]]:
    """(error for ``name`` or None, errors by index position) for names ``new`` would take that
    another collection, an internal table or ``new``'s own table already holds."""
    taken: dict[str, tuple[str, str]] = {name: ("table", name) for name in INTERNAL_RELATIONS}
    for other in others:
        for name, kind in occupied(other).items():
            taken[name] = (kind, other.name)
    name_error = None
    holder = taken.get(new.name.lower())
    if holder is not None and holder[1].lower() != new.name.lower():
        name_error = field_error(
            "validation_collection_name_exists",
            f"The name is already used by a database {holder[0]} of the {holder[1]} collection.",
        )
    own = {name: ("table", new.name) for name, kind in occupied(new).items() if kind == "table"}
    own[rowid_index_name(new).lower()] = ("table", new.name)
    index_errors: dict[str, Any] = {}
    for position, text in enumerate(new.indexes):
        try:
            name = parse_index(text).name
        except IndexError_:
            continue  # reported by the index validation
        lowered = name.lower()
        kind, owner = taken.get(lowered) or own.get(lowered) or ("", "")
        if lowered.startswith(RESERVED_PREFIXES):
            index_errors[str(position)] = field_error(
                "validation_invalid_index_expression", f"The index name {name!r} uses a reserved prefix."
            )
        elif kind == "index":
            index_errors[str(position)] = field_error(
                "validation_existing_index_name",
                f"The index name is already used in {owner} collection.",
                usedTableName=owner,
            )
        elif kind == "table":
            index_errors[str(position)] = field_error(
                "validation_invalid_index_expression",
                f"The index name {name!r} is already used by a table of the {owner} collection.",
            )
    return name_error, index_errors


_CONFLICT_PATTERNS = (
    re.compile(r'relation "([^"]+)" already exists'),  # PostgreSQL
    re.compile(r"there is already an? (?:table|index) named (\S+)"),  # SQLite
    re.compile(r"(?:table|index) (\S+) already exists"),  # SQLite
    re.compile(r"object name reserved for internal use: (\S+)"),  # SQLite
)


def conflict_name(exc: BaseException) -> str | None:
    """The object name in an engine's "name already taken" error, or None for any other error."""
    if type(exc).__name__ not in ("OperationalError", "DuplicateTable", "DuplicateObject"):
        return None
    text = str(exc)
    for pattern in _CONFLICT_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(1).strip("\"'`")
    return None


def conflict_data(name: str, collection: Collection) -> dict[str, Any]:
    """The validation data for an engine-reported name conflict while saving ``collection``."""
    problem = field_error(
        "validation_invalid_index_expression",
        f"The name {name!r} is already used by another database object.",
    )
    lowered = name.lower()
    for position, text in enumerate(collection.indexes):
        try:
            if parse_index(text).name.lower() == lowered:
                return {"indexes": {str(position): problem}}
        except IndexError_:
            continue
    return {"name": {**problem, "code": "validation_collection_name_exists"}}
