"""Code-first modules: the Python modules named by ``EMMETTBASE_MODULES`` (docs/code-first.md).

``load_modules`` runs when the runtime is built (every process, every Lambda container): it imports
each module, converts the Emmett ``Model`` classes defined in it into collection definitions,
registers their default-value hooks and calls the module's optional ``setup(runtime)`` for the
user's own hooks. It touches no database, so a cold start pays only the imports.

``sync_code_collections`` is the separate, explicit step that writes the definitions to the
database (``emmettbase serve`` runs it once before serving; ``emmettbase collections sync`` on its
own, e.g. from a deploy's migration step).
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType
from typing import Any

from .core.collections.codefirst import (
    CodeCollection,
    CodeFirstError,
    convert_models,
    default_values_hook,
    models_of,
)
from .core.collections.codefirst_sync import SyncResult, sync_collections


def import_module(name: str) -> ModuleType:
    """Import ``name``, also from the current directory (as ``python -m`` would)."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise CodeFirstError(f"EMMETTBASE_MODULES: module {name!r} cannot be imported ({exc}).") from None
        raise


def load_modules(runtime: Any) -> list[CodeCollection]:
    """Import the configured modules and register what they declare on ``runtime`` (no database)."""
    modules = [import_module(name) for name in dict.fromkeys(runtime.settings.modules)]
    models: list[type] = []
    for module in modules:
        models += models_of(module)
    code = convert_models(models)
    for item in code:
        if item.defaults:
            runtime.hooks.register("create", "before", default_values_hook(item.defaults), (item.name,))
    runtime.code_collections = code
    for module in modules:
        setup = getattr(module, "setup", None)
        if callable(setup):
            setup(runtime)
    return code


def sync_code_collections(runtime: Any) -> SyncResult:
    """Create or update the code-first collections in the database (idempotent)."""
    return sync_collections(runtime.collections, list(runtime.code_collections))
