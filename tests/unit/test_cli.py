"""The click CLI: version and option validation (serving itself is covered by tests/e2e)."""

from __future__ import annotations

from click.testing import CliRunner

from app import __version__
from app.cli import main


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"emmettbase, version {__version__}"


def test_serve_rejects_a_bad_listen_address():
    result = CliRunner().invoke(main, ["serve", "--http", "nowhere"])
    assert result.exit_code == 2
    assert "HOST:PORT" in result.output


def test_serve_rejects_zero_workers():
    result = CliRunner().invoke(main, ["serve", "--workers", "0"])
    assert result.exit_code == 2
