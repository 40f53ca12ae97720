"""CLI commands that touch data: superusers and collections export/import, with ``--dir``."""

from __future__ import annotations

import orjson
from click.testing import CliRunner

from app import build_runtime
from app.cli import main
from app.settings import Settings


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_superuser_lifecycle_before_the_first_serve(tmp_path):
    data_dir = str(tmp_path / "pb_data")
    created = run("superuser", "upsert", "root@example.com", "first-password", "--dir", data_dir)
    assert created.exit_code == 0 and 'Successfully saved superuser "root@example.com"!' in created.output
    assert run("superuser", "create", "root@example.com", "first-password", "--dir", data_dir).exit_code == 1
    updated = run("superuser", "update", "root@example.com", "second-password", "--dir", data_dir)
    assert updated.exit_code == 0
    short = run("superuser", "create", "other@example.com", "short", "--dir", data_dir)
    assert short.exit_code == 1 and "Must be at least 8 character(s)." in short.output
    runtime = build_runtime(Settings.from_env({}, data_dir=data_dir))
    compiled = runtime.registry.get("_superusers")
    rows = runtime.db.fetchall(f'SELECT "email" FROM {compiled.table._rname}')
    assert rows == [("root@example.com",)]
    deleted = run("superuser", "delete", "root@example.com", "--dir", data_dir)
    assert deleted.exit_code == 0
    assert run("superuser", "delete", "root@example.com", "--dir", data_dir).exit_code == 1


def test_collections_export_then_import_into_a_fresh_dir(tmp_path):
    source, target = str(tmp_path / "a"), str(tmp_path / "b")
    runtime = build_runtime(Settings.from_env({}, data_dir=source))
    runtime.collections.create(
        {"name": "notes", "listRule": "", "fields": [{"name": "text", "type": "text"}]}
    )
    runtime.collections.create({"name": "members", "type": "auth"})
    exported = tmp_path / "collections.json"
    assert run("collections", "export", str(exported), "--dir", source).exit_code == 0
    definitions = orjson.loads(exported.read_bytes())
    assert {c["name"] for c in definitions} >= {"notes", "members", "users", "_superusers"}
    assert "secret" not in exported.read_text(), "exports carry no token secrets"
    imported = run("collections", "import", str(exported), "--dir", target)
    assert imported.exit_code == 0, imported.output
    copy = build_runtime(Settings.from_env({}, data_dir=target))
    assert copy.collections.get("notes").field("text") is not None
    members = copy.collections.get("members")
    assert all(members.options[k]["secret"] for k in ("authToken", "fileToken")), "secrets are regenerated"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert run("collections", "import", str(bad), "--dir", target).exit_code == 1
