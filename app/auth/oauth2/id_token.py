"""The generic OIDC provider without a userinfo URL: the user comes from the ``id_token`` claims.

Checked as PocketBase does: ``aud`` must contain our client id, ``exp``/``iat`` within a leeway,
``iss`` one of ``extra.issuers`` when given, and the signature against ``extra.jwksURL`` when given
(otherwise the token is trusted because it came straight from the token endpoint over TLS).
"""

from __future__ import annotations

from typing import Any

from .providers import ProviderSettings

LEEWAY_SECONDS = 300
#: Only asymmetric algorithms: an HMAC "signature" keyed with a public JWK would be forgeable.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]


async def verified_id_token_claims(
    client: Any, settings: ProviderSettings, token: dict[str, Any]
) -> dict[str, Any]:
    import jwt

    from .client import USER_FAILED, ProviderError

    raw = token.get("id_token")
    if not isinstance(raw, str) or not raw:
        raise ProviderError(USER_FAILED, "the token response has no id_token")
    jwks_url = settings.extra.get("jwksURL")
    try:
        if isinstance(jwks_url, str) and jwks_url:
            key = await _signing_key(client, jwks_url, raw)
            claims = jwt.decode(
                raw,
                key,
                algorithms=ALGORITHMS,
                audience=settings.client_id,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "sub"]},
            )
        else:
            claims = jwt.decode(
                raw,
                options={
                    "verify_signature": False,
                    "verify_aud": True,
                    "verify_exp": True,
                    "verify_iat": True,
                    "require": ["exp", "sub"],
                },
                audience=settings.client_id,
                leeway=LEEWAY_SECONDS,
            )
    except jwt.PyJWTError as exc:
        raise ProviderError(USER_FAILED, f"invalid id_token: {exc}") from None
    issuers = settings.extra.get("issuers")
    if isinstance(issuers, list) and issuers and claims.get("iss") not in issuers:
        raise ProviderError(USER_FAILED, f"id_token issuer {claims.get('iss')!r} is not allowed")
    return dict(claims)


async def _signing_key(client: Any, jwks_url: str, raw: str) -> Any:
    import jwt

    from .client import USER_FAILED, ProviderError, _get, _json_body

    document = _json_body(await _get(client, jwks_url))
    if not isinstance(document, dict):
        raise ProviderError(USER_FAILED, "the JWKS document is not a JSON object")
    key_set = jwt.PyJWKSet.from_dict(document)
    kid = jwt.get_unverified_header(raw).get("kid")
    candidates = [k for k in key_set.keys if kid is None or k.key_id == kid]
    if len(candidates) != 1:
        raise ProviderError(USER_FAILED, f"no single JWKS key matches kid {kid!r}")
    return candidates[0].key
