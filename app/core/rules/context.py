"""What a rule can see of a request: the authenticated record, method, query, headers and body.

Built once per request by the HTTP layer (``@request.*`` in rules reads it); the domain never
touches HTTP objects directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class AuthState:
    """The authenticated record: its collection (compiled) and its python values."""

    collection: Any
    record: dict[str, Any]
    #: The verified claims of the token that authenticated the request (empty when none was used).
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.record.get("id", ""))

    @property
    def is_superuser(self) -> bool:
        return bool(self.collection.name == "_superusers")


@dataclass
class RequestInfo:
    auth: AuthState | None = None
    method: str = "GET"
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    context: str = "default"

    @property
    def is_superuser(self) -> bool:
        """Superusers (and the server acting for itself, e.g. the CLI) bypass every rule."""
        return self.context == "system" or (self.auth is not None and self.auth.is_superuser)

    def owns(self, collection_id: str, record_id: str) -> bool:
        return (
            self.auth is not None and self.auth.collection.id == collection_id and self.auth.id == record_id
        )


SUPERUSER_SYSTEM = RequestInfo(context="system")
