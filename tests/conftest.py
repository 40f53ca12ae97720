"""Shared fixtures: settings per backend, and ``api`` — one test body run four ways.

``api`` is parametrized over {SQLite, PostgreSQL} x {ASGI door, Lambda door}; the PostgreSQL
variants carry the ``pg`` marker and use a database created for this test session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from app.settings import Settings
from tests.support.doors import Door, open_door
from tests.support.pg import PgTestDatabase

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="pg", marks=pytest.mark.pg),
]
DOOR_KINDS = ["asgi", "lambda"]


@pytest.fixture(scope="session")
def pg_database() -> Iterator[PgTestDatabase]:
    database = PgTestDatabase()
    database.create()
    yield database
    database.drop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_settings(backend: str, tmp_path: Any, request: pytest.FixtureRequest):
    """A factory of Settings for this test's backend, with a fresh data dir and an empty database."""
    if backend == "postgres":
        pg: PgTestDatabase = request.getfixturevalue("pg_database")
        pg.reset()

    def make(**overrides: Any) -> Settings:
        env: dict[str, str] = {}
        values: dict[str, Any] = {"data_dir": str(tmp_path / "pb_data")}
        if backend == "postgres":
            values["database_url"] = pg.url
        values.update(overrides)
        return Settings.from_env(env, **values)

    return make


@pytest.fixture(params=DOOR_KINDS)
def door_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def api(door_kind: str, make_settings: Any) -> Iterator[Door]:
    """The app behind one door, on one backend."""
    door = open_door(door_kind, make_settings())
    yield door
    door.close()
