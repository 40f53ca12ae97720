"""Cold start of the Lambda door: import the handler and answer one API Gateway event.

Runs N fresh Python processes (default 10). Each one measures, from its first line, the time to
``import app.adapters.lambda_http``, resolve ``handler`` (which builds the app, as Lambda's init
phase does) and answer one HTTP API v2 event for ``GET /api/health``; the process's whole wall time
(interpreter start included) is measured from outside too. Prints the medians, and PocketBase's
start-to-first-200 on an empty data dir beside it when the ``pocketbase`` binary is installed.

    python -m tests.bench.cold_start [--runs 10] [--path /api/health]

Not a test: numbers vary with the machine; report them as measured.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from app.adapters import lambda_http
handler = lambda_http.handler
t1 = time.perf_counter()
from tests.support.apigw import LambdaContext, http_api_event
result = handler(http_api_event("GET", sys.argv[1]), LambdaContext())
t2 = time.perf_counter()
assert result["statusCode"] == 200, result
ms = lambda a, b: (b - a) * 1000
print(json.dumps({"init_ms": ms(t0, t1), "first_event_ms": ms(t1, t2), "total_ms": ms(t0, t2)}))
"""


def run_lambda_once(path: str, data_dir: str) -> dict[str, float]:
    # SQLite under a temp dir: the measurement is the app's own cold start, not a network round trip
    env = {
        **os.environ,
        "EMMETTBASE_SERVERLESS": "1",
        "EMMETTBASE_SERVERLESS_EPHEMERAL": "1",
        "EMMETTBASE_DATA_DIR": data_dir,
    }
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, path], env=env, capture_output=True, text=True, check=True
    )
    wall = (time.perf_counter() - started) * 1000
    numbers = json.loads(out.stdout.strip().splitlines()[-1])
    numbers["process_wall_ms"] = wall
    return numbers


def pocketbase_first_200(binary: str) -> float:
    import httpx

    from tests.support.server import free_port

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        process = subprocess.Popen(
            [
                binary,
                "serve",
                "--http",
                f"127.0.0.1:{port}",
                "--dir",
                f"{tmp}/pb_data",
                "--migrationsDir",
                f"{tmp}/pb_migrations",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=0.2).status_code == 200:
                        return (time.perf_counter() - started) * 1000
                except httpx.HTTPError:
                    time.sleep(0.005)
        finally:
            process.terminate()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--path", default="/api/health")
    args = parser.parse_args()
    samples = []
    with tempfile.TemporaryDirectory() as data_dir:
        for _ in range(args.runs):
            samples.append(run_lambda_once(args.path, data_dir))
    print(f"Lambda door cold start, {args.runs} fresh processes, GET {args.path}")
    for key in ("init_ms", "first_event_ms", "total_ms", "process_wall_ms"):
        values = [s[key] for s in samples]
        median, low, high = statistics.median(values), min(values), max(values)
        print(f"  {key:16s} median {median:7.1f}   min {low:7.1f}   max {high:7.1f}")
    binary = shutil.which("pocketbase")
    if binary:
        pb = [pocketbase_first_200(binary) for _ in range(min(args.runs, 5))]
        total = statistics.median(s["total_ms"] for s in samples)
        print(f"PocketBase 0.40.6 start to first 200 (empty dir): median {statistics.median(pb):.1f} ms")
        print(
            f"  ratio EmmettBase import+first event / PocketBase start: {total / statistics.median(pb):.2f}x"
        )


if __name__ == "__main__":
    main()
