"""Every way the engines say "that table or column is not there" counts as a stale schema."""

from __future__ import annotations

import sqlite3

import pytest

from app.db.drivers import is_schema_mismatch


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO t (gone) VALUES (1)",  # table t has no column named gone
        "SELECT gone FROM t",  # no such column: gone
        "UPDATE t SET gone = 1",  # no such column: gone
        "SELECT * FROM missing",  # no such table: missing
    ],
)
def test_sqlite_missing_tables_and_columns_are_schema_mismatches(statement):
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a TEXT)")
    with pytest.raises(sqlite3.OperationalError) as caught:
        conn.execute(statement)
    assert is_schema_mismatch("sqlite", caught.value), str(caught.value)


def test_sqlite_other_errors_are_not_schema_mismatches():
    conn = sqlite3.connect(":memory:")
    with pytest.raises(sqlite3.OperationalError) as caught:
        conn.execute("SELEC 1")
    assert not is_schema_mismatch("sqlite", caught.value)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO t (gone) VALUES (1)",  # column "gone" of relation "t" does not exist
        "SELECT gone FROM t",  # column "gone" does not exist
        "SELECT t.gone FROM t",  # column t.gone does not exist
        "UPDATE t SET gone = 1",  # column "gone" of relation "t" does not exist
        "SELECT * FROM missing",  # relation "missing" does not exist
    ],
)
def test_postgres_missing_tables_and_columns_are_schema_mismatches(pg_database, statement):
    import psycopg2

    conn = psycopg2.connect(pg_database.url)
    conn.autocommit = True
    try:
        conn.cursor().execute("CREATE TEMP TABLE t (a TEXT)")
        with pytest.raises(psycopg2.Error) as caught:
            conn.cursor().execute(statement)
        assert is_schema_mismatch("postgres", caught.value), str(caught.value)
    finally:
        conn.close()
