"""Reading records: list, view, presentation (field visibility, expand, ``fields``) and rule checks
on stored records. Reads go straight from rows to the JSON the API sends
(``CompiledCollection.row_to_wire``); list/view rules are part of the statements themselves.
"""

from __future__ import annotations

import math
from typing import Any

from ...db import Database
from ...db.sql import count_sql, where
from ..collections.compiled import CompiledCollection
from ..collections.registry import Registry
from ..errors import BadRequest, NotFound
from ..hooks import Hooks
from ..rules.access import Access
from ..rules.context import RequestInfo
from .expand import Item, expand_items, parse_expand, relation_values
from .guards import drop_guarded, guard_flags
from .listing import ListParams, parse_sort
from .projection import parse_fields, project
from .visibility import hide_private_fields

MISSING_COLLECTION = "Missing collection context."
MAX_ID_LENGTH = 255


class RecordReader:
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
        if not plausible_id(record_id):
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

    def exists(self, key: str, record_id: str) -> bool:
        """Whether a record exists, regardless of any rule (for upserts, which then apply them)."""
        compiled = self.collection(key)
        return plausible_id(record_id) and self._exists(compiled, record_id, compiled.id_column != None)  # noqa: E711

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

    def _exists(self, compiled: CompiledCollection, record_id: str, query: Any) -> bool:
        sql = where(compiled.table, (compiled.id_column == record_id) & query)._select(compiled.id_column)
        return self.db.fetchone(sql) is not None


def plausible_id(record_id: str) -> bool:
    return bool(record_id) and len(record_id) <= MAX_ID_LENGTH and "\x00" not in record_id
