"""A collection compiled for one dialect: its pyDAL table, column plan and read hot path.

Compiling happens once per schema version, not per request. The pyDAL table maps every field to a
pyDAL name (``f0``, ``f1``...) whose ``rname`` is the quoted real column, so collection and field
names that clash with SQL or pyDAL reserved words (``select``, ``update``, ``_superusers``) work.

Each compile defines a table under a new pyDAL name, so a request still holding the previous
snapshot keeps a complete, unchanged table object. The registry calls ``release`` on the previous
snapshot once it has swapped in the new one: that unregisters the old tables from the shared pyDAL
object (which would otherwise keep every version alive forever); requests in flight still hold
their own references, and the tables are freed with the last of them.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from pydal import Field as DalField

from .indexes import quote
from .model import Collection, Field

_TABLE_COUNTER = itertools.count()
#: pyDAL's table registry (a list and attributes of the shared builder) is not thread-safe; requests
#: compile (schema reloads, rule checks) on worker threads (app.api.offload).
_DAL_LOCK = threading.Lock()

Converter = Callable[[Any], Any] | None


class CompiledCollection:
    """Everything the records service needs about one collection, precomputed."""

    def __init__(self, collection: Collection, dal: Any, dialect: str):
        self.collection = collection
        self.dialect = dialect
        self.id = collection.id
        self.name = collection.name
        dal_fields = [
            DalField(f"f{i}", f.kind.dal_type(f, dialect), rname=quote(f.name))
            for i, f in enumerate(collection.fields)
        ]
        rowid = DalField("rowid_", "bigint", rname=quote("_rowid" if dialect == "postgres" else "rowid"))
        primary = next(i for i, f in enumerate(collection.fields) if f.name == "id")
        with _DAL_LOCK:
            self.table = dal.define_table(
                f"c{next(_TABLE_COUNTER)}",
                *dal_fields,
                rowid,
                primarykey=[f"f{primary}"],
                rname=quote(collection.name),
                migrate=False,
                redefine=True,
            )
        self.fields: dict[str, Field] = {f.name: f for f in collection.fields}
        self.columns: dict[str, Any] = {f.name: self.table[f"f{i}"] for i, f in enumerate(collection.fields)}
        self.rowid = self.table.rowid_
        self.id_column = self.columns["id"]
        self.all_columns = [self.columns[f.name] for f in collection.fields]
        #: the driver's parameter marker of the prepared statements (here and in the views)
        self.placeholder = placeholder = "%s" if dialect == "postgres" else "?"
        #: every column of one record by id (credentials included: for the server's own use)
        self.load_sql = (
            f"SELECT {', '.join(c.sqlsafe for c in self.all_columns)} FROM {quote(collection.name)} "
            f"WHERE {self.id_column.sqlsafe} = {placeholder}"
        )
        #: the id of one record if it exists
        self.exists_sql = (
            f"SELECT {self.id_column.sqlsafe} FROM {quote(collection.name)} "
            f"WHERE {self.id_column.sqlsafe} = {placeholder}"
        )
        #: a new record, every field in ``collection.fields`` order, values as driver parameters
        self.insert_sql = (
            f"INSERT INTO {quote(collection.name)} ({', '.join(quote(f.name) for f in collection.fields)}) "
            f"VALUES ({', '.join([placeholder] * len(collection.fields))})"
        )
        self.relations = [f for f in collection.fields if f.type == "relation"]
        #: (position, name) of the password fields (their stored value is a hash: change records)
        self.passwords = [(i, f.name) for i, f in enumerate(collection.fields) if f.type == "password"]
        self.public = View(self, [f for f in collection.fields if not f.hidden])
        # Superusers see hidden fields too, except the credentials (as in PocketBase).
        secret = {"password", "tokenKey"} if collection.is_auth else set()
        self.full = View(
            self, [f for f in collection.fields if f.type != "password" and f.name not in secret]
        )
        self._python_plan = [(f.name, f, f.kind.from_db) for f in collection.fields]
        #: fields guarded by an EmmettBase read rule (``fields[].readRule``), for non-superusers
        self.read_guarded = [f for f in self.public.fields if f.read_rule is not None and f.read_rule.strip()]

    def release(self) -> None:
        """Unregister this compile's pyDAL table from the shared builder (see the module docstring)."""
        forget_table(self.table)

    def view(self, superuser: bool) -> View:
        """What a caller sees of this collection's records."""
        return self.full if superuser else self.public

    def row_to_python(self, row: tuple[Any, ...], fields: list[Field]) -> dict[str, Any]:
        """A row of the given fields' columns as python values (for writes, hooks and rules)."""
        dialect = self.dialect
        if fields is self.collection.fields:  # the usual case: converters looked up once
            return {
                name: from_db(f, value, dialect)
                for (name, f, from_db), value in zip(self._python_plan, row, strict=True)
            }
        return {f.name: f.kind.from_db(f, value, dialect) for f, value in zip(fields, row, strict=True)}


def forget_table(table: Any) -> None:
    """Drop ``table`` from its pyDAL object's registry (``db.tables`` and the attribute), keeping
    the object itself usable: building SQL from it needs only the table and its fields, never a
    lookup by name (the registry's tests check this)."""
    dal = table._db
    name = table._tablename
    with _DAL_LOCK:
        if dal.__dict__.get(name) is table:
            del dal[name]
        if name in dal.tables:
            dal.tables.remove(name)


class View:
    """One way of presenting records: which fields, the SELECT list, the row-to-JSON plan in
    PocketBase's sorted key order, and the prepared get-by-id statement."""

    def __init__(self, compiled: CompiledCollection, fields: list[Field]):
        self.compiled = compiled
        self.fields = fields
        self.columns = [compiled.columns[f.name] for f in fields]
        placeholder = compiled.placeholder
        self.get_sql = (
            f"SELECT {', '.join(c.sqlsafe for c in self.columns)} FROM {quote(compiled.name)} "
            f"WHERE {compiled.id_column.sqlsafe} = {placeholder}"
        )
        plan: list[tuple[str, int, Converter]] = [("collectionId", -1, None), ("collectionName", -2, None)]
        for index, field in enumerate(fields):
            plan.append((field.name, index, field.kind.db_to_wire(field, compiled.dialect)))
        plan.sort(key=lambda item: item[0])
        self.plan = plan
        # python values -> JSON, in the same sorted key order (None marks collectionId/Name)
        wire_plan: list[tuple[str, Any, Any]] = [("collectionId", None, None), ("collectionName", None, None)]
        wire_plan += [(f.name, f, f.kind.to_wire) for f in fields]
        wire_plan.sort(key=lambda item: item[0])
        self.wire_plan = wire_plan
        self.db_plan = [(f.name, f, f.kind.to_db) for f in fields]
        self.relation_indexes = [(i, f) for i, f in enumerate(fields) if f.type == "relation"]

    def row_to_wire(self, row: tuple[Any, ...]) -> dict[str, Any]:
        """A row of ``columns`` as the JSON object the API sends."""
        collection_id, collection_name = self.compiled.id, self.compiled.name
        out: dict[str, Any] = {}
        for key, index, convert in self.plan:
            if index < 0:
                out[key] = collection_id if index == -1 else collection_name
            elif convert is None:
                out[key] = row[index]
            else:
                out[key] = convert(row[index])
        return out

    def python_to_wire(self, data: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, field, to_wire in self.wire_plan:
            if field is None:
                out[name] = self.compiled.id if name == "collectionId" else self.compiled.name
            elif name in data:
                out[name] = to_wire(field, data[name])
        return out

    def python_to_row(self, data: dict[str, Any]) -> tuple[Any, ...]:
        """The record as the row ``columns`` would read (what relation and guard helpers take)."""
        dialect = self.compiled.dialect
        return tuple(to_db(field, data[name], dialect) for name, field, to_db in self.db_plan)
