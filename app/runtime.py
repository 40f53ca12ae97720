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
    #: Matches a collection definition against a ``filter`` of the collections list API.
    collection_filter: Any = None

    def __post_init__(self) -> None:
        self.registry = Registry(self.db)
        self.collections = CollectionStore(self.db, self.registry)
        self.access = Access()
        self.records = RecordService(self.db, self.registry, self.hooks, self.access)

    def close(self) -> None:
        self.db.close()
