"""The running application's shared state: settings, adapters, and the domain services built on them.

One ``Runtime`` per app instance, built by the composition root (``app.composition.build_runtime``)
from its ports. It holds no per-request data. Ports are typed with the Protocols their consumers
declare; nothing here imports the HTTP layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .auth.rate_limiter import RateLimiter
from .core.collections.model import Collection
from .core.collections.registry import Registry
from .core.collections.store import CollectionStore
from .core.events import ChangeSink, FanOutSink
from .core.files import FileStorage
from .core.hooks import Hooks
from .core.records.service import RecordService
from .core.rules.access import Access
from .core.rules.compiler import RulesCompiler
from .core.rules.context import RequestInfo
from .core.settings_store import SettingsStore
from .db import Database
from .mail import MailTransport
from .mail.background import BackgroundMail
from .mail.mailer import Mailer
from .settings import Settings


@dataclass
class Runtime:
    settings: Settings
    db: Database
    #: The ``RateLimiter`` port, chosen by the composition root.
    rate_limiter: RateLimiter
    #: Where ``file`` fields' bytes live (``FileStorage`` port), chosen by the composition root.
    file_storage: FileStorage
    hooks: Hooks = field(default_factory=Hooks)
    registry: Registry = field(init=False)
    collections: CollectionStore = field(init=False)
    access: Access = field(init=False)
    records: RecordService = field(init=False)
    rules: RulesCompiler = field(init=False)
    app_settings: SettingsStore = field(init=False)
    #: Matches a collection definition against a ``filter`` of the collections list API.
    collection_filter: Callable[[Collection, str], bool] = field(init=False)
    #: Collections declared as Emmett models in ``settings.modules`` (``app.modules``).
    code_collections: list[Any] = field(default_factory=list)
    #: The ``MailTransport`` port; None lets the ``Mailer`` choose per message from the settings.
    mail_transport: MailTransport | None = None
    #: The ``Mailer`` service over the transport.
    mailer: Mailer = field(init=False)
    #: Sends mail off the request path (inline on Lambda: nothing is left for a later invocation).
    mail_queue: BackgroundMail = field(init=False)
    #: Applies the ``rateLimits`` settings to requests (``app.api.ratelimit.RateLimitGuard``), made
    #: on first use by the HTTP layer; typed loosely so this module never imports ``app.api``.
    rate_limit_guard: Any = None
    #: Receives every committed transaction's changes (``app.core.events``); the default fans
    #: them out in process (realtime subscribes there).
    change_sink: ChangeSink = field(default_factory=FanOutSink)
    #: Runs each request's work on a worker thread (``app.api.offload``); None on Lambda and the CLI.
    offload: Any = None

    def __post_init__(self) -> None:
        interval = self.settings.schema_check_interval
        self.registry = Registry(self.db, ttl=interval or 1.0, per_request=interval == 0)
        self.rules = RulesCompiler(self.registry)
        self.app_settings = SettingsStore(self.registry)
        self.collections = CollectionStore(self.db, self.registry, self.rules.check_collection_rules)
        self.access = Access(self.rules.rule)
        self.records = RecordService(self.db, self.registry, self.hooks, self.access)
        self.records.filter_compiler = self.rules.client_filter
        self.records.sort_resolver = self.rules.sort_column
        self.collection_filter = lambda collection, text: self.rules.matches_collection(
            collection.to_json(), text
        )
        self.collections.on_renamed = self._follow_rename
        self.mailer = Mailer(self.settings, self.app_settings, self.mail_transport)
        self.mail_queue = BackgroundMail(self.mailer, inline=self.settings.serverless)
        self.use_change_sink(self.change_sink)
        # truncate deletes record by record (hooks, cascades, one change each), as PocketBase does
        self.collections.truncate_records = lambda collection, auth: self.records.truncate(
            self.records.collection(collection.id), RequestInfo(auth=auth, context="system")
        )

    def use_change_sink(self, sink: ChangeSink) -> None:
        self.change_sink = sink
        self.db.publish_changes = sink.publish

    def _follow_rename(self, old: str, new: str) -> None:
        from .core.settings_store import renamed_rate_limit_rules

        rules = renamed_rate_limit_rules(self.app_settings.get(), old, new)
        if rules is not None:
            self.app_settings.update({"rateLimits": {"rules": rules}})

    def sync_code_collections(self) -> Any:
        """Create or update the collections declared in ``settings.modules`` (writes the database)."""
        from .modules import sync_code_collections

        return sync_code_collections(self)

    def close(self) -> None:
        if self.offload is not None:
            self.offload.close()  # requests in flight finish before their connections close
        self.mail_queue.close()
        self.db.close()
