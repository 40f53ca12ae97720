"""The running application's shared state: settings and the adapters chosen for each port.

One ``Runtime`` per app instance, built by ``create_app``. It holds no per-request data.
"""

from __future__ import annotations

from dataclasses import dataclass

from .db import Database
from .settings import Settings


@dataclass
class Runtime:
    settings: Settings
    db: Database

    def close(self) -> None:
        self.db.close()
