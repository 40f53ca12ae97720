"""``emmettbase serve`` starting and stopping as a new user meets it: refusals at start are one
line and a non-zero exit before the banner, the printed hints work when pasted, and a stop signal
ends every process and closes the runtime."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.server import ServeProcess, free_port, group_members, stop_process_group
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.e2e

SERVE = [sys.executable, "-m", "app.cli", "serve"]


def run_serve(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A serve that must refuse to start: it may not still be running after 30 s."""
    try:
        return subprocess.run(
            [*SERVE, *args], capture_output=True, text=True, timeout=30, env={**os.environ, **(env or {})}
        )
    except subprocess.TimeoutExpired as exc:  # started and kept serving: the bug
        raise AssertionError(f"serve did not refuse to start:\n{exc.stdout!r}\n{exc.stderr!r}") from None


def assert_one_line_refusal(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode != 0
    assert "serving at" not in result.stdout, "the banner was printed before the failure"
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text.lower() in lines[0].lower(), lines[0]


def test_a_second_serve_on_a_busy_port_is_refused(tmp_path: Path):
    """Granian binds with SO_REUSEPORT: a second server on the same port used to start silently and
    take half of the requests, against its own database."""
    with ServeProcess(tmp_path / "first") as first:
        second = run_serve(["--http", f"127.0.0.1:{first.port}", "--dir", str(tmp_path / "second")])
        assert_one_line_refusal(second, f"127.0.0.1:{first.port}", "address already in use")
        for _ in range(10):
            assert httpx.get(first.url + "/api/health").status_code == 200
    assert not (tmp_path / "second" / "data.db").exists()


@pytest.mark.parametrize("problem", ["dir-is-a-file", "postgres-down"])
def test_start_up_failures_are_one_line_before_the_banner(tmp_path: Path, problem: str):
    port = str(free_port())
    if problem == "dir-is-a-file":
        data = tmp_path / "not-a-dir"
        data.write_text("x")
        result = run_serve(["--http", f"127.0.0.1:{port}", "--dir", str(data)])
        assert_one_line_refusal(result, "data directory", str(data))
    else:
        closed = free_port()  # nothing listens there
        env = {
            "DATABASE_URL": f"postgres://nobody@127.0.0.1:{closed}/db",
            "EMMETTBASE_DB_CONNECT_TIMEOUT": "2",
        }
        result = run_serve(["--http", f"127.0.0.1:{port}", "--dir", str(tmp_path / "d")], env)
        assert_one_line_refusal(result, "PostgreSQL", str(closed))


def test_the_no_superuser_hint_works_when_pasted_into_a_shell(tmp_path: Path):
    """The hint used to name ``emmettbase``, which is not on PATH outside an activated venv."""
    bare_path = "/usr/bin:/bin"
    with ServeProcess(tmp_path / "pb_data", env={"PATH": bare_path}) as server:
        hint = re.search(r"No superuser yet: create one with `([^`]+)`", server.output())
        assert hint, server.output()
        command = hint.group(1).replace("EMAIL PASSWORD", "root@example.com 'a long passphrase'")
        pasted = subprocess.run(
            ["/bin/sh", "-c", command],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=Path(__file__).parents[2],  # the checkout the server runs from
            env={"PATH": bare_path, "HOME": str(tmp_path)},
        )
        assert pasted.returncode == 0, pasted.stderr
        login = {"identity": "root@example.com", "password": "a long passphrase"}
        signed_in = httpx.post(server.url + "/api/collections/_superusers/auth-with-password", json=login)
        assert signed_in.status_code == 200


def wait_group_gone(pgid: int, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not group_members(pgid):
            return []
        time.sleep(0.05)
    return group_members(pgid)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.1, 0.3, 0.6, 1.0])
def test_sigterm_soon_after_a_two_worker_start_ends_every_process(tmp_path: Path, delay: float):
    """SIGTERM to the server (what a service manager sends) while its workers are still building
    the app: the supervisor and every worker exit. It used to leave the supervisor and a worker
    running (10 of 11 tries)."""
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [*SERVE, "--http", f"127.0.0.1:{free_port()}", "--dir", str(tmp_path / "d"), "--workers", "2"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # ``delay`` after the banner: the supervisor is forking workers that build the app
        deadline = time.monotonic() + 30
        while b"serving at" not in (tmp_path / "serve.log").read_bytes() and time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(0.01)
        time.sleep(delay)
        process.send_signal(signal.SIGTERM)
        # well under the supervisor's kill timeout: the workers stop, they are not killed late
        process.wait(timeout=6)
        left = wait_group_gone(process.pid, timeout=5)
        assert left == [], f"still running after SIGTERM: {left}\n{(tmp_path / 'serve.log').read_text()}"
    finally:
        log.close()
        if group_members(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_stopping_the_server_closes_the_runtime(tmp_path: Path, workers: str):
    """Under RSGI the runtime was never closed at shutdown: SQLite connections were dropped by the
    exiting process instead of closed, which leaves the WAL file behind. Closed, SQLite checkpoints
    and removes it."""
    data = tmp_path / "pb_data"
    server = ServeProcess(data, args=["--workers", workers]).start()
    try:
        for _ in range(6):
            assert httpx.get(server.url + "/api/collections/users/records").status_code in (200, 403)
        assert (data / "data.db-wal").exists()
    finally:
        server.stop()
    assert server.process is not None and server.process.returncode == 0
    assert not (data / "data.db-wal").exists(), sorted(os.listdir(data))


@pytest.mark.pg
def test_health_answers_in_the_envelope_when_the_database_is_down(tmp_path: Path, pg_database: Any):
    """The database goes away after start, before any request read the settings: the health fast
    path used to let the error escape to Granian, which answered 500 with an empty body."""
    pg_database.reset()
    real = urlsplit(pg_database.url)
    proxy = TcpProxy((real.hostname or "127.0.0.1", real.port or 5432))
    credentials = real.netloc.rpartition("@")[0]
    via_proxy = real._replace(netloc=f"{credentials}@127.0.0.1:{proxy.port}").geturl()
    log = (tmp_path / "serve.log").open("wb")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": via_proxy, "EMMETTBASE_DB_CONNECT_TIMEOUT": "2"}
    process = subprocess.Popen(
        [*SERVE, "--http", f"127.0.0.1:{port}", "--dir", str(tmp_path / "d")],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.02)
        proxy.cut()
        for headers in ({}, {"Authorization": "x"}):
            response = httpx.get(f"http://127.0.0.1:{port}/api/health", headers=headers, timeout=30)
            assert response.status_code == 503, response.content
            assert response.json() == {
                "data": {},
                "message": "The service is temporarily unavailable. Please retry.",
                "status": 503,
            }
            assert response.headers["retry-after"]
    finally:
        stop_process_group(process)
        log.close()
        proxy.close()
