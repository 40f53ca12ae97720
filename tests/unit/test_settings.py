"""Settings from the environment: the no-env defaults, the PostgreSQL switch, and bad values."""

from __future__ import annotations

import os

import pytest

from app.settings import Settings, SettingsError, parse_listen


def test_defaults_need_no_environment():
    settings = Settings.from_env({})
    assert settings.data_dir == "./pb_data"
    assert settings.dialect == "sqlite"
    assert settings.sqlite_path == os.path.abspath("./pb_data/data.db")
    assert settings.listen == ("127.0.0.1", 8090)
    assert settings.dev is False
    assert settings.db_pool_size == 4
    assert settings.origins == ("*",)


def test_database_url_switches_to_postgres():
    for name in ("DATABASE_URL", "EMMETTBASE_DATABASE_URL"):
        settings = Settings.from_env({name: "postgres://u:p@db.internal:5432/app"})
        assert settings.dialect == "postgres"
    assert Settings.from_env({"DATABASE_URL": "postgresql://x@y/z"}).dialect == "postgres"


def test_prefixed_database_url_wins():
    settings = Settings.from_env(
        {"DATABASE_URL": "postgres://a@b/c", "EMMETTBASE_DATABASE_URL": "sqlite:///tmp/other.db"}
    )
    assert settings.dialect == "sqlite"
    assert settings.sqlite_path == "/tmp/other.db"


def test_serverless_defaults_write_under_tmp_with_one_connection():
    settings = Settings.from_env({"EMMETTBASE_SERVERLESS": "1", "EMMETTBASE_SERVERLESS_EPHEMERAL": "1"})
    assert settings.serverless is True
    assert settings.data_dir == "/tmp/pb_data"
    assert settings.db_pool_size == 1


SAFE_SERVERLESS = {
    "EMMETTBASE_SERVERLESS": "1",
    "DATABASE_URL": "postgres://app@db.internal:5432/app",
    "EMMETTBASE_SES_REGION": "eu-west-1",
}


@pytest.mark.parametrize(
    ("drop", "extra", "named"),
    [
        ("DATABASE_URL", {}, "DATABASE_URL"),
        ("DATABASE_URL", {"DATABASE_URL": "sqlite:///tmp/x.db"}, "DATABASE_URL"),
        ("EMMETTBASE_SES_REGION", {}, "EMMETTBASE_SES_REGION"),
    ],
)
def test_serverless_refuses_state_on_the_instance_disk(drop: str, extra: dict[str, str], named: str):
    """On Lambda, SQLite under /tmp and .eml mail files vanish at the next cold start: refuse to
    start instead of losing writes silently, and say what to set."""
    env = {k: v for k, v in SAFE_SERVERLESS.items() if k != drop} | extra
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)
    assert named in str(refused.value) and "EMMETTBASE_SERVERLESS_EPHEMERAL" in str(refused.value)
    # the explicit opt-in (tests, demos) lets it start
    assert Settings.from_env(env | {"EMMETTBASE_SERVERLESS_EPHEMERAL": "1"}).serverless is True
    # a copy made serverless later is checked too
    local = Settings.from_env({k: v for k, v in env.items() if k != "EMMETTBASE_SERVERLESS"})
    with pytest.raises(SettingsError):
        local.with_(serverless=True)


def test_serverless_with_postgres_and_ses_starts():
    settings = Settings.from_env(SAFE_SERVERLESS)
    assert settings.dialect == "postgres" and settings.ses_region == "eu-west-1"


def test_lambda_handler_refuses_to_start_on_ephemeral_defaults(monkeypatch: pytest.MonkeyPatch):
    """The handler Lambda imports builds its settings from the environment with serverless on:
    with no DATABASE_URL the init phase fails with the clear message, before any request."""
    from app.adapters import lambda_http

    for name in ("DATABASE_URL", "EMMETTBASE_DATABASE_URL", "EMMETTBASE_SERVERLESS_EPHEMERAL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        lambda_http.build_handler()


def test_overrides_win_over_environment():
    settings = Settings.from_env({"EMMETTBASE_HTTP": "0.0.0.0:1"}, http="127.0.0.1:9000", dev=True)
    assert settings.listen == ("127.0.0.1", 9000)
    assert settings.dev is True


@pytest.mark.parametrize(
    "env",
    [
        {"EMMETTBASE_DEV": "maybe"},
        {"EMMETTBASE_DB_POOL_SIZE": "zero"},
        {"EMMETTBASE_DB_POOL_SIZE": "0"},
        {"EMMETTBASE_HTTP": "no-port"},
        {"EMMETTBASE_HTTP": "host:99999"},
        {"DATABASE_URL": "mysql://root@localhost/db"},
    ],
)
def test_bad_values_are_refused_with_the_variable_name(env):
    with pytest.raises(SettingsError):
        Settings.from_env(env)


def test_ipv6_listen_address():
    assert parse_listen("[::1]:8090") == ("::1", 8090)


def test_origins_list():
    assert Settings.from_env({"EMMETTBASE_ORIGINS": "https://a.example, https://b.example"}).origins == (
        "https://a.example",
        "https://b.example",
    )
