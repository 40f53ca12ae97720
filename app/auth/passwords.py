"""Password hashing with argon2id (argon2-cffi).

Parameters follow OWASP's argon2id baseline (19 MiB, 2 iterations, 1 lane); docs/decisions.md
says why and what a login costs here next to PocketBase's bcrypt.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)


def hash_password(plain: str) -> str:
    return hasher().hash(plain)


def verify_password(plain: str, stored: str) -> bool:
    if not stored or not stored.startswith("$argon2"):
        return False
    try:
        return hasher().verify(stored, plain)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return not stored.startswith("$argon2id$") or hasher().check_needs_rehash(stored)
