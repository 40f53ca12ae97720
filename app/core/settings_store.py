"""Application settings in PocketBase's shape, stored in the database so every instance sees them.

The parts EmmettBase uses: ``meta`` (app name and URL, mail sender), ``smtp``, ``batch``,
``rateLimits`` and ``trustedProxy``. They live as one JSON document under the ``settings`` key of
``_params``; a change bumps the schema version token, so other processes reload on their next
request. Secrets (the SMTP password) are write-only: responses never carry them, and a PATCH that
omits them keeps the stored ones.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import threading
from typing import Any

import orjson

from ..db.sql import where
from ..tools.datetimes import now
from .collections.fields.text import EMAIL_RE
from .collections.registry import Registry
from .collections.tables import bump_version
from .errors import BadRequest, field_error
from .rate_limit_syntax import AUDIENCES, conflicting_rule, label_is_valid, parse_network

SETTINGS_KEY = "settings"
SECRET_PATHS = (("smtp", "password"),)

DEFAULTS: dict[str, Any] = {
    "meta": {
        "appName": "Acme",
        "appURL": "http://localhost:8090",
        "senderName": "Support",
        "senderAddress": "support@example.com",
        "hideControls": False,
        "accentColor": "#1055c9",
    },
    "smtp": {
        "enabled": False,
        "host": "smtp.example.com",
        "port": 587,
        "username": "",
        "password": "",
        "authMethod": "",
        "tls": False,
        "localName": "",
    },
    "batch": {"enabled": False, "maxRequests": 50, "timeout": 3, "maxBodySize": 0},
    "rateLimits": {
        # On by default, for the auth endpoints only (sign-in attempts per client IP); PocketBase
        # ships its whole list disabled. Its other rules can be added through the settings API.
        "enabled": True,
        "excludedIPs": [],
        "rules": [{"label": "*:auth", "audience": "", "duration": 60, "maxRequests": 30}],
    },
    "trustedProxy": {"headers": [], "useLeftmostIP": False},
}


def merged(stored: dict[str, Any] | None, patch: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults <- stored <- patch, one level deep (lists are replaced, not merged)."""
    out = copy.deepcopy(DEFAULTS)
    for source in (stored or {}, patch or {}):
        for section, values in source.items():
            if section not in out:
                continue
            if isinstance(values, dict):
                for key, value in values.items():
                    if key in out[section] and not (
                        _is_secret(section, key) and value in (None, "") and source is patch
                    ):
                        out[section][key] = copy.deepcopy(value)
    return out


def _is_secret(section: str, key: str) -> bool:
    return (section, key) in SECRET_PATHS


def public(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings as a superuser sees them: secrets removed."""
    out = copy.deepcopy(settings)
    for section, key in SECRET_PATHS:
        out.get(section, {}).pop(key, None)
    return out


def validate(settings: dict[str, Any]) -> None:
    errors: dict[str, Any] = {}
    meta = settings["meta"]
    for key in ("appName", "senderName"):
        problem = _line_error(meta[key], required=True)
        if problem:
            errors.setdefault("meta", {})[key] = problem
    url = meta["appURL"]
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or _has_control(url):
        errors.setdefault("meta", {})["appURL"] = field_error("validation_is_url", "Must be a valid URL.")
    address = meta["senderAddress"]
    if address == "":
        errors.setdefault("meta", {})["senderAddress"] = field_error(
            "validation_required", "Cannot be blank."
        )
    elif not isinstance(address, str) or len(address) > 255 or not EMAIL_RE.match(address):
        # EMAIL_RE has no room for spaces or line breaks: the address goes into the From header
        errors.setdefault("meta", {})["senderAddress"] = field_error(
            "validation_is_email", "Must be a valid email address."
        )
    smtp = settings["smtp"]
    if not isinstance(smtp["port"], int) or not 0 < smtp["port"] < 65536:
        errors.setdefault("smtp", {})["port"] = field_error("validation_invalid_value", "Invalid port.")
    if smtp["enabled"] and not smtp["host"]:
        errors.setdefault("smtp", {})["host"] = field_error("validation_required", "Cannot be blank.")
    for key in ("host", "localName"):  # both go on the SMTP wire (connect, EHLO), as PocketBase checks
        if smtp[key] != "" and not _is_host(smtp[key]):
            errors.setdefault("smtp", {})[key] = field_error(
                "validation_is_host", "Must be a valid IP address or DNS name."
            )
    username_problem = _line_error(smtp["username"], required=False)
    if username_problem:
        errors.setdefault("smtp", {})["username"] = username_problem
    batch = settings["batch"]
    for key in ("maxRequests", "timeout", "maxBodySize"):
        if not isinstance(batch[key], int) or batch[key] < 0:
            errors.setdefault("batch", {})[key] = field_error(
                "validation_invalid_value", "Must be a non-negative integer."
            )
    limit_errors = _rate_limits_errors(settings["rateLimits"])
    if limit_errors:
        errors["rateLimits"] = limit_errors
    proxy = settings["trustedProxy"]
    proxy_errors: dict[str, Any] = {}
    if not isinstance(proxy["headers"], list) or not all(isinstance(h, str) and h for h in proxy["headers"]):
        proxy_errors["headers"] = field_error("validation_invalid_value", "Must be a list of header names.")
    if not isinstance(proxy["useLeftmostIP"], bool):
        proxy_errors["useLeftmostIP"] = field_error("validation_invalid_value", "Must be a boolean.")
    if proxy_errors:
        errors["trustedProxy"] = proxy_errors
    if errors:
        raise BadRequest("An error occurred while saving the new settings.", errors)


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


def _is_host(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 253:
        return False
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return _HOST_RE.fullmatch(value) is not None


def _has_control(value: str) -> bool:
    return any(ord(char) < 32 or ord(char) == 127 for char in value)


def _line_error(value: Any, required: bool) -> dict[str, Any] | None:
    """One line of header-bound text (sender name, app name in subjects): at most 255 characters,
    no line breaks or other control characters (they would split a mail header)."""
    if not isinstance(value, str) or (required and not value):
        return field_error("validation_required", "Cannot be blank.")
    if len(value) > 255:
        return field_error(
            "validation_length_out_of_range", "The length must be between 1 and 255.", min=1, max=255
        )
    if _has_control(value):
        return field_error("validation_invalid_value", "Line breaks and control characters are not allowed.")
    return None


def _rate_limits_errors(limits: dict[str, Any]) -> dict[str, Any]:
    """PocketBase's checks: a boolean switch, rules required while enabled, each rule valid and
    not colliding with an earlier one, excluded IPs as addresses or CIDR subnets."""
    out: dict[str, Any] = {}
    if not isinstance(limits["enabled"], bool):
        out["enabled"] = field_error("validation_invalid_value", "Must be a boolean.")
    rules = limits["rules"]
    if not isinstance(rules, list):
        out["rules"] = field_error("validation_invalid_value", "Must be a list.")
    elif not rules and limits["enabled"] is True:
        out["rules"] = field_error("validation_required", "Cannot be blank.")
    else:
        problems = {str(i): p for i, p in ((i, _rule_error(r)) for i, r in enumerate(rules)) if p}
        if not problems:
            clash = conflicting_rule(rules)
            if clash is not None:
                label = rules[clash]["label"]
                problems[str(clash)] = {
                    "label": field_error(
                        "validation_conflicting_rate_limit_rule",
                        f"Rate limit rule configuration with label {label} already exists or conflicts "
                        "with another rule.",
                        label=label,
                    )
                }
        if problems:
            out["rules"] = problems
    excluded = limits["excludedIPs"]
    if not isinstance(excluded, list):
        out["excludedIPs"] = field_error("validation_invalid_value", "Must be a list of IPs.")
    else:
        bad = {
            str(i): field_error("validation_required", "Cannot be blank.")
            if not ip
            else field_error("validation_invlaid_ip_or_subnet", "Invalid IP or CIDR subnet.")
            for i, ip in enumerate(excluded)
            if not isinstance(ip, str) or not ip or parse_network(ip) is None
        }
        if bad:
            out["excludedIPs"] = bad
    return out


def _rule_error(rule: Any) -> dict[str, Any] | None:
    if not isinstance(rule, dict):
        return {"label": field_error("validation_required", "Cannot be blank.")}
    problems: dict[str, Any] = {}
    label = rule.get("label")
    if not isinstance(label, str) or not label:
        problems["label"] = field_error("validation_required", "Cannot be blank.")
    elif not label_is_valid(label):
        problems["label"] = field_error("validation_match_invalid", "Must be in a valid format.")
    if rule.get("audience", "") not in AUDIENCES:
        problems["audience"] = field_error("validation_in_invalid", "Must be a valid value.")
    for key in ("duration", "maxRequests"):
        value = rule.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems[key] = field_error(
                "validation_min_greater_equal_than_required", "Must be no less than 1."
            )
    return problems or None


class SettingsStore:
    def __init__(self, registry: Registry):
        self.registry = registry
        self.db = registry.db
        self._cached: dict[str, Any] | None = None
        self._cached_version: str | None = None
        self._lock = threading.Lock()

    def get(self) -> dict[str, Any]:
        """The current settings (secrets included: for server use only)."""
        self.registry.ensure_fresh()
        version = self.registry.version
        cached = self._cached
        if cached is not None and self._cached_version == version:
            return cached
        with self._lock:
            params = self.registry.internal.params
            row = self.db.fetchone(where(params, params.key == SETTINGS_KEY)._select(params.value))
            stored = orjson.loads(row[0]) if row and row[0] else None
            self._cached, self._cached_version = merged(stored), version
            return self._cached

    def update(self, patch: Any) -> dict[str, Any]:
        if not isinstance(patch, dict):
            raise BadRequest("Failed to load the submitted data due to invalid formatting.")
        settings = merged(self.get(), patch)
        validate(settings)
        params = self.registry.internal.params
        text = orjson.dumps(settings).decode()
        with self.db.transaction() as tx:
            changed = tx.execute(where(params, params.key == SETTINGS_KEY)._update(value=text, updated=now()))
            if changed.rowcount == 0:
                tx.execute(params._insert(key=SETTINGS_KEY, value=text, updated=now()))
            bump_version(tx, self.registry.internal)
        self.registry.invalidate()
        self._cached = None
        return settings


def renamed_rate_limit_rules(settings: dict[str, Any], old: str, new: str) -> list[dict[str, Any]] | None:
    """The rate-limit rules with ``old:action`` labels renamed to ``new:action`` (PocketBase does
    this when a collection is renamed); None when no label names the collection."""
    rules = (settings.get("rateLimits") or {}).get("rules") or []
    prefix = old + ":"
    if not any(str(rule.get("label", "")).startswith(prefix) for rule in rules):
        return None
    return [
        {**rule, "label": new + ":" + rule["label"][len(prefix) :]}
        if str(rule.get("label", "")).startswith(prefix)
        else rule
        for rule in rules
    ]
