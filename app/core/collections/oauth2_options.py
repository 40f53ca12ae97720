"""The ``oauth2`` options of an auth collection: merging an update, normalizing, validating, and
the names of the providers a collection may configure.

Client secrets are write-only (the collection JSON never shows them), so a client that saves a
collection it has read cannot send them back: an update matches providers by name and keeps every
setting it omits, the secret above all. Validation follows PocketBase: nothing is checked while
``enabled`` is false; when enabled every provider needs a known name, a client id and a secret.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit

from ..errors import field_error

#: Every provider name an auth collection may configure, mapped to whether its endpoints must come
#: from the config (the three generic OpenID Connect slots have no defaults). The sign-in side
#: (``app.auth.oauth2.providers``) implements exactly these names; a unit test keeps them in step.
PROVIDER_NAMES: dict[str, bool] = {
    "google": False,
    "microsoft": False,
    "github": False,
    "gitlab": False,
    "oidc": True,
    "oidc2": True,
    "oidc3": True,
}

MAPPED_KEYS = ("id", "name", "username", "avatarURL")
URL_KEYS = ("authURL", "tokenURL", "userInfoURL")
TEXT_KEYS = ("name", "clientId", "clientSecret", *URL_KEYS, "displayName")

REQUIRED = field_error("validation_required", "Cannot be blank.")
INVALID = field_error("validation_invalid_value", "Invalid value.")
NOT_URL = field_error("validation_is_url", "Must be a valid URL.")


def merge_oauth2_options(stored: Any, submitted: Any) -> Any:
    """``stored`` updated with ``submitted`` (PATCH semantics): ``mappedFields`` merge key by key,
    each submitted provider starts from the stored one of the same name, and an omitted or empty
    ``clientSecret`` keeps the stored secret."""
    if not isinstance(submitted, dict) or not isinstance(stored, dict):
        return copy.deepcopy(submitted)
    merged = copy.deepcopy(stored)
    for key, value in submitted.items():
        if key == "providers" and isinstance(value, list):
            merged[key] = merge_providers(stored.get("providers"), value)
        elif key == "mappedFields" and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **copy.deepcopy(value)}
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def merge_providers(stored: Any, submitted: list[Any]) -> list[Any]:
    by_name = {
        p["name"]: p
        for p in (stored if isinstance(stored, list) else [])
        if isinstance(p, dict) and isinstance(p.get("name"), str)
    }
    out: list[Any] = []
    for item in submitted:
        if not isinstance(item, dict):
            out.append(copy.deepcopy(item))
            continue
        previous = by_name.get(item.get("name")) if isinstance(item.get("name"), str) else None
        combined = dict(previous) if previous is not None else {}
        combined.update({k: v for k, v in item.items() if not (k == "clientSecret" and not v)})
        out.append(copy.deepcopy(combined))
    return out


def normalize_provider(item: dict[str, Any]) -> dict[str, Any]:
    """A provider config with PocketBase's keys, in its order; unknown keys are dropped (PocketBase
    drops them too). Wrongly typed values stay, for ``oauth2_errors`` to report."""
    out: dict[str, Any] = {"pkce": item.get("pkce")}
    for key in TEXT_KEYS:
        out[key] = item.get(key, "")
    out["extra"] = item.get("extra") if item.get("extra") is not None else {}
    return out


def oauth2_errors(collection: Any) -> Any:
    """Normalize ``collection.options["oauth2"]`` in place and return its validation errors (the
    value of ``data.oauth2`` in the 400), or None when it is acceptable."""
    options = collection.options
    oauth2 = options.get("oauth2")
    if not isinstance(oauth2, dict):
        return INVALID
    providers = oauth2.get("providers")
    if providers is None:
        providers = oauth2["providers"] = []
    if not isinstance(providers, list):
        return {"providers": INVALID}
    oauth2["providers"] = [normalize_provider(p) if isinstance(p, dict) else p for p in providers]
    mapped = oauth2.get("mappedFields")
    if mapped is None:
        mapped = {}
    if not isinstance(mapped, dict) or any(not isinstance(mapped.get(k, ""), str) for k in MAPPED_KEYS):
        return {"mappedFields": INVALID}
    # As PocketBase does, a mapping to a field the collection does not have is dropped silently
    # (a field rename or removal must not make the collection unsaveable).
    oauth2["mappedFields"] = {
        k: mapped.get(k, "") if collection.field(mapped.get(k, "")) is not None else "" for k in MAPPED_KEYS
    }
    if not isinstance(oauth2.get("enabled", False), bool):
        return {"enabled": INVALID}
    oauth2.setdefault("enabled", False)
    if not oauth2["enabled"]:
        return None
    errors: dict[str, Any] = {}
    seen: set[str] = set()
    for index, provider in enumerate(oauth2["providers"]):
        problems = provider_errors(provider)
        name = provider.get("name") if isinstance(provider, dict) else None
        if not problems and name in seen:
            problems = {
                "name": field_error(
                    "validation_duplicated_provider",
                    f"The provider {name} is already registered.",
                    name=name,
                )
            }
        if isinstance(name, str):
            seen.add(name)
        if problems:
            errors[str(index)] = problems
    return {"providers": errors} if errors else None


def provider_errors(provider: Any) -> Any:
    if not isinstance(provider, dict):
        return INVALID
    problems: dict[str, Any] = {}
    for key in TEXT_KEYS:
        if not isinstance(provider.get(key), str):
            problems[key] = INVALID
    name = provider.get("name")
    if "name" not in problems:
        if not name:
            problems["name"] = REQUIRED
        elif name not in PROVIDER_NAMES:
            problems["name"] = field_error(
                "validation_missing_provider", f"Invalid or missing provider with name {name}.", name=name
            )
    for key in ("clientId", "clientSecret"):
        if key not in problems and not provider[key]:
            problems[key] = REQUIRED
    for key in URL_KEYS:
        if key not in problems and provider[key] and not is_url(provider[key]):
            problems[key] = NOT_URL
    # The generic OIDC slots have no default endpoints: without them no sign-in can work.
    if isinstance(name, str) and PROVIDER_NAMES.get(name):
        for key in ("authURL", "tokenURL"):
            if key not in problems and not provider[key]:
                problems[key] = REQUIRED
    if provider.get("pkce") is not None and not isinstance(provider.get("pkce"), bool):
        problems["pkce"] = INVALID
    if not isinstance(provider.get("extra"), dict):
        problems["extra"] = INVALID
    return problems


def is_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in value
