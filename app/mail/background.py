"""Sending mail off the request path: ``BackgroundMail`` hands messages to a small thread pool.

The request-* auth endpoints answer the same way whether or not an account exists
(RELIABILITY.md AUTH-6); sending in the background keeps their timing the same too, as
PocketBase's fire-and-forget sends do. Inside Lambda nothing may run after the response (the
instance freezes), so there messages are sent before answering (``inline``) until the outbox
carries them. A failed send is logged, never raised to the client.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from ..tools import effects
from . import Message

log = logging.getLogger("emmettbase.mail")


class BackgroundMail:
    def __init__(self, mailer: Any, inline: bool = False, workers: int = 2):
        self.mailer = mailer
        self.inline = inline
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def submit(self, message: Message, on_failure: Callable[[], None] | None = None) -> None:
        """Send ``message`` (now when inline, else soon); ``on_failure`` runs if sending fails."""
        # Settings are read here, on the caller's thread (the request's own unit of work, see
        # docs/decisions.md); only the transport's network I/O moves to this pool.
        transport = self.mailer.prepare(message)
        effects.note()  # a request that queued mail is never retried (app.api.pipes)
        if self.inline:
            self._send(transport, message, on_failure)
            return
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="emmettbase-mail")
            future = self._pool.submit(self._send, transport, message, on_failure)
            self._pending.add(future)
        future.add_done_callback(self._done)

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every message submitted so far was handed to the transport (or failed)."""
        with self._lock:
            pending = list(self._pending)
        wait(pending, timeout=timeout)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _send(self, transport: Any, message: Message, on_failure: Callable[[], None] | None) -> None:
        try:
            transport.send(message)
        except Exception:
            log.exception("sending mail %r failed", message.subject)
            if on_failure is not None:
                try:
                    on_failure()
                except Exception:
                    log.exception("cleanup after a failed mail failed")
