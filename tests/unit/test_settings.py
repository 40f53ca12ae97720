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
    settings = Settings.from_env({"EMMETTBASE_SERVERLESS": "1"})
    assert settings.serverless is True
    assert settings.data_dir == "/tmp/pb_data"
    assert settings.db_pool_size == 1


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
