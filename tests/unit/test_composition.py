"""The composition root (``app.composition``): typed ports, defaults from settings, one runtime
for every entry point, and entry points without HTTP never loading the HTTP layer."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.composition import Ports, build_runtime, default_ports
from app.files.local import LocalFileStorage
from app.ratelimit.memory import MemoryRateLimiter
from app.settings import Settings

# Modules only the HTTP door needs: an entry point without HTTP must not pay for (or depend on) them.
# (Granian is not in the list: emmett_core imports it on its own.)
HTTP_ONLY = ("app.api", "app.asgi", "app.serving", "app.adapters.lambda_http", "mangum")

CHILD = r"""
import json, sys
from click.testing import CliRunner
from app.cli import main
args = json.loads(sys.argv[1])
result = CliRunner().invoke(main, args, catch_exceptions=False)
loaded = sorted(m for m in json.loads(sys.argv[2]) if m in sys.modules)
routes = [m for m in sys.modules if m.startswith("app.api")]
print(json.dumps({"exit": result.exit_code, "output": result.output, "loaded": loaded + routes}))
"""


def run_cli(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(args), json.dumps(HTTP_ONLY)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_cli_database_commands_never_import_the_http_app(tmp_path):
    """``superuser create`` and ``collections export`` build a runtime through the composition root
    and do real database work, without importing the routes, the ASGI adapter or Mangum."""
    data_dir = str(tmp_path / "pb_data")
    created = run_cli(["superuser", "create", "root@example.com", "a-long-password-1", "--dir", data_dir])
    assert created["exit"] == 0, created["output"]
    assert created["loaded"] == [], f"the CLI loaded HTTP modules: {created['loaded']}"
    exported = run_cli(["collections", "export", str(tmp_path / "out.json"), "--dir", data_dir])
    assert exported["exit"] == 0, exported["output"]
    assert exported["loaded"] == []
    names = {c["name"] for c in json.loads((tmp_path / "out.json").read_text())}
    assert "_superusers" in names


def test_default_ports_follow_the_settings(tmp_path):
    settings = Settings.from_env({}, data_dir=str(tmp_path))
    ports = default_ports(settings)
    try:
        assert isinstance(ports.rate_limiter, MemoryRateLimiter)
        assert isinstance(ports.file_storage, LocalFileStorage)
        assert ports.file_storage.root == str(tmp_path / "storage")
        assert ports.mail_transport is None
        assert ports.db.dialect == "sqlite"
        assert not (tmp_path / "storage").exists(), "no directory is made before the first file"
    finally:
        ports.db.close()


def test_default_ports_choose_dynamodb_when_a_table_is_named(tmp_path):
    from app.ratelimit.dynamodb import DynamoDBRateLimiter

    settings = Settings.from_env({"EMMETTBASE_RATE_LIMIT_TABLE": "limits"}, data_dir=str(tmp_path))
    ports = default_ports(settings, rate_limiter=None)
    try:
        assert isinstance(ports.rate_limiter, DynamoDBRateLimiter)
    finally:
        ports.db.close()


def test_given_ports_are_used_as_they_are_and_unknown_ones_refused(tmp_path):
    settings = Settings.from_env({}, data_dir=str(tmp_path))
    limiter = MemoryRateLimiter()
    storage = LocalFileStorage(str(tmp_path / "elsewhere"))
    runtime = build_runtime(settings, default_ports(settings, rate_limiter=limiter, file_storage=storage))
    try:
        assert runtime.rate_limiter is limiter
        assert runtime.file_storage is storage
        assert runtime.records is not None and runtime.mailer.transport is None
    finally:
        runtime.close()
    with pytest.raises(TypeError, match="unknown ports: limiter"):
        default_ports(settings, limiter=limiter)


def test_create_app_keeps_taking_ports_by_name(tmp_path):
    from app import create_app

    class Mailbox:
        def send(self, message):
            pass

    settings = Settings.from_env({}, data_dir=str(tmp_path))
    limiter = MemoryRateLimiter()
    mailbox = Mailbox()
    app = create_app(settings, rate_limiter=limiter, mail_transport=mailbox)
    try:
        assert app.runtime.rate_limiter is limiter
        assert app.runtime.mailer.transport is mailbox
    finally:
        app.runtime.close()


def test_ports_is_a_typed_record_of_every_port():
    assert set(Ports.__dataclass_fields__) >= {"db", "rate_limiter", "file_storage", "mail_transport"}
