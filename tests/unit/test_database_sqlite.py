"""The database port on SQLite: transactions, after-commit callbacks, nesting and isolation."""

from __future__ import annotations

import pytest

from app.db import Database, IntegrityViolation
from app.settings import Settings
from app.web import new_emmett_app


@pytest.fixture
def db(tmp_path):
    database = Database.from_settings(Settings.from_env({}, data_dir=str(tmp_path)), new_emmett_app())
    database.execute("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0)")
    yield database
    database.close()


def test_commit_runs_after_commit_callbacks_in_order(db):
    seen = []
    with db.transaction() as tx:
        tx.execute("INSERT INTO t (id) VALUES ('a')")
        tx.on_commit(lambda: seen.append(1))
        tx.on_commit(lambda: seen.append(2))
        assert seen == []
    assert seen == [1, 2]
    assert db.scalar("SELECT count(*) FROM t") == 1


def test_exception_rolls_back_and_skips_callbacks(db):
    seen = []
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.execute("INSERT INTO t (id) VALUES ('a')")
        tx.on_commit(lambda: seen.append(1))
        raise RuntimeError("boom")
    assert seen == []
    assert db.scalar("SELECT count(*) FROM t") == 0


def test_nested_transaction_joins_the_outer_one(db):
    with pytest.raises(RuntimeError), db.transaction():
        with db.transaction() as inner:
            inner.execute("INSERT INTO t (id) VALUES ('a')")
        # a read inside the transaction sees its own uncommitted write
        assert db.scalar("SELECT count(*) FROM t") == 1
        raise RuntimeError("undo everything")
    assert db.scalar("SELECT count(*) FROM t") == 0


def test_unique_violation_is_an_integrity_violation(db):
    db.execute("INSERT INTO t (id) VALUES ('a')")
    with pytest.raises(IntegrityViolation):
        db.execute("INSERT INTO t (id) VALUES ('a')")
    assert db.scalar("SELECT count(*) FROM t") == 1


def test_sqlite_runs_in_wal_mode(db):
    assert db.scalar("PRAGMA journal_mode") == "wal"


def test_builder_never_connects(db):
    from pydal import Field

    table = db.dal.define_table(
        "t", Field("id", "string"), Field("n", "integer"), primarykey=["id"], migrate=False
    )
    from pydal.objects import Set

    sql = Set(db.dal, table.n > 1)._select(table.id)
    assert sql.startswith('SELECT "t"."id" FROM "t"')
    with pytest.raises(RuntimeError, match="never connects"):
        db.dal._adapter.connector()


def test_changes_are_published_once_after_commit_and_dropped_on_rollback(db):
    published: list[list[str]] = []
    rolled_back: list[bool] = []

    def publish(changes):
        assert not db.in_transaction, "published outside the transaction"
        published.append(list(changes))

    db.publish_changes = publish
    with db.transaction() as tx:
        tx.execute("INSERT INTO t (id) VALUES ('a')")
        db.record_change("a")
        with db.transaction():  # a nested block joins: one publish for the whole transaction
            db.record_change("b")
        tx.on_rollback(lambda: rolled_back.append(True))
        assert published == []
    assert published == [["a", "b"]] and rolled_back == []
    with pytest.raises(RuntimeError), db.transaction() as tx:
        db.record_change("c")
        tx.on_rollback(lambda: rolled_back.append(db.in_transaction))
        raise RuntimeError("boom")
    assert published == [["a", "b"]], "nothing of a rolled-back transaction"
    assert rolled_back == [False], "on_rollback runs once, outside the transaction"
