"""Throw-away PostgreSQL databases on the developer machine's server (127.0.0.1:5432, trust auth).

Each test session creates its own database and drops it at the end; each test starts from an
empty ``public`` schema. ``EMMETTBASE_TEST_PG`` overrides the server URL (a maintenance database).
"""

from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import psycopg2

ADMIN_URL = os.environ.get("EMMETTBASE_TEST_PG", "postgres://postgres@127.0.0.1:5432/postgres")


def _connect(url: str):
    conn = psycopg2.connect(url, connect_timeout=5)
    conn.autocommit = True
    return conn


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


class PgTestDatabase:
    def __init__(self, admin_url: str = ADMIN_URL):
        self.admin_url = admin_url
        self.name = f"emmettbase_test_{os.getpid()}_{secrets.token_hex(3)}"
        self.url = with_database(admin_url, self.name)

    def create(self) -> None:
        try:
            admin = _connect(self.admin_url)
        except psycopg2.OperationalError as exc:
            raise RuntimeError(
                f"PostgreSQL is not reachable at {self.admin_url}: {exc}\n"
                "Start it (see README) or deselect with -m 'not pg'."
            ) from exc
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{self.name}"')
        admin.close()

    def reset(self) -> None:
        conn = _connect(self.url)
        with conn.cursor() as cur:
            cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        conn.close()

    def terminate_backends(self, application_name: str | None = None) -> int:
        conn = _connect(self.admin_url)
        with conn.cursor() as cur:
            sql = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s"
            params: list[str] = [self.name]
            if application_name:
                sql += " AND application_name = %s"
                params.append(application_name)
            cur.execute(sql, params)
            (count,) = cur.fetchone()
        conn.close()
        return int(count)

    def backend_count(self, application_name: str = "emmettbase") -> int:
        conn = _connect(self.admin_url)
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
                (self.name, application_name),
            )
            (count,) = cur.fetchone()
        conn.close()
        return int(count)

    def drop(self) -> None:
        self.terminate_backends()
        admin = _connect(self.admin_url)
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
        admin.close()
