"""List parameters (page, perPage, sort, skipTotal, filter, expand, fields) and the list queries.

Parsing follows PocketBase's search provider: malformed numbers and booleans are a 400, ``page``
below 1 becomes 1, ``perPage`` defaults to 30 and is capped at 1000, at most 8 sort fields of at
most 255 characters each (without the ``-``/``+`` sign).
A page costs one SELECT with LIMIT/OFFSET and, unless ``skipTotal``, one ``COUNT(*)``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import BadRequest, Forbidden

if TYPE_CHECKING:
    from ..collections.compiled import CompiledCollection

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 1000
MAX_SORT_FIELDS = 8
MAX_SORT_FIELD_LENGTH = 255
# room for the 8 longest fields with signs and separators; anything longer is refused unsplit
MAX_SORT_LENGTH = 4096
_TRUE = {"1", "t", "true"}
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}", re.ASCII)
MAX_OFFSET = 2**53
_FALSE = {"0", "f", "false", ""}


@dataclass
class ListParams:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    sort: str = ""
    filter: str = ""
    expand: str = ""
    fields: str = ""
    skip_total: bool = False

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def past_any_table(self) -> bool:
        """An offset no table reaches (and that SQL engines may not take): the page is empty."""
        return self.offset > MAX_OFFSET


def _one(query: dict[str, Any], key: str) -> str:
    value = query.get(key, "")
    if isinstance(value, list):
        # A duplicated query key: the first value wins, as in PocketBase (Go's url.Values.Get).
        value = value[0] if value else ""
    return str(value)


def _int(raw: str, name: str) -> int | None:
    """A decimal integer as Go's strconv.Atoi reads it (PocketBase): ASCII digits with an
    optional sign, within int64; Python's int() would also take spaces, "1_000" and other
    scripts' digits."""
    if raw.strip() == "":
        return None
    if not _INTEGER.fullmatch(raw) or not -(2**63) <= int(raw) < 2**63:
        raise BadRequest(detail=f"Invalid {name} value.")
    return int(raw)


def parse_list_params(query: dict[str, Any]) -> ListParams:
    params = ListParams(
        sort=_one(query, "sort"),
        filter=_one(query, "filter"),
        expand=_one(query, "expand"),
        fields=_one(query, "fields"),
    )
    page = _int(_one(query, "page"), "page")
    per_page = _int(_one(query, "perPage"), "perPage")
    params.page = page if page and page > 0 else 1
    if per_page is None or per_page <= 0:
        params.per_page = DEFAULT_PER_PAGE
    else:
        params.per_page = min(per_page, MAX_PER_PAGE)
    skip = _one(query, "skipTotal").strip().lower()
    if skip in _TRUE:
        params.skip_total = True
    elif skip not in _FALSE:
        raise BadRequest(detail="Invalid skipTotal value.")
    return params


def parse_sort(
    compiled: CompiledCollection,
    sort: str,
    superuser: bool,
    resolve: Any = None,
    restricted: Collection[str] | None = None,
) -> list[Any]:
    """pyDAL order-by expressions for ``sort`` (``-created,title``, ``@random``, ``@rowid``).

    ``resolve(compiled, name)`` resolves names that are not plain fields (relation paths); without
    it such names are a 400. ``restricted``: the fields whose read rule the caller may fail on some
    row (a 400 to sort by); None means every field with a read rule, for non-superusers.
    """
    if not sort.strip():
        return []
    if len(sort) > MAX_SORT_LENGTH:
        raise BadRequest(detail="The sort parameter is too long.")
    parts = [p.strip() for p in sort.split(",") if p.strip()]
    if len(parts) > MAX_SORT_FIELDS:
        raise BadRequest(detail=f"You can sort by at most {MAX_SORT_FIELDS} fields.")
    order: list[Any] = []
    for part in parts:
        descending = part.startswith("-")
        name = part.lstrip("+-").strip()
        if len(name) > MAX_SORT_FIELD_LENGTH:
            raise BadRequest(detail=f"A sort field is longer than {MAX_SORT_FIELD_LENGTH} characters.")
        if name == "@random":
            order.append("<random>")
            continue
        lowered = name.lower()
        if lowered.startswith(("@request", "@collection")) and not superuser:
            source = "@collection" if lowered.startswith("@collection") else "@request"
            raise Forbidden(f"Only superusers can filter by {source}.")
        if name == "@rowid":
            column: Any = compiled.rowid
        else:
            field = compiled.fields.get(name)
            if field is not None:
                if field.hidden and not superuser:
                    raise BadRequest(detail=f"Field {name!r} is hidden and cannot be used to sort.")
                guarded = (
                    name in restricted
                    if restricted is not None
                    else bool(field.read_rule and field.read_rule.strip())
                )
                if guarded and not superuser:
                    raise BadRequest(detail=f"Field {name!r} has a read rule and cannot be used to sort.")
                column = compiled.columns[name]
            elif resolve is not None:
                column = resolve(compiled, name)
            else:
                raise BadRequest(detail=f"Invalid sort field {name!r}.")
        order.append(~column if descending else column)
    return order
