"""The offload hop (app.api.offload): bounded worker threads, a bounded wait for one, the request's
context carried into the thread, and publishing back to the serving loop (app.tools.loops)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from app.api.offload import Offload, run_coroutine
from app.core.errors import ServiceUnavailable
from app.tools import loops

VALUE: contextvars.ContextVar[str] = contextvars.ContextVar("test_offload_value", default="unset")


def test_the_unit_runs_on_a_worker_thread_with_the_callers_context():
    offload = Offload(2, wait_timeout=5)

    async def main() -> tuple[int, str, int]:
        VALUE.set("from the request")
        return await offload.run(lambda: (threading.get_ident(), VALUE.get(), 0))

    try:
        ident, seen, _ = asyncio.run(main())
    finally:
        offload.close()
    assert ident != threading.get_ident()
    assert seen == "from the request"


def test_a_busy_pool_makes_requests_wait_then_answers_503_when_the_wait_runs_out():
    offload = Offload(1, wait_timeout=0.3)
    release = threading.Event()

    async def main() -> tuple[object, object, object]:
        first = asyncio.ensure_future(offload.run(lambda: release.wait(5)))
        await asyncio.sleep(0.05)
        # the only thread is busy: the second request waits (not refused at once) and gets a 503
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable) as refused:
            await offload.run(lambda: "never")
        waited = time.monotonic() - started
        # a third one waits and is served as soon as the thread is free again
        third = asyncio.ensure_future(offload.run(lambda: "served"))
        await asyncio.sleep(0.05)
        release.set()
        return (await first, await third, (waited, refused.value.status, refused.value.headers))

    try:
        first, third, (waited, status, headers) = asyncio.run(main())
    finally:
        release.set()
        offload.close()
    assert first is True and third == "served"
    assert 0.25 <= waited < 3
    assert status == 503 and headers.get("retry-after")


def test_a_coroutine_published_from_the_thread_runs_on_the_serving_loop():
    offload = Offload(1, wait_timeout=5)
    ran_on: list[int] = []
    done = threading.Event()

    async def hook() -> None:
        ran_on.append(threading.get_ident())
        done.set()

    async def main() -> int:
        await offload.run(lambda: run_coroutine(_spawn(hook())))
        for _ in range(100):
            if done.is_set():
                break
            await asyncio.sleep(0.01)
        return threading.get_ident()

    async def _spawn(coro: object) -> None:
        loops.spawn(coro)  # type: ignore[arg-type]

    try:
        loop_thread = asyncio.run(main())
    finally:
        offload.close()
    assert ran_on == [loop_thread]
