"""Validation of collection definitions, with PocketBase's error codes and shapes.

``validate_collection`` normalizes a definition in place (option types, index texts, system
fields) and raises ``BadRequest`` with ``data`` shaped like PocketBase's
(``{"name": {...}, "fields": {"1": {"min": {...}}}}``) when it is not acceptable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import BadRequest, field_error
from .fields import UnknownFieldType, field_type
from .index_check import check_index, storage_kind
from .indexes import IndexError_, format_index, parse_index
from .model import COLLECTION_TYPES, RULE_NAMES, Collection, Field
from .names import namespace_errors
from .oauth2_options import oauth2_errors
from .system import AUTH_SYSTEM_FIELDS, INTERNAL_TABLES, RESERVED_FIELD_NAMES, ensure_system_fields

NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")
ID_RE = re.compile(r"^\w+$", re.ASCII)  # as PocketBase (Go's \w is ASCII)
MAX_ID_LENGTH = 100
MAX_NAME_LENGTH = 63  # PostgreSQL truncates longer identifiers
MAX_FIELDS = 500
MAX_INDEX_COLUMNS = 32  # PostgreSQL's limit (INDEX_MAX_KEYS); held on both engines

Lookup = Callable[[str], Collection | None]

INVALID_FORMAT = field_error("validation_match_invalid", "Must be in a valid format.")
REQUIRED = field_error("validation_required", "Cannot be blank.")


def _name_error(name: str) -> dict[str, Any] | None:
    if not name:
        return REQUIRED
    if len(name) > MAX_NAME_LENGTH:
        return field_error(
            "validation_length_out_of_range",
            f"The length must be between 1 and {MAX_NAME_LENGTH}.",
            min=1,
            max=MAX_NAME_LENGTH,
        )
    if not NAME_RE.match(name):
        return INVALID_FORMAT
    if "_via_" in name.lower():
        return field_error("validation_found_via", 'The value cannot contain "_via_".')
    return None


def validate_collection(
    new: Collection,
    original: Collection | None,
    lookup: Lookup,
    existing: Iterable[Collection],
) -> None:
    """Raise ``BadRequest`` unless ``new`` is an acceptable definition (``original``: before update)."""
    errors: dict[str, Any] = {}
    others = [c for c in existing if original is None or c.id != original.id]

    if original is None:
        if not new.id or len(new.id) > MAX_ID_LENGTH:
            errors["id"] = field_error(
                "validation_length_out_of_range",
                f"The length must be between 1 and {MAX_ID_LENGTH}.",
                min=1,
                max=MAX_ID_LENGTH,
            )
        elif not ID_RE.match(new.id):
            errors["id"] = INVALID_FORMAT
        elif any(c.id == new.id for c in others):
            errors["id"] = field_error("validation_collection_id_exists", "The collection id already exists.")
    elif new.id != original.id:
        errors["id"] = field_error("validation_values_mismatch", "Values don't match.")

    if new.type not in COLLECTION_TYPES:
        errors["type"] = field_error("validation_in_invalid", "Must be a valid value.")
    elif new.type == "view":
        errors["type"] = field_error("validation_unsupported_type", "View collections are not supported yet.")
    elif original is not None and new.type != original.type:
        errors["type"] = field_error(
            "validation_collection_type_change", "Collection type cannot be changed."
        )

    if original is not None and new.system != original.system:
        errors["system"] = field_error(
            "validation_collection_system_flag_change", "System collection state cannot be changed."
        )

    name_problem = _name_error(new.name)
    if name_problem is None:
        lowered = new.name.lower()
        if original is not None and original.system and new.name != original.name:
            name_problem = field_error(
                "validation_collection_system_name_change", "System collection name cannot be changed."
            )
        elif any(c.name.lower() == lowered for c in others):
            name_problem = field_error(
                "validation_collection_name_exists", "Collection name must be unique (case insensitive)."
            )
        elif any(c.id == new.name for c in others):
            name_problem = field_error(
                "validation_collection_name_id_duplicate",
                "The name must not match an existing collection id.",
            )
        elif (
            lowered in INTERNAL_TABLES
            or lowered.startswith(("sqlite_", "pg_"))
            or (new.name.startswith("_") and not new.system)
        ):
            name_problem = field_error(
                "validation_collection_name_invalid",
                "The name shouldn't match with an existing internal table.",
            )
    taken_name, taken_indexes = namespace_errors(new, others)
    name_problem = name_problem or taken_name
    if name_problem:
        errors["name"] = name_problem

    for rule in RULE_NAMES:
        value = getattr(new, rule)
        if value is not None and not isinstance(value, str):
            errors[rule] = field_error("validation_invalid_rule", "Invalid rule.")
        elif original is not None and original.system and value != getattr(original, rule):
            errors[rule] = field_error(
                "validation_collection_system_rule_change", "System collection API rule cannot be changed."
            )

    if "type" not in errors:
        ensure_system_fields(new)
        field_errors = _validate_fields(new, original, lookup)
        if field_errors:
            errors["fields"] = field_errors
        if "fields" not in errors:
            index_errors = _normalize_indexes(new) or taken_indexes
            if index_errors:
                errors["indexes"] = index_errors

    if new.is_auth and "type" not in errors:
        from .auth_validate import auth_option_errors

        for key, problem in auth_option_errors(new).items():
            errors.setdefault(key, problem)

        oauth2_problem = oauth2_errors(new)
        if oauth2_problem:
            errors["oauth2"] = oauth2_problem

    if errors:
        message = "Failed to create collection." if original is None else "Failed to update collection."
        raise BadRequest(message, errors)


def _validate_fields(new: Collection, original: Collection | None, lookup: Lookup) -> Any:
    if len(new.fields) > MAX_FIELDS:
        return field_error("validation_length_too_long", f"The length must be no more than {MAX_FIELDS}.")
    errors: dict[str, Any] = {}
    seen_ids: set[str] = set()
    seen_names: set[str] = set()
    for index, field in enumerate(new.fields):
        problems = _validate_field(field, new, original, lookup)
        lowered = field.name.lower()
        if "id" not in problems and field.id in seen_ids:
            problems["id"] = field_error(
                "validation_duplicated_field_id", f"Duplicated or invalid field id {field.id!r}"
            )
        if "name" not in problems and lowered in seen_names:
            problems["name"] = field_error(
                "validation_duplicated_field_name",
                f"Duplicated or invalid field name {field.name}.",
                fieldName=field.name,
            )
        seen_ids.add(field.id)
        seen_names.add(lowered)
        if problems:
            errors[str(index)] = problems
    if errors:
        return errors
    primary = new.field("id")
    if primary is None or primary.type != "text" or not primary.opt("primaryKey"):
        return field_error("validation_missing_primary_key", 'Missing or invalid "id" PK field.')
    if new.is_auth:
        expected = {"password": "password", "tokenKey": "text", "email": "email"}
        expected.update({"emailVisibility": "bool", "verified": "bool"})
        for name in AUTH_SYSTEM_FIELDS:
            present = new.field(name)
            if present is None or present.type != expected[name]:
                return field_error(f"validation_missing_{name}_field", f'System "{name}" field is required.')
    if original is not None:
        for old in original.fields:
            if not old.system:
                continue
            current = new.field_by_id(old.id)
            if current is None or current.name != old.name or current.type != old.type:
                return field_error(
                    "validation_system_field_change", "System fields cannot be deleted or renamed."
                )
    return None


def _validate_field(
    field: Field, collection: Collection, original: Collection | None, lookup: Lookup
) -> dict[str, Any]:
    problems: dict[str, Any] = {}
    try:
        kind = field_type(field.type)
    except UnknownFieldType:
        return {"type": field_error("validation_in_invalid", "Must be a valid value.")}
    if not field.id or len(field.id) > 100:
        problems["id"] = field_error(
            "validation_length_out_of_range", "The length must be between 1 and 100."
        )
    name_problem = _name_error(field.name)
    if name_problem is None and field.name in RESERVED_FIELD_NAMES:
        name_problem = field_error("validation_not_in_invalid", "Must not be one of the reserved names.")
    if name_problem:
        problems["name"] = name_problem
    if len(field.help) > 300:
        problems["help"] = field_error("validation_length_too_long", "The length must be no more than 300.")
    option_problems = kind.normalize_options(field)
    if isinstance(option_problems, dict):
        problems.update(option_problems)
    if not problems:
        problems.update(kind.settings_errors(field, collection))
    if field.type == "relation" and "collectionId" not in problems:
        relation_problem = _relation_target_error(field, collection, original, lookup)
        if relation_problem:
            problems["collectionId"] = relation_problem
    if field.type == "password" and not collection.is_auth and not collection.system:
        problems["type"] = field_error(
            "validation_in_invalid", "Password fields are only allowed in auth collections."
        )
    return problems


def _relation_target_error(
    field: Field, collection: Collection, original: Collection | None, lookup: Lookup
) -> dict[str, Any] | None:
    target_id = field.opt("collectionId")
    if original is not None:
        old = original.field_by_id(field.id)
        if old is not None and old.type == "relation" and old.opt("collectionId") != target_id:
            return field_error(
                "validation_field_relation_change", "The relation collection cannot be changed."
            )
    if target_id == collection.id:
        return None
    target = lookup(target_id)
    if target is None or target.id != target_id:
        return field_error(
            "validation_field_relation_missing_collection", "The relation collection doesn't exist."
        )
    return None


def _normalize_indexes(collection: Collection) -> dict[str, Any] | None:
    errors: dict[str, Any] = {}
    normalized: list[str] = []
    names: set[str] = set()
    kinds = {f.name: storage_kind(f) for f in collection.fields}
    for position, text in enumerate(collection.indexes):
        try:
            index = parse_index(text)
        except IndexError_ as exc:
            errors[str(position)] = field_error("validation_invalid_index_expression", str(exc))
            continue
        try:
            index = check_index(index, kinds)
        except IndexError_ as exc:
            # PocketBase answers unknown columns with this code too ("no such column").
            errors[str(position)] = field_error("validation_invalid_index_expression", str(exc))
            continue
        if len(index.columns) > MAX_INDEX_COLUMNS:
            errors[str(position)] = field_error(
                "validation_invalid_index_expression",
                f"An index can have at most {MAX_INDEX_COLUMNS} columns.",
            )
            continue
        if index.name.lower() in names:
            errors[str(position)] = field_error(
                "validation_duplicated_index_name", "The index name must be unique."
            )
            continue
        names.add(index.name.lower())
        normalized.append(format_index(index, collection.name))
    if errors:
        return errors
    collection.indexes = normalized
    return None
