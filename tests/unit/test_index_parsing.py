"""Index definitions (``app.core.collections.indexes``): the SQL parser stays off the cold-start
path, stored texts read back to the same structure, and PostgreSQL gets its own spelling."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.core.collections.index_check import check_index
from app.core.collections.indexes import IndexError_, format_index, parse_index, render_index

KINDS = {"name": "text", "email": "text", "score": "number", "active": "bool", "meta": "json"}

COLD_START = r"""
import json, sys
from app.adapters import lambda_http
from tests.support.apigw import LambdaContext, http_api_event
result = lambda_http.handler(http_api_event("GET", "/api/collections/users/records"), LambdaContext())
from app.core.collections.indexes import parse_index
parse_index("CREATE UNIQUE INDEX `idx_email_x` ON `users` (`email`) WHERE `email` != ''")
before = "sqlglot" in sys.modules
parse_index("CREATE INDEX i ON t (lower(name))")
print(json.dumps({"status": result["statusCode"], "before": before, "after": "sqlglot" in sys.modules}))
"""


def test_the_sql_parser_is_not_imported_on_a_cold_start(tmp_path):
    """A Lambda cold start (system collections created, one request answered) and plain index
    definitions never import sqlglot; the first expression index does."""
    env = {
        "PATH": "/usr/bin:/bin",
        "EMMETTBASE_SERVERLESS": "1",
        "EMMETTBASE_SERVERLESS_EPHEMERAL": "1",
        "EMMETTBASE_DATA_DIR": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-c", COLD_START], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"status": 200, "before": False, "after": True}


@pytest.mark.parametrize(
    "text",
    [
        "CREATE UNIQUE INDEX idx_a ON t (lower(name)) WHERE name != ''",
        "CREATE INDEX idx_b ON t (email COLLATE NOCASE DESC, score)",
        "CREATE INDEX idx_c ON t (json_extract(meta, '$.a[2].b')) WHERE meta IS NOT NULL AND score > -2.5",
        "CREATE INDEX idx_d ON t (name) WHERE name IN ('it''s', 'b') OR NOT active",
        "CREATE UNIQUE INDEX `idx_e` ON `t` (`email`) WHERE `email` != ''",
    ],
)
def test_the_stored_text_reads_back_to_the_same_index(text):
    index = check_index(parse_index(text), KINDS)
    stored = format_index(index, "t")
    assert check_index(parse_index(stored), KINDS) == index
    assert format_index(parse_index(stored), "t") == stored


def test_postgresql_gets_lower_for_nocase_and_an_operator_for_json_paths():
    index = check_index(
        parse_index(
            "CREATE UNIQUE INDEX i ON t (email COLLATE NOCASE, json_extract(meta, '$.a[0]')) WHERE active = 1"
        ),
        KINDS,
    )
    assert render_index(index, "t", "postgres") == (
        'CREATE UNIQUE INDEX "i" ON "t" (lower("email"), ("meta" #>> \'{a,0}\')) WHERE "active" = TRUE'
    )
    assert render_index(index, "t", "sqlite") == (
        'CREATE UNIQUE INDEX "i" ON "t" ("email" COLLATE NOCASE, json_extract("meta", \'$.a[0]\')) '
        'WHERE "active" = TRUE'
    )


def test_string_literals_are_quoted_from_the_tree_not_copied():
    index = check_index(parse_index("CREATE INDEX i ON t (name) WHERE name != 'x'' OR 1=1 --'"), KINDS)
    assert render_index(index, "t", "postgres").endswith("""WHERE "name" != 'x'' OR 1=1 --'""")


@pytest.mark.parametrize("value", [None, 42, ["CREATE INDEX i ON t (name)"], "", "   "])
def test_non_text_definitions_are_refused_not_crashed(value):
    with pytest.raises(IndexError_):
        parse_index(value)
