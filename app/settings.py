"""Runtime settings: one immutable object read from ``EMMETTBASE_*`` environment variables.

With no environment at all EmmettBase runs locally: data under ``./pb_data``, SQLite at
``./pb_data/data.db``, listening on 127.0.0.1:8090. ``DATABASE_URL`` (or ``EMMETTBASE_DATABASE_URL``)
pointing at ``postgres://`` switches to PostgreSQL. Every variable is documented in
``docs/configuration.md``; keep the two in step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

PREFIX = "EMMETTBASE_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """An environment variable holds a value EmmettBase cannot use."""


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(PREFIX + name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{PREFIX}{name} must be a boolean (1/0, true/false), got {raw!r}")


def _number(env: Mapping[str, str], name: str, default: float, minimum: float = 0) -> float:
    raw = env.get(PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{PREFIX}{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{PREFIX}{name} must be >= {minimum}, got {raw!r}")
    return value


def parse_listen(value: str) -> tuple[str, int]:
    """Split ``host:port`` (IPv6 as ``[::1]:8090``) into its parts."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"listen address must be HOST:PORT, got {value!r}")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


@dataclass(frozen=True)
class Settings:
    data_dir: str = "./pb_data"
    database_url: str = ""
    http: str = "127.0.0.1:8090"
    dev: bool = False
    serverless: bool = False
    db_pool_size: int = 4
    #: Seconds a request waits for a free worker thread / pooled connection before a 503.
    db_pool_timeout: float = 10.0
    #: Local door: run each API request's work on a worker thread (``app.api.offload``). Off by
    #: default until the hop's cost on cheap requests is paid back (docs/decisions.md).
    offload_requests: bool = False
    db_connect_timeout: float = 20.0
    db_idle_timeout: float = 240.0
    db_statement_timeout_ms: int = 10_000
    sqlite_busy_timeout_ms: int = 5_000
    max_body_size: int = 32 * 1024 * 1024
    workers: int = 1
    origins: tuple[str, ...] = ("*",)
    schema_check_interval: float = 0.0
    #: Python modules whose Emmett ``Model`` classes become collections (docs/code-first.md).
    modules: tuple[str, ...] = ()
    #: DynamoDB table shared by every instance's rate limiter ("" = counters in process memory).
    rate_limit_table: str = ""
    #: AWS region for Amazon SES ("" = no SES: SMTP when configured in the app settings, else
    #: .eml files under the data dir).
    ses_region: str = ""
    #: Serverless only: allow SQLite under the instance's disk and the ``.eml`` mailer, both lost at
    #: the next cold start. For tests and demos; without it such a configuration refuses to start.
    serverless_ephemeral: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read the process environment (or ``env``); keyword overrides win over both."""
        env = os.environ if env is None else env
        serverless = _flag(env, "SERVERLESS", False)
        default_dir = "/tmp/pb_data" if serverless else "./pb_data"  # noqa: S108 - Lambda's only writable place
        values: dict[str, Any] = {
            "data_dir": env.get(PREFIX + "DATA_DIR") or default_dir,
            "database_url": env.get(PREFIX + "DATABASE_URL") or env.get("DATABASE_URL") or "",
            "http": env.get(PREFIX + "HTTP") or "127.0.0.1:8090",
            "dev": _flag(env, "DEV", False),
            "serverless": serverless,
            "db_pool_size": int(_number(env, "DB_POOL_SIZE", 1 if serverless else 4, minimum=1)),
            "db_pool_timeout": _number(env, "DB_POOL_TIMEOUT", 10.0, minimum=0.001),
            "offload_requests": _flag(env, "OFFLOAD_REQUESTS", False),
            "db_connect_timeout": _number(env, "DB_CONNECT_TIMEOUT", 20.0, minimum=1),
            "db_idle_timeout": _number(env, "DB_IDLE_TIMEOUT", 240.0),
            "db_statement_timeout_ms": int(_number(env, "DB_STATEMENT_TIMEOUT_MS", 10_000)),
            "sqlite_busy_timeout_ms": int(_number(env, "SQLITE_BUSY_TIMEOUT_MS", 5_000)),
            "max_body_size": int(_number(env, "MAX_BODY_SIZE", 32 * 1024 * 1024, minimum=1024)),
            "workers": int(_number(env, "WORKERS", 1, minimum=1)),
            "schema_check_interval": _number(env, "SCHEMA_CHECK_INTERVAL", 0.0),
            "origins": tuple(o.strip() for o in (env.get(PREFIX + "ORIGINS") or "*").split(",") if o.strip()),
            "modules": tuple(m.strip() for m in (env.get(PREFIX + "MODULES") or "").split(",") if m.strip()),
            "rate_limit_table": (env.get(PREFIX + "RATE_LIMIT_TABLE") or "").strip(),
            "ses_region": (env.get(PREFIX + "SES_REGION") or "").strip(),
            "serverless_ephemeral": _flag(env, "SERVERLESS_EPHEMERAL", False),
        }
        values.update(overrides)
        settings = cls(**values)
        settings.validate()
        return settings

    def with_(self, **changes: Any) -> Settings:
        """A copy with some values changed (settings are immutable once the app runs)."""
        updated = replace(self, **changes)
        updated.validate()
        return updated

    def validate(self) -> None:
        parse_listen(self.http)
        if self.database_url and self.dialect not in ("postgres", "sqlite"):
            raise SettingsError(
                "DATABASE_URL must start with postgres://, postgresql:// or sqlite:// "
                f"(got {self.database_url.split(':', 1)[0]}://...)"
            )
        for module in self.modules:
            if not all(part.isidentifier() for part in module.split(".")):
                raise SettingsError(f"{PREFIX}MODULES must list importable module names, got {module!r}")
        if self.serverless and not self.serverless_ephemeral:
            self._refuse_ephemeral_state()

    def _refuse_ephemeral_state(self) -> None:
        """A serverless instance's disk lives until its next cold start: a database or mailbox
        there would lose every write silently, so such defaults are a start-up error."""
        if self.dialect != "postgres":
            raise SettingsError(
                "serverless needs DATABASE_URL=postgres://... (SQLite on the instance's disk loses "
                f"every write at the next cold start); set {PREFIX}SERVERLESS_EPHEMERAL=1 to allow it "
                "for tests"
            )
        if not self.ses_region:
            raise SettingsError(
                f"serverless needs {PREFIX}SES_REGION (mail written to .eml files on the instance's "
                f"disk is lost); set {PREFIX}SERVERLESS_EPHEMERAL=1 to allow it for tests"
            )

    @property
    def data_path(self) -> str:
        return os.path.abspath(self.data_dir)

    @property
    def dialect(self) -> str:
        url = self.database_url
        if not url:
            return "sqlite"
        scheme = url.split("://", 1)[0].lower()
        if scheme in ("postgres", "postgresql", "postgresql+psycopg2"):
            return "postgres"
        if scheme == "sqlite":
            return "sqlite"
        return scheme

    @property
    def sqlite_path(self) -> str:
        """Path of the SQLite file: ``sqlite:///abs/path.db`` or ``<data dir>/data.db``."""
        if self.database_url.startswith("sqlite://"):
            path = self.database_url[len("sqlite://") :]
            return os.path.abspath(path) if path else os.path.join(self.data_path, "data.db")
        return os.path.join(self.data_path, "data.db")

    @property
    def listen(self) -> tuple[str, int]:
        return parse_listen(self.http)
