"""A fake OAuth2 / OpenID Connect provider on 127.0.0.1, strict where real providers are strict.

Endpoints (stdlib ``http.server`` in a thread):
- ``GET /authorize``: grants the account set with ``login()``; redirects to ``redirect_uri`` with a
  one-time ``code`` and the ``state``; remembers the PKCE ``code_challenge`` (S256 only).
- ``POST /token``: checks the client (HTTP Basic or body), that the code exists and was never
  presented before (a code is burnt on first use, even a failed one), that ``redirect_uri`` matches,
  and ``S256(code_verifier) == code_challenge``. Answers with an access token (and an RS256
  ``id_token`` signed with the key published at ``/jwks``).
- ``GET /userinfo`` (bearer): the account's profile; ``GET /userinfo/emails``: GitHub-style
  address list, when one was given.

Every request is recorded in ``requests`` for assertions.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "emmett-client"
CLIENT_SECRET = "fake-client-secret-0123456789"


@dataclass
class Grant:
    profile: dict[str, Any]
    redirect_uri: str
    challenge: str
    emails: list[Any] | None
    claims: dict[str, Any] | None


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)


@functools.cache
def signing_key() -> Any:
    """One RSA key per test session (generating one costs ~0.1 s)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class FakeOAuth2Provider:
    def __init__(self, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET):
        self.client_id = client_id
        self.client_secret = client_secret
        self.profile: dict[str, Any] = {}
        self.emails: list[Any] | None = None
        self.id_token_claims: dict[str, Any] | None = None
        self.codes: dict[str, Grant] = {}
        self.tokens: dict[str, Grant] = {}
        self.requests: list[Seen] = []
        #: (status, content type, body) the token endpoint answers with instead, when set
        self.token_failure: tuple[int, str, bytes] | None = None
        self.userinfo_failure: tuple[int, str, bytes] | None = None
        self.key = signing_key()
        self.kid = "fake-key-1"
        #: signs id_tokens with this key instead of the published one (a forged token), when set
        self.id_token_signing_key: Any = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # a short poll interval: shutdown() waits for it, once per test
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> FakeOAuth2Provider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- test controls ----------------------------------------------------------------------

    def login(
        self,
        profile: dict[str, Any],
        emails: list[Any] | None = None,
        id_token_claims: dict[str, Any] | None = None,
    ) -> None:
        """The account the next authorizations grant."""
        self.profile = dict(profile)
        self.emails = emails
        self.id_token_claims = id_token_claims

    def endpoints(self) -> dict[str, str]:
        return {
            "authURL": f"{self.url}/authorize",
            "tokenURL": f"{self.url}/token",
            "userInfoURL": f"{self.url}/userinfo",
        }

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update(kid=self.kid, use="sig", alg="RS256")
        return {"keys": [public]}

    def sign(self, claims: dict[str, Any], key: Any = None) -> str:
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})

    # -- protocol ---------------------------------------------------------------------------

    def _authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if query.get("response_type") != "code" or query.get("client_id") != self.client_id:
            return 400, {}, b"bad authorization request"
        redirect = query.get("redirect_uri", "")
        if not redirect:
            return 400, {}, b"missing redirect_uri"
        challenge = query.get("code_challenge", "")
        if challenge and query.get("code_challenge_method") != "S256":
            return 400, {}, b"only S256"
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = Grant(
                dict(self.profile), redirect, challenge, self.emails, self.id_token_claims
            )
        separator = "&" if "?" in redirect else "?"
        location = redirect + separator + urlencode({"code": code, "state": query.get("state", "")})
        return 302, {"Location": location}, b""

    def _token(self, headers: dict[str, str], form: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if self.token_failure is not None:
            status, content_type, body = self.token_failure
            return status, {"Content-Type": content_type}, body
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            decoded = base64.b64decode(basic[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
            client_id, client_secret = unquote(client_id), unquote(client_secret)
        if client_id != self.client_id or not secrets.compare_digest(client_secret, self.client_secret):
            return _error(401, "invalid_client")
        if form.get("grant_type") != "authorization_code":
            return _error(400, "unsupported_grant_type")
        with self._lock:
            grant = self.codes.pop(form.get("code", ""), None)  # burnt on first presentation
        if grant is None:
            return _error(400, "invalid_grant", "unknown or already used code")
        if form.get("redirect_uri", "") != grant.redirect_uri:
            return _error(400, "invalid_grant", "redirect_uri mismatch")
        if grant.challenge and s256(form.get("code_verifier", "")) != grant.challenge:
            return _error(400, "invalid_grant", "PKCE verification failed")
        access = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[access] = grant
        payload: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": "refresh-" + access,
        }
        if grant.claims is not None:
            now = int(time.time())
            claims = {"iss": self.url, "aud": self.client_id, "iat": now, "exp": now + 600, **grant.claims}
            payload["id_token"] = self.sign(claims, self.id_token_signing_key)
        return 200, {"Content-Type": "application/json"}, json.dumps(payload).encode()

    def _userinfo(self, headers: dict[str, str], emails: bool) -> tuple[int, dict[str, str], bytes]:
        if self.userinfo_failure is not None and not emails:
            status, content_type, body = self.userinfo_failure
            return status, {"Content-Type": content_type}, body
        auth = headers.get("authorization", "")
        grant = self.tokens.get(auth[7:]) if auth.lower().startswith("bearer ") else None
        if grant is None:
            return _error(401, "invalid_token")
        if emails:
            if grant.emails is None:
                return 404, {"Content-Type": "application/json"}, b'{"message": "Not Found"}'
            return 200, {"Content-Type": "application/json"}, json.dumps(grant.emails).encode()
        return 200, {"Content-Type": "application/json"}, json.dumps(grant.profile).encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:  # keep test output clean
                return

            def _send(self, result: tuple[int, dict[str, str], bytes]) -> None:
                status, headers, body = result
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append(Seen("GET", parts.path, headers, query))
                if parts.path == "/authorize":
                    self._send(fake._authorize(query))
                elif parts.path in ("/userinfo", "/userinfo/emails"):
                    self._send(fake._userinfo(headers, parts.path.endswith("/emails")))
                elif parts.path == "/jwks":
                    self._send((200, {"Content-Type": "application/json"}, json.dumps(fake.jwks()).encode()))
                else:
                    self._send((404, {}, b""))

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append(Seen("POST", parts.path, headers, form))
                if parts.path == "/token":
                    self._send(fake._token(headers, form))
                else:
                    self._send((404, {}, b""))

        return Handler


def _error(status: int, code: str, description: str = "") -> tuple[int, dict[str, str], bytes]:
    body = {"error": code, **({"error_description": description} if description else {})}
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()
