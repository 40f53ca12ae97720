"""Time relation and back-relation filters over a large seeded graph (issue 8, finding 3).

    python -m tests.bench.relation_hops [--rows 4000] [--backend sqlite|postgres] [--pg URL]

Seeds ``tests/support/relation_world.py`` through the database layer, then times guest list
requests through the ASGI door. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from app.settings import Settings
from tests.support import relation_world
from tests.support.doors import open_door
from tests.support.pg import PgTestDatabase

FILTERS = {
    "multi relation": ("posts", "tags.title ?~ 'zzz'"),
    "multi relation (all)": ("posts", "tags.title !~ 'zzz'"),
    "single relation": ("posts", "lead.title ~ 'zzz'"),
    "back-relation (single)": ("posts", "notes_via_post.body ?~ 'zzz'"),
    "back-relation (multi)": ("tags", "posts_via_tags.title ?~ 'zzz'"),
    "two hops": ("notes", "post.tags.title ?~ 'zzz'"),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--only", default="")
    parser.add_argument("--timeout-ms", type=int, default=600_000)
    args = parser.parse_args()
    pg = None
    with tempfile.TemporaryDirectory() as tmp:
        values: dict[str, object] = {"data_dir": tmp, "db_statement_timeout_ms": args.timeout_ms}
        if args.backend == "postgres":
            pg = PgTestDatabase()
            pg.create()
            values["database_url"] = pg.url
        door = open_door("asgi", Settings.from_env({}, **values))
        try:
            relation_world.create_collections(door.runtime)
            started = time.perf_counter()
            relation_world.seed(door.runtime, args.rows)
            print(f"seeded {args.rows} rows x3 in {time.perf_counter() - started:.1f}s ({args.backend})")
            for label, (collection, text) in FILTERS.items():
                if args.only and args.only not in label:
                    continue
                started = time.perf_counter()
                response = door.get(
                    f"/api/collections/{collection}/records", params={"filter": text, "perPage": "30"}
                )
                elapsed = time.perf_counter() - started
                print(f"{label:24} {elapsed:8.3f}s  {response.status_code}  {text}", flush=True)
        finally:
            door.close()
            if pg is not None:
                pg.drop()


if __name__ == "__main__":
    main()
