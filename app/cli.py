"""The ``emmettbase`` command line (click). Commands arrive with their features; none are empty."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import sys
import traceback
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
    # Everything that can fail at start is tried before the banner: a failure is one line and a
    # non-zero exit, not a banner followed by a traceback from inside the server.
    superuser_exists = _check_can_serve(settings)
    host, port = settings.listen
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    database = "PostgreSQL" if settings.dialect == "postgres" else f"SQLite {settings.sqlite_path}"
    click.echo(f"EmmettBase {__version__} serving at {base}")
    click.echo(f"├─ REST API:  {base}/api/")
    click.echo(f"├─ Health:    {base}/api/health")
    click.echo(f"└─ Data:      {settings.data_path} ({database})")
    if not superuser_exists:
        # No superuser is ever created with a default password (RELIABILITY.md AUTH-10): say how
        # to make the first one, as a command that works when pasted.
        command = f"{cli_command()} superuser create EMAIL PASSWORD --dir {shlex.quote(settings.data_path)}"
        click.echo(f"No superuser yet: create one with `{command}`", err=True)
    if settings.modules:
        _sync_code_collections(settings)
    sys.stdout.flush()
    run(settings)


def _check_can_serve(settings: Settings) -> bool:
    """Refuse to start, with one line, when the data dir, the port or the database is unusable;
    True when a superuser exists."""
    from . import build_runtime
    from .core.superusers import has_superusers

    try:
        os.makedirs(settings.data_path, exist_ok=True)
    except OSError as exc:
        problem = f"cannot use the data directory {settings.data_path}: {exc.strerror}"
        raise click.ClickException(problem) from None
    refuse_busy_port(*settings.listen)
    try:
        runtime = build_runtime(settings)
        try:
            return has_superusers(runtime.records)
        finally:
            runtime.close()
    except Exception as exc:
        if settings.dev:
            traceback.print_exc()
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise click.ClickException(f"cannot start: {first_line}") from None


def refuse_busy_port(host: str, port: int) -> None:
    """Fail when something already listens on ``host:port``. Granian binds with SO_REUSEPORT, so a
    second server would otherwise share the port and split requests between two databases. The
    probe binds without it (SO_REUSEADDR only, so a port in TIME_WAIT after a restart is free)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise click.ClickException(f"cannot listen on {host}:{port}: {reason}") from None


def cli_command() -> str:
    """This command line as a user can paste it into a shell: ``emmettbase`` when that name on
    PATH is this very script, else the script's absolute path, else ``<python> -m app``."""
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) == "emmettbase":
        script = os.path.realpath(argv0 if os.sep in argv0 else (shutil.which(argv0) or argv0))
        on_path = shutil.which("emmettbase")
        if on_path and os.path.realpath(on_path) == script:
            return "emmettbase"
        return shlex.quote(script)
    return f"{shlex.quote(sys.executable)} -m app"


_DIR_OPTION = click.option("--dir", "data_dir", default=None, help="Data directory [default: ./pb_data].")


def _runtime(data_dir: str | None) -> Any:
    from . import build_runtime

    settings = _settings_from(None, data_dir, None, None)
    os.makedirs(settings.data_path, exist_ok=True)
    return build_runtime(settings)


def _sync_code_collections(settings: Settings) -> None:
    """Write the collections declared in EMMETTBASE_MODULES to the database (docs/code-first.md)."""
    from . import build_runtime
    from .core.collections.codefirst import CodeFirstError

    try:
        runtime = build_runtime(settings)
        try:
            result = _fail_on_api_error("sync collections", runtime.sync_code_collections)
        finally:
            runtime.close()
    except CodeFirstError as exc:
        raise click.ClickException(str(exc)) from None
    for verb, names in (("Created", result.created), ("Updated", result.updated)):
        if names:
            click.echo(f"{verb} collections: {', '.join(names)}")
    if not result.created and not result.updated:
        click.echo(f"Collections from {', '.join(settings.modules)} are up to date.")


def _fail_on_api_error(action: str, run: Any) -> Any:
    from .core.errors import ApiError

    try:
        return run()
    except ApiError as exc:
        details = "; ".join(
            f"{k}: {v.get('message', v) if isinstance(v, dict) else v}" for k, v in exc.data.items()
        )
        raise click.ClickException(
            f"Failed to {action}: {exc.message}" + (f" ({details})" if details else "")
        ) from None


def _superuser_change(data_dir: str | None, action: str, change: Any) -> None:
    """Run ``change(records)`` on the data dir's database; an API error exits with its message."""
    runtime = _runtime(data_dir)
    try:
        _fail_on_api_error(f"{action} superuser", lambda: change(runtime.records))
    finally:
        runtime.close()


@main.group()
def superuser() -> None:
    """Manage superuser accounts (works before or after the first serve)."""


@superuser.command("create")
@click.argument("email")
@click.argument("password")
@_DIR_OPTION
def superuser_create(email: str, password: str, data_dir: str | None) -> None:
    """Create a superuser."""
    from .core.superusers import create_superuser

    _superuser_change(data_dir, "create", lambda records: create_superuser(records, email, password))
    click.echo(f'Successfully saved superuser "{email}"!')


@superuser.command("update")
@click.argument("email")
@click.argument("password")
@_DIR_OPTION
def superuser_update(email: str, password: str, data_dir: str | None) -> None:
    """Change a superuser's password (every token it had is revoked)."""
    from .core.superusers import update_superuser

    _superuser_change(data_dir, "update", lambda records: update_superuser(records, email, password))
    click.echo(f'Successfully changed superuser "{email}" password!')


@superuser.command("upsert")
@click.argument("email")
@click.argument("password")
@_DIR_OPTION
def superuser_upsert(email: str, password: str, data_dir: str | None) -> None:
    """Create a superuser, or set its password when it exists."""
    from .core.superusers import upsert_superuser

    _superuser_change(data_dir, "upsert", lambda records: upsert_superuser(records, email, password))
    click.echo(f'Successfully saved superuser "{email}"!')


@superuser.command("delete")
@click.argument("email")
@_DIR_OPTION
def superuser_delete(email: str, data_dir: str | None) -> None:
    """Delete a superuser."""
    from .core.superusers import delete_superuser

    _superuser_change(data_dir, "delete", lambda records: delete_superuser(records, email))
    click.echo(f'Successfully deleted superuser "{email}"!')


@main.group()
def collections() -> None:
    """Export, import and sync collection definitions (PocketBase's JSON format)."""


@collections.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@_DIR_OPTION
def collections_export(file: str, data_dir: str | None) -> None:
    """Write every collection definition to FILE ('-' for stdout)."""
    import orjson

    runtime = _runtime(data_dir)
    payload = orjson.dumps([c.to_json() for c in runtime.collections.all()], option=orjson.OPT_INDENT_2)
    with click.open_file(file, "wb") as out:
        out.write(payload + b"\n")
    if file != "-":
        click.echo(f"Exported {len(runtime.collections.all())} collections to {file}.")


@collections.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--delete-missing", is_flag=True, help="Delete collections (and their records) not in FILE.")
@_DIR_OPTION
def collections_import(file: str, delete_missing: bool, data_dir: str | None) -> None:
    """Create or update the collections defined in FILE (a list, or {"collections": [...]})."""
    import orjson

    with click.open_file(file, "rb") as source:
        try:
            data = orjson.loads(source.read())
        except orjson.JSONDecodeError as exc:
            raise click.ClickException(f"{file} is not valid JSON: {exc}") from None
    items = data.get("collections") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise click.ClickException(f'{file} must hold a list of collections or {{"collections": [...]}}.')
    runtime = _runtime(data_dir)
    _fail_on_api_error("import collections", lambda: runtime.collections.import_(items, delete_missing))
    click.echo(f"Imported {len(items)} collections.")


@collections.command("sync")
@_DIR_OPTION
def collections_sync(data_dir: str | None) -> None:
    """Create or update the collections declared as Emmett models in EMMETTBASE_MODULES."""
    settings = _settings_from(None, data_dir, None, None)
    if not settings.modules:
        raise click.UsageError("EMMETTBASE_MODULES names no module: there is nothing to sync.")
    os.makedirs(settings.data_path, exist_ok=True)
    _sync_code_collections(settings)


if __name__ == "__main__":  # pragma: no cover
    main()
