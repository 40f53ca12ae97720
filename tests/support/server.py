"""Start ``emmettbase serve`` as a real subprocess on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx


def upsert_superuser(data_dir: Path, email: str, password: str, env: dict[str, str] | None = None) -> None:
    """``emmettbase superuser upsert`` through the real CLI, as a user prepares a server."""
    command = [sys.executable, "-m", "app.cli", "superuser", "upsert", email, password]
    command += ["--dir", str(data_dir)]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}
    )
    assert result.returncode == 0, f"superuser upsert failed:\n{result.stdout}\n{result.stderr}"


def stop_process_group(process: subprocess.Popen[bytes] | None, timeout: float = 15) -> None:
    """SIGTERM the process group started with ``start_new_session``; SIGKILL it after ``timeout``."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``, read from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServeProcess:
    def __init__(self, data_dir: Path, env: dict[str, str] | None = None, args: list[str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"serve-{self.port}.log"
        self.env = {**os.environ, **(env or {})}
        self.args = args or []
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> ServeProcess:
        command = [sys.executable, "-m", "app.cli", "serve", "--http", f"127.0.0.1:{self.port}"]
        command += ["--dir", str(self.data_dir), *self.args]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"emmettbase serve exited early:\n{self.output()}")
            try:
                if httpx.get(self.url + "/api/health", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"emmettbase serve did not answer in {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        stop_process_group(self.process, timeout=10)
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self) -> ServeProcess:
        # ``with ServeProcess(...).start(timeout=...) as server`` has started it already: a second
        # start would race the first for its port, and only one of the two would be stopped.
        return self if self.process is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def serve_as_superuser(
    request: Any, tmp_path: Path, email: str, password: str, workers: int
) -> Iterator[tuple[str, dict[str, str]]]:
    """``emmettbase serve --workers N`` on SQLite, or on PostgreSQL when ``request.param`` is
    ``"postgres"``; yields the base URL and a superuser's ``Authorization`` header."""
    env = {}
    if request.param == "postgres":
        pg = request.getfixturevalue("pg_database")
        pg.reset()
        env["EMMETTBASE_DATABASE_URL"] = pg.url
    data_dir = tmp_path / "pb_data"
    upsert_superuser(data_dir, email, password, env)
    with ServeProcess(data_dir, env=env, args=["--workers", str(workers)]) as process:
        token = httpx.post(
            process.url + "/api/collections/_superusers/auth-with-password",
            json={"identity": email, "password": password},
        ).json()["token"]
        yield process.url, {"Authorization": token}


@contextlib.contextmanager
def serve_embedded(target: Any, interface: Any) -> Iterator[str]:
    """Serve ``target`` in-process with Granian's embedded server on a loopback port, in a thread
    with its own event loop; yields ``127.0.0.1:<port>`` once ``/api/health`` answers."""
    import asyncio
    import threading

    from granian.server.embed import Server

    port = free_port()
    server = Server(target, address="127.0.0.1", port=port, interface=interface, websockets=True)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    url = f"127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"http://{url}/api/health", timeout=0.5)
            break
        except httpx.HTTPError:
            threading.Event().wait(0.05)
    try:
        yield url
    finally:
        loop.call_soon_threadsafe(server.stop)
        thread.join(10)
