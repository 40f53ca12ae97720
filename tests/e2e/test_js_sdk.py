"""The official PocketBase JS SDK (npm ``pocketbase`` 0.28.x) against ``emmettbase serve``.

``tests/e2e/js/scenario.mjs`` drives a real server process through the SDK: superuser auth, a
collection created through the collections API, a user sign-up, records CRUD with modifiers, lists
with ``expand``/``fields``/``skipTotal``, ``getFullList`` and batches. ``auth_scenario.mjs`` runs
every sign-in flow (verification, reset, OTP, email change) reading mail from the dev mailbox.
Each stops at the first answer that differs from PocketBase's and prints which step, what differed
and the last requests.

Needs ``node`` and ``npm`` (Node 20) on the PATH; the JS dependencies are installed with ``npm ci``
from ``tests/e2e/js/package-lock.json`` when ``node_modules`` is missing or stale (``make test``
does the same before running pytest).
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path

import pytest

from tests.support.server import ServeProcess, upsert_superuser

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

JS_DIR = Path(__file__).parent / "js"
SUPERUSER_EMAIL = "e2e-admin@example.com"
SUPERUSER_PASSWORD = "e2e-Sup3r-secret"
NPM_TIMEOUT = 240
SCENARIO_TIMEOUT = 120


def _locked_version() -> str:
    lock = json.loads((JS_DIR / "package-lock.json").read_text())
    return str(lock["packages"]["node_modules/pocketbase"]["version"])


def _installed_version() -> str | None:
    manifest = JS_DIR / "node_modules" / "pocketbase" / "package.json"
    if not manifest.exists():
        return None
    return str(json.loads(manifest.read_text()).get("version"))


@pytest.fixture(scope="session")
def js_sdk() -> str:
    """Installs the locked JS dependencies when missing or stale; returns the SDK version."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            pytest.fail(f"`{tool}` is not on the PATH: the JS SDK end-to-end test needs Node 20 and npm.")
    wanted = _locked_version()
    # One installer at a time, should several pytest processes start together.
    lock_path = Path(tempfile.gettempdir()) / f"emmettbase-npm-{zlib.crc32(str(JS_DIR).encode())}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version() != wanted:
            result = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"],
                cwd=JS_DIR,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT,
            )
            if result.returncode != 0:
                pytest.fail(f"npm ci failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    installed = _installed_version()
    assert installed == wanted, f"node_modules holds pocketbase {installed}, package-lock.json pins {wanted}"
    return installed


def _text(output: bytes | str | None) -> str:
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


BACKEND_PARAMS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="pg", marks=pytest.mark.pg),
]


def _run_scenario(script: str, backend: str, js_sdk: str, tmp_path: Path, monkeypatch, request) -> dict:
    """Start ``emmettbase serve`` on ``backend``, run ``script`` with the SDK against it, return
    the scenario's JSON summary (failing the test with the node output and server log otherwise)."""
    # The server and the CLI inherit this process's environment: pin the database explicitly.
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("EMMETTBASE_DATABASE_URL", raising=False)
    env: dict[str, str] = {}
    if backend == "postgres":
        pg = request.getfixturevalue("pg_database")
        pg.reset()
        env["EMMETTBASE_DATABASE_URL"] = pg.url

    data_dir = tmp_path / "pb_data"
    upsert_superuser(data_dir, SUPERUSER_EMAIL, SUPERUSER_PASSWORD, env)
    with ServeProcess(data_dir, env=env) as server:
        arguments = [server.url, SUPERUSER_EMAIL, SUPERUSER_PASSWORD, str(data_dir / "mails")]
        try:
            result = subprocess.run(
                ["node", script, *arguments],
                cwd=JS_DIR,
                capture_output=True,
                text=True,
                timeout=SCENARIO_TIMEOUT,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(
                f"{script} did not finish in {SCENARIO_TIMEOUT}s\n"
                f"--- node stdout ---\n{_text(exc.stdout)}\n--- node stderr ---\n{_text(exc.stderr)}\n"
                f"--- server log ---\n{server.output()}"
            )
    assert result.returncode == 0, (
        f"JS SDK {script} failed (exit {result.returncode}, pocketbase SDK {js_sdk}, {backend})\n"
        f"--- node stdout ---\n{result.stdout}\n--- node stderr ---\n{result.stderr}\n"
        f"--- server log ---\n{server.output()}"
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["ok"] is True and summary["failed"] == 0 and summary["skipped"] == 0, summary
    assert summary["sdk"] == js_sdk
    return summary


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_js_sdk_scenario(backend: str, js_sdk: str, tmp_path: Path, monkeypatch, request) -> None:
    _run_scenario("scenario.mjs", backend, js_sdk, tmp_path, monkeypatch, request)


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_js_sdk_auth_flows(backend: str, js_sdk: str, tmp_path: Path, monkeypatch, request) -> None:
    """Sign-up, password auth, refresh, verification, reset, OTP and email change, reading the
    links and codes from the development mailbox."""
    summary = _run_scenario("auth_scenario.mjs", backend, js_sdk, tmp_path, monkeypatch, request)
    assert summary["passed"] >= 9
