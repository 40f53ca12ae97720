"""Record tokens refuse every forgery and misuse (RELIABILITY.md AUTH-1, AUTH-2, AUTH-10)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from app import build_runtime
from app.auth import tokens
from app.auth.record_tokens import SECRET_OPTION, _key, find_by_token, new_token
from app.core.rules.context import SUPERUSER_SYSTEM
from app.settings import Settings


@pytest.fixture
def world(tmp_path: Any) -> Iterator[dict[str, Any]]:
    runtime = build_runtime(Settings.from_env({}, data_dir=str(tmp_path)))
    runtime.records.create(
        "users",
        {"email": "tok@example.com", "password": "token-test-pass", "passwordConfirm": "token-test-pass"},
        SUPERUSER_SYSTEM,
    )
    compiled = runtime.registry.get("users")
    from app.auth.identity import find_by_email

    record = find_by_email(runtime.db, compiled, "tok@example.com")
    yield {"runtime": runtime, "compiled": compiled, "record": record}
    runtime.close()


def b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_for(world: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": world["record"]["id"],
        "collectionId": world["compiled"].id,
        "type": "auth",
        "refreshable": True,
        "exp": int(time.time()) + 600,
        **extra,
    }


def accepted(world: dict[str, Any], token: str, token_type: str = "auth") -> bool:
    runtime = world["runtime"]
    return find_by_token(runtime.db, runtime.registry, token, token_type) is not None


def test_a_genuine_token_is_accepted(world):
    token = new_token(world["compiled"], world["record"], "auth", refreshable=True)
    assert accepted(world, token)
    key = _key(world["compiled"], world["record"], "auth")
    assert accepted(world, jwt.encode(claims_for(world), key, algorithm="HS256"))


def test_algorithm_allow_list(world):
    """AUTH-1: alg none, other HMACs, RS256 keyed with the HMAC secret, stripped signatures."""
    key = _key(world["compiled"], world["record"], "auth")
    claims = claims_for(world)
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    assert not accepted(world, unsigned)
    assert not accepted(world, jwt.encode(claims, key, algorithm="HS512"))
    assert not accepted(world, jwt.encode(claims, key, algorithm="HS384"))
    # "RS256" whose signature is an HMAC made with the shared secret (key confusion)
    import hashlib
    import hmac

    signing_input = f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{b64(claims)}"
    signature = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    assert not accepted(world, f"{signing_input}.{b64(signature)}")
    genuine = jwt.encode(claims, key, algorithm="HS256")
    assert not accepted(world, genuine.rsplit(".", 1)[0] + ".")
    assert not accepted(world, genuine.rsplit(".", 1)[0])
    tampered = jwt.encode(
        {**claims, "id": "someone-else12"}, "a-guessed-secret-of-at-least-32-bytes", algorithm="HS256"
    )
    assert not accepted(world, tampered)


@pytest.mark.parametrize(
    "header",
    [
        {"kid": "1"},
        {"jku": "http://127.0.0.1/keys"},
        {"jwk": {"kty": "oct", "k": "AAAA"}},
        {"x5u": "http://x"},
    ],
)
def test_key_selecting_headers_are_refused(world, header):
    key = _key(world["compiled"], world["record"], "auth")
    assert not accepted(world, jwt.encode(claims_for(world), key, algorithm="HS256", headers=header))


def test_claims(world):
    """AUTH-2: exp, nbf, type, collectionId and aud are all checked."""
    key = _key(world["compiled"], world["record"], "auth")

    def token(**changes: Any) -> str:
        claims = claims_for(world)
        claims.update(changes)
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="HS256")

    assert not accepted(world, token(exp=int(time.time()) - 5))
    assert not accepted(world, token(exp=None))
    assert not accepted(world, token(nbf=int(time.time()) + 600))
    assert not accepted(world, token(aud="someone"))
    assert not accepted(world, token(collectionId="pbc_0000000000"))
    assert not accepted(world, token(type="file"))
    # a token of another type, signed with that type's key, is not an auth token either
    for other in ("file", "verification", "passwordReset", "emailChange"):
        typed = new_token(world["compiled"], world["record"], other, email="tok@example.com")
        assert not accepted(world, typed, "auth"), other
        assert accepted(world, typed, other)


def test_each_type_has_its_own_secret(world):
    options = world["compiled"].collection.options
    secrets_ = {options[SECRET_OPTION[t]]["secret"] for t in tokens.TOKEN_TYPES}
    assert len(secrets_) == len(tokens.TOKEN_TYPES)
    # AUTH-10: generated secrets and token keys are long random strings
    assert all(len(s) >= 32 for s in secrets_)
    assert len(world["record"]["tokenKey"]) >= 32


def test_rotating_the_token_key_revokes(world):
    token = new_token(world["compiled"], world["record"], "auth", refreshable=True)
    runtime = world["runtime"]
    runtime.records.update(
        "users",
        world["record"]["id"],
        {"password": "another-pass-1", "passwordConfirm": "another-pass-1"},
        SUPERUSER_SYSTEM,
    )
    assert not accepted(world, token)
