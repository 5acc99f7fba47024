"""Tokens verify with an independent JOSE library, against the JWKS fetched over HTTP."""

from __future__ import annotations

import jwt
import pytest
from factories import BASE_URL, add_person, issue, pyjwt_leeway
from helpers_server import serve

from keys import jose


def test_pyjwt_verifies_credential_with_jwks_over_http(app, session, master, signing_key):
    add_person(session)
    cred = issue(session, master)
    with serve(app) as url:
        jwks_client = jwt.PyJWKClient(f"{url}/.well-known/jwks.json", cache_keys=False)
        signing = jwks_client.get_signing_key_from_jwt(cred.token)
        claims = jwt.decode(
            cred.token,
            signing.key,
            algorithms=["EdDSA"],
            issuer=BASE_URL,
            options={"require": ["exp", "iat", "iss", "sub", "jti"]},
            leeway=pyjwt_leeway(),
        )
    assert claims["sub"] == "TTTT-001" and claims["name"] == "Nguyễn Văn Đức"
    header = jwt.get_unverified_header(cred.token)
    assert header["typ"] == "staff-credential+jwt"
    jwk = next(k for k in jwks_client.get_jwk_set().keys if k.key_id == header["kid"])
    # the kid is the RFC 7638 thumbprint of the very key that verified
    assert header["kid"] == jose.thumbprint({"kty": "OKP", "crv": "Ed25519", "x": jwk._jwk_data["x"]})


def test_pyjwt_rejects_edited_token(app, session, master, signing_key):
    add_person(session)
    cred = issue(session, master)
    h, p, s = cred.token.split(".")
    edited = f"{h}.{jose.b64url_encode(jose.b64url_decode(p).replace(b'TTTT-001', b'TTTT-999'))}.{s}"
    with serve(app) as url:
        key = jwt.PyJWKClient(f"{url}/.well-known/jwks.json").get_signing_key_from_jwt(cred.token).key
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(edited, key, algorithms=["EdDSA"], options={"verify_exp": False})
