"""The records service: list, view, create, update and delete, each in one database round of work.

Reads go straight from rows to the JSON the API sends (``CompiledCollection.row_to_wire``); writes
run in one transaction with their hooks, relation checks and cascades. Access decisions come from
``Access`` only, and list/view/update/delete rules are part of the statements themselves.
"""

from __future__ import annotations

import math
from typing import Any

from ...db import Database, IntegrityViolation
from ...db.sql import count_sql, where
from ...tools.datetimes import now
from ...tools.ids import generate_from_pattern
from ..collections.compiled import CompiledCollection
from ..collections.fields import PlainPassword
from ..collections.registry import Registry
from ..errors import BadRequest, NotFound
from ..hooks import Hooks, RecordEvent
from ..rules.access import Access
from ..rules.context import RequestInfo
from .auth_fields import apply_auth_rules
from .expand import Item, expand_items, parse_expand, relation_values
from .guards import drop_guarded, guard_flags
from .input import apply_input, has_modifiers, rules_info, rules_read_body
from .integrity import as_validation_error
from .listing import ListParams, parse_sort
from .projection import parse_fields, project
from .relations import cascade_delete, missing_relations
from .visibility import hide_private_fields

MISSING_COLLECTION = "Missing collection context."
MAX_ID_LENGTH = 255
AUTH_LEFTOVERS = ("_externalAuths", "_mfas", "_otps", "_authOrigins")


class RecordService:
    def __init__(self, db: Database, registry: Registry, hooks: Hooks, access: Access):
        self.db = db
        self.registry = registry
        self.hooks = hooks
        self.access = access
        #: Compiles a client ``filter`` into a pyDAL Query: (compiled, text, info) -> Query.
        self.filter_compiler: Any = None
        #: Resolves sort names that are not plain fields (relation paths): (compiled, name, info) -> column.
        self.sort_resolver: Any = None

    # -- lookups ----------------------------------------------------------------------------

    def collection(self, key: str) -> CompiledCollection:
        compiled = self.registry.get_after_miss(key)
        if compiled is None:
            raise NotFound(MISSING_COLLECTION)
        return compiled

    def _writable(self, key: str) -> CompiledCollection:
        compiled = self.collection(key)
        if compiled.collection.is_view:
            raise BadRequest("Unsupported collection type.")
        return compiled

    # -- reads ------------------------------------------------------------------------------

    def search(self, key: str, params: ListParams, info: RequestInfo) -> dict[str, Any]:
        compiled = self.collection(key)
        query = self.access.rule_query(compiled, "list", info)
        if params.filter.strip():
            if self.filter_compiler is None:
                raise BadRequest("Filtering is not available.")
            client = self.filter_compiler(compiled, params.filter, info)
            query = client if query is None else query & client
        # Without a sort, insertion order (SQLite's rowid, PostgreSQL's hidden identity column).
        # Sorting by a relation path may also narrow the rows (``sort_column``).
        narrowing: list[Any] = []

        def resolve(c: CompiledCollection, name: str) -> Any:
            column, keep = self.sort_resolver(c, name, info)
            if keep is not None:
                narrowing.append(keep)
            return column

        guards = self.access.read_guards(compiled, info)
        # fields whose read rule does not hold on every row for this caller cannot be sorted by
        restricted = {name for name, guard in guards if guard is not None}
        order = parse_sort(
            compiled, params.sort, info.is_superuser, resolve if self.sort_resolver else None, restricted
        )
        order = order or [compiled.rowid]
        for keep in narrowing:
            query = keep if query is None else query & keep
        view = compiled.view(info.is_superuser)
        select = where(compiled.table, query)._select(
            *view.columns,
            *guard_flags(compiled, guards),
            orderby=order,
            limitby=(params.offset, params.offset + params.per_page),
        )
        rows = [] if params.past_any_table else self.db.fetchall(select)
        if params.skip_total:
            total = pages = -1
        else:
            total = int(self.db.scalar(count_sql(compiled.table, query)) or 0)
            pages = math.ceil(total / params.per_page) if total else 0
        items = self.present_rows(compiled, rows, info, params.expand, params.fields, guards)
        return {
            "items": items,
            "page": params.page,
            "perPage": params.per_page,
            "totalItems": total,
            "totalPages": pages,
        }

    def get(
        self, key: str, record_id: str, info: RequestInfo, expand: str = "", fields: str = ""
    ) -> dict[str, Any]:
        compiled = self.collection(key)
        rule = self.access.rule_query(compiled, "view", info)
        if not _plausible_id(record_id):
            raise NotFound()
        guards = self.access.read_guards(compiled, info)
        view = compiled.view(info.is_superuser)
        if rule is None and not guards:
            row = self.db.fetchone(view.get_sql, (record_id,))
        else:
            query = compiled.id_column == record_id
            if rule is not None:
                query = query & rule
            row = self.db.fetchone(
                where(compiled.table, query)._select(*view.columns, *guard_flags(compiled, guards))
            )
        if row is None:
            raise NotFound()
        return self.present_rows(compiled, [row], info, expand, fields, guards)[0]

    def present_rows(
        self,
        compiled: CompiledCollection,
        rows: list[Any],
        info: RequestInfo,
        expand: str,
        fields: str,
        guards: list[tuple[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        tree = parse_expand(expand)
        projection = parse_fields(fields)
        view = compiled.view(info.is_superuser)
        wires = [view.row_to_wire(row) for row in rows]
        if guards:
            drop_guarded(view, wires, rows, guards)
        if compiled.collection.is_auth:
            managed = self.managed_ids(compiled, [w["id"] for w in wires], info)
            for wire in wires:
                hide_private_fields(compiled, wire, info, managed)
        if tree:
            items = [
                Item(wire, relation_values(view, row, wire if guards else None))
                for wire, row in zip(wires, rows, strict=True)
            ]
            expand_items(self, compiled, items, tree, info)
        if projection:
            # one call over the page: expanded records shared between items are projected once
            return list(project(wires, projection))
        return wires

    def present_record(
        self,
        compiled: CompiledCollection,
        record: dict[str, Any],
        info: RequestInfo,
        expand: str,
        fields: str,
    ) -> dict[str, Any]:
        view = compiled.view(info.is_superuser)
        wire = view.python_to_wire(record)
        guards = self.access.read_guards(compiled, info)
        tree, projection = parse_expand(expand), parse_fields(fields)
        row = view.python_to_row(record) if guards or tree else ()
        if guards:
            sql = where(compiled.table, compiled.id_column == record["id"])._select(
                *guard_flags(compiled, guards)
            )
            flags = self.db.fetchone(sql) or (0,) * len(guards)
            drop_guarded(view, [wire], [(*row, *flags)], guards)
        hide_private_fields(compiled, wire, info)
        if tree:
            expand_items(
                self, compiled, [Item(wire, relation_values(view, row, wire if guards else None))], tree, info
            )
        return project(wire, projection) if projection else wire

    # -- writes -----------------------------------------------------------------------------

    def create(
        self, key: str, data: dict[str, Any], info: RequestInfo
    ) -> tuple[CompiledCollection, dict[str, Any]]:
        """Insert a record. Order, as in PocketBase: submitted data, generated values, ``before``
        hooks (which may still change the record), validation, the write, the create rule
        (checked on the written row), ``after`` hooks; ``commit`` hooks once committed."""
        compiled = self._writable(key)
        self.access.ensure_unlocked(compiled, "create", info)
        record = {f.name: f.kind.zero(f) for f in compiled.collection.fields}
        if rules_read_body(compiled, info, "createRule"):
            info = rules_info(compiled, record, data, info)
        changed, errors = apply_input(compiled, record, data, is_new=True, privileged=info.is_superuser)
        if compiled.collection.is_auth:
            errors.update(apply_auth_rules(compiled, record, None, data, changed, info))
            self._hash_passwords(compiled, record, errors)
        self._fill_generated(compiled, record, is_new=True)
        message = "Failed to create record."
        if errors:
            self._raise_invalid(compiled, record, True, compiled.collection.fields, errors, message)
        event = RecordEvent("create", compiled, record, auth=info.auth, extra={"input": data})
        try:
            with self.db.transaction() as tx:
                self.hooks.run(event, "before")
                self._raise_invalid(compiled, record, True, compiled.collection.fields, {}, message)
                dialect = self.db.dialect
                values = [f.kind.to_db(f, record[f.name], dialect) for f in compiled.collection.fields]
                tx.execute(compiled.insert_sql, values)
                self.access.check_create(compiled, info, lambda q: self._exists(compiled, record["id"], q))
                self.hooks.run(event, "after")
                tx.on_commit(lambda: self.hooks.run_after_commit(event))
        except IntegrityViolation as exc:
            raise as_validation_error(exc, list(compiled.fields), message) from None
        return compiled, _public(record)

    def update(
        self, key: str, record_id: str, data: dict[str, Any], info: RequestInfo
    ) -> tuple[CompiledCollection, dict[str, Any]]:
        """Update a record under its update rule, which is part of both the locking read and the
        UPDATE statement; modifiers apply to the locked row, so concurrent ``views+`` never lose
        an increment (CON-1) and no write lands on a row the caller lost access to (CON-3)."""
        compiled = self._writable(key)
        # Rules reading ``@request.body`` see it cast and with modifiers applied to the stored row
        # (PocketBase reads the row first, then checks the rule with the resolved body): with a
        # modifier the rule is compiled once that row is read; otherwise it goes straight into
        # the locking read.
        reads_body = rules_read_body(compiled, info, "updateRule", "manageRule")
        late_rule = reads_body and has_modifiers(compiled, data)
        if late_rule:
            self.access.ensure_unlocked(compiled, "update", info)
            rule = None
        else:
            if reads_body:
                info = rules_info(compiled, {}, data, info)
            rule = self.access.rule_query(compiled, "update", info)
        if not _plausible_id(record_id):
            raise NotFound()
        message = "Failed to update record."
        try:
            with self.db.transaction() as tx:
                original = self._load_for_write(compiled, record_id, rule)
                if late_rule:
                    info = rules_info(compiled, original, data, info)
                    rule = self.access.rule_query(compiled, "update", info)
                    if rule is not None and not self._exists(compiled, record_id, rule):
                        raise NotFound()
                record = dict(original)
                changed, errors = apply_input(
                    compiled, record, data, is_new=False, privileged=info.is_superuser
                )
                if compiled.collection.is_auth:
                    manager = self.can_manage(compiled, record_id, info)
                    errors.update(apply_auth_rules(compiled, record, original, data, changed, info, manager))
                    self._hash_passwords(compiled, record, errors)
                if data.get("id", original["id"]) != original["id"]:
                    errors["id"] = {
                        "code": "validation_pk_change",
                        "message": "The record primary key cannot be changed.",
                    }
                self._fill_generated(compiled, record, is_new=False)
                if errors:
                    self._raise_invalid(
                        compiled, record, False, self._changed(compiled, record, original), errors, message
                    )
                event = RecordEvent(
                    "update", compiled, record, original=original, auth=info.auth, extra={"input": data}
                )
                self.hooks.run(event, "before")
                changed_fields = self._changed(compiled, record, original)
                self._raise_invalid(compiled, record, False, changed_fields, {}, message)
                if changed_fields:
                    values = self._db_values(compiled, record, [f.name for f in changed_fields])
                    query = compiled.id_column == record_id
                    if rule is not None:
                        query = query & rule
                    if tx.execute(where(compiled.table, query)._update(**values)).rowcount == 0:
                        raise NotFound()
                self.hooks.run(event, "after")
                tx.on_commit(lambda: self.hooks.run_after_commit(event))
        except IntegrityViolation as exc:
            raise as_validation_error(exc, list(compiled.fields), message) from None
        return compiled, _public(record)

    def delete(self, key: str, record_id: str, info: RequestInfo) -> None:
        compiled = self._writable(key)
        rule = self.access.rule_query(compiled, "delete", info)
        if not _plausible_id(record_id):
            raise NotFound()
        with self.db.transaction():
            record = self._load_for_write(compiled, record_id, rule)
            self.delete_loaded(compiled, record, info, rule)

    def delete_loaded(
        self,
        compiled: CompiledCollection,
        record: dict[str, Any],
        info: RequestInfo,
        rule: Any = None,
        depth: int = 0,
    ) -> None:
        """Delete a record already read in the current transaction, with hooks and cascades."""
        event = RecordEvent("delete", compiled, record, auth=info.auth)
        self.hooks.run(event, "before")
        cascade_delete(self, compiled, record, info, depth)
        if compiled.collection.is_auth:
            self._delete_auth_leftovers(compiled, str(record["id"]))
        query = compiled.id_column == record["id"]
        if rule is not None:
            query = query & rule
        if self.db.execute(where(compiled.table, query)._delete()).rowcount == 0:
            raise NotFound()
        self.hooks.run(event, "after")
        self.db.on_commit(lambda: self.hooks.run_after_commit(event))

    def exists(self, key: str, record_id: str) -> bool:
        """Whether a record exists, regardless of any rule (for upserts, which then apply them)."""
        compiled = self.collection(key)
        return _plausible_id(record_id) and self._exists(compiled, record_id, compiled.id_column != None)  # noqa: E711

    def can_manage(self, compiled: CompiledCollection, record_id: str, info: RequestInfo) -> bool:
        """The auth collection's ``manageRule``: lets a caller change another record's email,
        password and verified state without its old password (PocketBase's manager access)."""
        if info.is_superuser:
            return True
        rule = compiled.collection.rule("manageRule")
        if not compiled.collection.is_auth or rule is None or info.auth is None:
            return False
        return self.access.record_allowed(
            compiled, rule, info, lambda q: self._exists(compiled, record_id, q)
        )

    def managed_ids(self, compiled: CompiledCollection, ids: list[str], info: RequestInfo) -> set[str]:
        """Which of ``ids`` the caller manages (one query), for email visibility."""
        rule = compiled.collection.rule("manageRule")
        if not ids or info.auth is None or not rule or not rule.strip() or info.is_superuser:
            return set()
        query = self.access.rule_query_text(compiled, rule, info)
        sql = where(compiled.table, compiled.id_column.belongs(ids) & query)._select(compiled.id_column)
        return {row[0] for row in self.db.fetchall(sql)}

    def allowed_to_authenticate(
        self, compiled: CompiledCollection, record_id: str, info: RequestInfo
    ) -> bool:
        """The auth collection's ``authRule`` for this record (``null``: nobody may sign in)."""
        return self.matches_rule(compiled, record_id, compiled.collection.rule("authRule"), info)

    def matches_rule(
        self, compiled: CompiledCollection, record_id: str, rule: str | None, info: RequestInfo
    ) -> bool:
        """Whether the stored record passes ``rule`` for this caller (``None``: it never does)."""
        return self.access.record_allowed(
            compiled, rule, info, lambda q: self._exists(compiled, record_id, q)
        )

    # -- helpers ----------------------------------------------------------------------------

    def _delete_auth_leftovers(self, compiled: CompiledCollection, record_id: str) -> None:
        """An auth record's OAuth2 links, pending MFA sessions, OTPs and sign-in origins go with it."""
        for name in AUTH_LEFTOVERS:
            system = self.registry.get(name)
            if system is None:
                continue
            mine = (system.columns["collectionRef"] == compiled.id) & (
                system.columns["recordRef"] == record_id
            )
            self.db.execute(where(system.table, mine)._delete())

    def _load_for_write(self, compiled: CompiledCollection, record_id: str, rule: Any) -> dict[str, Any]:
        query = compiled.id_column == record_id
        if rule is not None:
            query = query & rule
        sql = where(compiled.table, query)._select(
            *compiled.all_columns, for_update=self.db.dialect == "postgres"
        )
        row = self.db.fetchone(sql)
        if row is None:
            raise NotFound()
        return compiled.row_to_python(row, compiled.collection.fields)

    def _exists(self, compiled: CompiledCollection, record_id: str, query: Any) -> bool:
        sql = where(compiled.table, (compiled.id_column == record_id) & query)._select(compiled.id_column)
        return self.db.fetchone(sql) is not None

    def _fill_generated(self, compiled: CompiledCollection, record: dict[str, Any], is_new: bool) -> None:
        stamp = now()
        for f in compiled.collection.fields:
            if f.type == "autodate":
                if f.opt("onCreate" if is_new else "onUpdate"):
                    record[f.name] = stamp
            elif f.type == "text" and is_new and not record.get(f.name) and f.opt("autogeneratePattern"):
                record[f.name] = generate_from_pattern(f.opt("autogeneratePattern"))

    def _raise_invalid(
        self,
        compiled: CompiledCollection,
        record: dict[str, Any],
        is_new: bool,
        relation_fields: list[Any],
        errors: dict[str, Any],
        message: str,
    ) -> None:
        """Validate every field (and the relations in ``relation_fields``); raise all problems at
        once, together with ``errors`` already found while reading the input."""
        for f in compiled.collection.fields:
            if f.name in errors:
                continue
            problem = f.kind.validate(f, record.get(f.name), is_new)
            if problem:
                errors[f.name] = problem
        errors.update(missing_relations(self, compiled, record, _unchecked(relation_fields, errors)))
        if errors:
            raise BadRequest(message, errors)

    def _hash_passwords(
        self, compiled: CompiledCollection, record: dict[str, Any], errors: dict[str, Any]
    ) -> None:
        """Validate and hash submitted passwords up front: hashing is slow on purpose, and doing it
        before the transaction keeps the write lock short (SQLite has one writer)."""
        for f in compiled.collection.fields:
            value = record.get(f.name)
            if f.type != "password" or not isinstance(value, PlainPassword) or f.name in errors:
                continue
            problem = f.kind.validate(f, value, True)
            if problem:
                errors[f.name] = problem
            elif value:
                record[f.name] = f.kind.to_db(f, value, self.db.dialect)

    @staticmethod
    def _changed(compiled: CompiledCollection, record: dict[str, Any], original: dict[str, Any]) -> list[Any]:
        return [f for f in compiled.collection.fields if record.get(f.name) != original.get(f.name)]

    def _db_values(self, compiled: CompiledCollection, record: dict[str, Any], names: Any) -> dict[str, Any]:
        dialect = self.db.dialect
        values = {}
        for name in names:
            f = compiled.fields[name]
            values[compiled.columns[name].name] = f.kind.to_db(f, record[name], dialect)
        return values


def _unchecked(fields: list[Any], errors: dict[str, Any]) -> list[Any]:
    return [f for f in fields if f.name not in errors]


def _plausible_id(record_id: str) -> bool:
    return bool(record_id) and len(record_id) <= MAX_ID_LENGTH and "\x00" not in record_id


def _public(record: dict[str, Any]) -> dict[str, Any]:
    """The record without plain passwords (they were hashed on the way to the database)."""
    return {k: ("" if isinstance(v, PlainPassword) else v) for k, v in record.items()}
