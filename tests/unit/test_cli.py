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


def test_the_printed_command_is_one_a_shell_can_run(tmp_path, monkeypatch):
    """Hints name the CLI as the user can paste it: ``emmettbase`` only when that name on PATH is
    this very script, else the script's absolute path; ``python -m app`` when run as a module."""
    import os
    import sys

    from app.cli import cli_command

    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    script = bin_dir / "emmettbase"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setattr(sys, "argv", ["venv/bin/emmettbase", "serve"])
    assert cli_command() == os.path.realpath(script)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setattr(sys, "argv", ["emmettbase", "serve"])
    assert cli_command() == "emmettbase"
    monkeypatch.setattr(sys, "argv", ["/some/checkout/app/cli.py", "serve"])
    assert cli_command() == f"{sys.executable} -m app"


def test_python_dash_m_app_is_the_cli():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "app", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"emmettbase, version {__version__}"
