"""OAuth2 sign-in (PocketBase's ``auth-with-oauth2``): providers, their configuration, the code
exchange, and linking a provider identity to an auth record.

Modules: ``providers`` (registry and userinfo mapping, no I/O), ``config`` (provider configs in an
auth collection's options: merge, normalize, validate), ``infos`` (auth-methods provider entries),
``client`` (the network: Authlib + httpx, imported lazily), ``signin`` (find, link or create the
record in one transaction). Nothing here imports Authlib or httpx at import time, so a Lambda cold
start that never signs anyone in with OAuth2 does not pay for them.
"""

from .infos import provider_auth_infos

__all__ = ["provider_auth_infos"]
