"""Writing records: create, update, delete and truncate, each in one transaction with its hooks,
relation checks and cascades, and the writes the auth flows make without hooks. Access decisions
come from ``Access``; the update and delete rules are part of the locking read and of the
statements themselves. Every write adds its ``RecordChange`` (``app.core.events``) to the
transaction right after its statement, before ``after`` hooks (whose own writes follow it).
"""

from __future__ import annotations

from typing import Any

from ...db import IntegrityViolation
from ...db.sql import where
from ...tools.datetimes import now
from ...tools.ids import generate_from_pattern
from ..collections.compiled import CompiledCollection
from ..collections.fields import PlainPassword
from ..errors import BadRequest, NotFound
from ..events import record_change
from ..hooks import RecordEvent
from ..rules.context import RequestInfo
from .auth_fields import apply_auth_rules
from .input import apply_input, has_modifiers, rules_info, rules_read_body
from .integrity import as_validation_error
from .reader import RecordReader, plausible_id
from .relations import cascade_delete, missing_relations

AUTH_LEFTOVERS = ("_externalAuths", "_mfas", "_otps", "_authOrigins")
TRUNCATE_BATCH = 500


class RecordWriter(RecordReader):
    """The write side; it reads through ``RecordReader`` (lookups, rule checks on stored rows)."""

    def _writable(self, key: str) -> CompiledCollection:
        compiled = self.collection(key)
        if compiled.collection.is_view:
            raise BadRequest("Unsupported collection type.")
        return compiled

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
                stored = _stored(compiled, record, values, by_name=False)
                tx.changes.append(record_change(compiled, "create", record["id"], None, stored, info.auth))
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
        if not plausible_id(record_id):
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
                values: dict[str, Any] = {}
                if changed_fields:
                    values = self._db_values(compiled, record, [f.name for f in changed_fields])
                    query = compiled.id_column == record_id
                    if rule is not None:
                        query = query & rule
                    if tx.execute(where(compiled.table, query)._update(**values)).rowcount == 0:
                        raise NotFound()
                stored = _stored(compiled, record, values, by_name=True)
                tx.changes.append(record_change(compiled, "update", record_id, original, stored, info.auth))
                self.hooks.run(event, "after")
                tx.on_commit(lambda: self.hooks.run_after_commit(event))
        except IntegrityViolation as exc:
            raise as_validation_error(exc, list(compiled.fields), message) from None
        return compiled, _public(record)

    def delete(self, key: str, record_id: str, info: RequestInfo) -> None:
        compiled = self._writable(key)
        rule = self.access.rule_query(compiled, "delete", info)
        if not plausible_id(record_id):
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
            self._delete_auth_leftovers(compiled, str(record["id"]), info)
        query = compiled.id_column == record["id"]
        if rule is not None:
            query = query & rule
        if self.db.execute(where(compiled.table, query)._delete()).rowcount == 0:
            raise NotFound()
        self.db.record_change(
            record_change(compiled, "delete", str(record["id"]), dict(record), None, info.auth)
        )
        self.hooks.run(event, "after")
        self.db.on_commit(lambda: self.hooks.run_after_commit(event))

    def truncate(self, compiled: CompiledCollection, info: RequestInfo) -> None:
        """Delete every record of a collection one by one in one transaction, as PocketBase's
        truncate does: hooks run, and relations pointing at them are detached or cascaded."""
        if compiled.collection.is_view:
            raise BadRequest("Unsupported collection type.")
        with self.db.transaction():
            while True:
                sql = where(compiled.table)._select(*compiled.all_columns, limitby=(0, TRUNCATE_BATCH))
                rows = self.db.fetchall(sql)
                for row in rows:
                    record = compiled.row_to_python(row, compiled.collection.fields)
                    self.delete_loaded(compiled, record, info)
                if len(rows) < TRUNCATE_BATCH:
                    break

    # -- writes the server makes for itself (auth flows): no hooks, but changes like any write ---

    def update_columns(
        self, compiled: CompiledCollection, record_id: str, values: dict[str, Any], info: RequestInfo
    ) -> bool:
        """Set ``values`` (python values by field name) on a record; False when it is gone."""
        with self.db.transaction() as tx:
            before = self._load_or_none(compiled, compiled.id_column == record_id)
            if before is None:
                return False
            dialect = self.db.dialect
            columns = {
                compiled.columns[name].name: compiled.fields[name].kind.to_db(
                    compiled.fields[name], value, dialect
                )
                for name, value in values.items()
            }
            tx.execute(where(compiled.table, compiled.id_column == record_id)._update(**columns))
            after = {**before, **values}
            tx.changes.append(record_change(compiled, "update", record_id, before, after, info.auth))
        return True

    def delete_row(self, compiled: CompiledCollection, record_id: str, info: RequestInfo) -> bool:
        """Delete a record of a system collection without hooks; False when it was already gone
        (a concurrent request consumed it)."""
        with self.db.transaction() as tx:
            before = self._load_or_none(compiled, compiled.id_column == record_id)
            if before is None:
                return False
            if tx.execute(where(compiled.table, compiled.id_column == record_id)._delete()).rowcount == 0:
                return False
            tx.changes.append(record_change(compiled, "delete", record_id, before, None, info.auth))
        return True

    def _load_or_none(self, compiled: CompiledCollection, query: Any) -> dict[str, Any] | None:
        sql = where(compiled.table, query)._select(
            *compiled.all_columns, for_update=self.db.dialect == "postgres"
        )
        row = self.db.fetchone(sql)
        return None if row is None else compiled.row_to_python(row, compiled.collection.fields)

    def _delete_auth_leftovers(self, compiled: CompiledCollection, record_id: str, info: RequestInfo) -> None:
        """An auth record's OAuth2 links, pending MFA sessions, OTPs and sign-in origins go with it
        (each one a delete change)."""
        for name in AUTH_LEFTOVERS:
            system = self.registry.get(name)
            if system is None:
                continue
            mine = (system.columns["collectionRef"] == compiled.id) & (
                system.columns["recordRef"] == record_id
            )
            rows = self.db.fetchall(where(system.table, mine)._select(*system.all_columns))
            if not rows:
                continue
            self.db.execute(where(system.table, mine)._delete())
            for row in rows:
                before = system.row_to_python(row, system.collection.fields)
                self.db.record_change(
                    record_change(system, "delete", str(before["id"]), before, None, info.auth)
                )

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


def _stored(
    compiled: CompiledCollection, record: dict[str, Any], values: Any, by_name: bool
) -> dict[str, Any]:
    """The record as stored, for its change: a plain password still in it (fields of non-auth
    collections are hashed on the way to the database) is replaced by that hash, taken from the
    statement's ``values`` (by position for an INSERT, by column name for an UPDATE)."""
    stored = dict(record)
    for position, name in compiled.passwords:  # usually none: the loop is free
        if isinstance(stored.get(name), PlainPassword):
            key = compiled.columns[name].name if by_name else position
            stored[name] = values[key] if stored[name] else ""
    return stored


def _public(record: dict[str, Any]) -> dict[str, Any]:
    """The record without plain passwords (they were hashed on the way to the database)."""
    return {k: ("" if isinstance(v, PlainPassword) else v) for k, v in record.items()}
