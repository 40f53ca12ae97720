"""A large relation graph seeded straight through the database layer (no API), for the
relation-hop cost tests and ``tests/bench/relation_hops.py``.

``tags`` (title) <- ``posts.tags`` (multiple relation, 3 tags per post) and ``posts.lead``
(single relation); ``notes.post`` (single relation) points back at posts. Every collection is
public to list, so a guest's filter reaches through every hop.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Any

import orjson

TAGS = "pbc_hop_tags00"
POSTS = "pbc_hop_posts0"
NOTES = "pbc_hop_notes0"


def _id(prefix: str, index: int) -> str:
    return f"{prefix}{index:014d}"[:15]


def create_collections(runtime: Any) -> None:
    create = runtime.collections.create
    create(
        {
            "id": TAGS,
            "name": "tags",
            "listRule": "",
            "viewRule": "",
            "fields": [{"name": "title", "type": "text"}],
        }
    )
    create(
        {
            "id": POSTS,
            "name": "posts",
            "listRule": "",
            "viewRule": "",
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "tags", "type": "relation", "collectionId": TAGS, "maxSelect": 10},
                {"name": "lead", "type": "relation", "collectionId": TAGS, "maxSelect": 1},
            ],
        }
    )
    create(
        {
            "id": NOTES,
            "name": "notes",
            "listRule": "",
            "viewRule": "",
            "fields": [
                {"name": "body", "type": "text"},
                {"name": "post", "type": "relation", "collectionId": POSTS, "maxSelect": 1},
            ],
        }
    )


def _rows(compiled: Any, values: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows in ``compiled``'s column order; fields not given get their stored zero value."""
    fields = compiled.collection.fields
    defaults: dict[str, Any] = {}
    for f in fields:
        if f.type == "relation" and f.is_multiple:
            defaults[f.name] = "[]"
        elif f.type == "autodate":
            defaults[f.name] = "2026-01-01 00:00:00.000Z"
        else:
            defaults[f.name] = ""
    return [tuple(v.get(f.name, defaults[f.name]) for f in fields) for v in values]


@dataclass
class Graph:
    """What was seeded, to compute expected answers from."""

    tag_titles: dict[str, str]
    post_tags: dict[str, list[str]]
    post_lead: dict[str, str]
    note_post: dict[str, str]


def seed(runtime: Any, count: int, seed_value: int = 8, marked: int = 0) -> Graph:
    """``count`` tags, posts and notes; only the first ``marked`` tags have ``zzz`` in their
    title (random words never contain a ``z``)."""
    rng = random.Random(seed_value)
    registry = runtime.registry
    db = runtime.db

    def word() -> str:
        return "".join(rng.choice(string.ascii_lowercase[:20]) for _ in range(12))

    tag_ids = [_id("t", i) for i in range(count)]
    tags = [{"id": t, "title": word() + ("zzz" if i < marked else "")} for i, t in enumerate(tag_ids)]
    plans = [
        (TAGS, tags),
        (
            POSTS,
            [
                {
                    "id": _id("p", i),
                    "title": word(),
                    "tags": orjson.dumps(rng.sample(tag_ids, min(3, count))).decode(),
                    "lead": rng.choice(tag_ids),
                }
                for i in range(count)
            ],
        ),
        (
            NOTES,
            [
                {"id": _id("n", i), "body": word(), "post": _id("p", rng.randrange(count))}
                for i in range(count)
            ],
        ),
    ]
    for collection_id, values in plans:
        compiled = registry.get(collection_id)
        rows = _rows(compiled, values)
        with db.transaction() as tx:
            # a bulk load is not a request: it runs without the statement budget
            if db.dialect == "sqlite":
                tx.conn.raw.deadline = 0
                tx.conn.raw.executemany(compiled.insert_sql, rows)
            else:
                tx.execute("SET LOCAL statement_timeout = 0")
                import psycopg2.extras

                psycopg2.extras.execute_batch(tx.conn.raw.cursor(), compiled.insert_sql, rows, page_size=2000)
    if db.dialect == "postgres":
        with db.transaction() as tx:
            tx.execute("SET LOCAL statement_timeout = 0")
            tx.execute("ANALYZE")
    posts, notes = plans[1][1], plans[2][1]
    return Graph(
        {t["id"]: t["title"] for t in tags},
        {p["id"]: orjson.loads(p["tags"]) for p in posts},
        {p["id"]: p["lead"] for p in posts},
        {n["id"]: n["post"] for n in notes},
    )
