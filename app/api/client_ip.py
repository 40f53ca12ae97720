"""The client's IP address, as PocketBase computes it: the connection's remote address, unless the
``trustedProxy`` settings name headers a proxy in front of the app sets.

Emmett's own ``request.client`` believes any ``X-Forwarded-For`` a client sends, so it must not
be used for rate limiting. The remote address comes from the server scope instead:

- ASGI (the Lambda door through Mangum, uvicorn): ``scope["client"]``; Mangum fills it with API
  Gateway's ``requestContext.http.sourceIp``, the address API Gateway saw the request come from;
- RSGI (``emmettbase serve`` on Granian): ``scope.client``, ``"host:port"``.

With trusted headers, the last occurrence of the first header present is used (a proxy appends its
own), split on commas; the rightmost valid address wins, or the leftmost with ``useLeftmostIP``.
Addresses are normalised (IPv4-mapped IPv6 becomes IPv4) so one client has one spelling.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any


def normalize(text: str) -> str:
    """The canonical text of an IP address; "" when ``text`` is not one."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def remote_ip(request: Any) -> str:
    """The address of the peer that opened the connection (or API Gateway's ``sourceIp``)."""
    scope = getattr(request, "_scope", None)
    if isinstance(scope, dict):
        client = scope.get("client")
        return normalize(str(client[0])) if client else ""
    raw = str(getattr(scope, "client", "") or "")
    # RSGI gives "host:port", IPv6 hosts in brackets ("[::1]:8090"); tolerate a bare host too.
    return normalize(raw) or normalize(raw.rpartition(":")[0])


def real_ip(request: Any, trusted_headers: Sequence[str] = (), leftmost: bool = False) -> str:
    """The client address: from the first trusted proxy header that holds one, else the remote
    address (PocketBase's ``RealIP``)."""
    for name in trusted_headers:
        value = last_header(request, name)
        if not value:
            continue
        candidates = value.split(",")
        for candidate in candidates if leftmost else reversed(candidates):
            ip = normalize(candidate)
            if ip:
                return ip
    return remote_ip(request)


def last_header(request: Any, name: str) -> str:
    """The last value of header ``name``: with repeated headers, a proxy's own comes last."""
    headers = request.headers
    if isinstance(getattr(request, "_scope", None), dict):
        # Emmett's ASGI headers are a dict built from the header list: the last occurrence won.
        return str(headers.get(name) or "")
    lowered = name.lower()
    found = ""
    for key, value in headers.items():
        if key.lower() == lowered:
            found = value
    return str(found or "")
