"""The ``emmettbase`` command line (click). Commands arrive with their features; none are empty."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from . import __version__
from .settings import Settings, SettingsError, parse_listen


def _settings_from(http: str | None, data_dir: str | None, dev: bool | None, workers: int | None) -> Settings:
    overrides: dict[str, Any] = {}
    if http is not None:
        overrides["http"] = http
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if dev is not None:
        overrides["dev"] = dev
    if workers is not None:
        overrides["workers"] = workers
    try:
        return Settings.from_env(**overrides)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-v", prog_name="emmettbase")
def main() -> None:
    """EmmettBase: a PocketBase-compatible backend on Emmett."""


@main.command()
@click.option("--http", default=None, help="Address to listen on, HOST:PORT [default: 127.0.0.1:8090].")
@click.option("--dir", "data_dir", default=None, help="Data directory [default: ./pb_data].")
@click.option("--dev", is_flag=True, default=None, help="Show internal error details and debug logs.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes [default: 1].")
def serve(http: str | None, data_dir: str | None, dev: bool | None, workers: int | None) -> None:
    """Serve the API over HTTP (SQLite under --dir unless DATABASE_URL points at PostgreSQL)."""
    from .serving import serve as run

    if http is not None:
        try:
            parse_listen(http)
        except SettingsError as exc:
            raise click.BadParameter(str(exc), param_hint="--http") from None
    settings = _settings_from(http, data_dir, dev, workers)
    os.makedirs(settings.data_path, exist_ok=True)
    host, port = settings.listen
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    database = "PostgreSQL" if settings.dialect == "postgres" else f"SQLite {settings.sqlite_path}"
    click.echo(f"EmmettBase {__version__} serving at {base}")
    click.echo(f"├─ REST API:  {base}/api/")
    click.echo(f"├─ Health:    {base}/api/health")
    click.echo(f"└─ Data:      {settings.data_path} ({database})")
    sys.stdout.flush()
    run(settings)


if __name__ == "__main__":  # pragma: no cover
    main()
