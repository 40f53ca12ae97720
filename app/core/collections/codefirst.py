"""Code-first collections: Emmett ``Model`` classes, declared the Emmett way, as PocketBase collections.

    class Post(Model):
        belongs_to("user")
        has_many("comments")
        title = Field.string()
        validation = {"title": {"presence": True, "len": {"gte": 3, "lte": 200}}}
        rules = {"list": "", "view": "", "create": '@request.auth.id != ""'}

``convert_models`` reads what Emmett's ``MetaModel`` collected on each class (declared fields,
``belongs_to``/``refers_to``, ``validation``, ``default_values``, ``indexes``, the table name) without
binding the classes to a database, and returns collection definitions in PocketBase's JSON format
(what ``CollectionStore.import_`` takes). Field defaults are not a PocketBase concept: they come back
separately and ``default_values_hook`` fills them in on create. Anything a collection cannot express
raises ``CodeFirstError`` naming the model and the field. docs/code-first.md has the whole mapping.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from emmett.orm import Model
from emmett.orm.helpers import camelize, make_tablename

from ..hooks import Hook, RecordEvent
from .codefirst_fields import CodeFirstError, FieldPlan, convert_field, default_input, relation_validation
from .model import AUTH_RULE_NAMES, RULE_NAMES, Field
from .system import AUTH_SYSTEM_FIELDS, USERS_ID, autodate_fields

__all__ = [
    "CodeCollection",
    "CodeFirstError",
    "collection_id",
    "convert_models",
    "default_values_hook",
    "models_of",
]

_RULE_KEYS = {"list": "listRule", "view": "viewRule", "create": "createRule", "update": "updateRule"}
_RULE_KEYS["delete"] = "deleteRule"
_AUTH_RULE_KEYS = {"auth": "authRule", "manage": "manageRule"}
_RESERVED = {"id", "created", "updated"}


@dataclass
class CodeCollection:
    """One model as a collection: its PocketBase JSON definition and its field defaults."""

    model: type
    name: str
    id: str
    type: str
    definition: dict[str, Any]
    defaults: dict[str, Any] = field(default_factory=dict)


def collection_id(name: str, type_: str = "base") -> str:
    """PocketBase's id for a collection created with a name: ``pbc_`` + CRC-32 of type and name."""
    return "pbc_" + str(zlib.crc32((type_ + name).encode()))


def is_model(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, Model) and obj is not Model


def models_of(module: ModuleType) -> list[type]:
    """The ``Model`` subclasses defined in ``module`` (not imported into it), in declaration order.

    A model with ``abstract = True`` in its own body is a base for others and no collection.
    """
    return [
        obj
        for obj in vars(module).values()
        if is_model(obj) and obj.__module__ == module.__name__ and not obj.__dict__.get("abstract", False)
    ]


def convert_models(models: list[type]) -> list[CodeCollection]:
    """Convert models that are synced together (relations between them are resolved by class name)."""
    by_class: dict[str, type] = {}
    by_table: dict[str, str] = {}
    for model in models:
        name = model.__name__
        if name in by_class and by_class[name] is not model:
            raise CodeFirstError(
                f"{name}: two models share this class name; relations could not tell them apart."
            )
        table = _tablename(model)
        if table.lower() in by_table and by_table[table.lower()] != name:
            raise CodeFirstError(f"{name}: table name {table!r} is also used by {by_table[table.lower()]}.")
        by_class[name], by_table[table.lower()] = model, name
    ids = {
        name: collection_id(_tablename(model), _collection_type(model)) for name, model in by_class.items()
    }
    return [_convert(model, ids) for model in dict.fromkeys(models)]


def default_values_hook(defaults: dict[str, Any]) -> Hook:
    """A ``before`` create hook giving each field its default when the client did not send it."""

    def apply_defaults(event: RecordEvent) -> None:
        submitted = event.extra.get("input") or {}
        for name, value in defaults.items():
            if any(key in submitted for key in (name, name + "+", "+" + name, name + "-")):
                continue
            target = event.collection.fields.get(name)
            if target is not None:
                event.record[name] = target.kind.prepare(target, default_input(value))

    return apply_defaults


# -- one model -------------------------------------------------------------------------------


def _tablename(model: type) -> str:
    declared = model.__dict__.get("_declared_tablename_")
    return str(declared or make_tablename(model.__name__))


def _collection_type(model: type) -> str:
    return "auth" if _inherited(model, "auth") else "base"


def _inherited(model: type, attr: str) -> Any:
    for base in model.__mro__:
        if attr in base.__dict__:
            return base.__dict__[attr]
    return None


def _merged(model: type, attr: str) -> dict[Any, Any]:
    """An Emmett inheritable dict (``validation``, ``default_values``...) merged along the MRO."""
    out: dict[Any, Any] = {}
    for base in reversed(model.__mro__):
        value = base.__dict__.get(attr)
        if isinstance(value, dict):
            out.update(value)
        elif value is not None and base is not Model:
            raise CodeFirstError(f"{model.__name__}: {attr} must be a dict.")
    return out


def _convert(model: type, ids: dict[str, str]) -> CodeCollection:
    name = model.__name__
    kind = _collection_type(model)
    table = _tablename(model)
    _refuse_unsupported(model)
    validation = _merged(model, "validation")
    defaults = _merged(model, "default_values")
    readable = _readable(model)
    auto = bool(getattr(model, "auto_validation", True))
    plans: list[FieldPlan] = []
    for field_name, declared in model._all_fields_.items():  # type: ignore[attr-defined]
        if field_name in _RESERVED:
            raise CodeFirstError(
                f"{name}.{field_name}: {field_name!r} is a system field of every collection."
            )
        if declared._type == "password" or (kind == "auth" and field_name in AUTH_SYSTEM_FIELDS):
            if kind != "auth":
                raise CodeFirstError(
                    f"{name}.{field_name}: password fields need an auth collection (auth = True)."
                )
            if field_name != "password":
                if field_name in AUTH_SYSTEM_FIELDS:
                    continue  # the auth collection's own system field
                raise CodeFirstError(
                    f"{name}.{field_name}: an auth collection has one password field, 'password'."
                )
            continue
        plans.append(
            convert_field(
                name,
                field_name,
                declared,
                validation.get(field_name),
                auto_validation=auto,
                default=defaults.get(field_name),
                hidden=not readable.get(field_name, True),
            )
        )
    plans += _relations(model, ids, validation)
    unknown = sorted(set(defaults) - {plan.field.name for plan in plans if plan.default is not None})
    if unknown:
        raise CodeFirstError(f"{name}.{unknown[0]}: default_values need a declared field (not a relation).")
    fields = [plan.field for plan in plans] + autodate_fields()
    seen: set[str] = set()
    for item in fields:
        if item.name.lower() in seen:
            raise CodeFirstError(f"{name}.{item.name}: declared twice (a field and a relation?).")
        seen.add(item.name.lower())
    definition: dict[str, Any] = {
        "id": ids[name],
        "name": table,
        "type": kind,
        "system": False,
        "fields": [f.to_json() for f in fields],
        "indexes": _indexes(model, table, plans),
    }
    definition.update(_rules(model, kind))
    defaults_out = {plan.field.name: plan.default for plan in plans if plan.default is not None}
    return CodeCollection(
        model=model, name=table, id=ids[name], type=kind, definition=definition, defaults=defaults_out
    )


def _refuse_unsupported(model: type) -> None:
    name = model.__name__
    if _inherited(model, "primary_keys"):
        raise CodeFirstError(
            f"{name}: custom primary keys are not supported (every collection has a text 'id')."
        )
    if _merged(model, "foreign_keys"):
        raise CodeFirstError(f"{name}: foreign_keys are not supported (relations are belongs_to/refers_to).")
    if _merged(model, "update_values"):
        raise CodeFirstError(
            f"{name}: update_values are not supported; use an update hook in setup(runtime)."
        )
    if model._all_callbacks_:  # type: ignore[attr-defined]
        raise CodeFirstError(
            f"{name}: ORM callbacks (@before_insert...) do not run for API writes; "
            "register record hooks in the module's setup(runtime) instead."
        )
    if model._all_computations_:  # type: ignore[attr-defined]
        raise CodeFirstError(f"{name}: computed fields (@compute) are not supported; use a record hook.")


def _readable(model: type) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for field_name, declared in model._all_fields_.items():  # type: ignore[attr-defined]
        if declared._kwargs.get("readable") is False:
            out[field_name] = False
    for field_name, value in _merged(model, "fields_rw").items():
        readable = value[0] if isinstance(value, tuple | list) else value
        if field_name != "id" and not readable:
            out[field_name] = False
    return out


def _relations(model: type, ids: dict[str, str], validation: dict[str, Any]) -> list[FieldPlan]:
    """``belongs_to`` / ``refers_to`` as single relations; ``has_many``/``has_one`` store nothing."""
    plans: list[FieldPlan] = []
    for attr, is_refers in (("_all_belongs_ref_", False), ("_all_refers_ref_", True)):
        for item in getattr(model, attr, {}).values():
            name, target, on_delete = _parse_reference(model, item, "nullify" if is_refers else "cascade")
            where = f"{model.__name__}.{name}"
            if target in ids:
                target_id = ids[target]
            elif target.lower() == "user":
                target_id = USERS_ID
            else:
                raise CodeFirstError(
                    f"{where}: the related model {target!r} is not declared in the synced modules."
                )
            required = relation_validation(where, validation.get(name), is_refers)
            relation = Field(
                name=name,
                type="relation",
                required=required,
                options={
                    "collectionId": target_id,
                    "cascadeDelete": on_delete == "cascade",
                    "maxSelect": 1,
                    "minSelect": 0,
                },
            )
            plans.append(FieldPlan(field=relation, unique=bool((validation.get(name) or {}).get("unique"))))
    for attr in ("_all_hasmany_ref_", "_all_hasone_ref_"):
        for item in getattr(model, attr, {}).values():
            if not isinstance(item, str | dict):
                raise CodeFirstError(f"{model.__name__}: has_many/has_one take strings or dicts.")
    return plans


def _parse_reference(model: type, item: Any, on_delete: str) -> tuple[str, str, str]:
    """Emmett's own reading of ``belongs_to('user')`` / ``belongs_to({'author': 'User'})``."""
    if isinstance(item, str):
        return item, camelize(item), on_delete
    if not isinstance(item, dict) or len(item) != 1:
        raise CodeFirstError(f"{model.__name__}: belongs_to/refers_to take strings or one-key dicts.")
    name = next(iter(item))
    data = item[name]
    target = None
    if isinstance(data, dict):
        target = data.get("target")
        on_delete = data.get("on_delete", on_delete)
    else:
        target = data
    target = str(target or camelize(name))
    if "." in target:
        target, key = target.split(".", 1)
        if key != "id":
            raise CodeFirstError(
                f"{model.__name__}.{name}: relations can only point at the 'id' of a record."
            )
    if target == "self":
        target = model.__name__
    if on_delete not in ("cascade", "nullify", "nothing"):
        raise CodeFirstError(f"{model.__name__}.{name}: unknown on_delete {on_delete!r}.")
    return str(name), target, on_delete


def _indexes(model: type, table: str, plans: list[FieldPlan]) -> list[str]:
    columns = {plan.field.name: plan.field for plan in plans}
    out: list[str] = []
    for plan in plans:
        if plan.unique:
            out.append(_index_text(table, plan.field.name, [plan.field.name], True, columns))
    for key, value in _merged(model, "indexes").items():
        if value is False:
            continue
        if value is True:
            names = list(key) if isinstance(key, tuple) else [key]
            out.append(_index_text(table, "_".join(names), names, False, columns))
        elif isinstance(value, dict):
            if value.get("where") or value.get("expressions"):
                raise CodeFirstError(f"{model.__name__}: index {key!r}: where/expressions are not supported.")
            names = value.get("fields") or []
            names = list(names) if isinstance(names, list | tuple) else [names]
            out.append(_index_text(table, str(key), names, bool(value.get("unique")), columns))
        else:
            raise CodeFirstError(f"{model.__name__}: index {key!r} must be True/False or a dict.")
    return out


def _index_text(table: str, suffix: str, names: list[str], unique: bool, columns: dict[str, Field]) -> str:
    for name in names:
        if name not in columns:
            raise CodeFirstError(f"{table}: index {suffix!r} names an unknown field {name!r}.")
    index = f"idx_{table}_{suffix}"
    if len(index) > 63:
        index = f"idx_{zlib.crc32(index.encode())}"
    quoted = ", ".join(f"`{n}`" for n in names)
    text = f"CREATE {'UNIQUE ' if unique else ''}INDEX `{index}` ON `{table}` ({quoted})"
    if unique and len(names) == 1 and not columns[names[0]].required and columns[names[0]].type != "number":
        text += f" WHERE `{names[0]}` != ''"
    return text


def _rules(model: type, kind: str) -> dict[str, Any]:
    """The model's ``rules`` as API rules; every rule not given stays None (superusers only)."""
    declared = _merged(model, "rules")
    accepted = dict(_RULE_KEYS)
    names = set(RULE_NAMES)
    if kind == "auth":
        accepted.update(_AUTH_RULE_KEYS)
        names |= set(AUTH_RULE_NAMES)
    out: dict[str, Any] = {rule: None for rule in RULE_NAMES}
    for key, value in declared.items():
        rule = accepted.get(key, key if key in names else None)
        if rule is None:
            raise CodeFirstError(f"{model.__name__}: unknown rule {key!r} (use {', '.join(accepted)}).")
        if value is not None and not isinstance(value, str):
            raise CodeFirstError(f"{model.__name__}: rule {key!r} must be a filter string or None.")
        out[rule] = value
    return out
