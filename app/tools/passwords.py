"""Password hashing with argon2id (argon2-cffi), and verification of imported hashes.

New hashes are argon2id with OWASP's baseline parameters (19 MiB, 2 iterations, 1 lane);
docs/decisions.md says why and what a login costs here next to PocketBase's bcrypt. Two foreign
formats are verified so existing users can sign in after a migration: PocketBase's bcrypt
(``$2a$``/``$2b$``/``$2y$``) and the ``pbkdf2(iterations,bytes,alg)$salt$hex`` hashes of Emmett's
own auth module. ``needs_rehash`` is true for both, so the first successful sign-in stores an
argon2id hash instead.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1
# bcrypt only reads the first 72 bytes; Go's bcrypt (PocketBase) refuses longer passwords outright,
# so such a password can never match an imported hash.
BCRYPT_MAX_BYTES = 72
_PBKDF2 = re.compile(r"pbkdf2\((\d{1,7}),(\d{1,3}),(sha1|sha256|sha384|sha512)\)\$([^$]*)\$([0-9a-f]+)")


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)


def hash_password(plain: str) -> str:
    return hasher().hash(plain)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A real argon2id hash (of a fixed string nobody sends) to verify against when there is
    nothing to verify, so a failure costs the same time whether or not the thing exists (AUTH-6)."""
    return hash_password("emmettbase-timing-equalizer")


def verify_password(plain: str, stored: str) -> bool:
    if not stored:
        return False
    if stored.startswith("$argon2"):
        try:
            return hasher().verify(stored, plain)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
    if stored.startswith(("$2a$", "$2b$", "$2y$")):
        return _verify_bcrypt(plain, stored)
    if stored.startswith("pbkdf2("):
        return _verify_pbkdf2(plain, stored)
    return False


def needs_rehash(stored: str) -> bool:
    return not stored.startswith("$argon2id$") or hasher().check_needs_rehash(stored)


def _verify_bcrypt(plain: str, stored: str) -> bool:
    import bcrypt

    secret = plain.encode("utf-8")
    if len(secret) > BCRYPT_MAX_BYTES:
        return False
    try:
        return bcrypt.checkpw(secret, stored.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return False


def _verify_pbkdf2(plain: str, stored: str) -> bool:
    match = _PBKDF2.fullmatch(stored)
    if match is None:
        return False
    iterations, length, algorithm, salt, expected = match.groups()
    if not 0 < int(length) <= 128 or not int(iterations) > 0:
        return False
    digest = hashlib.pbkdf2_hmac(
        algorithm, plain.encode("utf-8"), salt.encode("utf-8"), int(iterations), int(length)
    )
    return hmac.compare_digest(digest.hex(), expected)
