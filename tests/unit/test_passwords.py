"""Password hashing and policy (RELIABILITY.md AUTH-5) and equal-cost failures (AUTH-6)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import extract_parameters

from app import build_runtime
from app.core.errors import BadRequest
from app.core.rules.context import SUPERUSER_SYSTEM
from app.settings import Settings
from app.tools.password_policy import is_common
from app.tools.passwords import (
    MEMORY_COST_KIB,
    PARALLELISM,
    TIME_COST,
    hash_password,
    needs_rehash,
    verify_password,
)


def test_argon2id_parameters():
    stored = hash_password("a-long-enough-pass")
    assert stored.startswith("$argon2id$")
    params = extract_parameters(stored)
    assert (params.time_cost, params.memory_cost, params.parallelism) == (
        TIME_COST,
        MEMORY_COST_KIB,
        PARALLELISM,
    )
    assert MEMORY_COST_KIB >= 19 * 1024 and TIME_COST >= 2  # OWASP's argon2id baseline
    assert not needs_rehash(stored)


@pytest.mark.parametrize("length", [8, 64, 256])
def test_long_passwords_are_verified_exactly(length):
    password = ("pässwörd-" * 40)[:length]
    stored = hash_password(password)
    assert verify_password(password, stored)
    assert not verify_password(password[:-1], stored), "no truncation"
    assert not verify_password(password + "x", stored)


def test_unicode_is_compared_as_sent():
    composed, decomposed = "caf\u00e9-secret", "cafe\u0301-secret"
    stored = hash_password(composed)
    assert verify_password(composed, stored)
    assert not verify_password(decomposed, stored)  # documented: no normalisation (docs/decisions.md)


def test_common_passwords():
    for weak in ("password", "12345678", "iloveyou", "Password1", "qwertyuiop"):
        assert is_common(weak), weak
    assert not is_common("correct horse battery staple")


@pytest.fixture
def runtime(tmp_path: Any) -> Iterator[Any]:
    runtime = build_runtime(Settings.from_env({}, data_dir=str(tmp_path)))
    yield runtime
    runtime.close()


def signup(runtime: Any, password: str, email: str = "p@example.com") -> dict[str, Any]:
    data = {"email": email, "password": password, "passwordConfirm": password}
    return runtime.records.create("users", data, SUPERUSER_SYSTEM)[1]


def test_policy_on_sign_up(runtime):
    with pytest.raises(BadRequest) as short:
        signup(runtime, "short")
    assert short.value.data["password"]["code"] == "validation_min_text_constraint"
    with pytest.raises(BadRequest) as common:
        signup(runtime, "password123")
    assert common.value.data["password"]["code"] == "validation_password_too_common"
    # no composition rules: lower-case letters only are fine when long and uncommon
    record = signup(runtime, "plainlowercasewords")
    assert record["password"].startswith("$argon2id$") and "plainlowercasewords" not in str(record)
    assert signup(runtime, "x" * 256, "long@example.com")
    with pytest.raises(BadRequest):
        signup(runtime, "y" * 257, "toolong@example.com")


def test_the_common_password_check_can_be_turned_off(runtime):
    options = runtime.registry.get("users").collection.to_json()
    options["passwordAuth"] = {**options["passwordAuth"], "rejectCommonPasswords": False}
    runtime.collections.update("users", {"passwordAuth": options["passwordAuth"]})
    assert signup(runtime, "password123")


def test_unknown_identity_costs_the_same_as_a_wrong_password(tmp_path):
    """AUTH-6: both failures verify one argon2id hash, so timing does not reveal accounts."""
    from tests.support.doors import open_door
    from tests.support.scenario import create_user

    door = open_door("asgi", Settings.from_env({}, data_dir=str(tmp_path / "d")))
    try:
        create_user(door, "exists@example.com")

        def attempt(identity: str) -> float:
            started = time.perf_counter()
            response = door.post(
                "/api/collections/users/auth-with-password",
                json={"identity": identity, "password": "not-the-password"},
            )
            assert response.status_code == 400
            return time.perf_counter() - started

        attempt("warm@example.com")
        known, unknown = [], []
        for _ in range(7):
            known.append(attempt("exists@example.com"))
            unknown.append(attempt("ghost@example.com"))
        ratio = statistics.median(unknown) / statistics.median(known)
        # Without the dummy verification an unknown identity answers ~20x faster.
        assert 0.4 < ratio < 2.5, (ratio, known, unknown)
    finally:
        door.close()
