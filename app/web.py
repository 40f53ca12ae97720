"""The Emmett ``App`` subclass EmmettBase runs on.

Emmett's ``App`` creates ``languages/``, ``logs/`` and ``static/`` folders next to the code it is
given, which fails on Lambda's read-only filesystem and litters an installed package. This subclass
points the app at the package folder and creates nothing: every write of EmmettBase goes under the
configured data directory instead.
"""

from __future__ import annotations

import os
from typing import Any

from emmett import App

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class EmmettBaseApp(App):
    def _configure_paths(self, root_path: str | None, opts: dict[str, Any]) -> None:
        self.root_path = root_path or PACKAGE_DIR
        self.static_path = os.path.join(self.root_path, "static")
        self.template_path = os.path.join(self.root_path, opts["template_folder"])
        self.config_path = os.path.join(self.root_path, opts["config_folder"])


def new_emmett_app() -> EmmettBaseApp:
    app = EmmettBaseApp("app", root_path=PACKAGE_DIR)
    # No /static/ matcher before routing: the dashboard serves its own assets.
    app.config.handle_static = False
    return app
