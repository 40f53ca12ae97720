"""The running application's shared state: settings, adapters, and the domain services built on them.

One ``Runtime`` per app instance, built by ``create_app``. It holds no per-request data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .core.collections.registry import Registry
from .core.collections.store import CollectionStore
from .core.hooks import Hooks
from .core.records.service import RecordService
from .core.rules.access import Access
from .core.rules.compiler import RulesCompiler
from .core.settings_store import SettingsStore
from .db import Database
from .settings import Settings


@dataclass
class Runtime:
    settings: Settings
    db: Database
    hooks: Hooks = field(default_factory=Hooks)
    registry: Registry = field(init=False)
    collections: CollectionStore = field(init=False)
    access: Access = field(init=False)
    records: RecordService = field(init=False)
    rules: RulesCompiler = field(init=False)
    app_settings: SettingsStore = field(init=False)
    #: Matches a collection definition against a ``filter`` of the collections list API.
    collection_filter: Any = None
    #: Collections declared as Emmett models in ``settings.modules`` (``app.modules``).
    code_collections: list[Any] = field(default_factory=list)
    #: The ``RateLimiter`` port (``app.ratelimit``), chosen by ``build_runtime``.
    rate_limiter: Any = None
    #: The ``Mailer`` service (``app.mail.mailer``), chosen by ``build_runtime``.
    mailer: Any = None
    #: Applies the ``rateLimits`` settings to requests (``app.api.ratelimit``), made on first use.
    rate_limit_guard: Any = None
    #: Sends mail off the request path (``app.mail.background.BackgroundMail``).
    mail_queue: Any = None
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
        if self.mail_queue is not None:
            self.mail_queue.close()
        self.db.close()
