"""Tokens: only a valid HS256 JWT under the shared secret authenticates; all else is anonymous."""

from __future__ import annotations

import base64
import time
import warnings
from collections.abc import Callable
from typing import Any

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from steeple.auth.principal import ANONYMOUS, bearer_token, decode_token, issue_token

SECRET = "test-secret-0123456789abcdef0123456789"


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    body = {
        "id": "u1",
        "churchId": "CH1",
        "personId": "P1",
        "firstName": "Pat",
        "lastName": "Doe",
        "email": "pat@example.org",
        "permissions": ["Chat__Host"],
        "groupIds": ["G1"],
        "leaderGroupIds": ["G2"],
        "iat": now,
        "exp": now + 600,
    }
    body.update(changes)
    return body


def weak(body: dict[str, Any], key: str, algorithm: str) -> str:
    """Sign with a key too short for the algorithm (PyJWT warns; these tokens must fail)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwt.encode(body, key, algorithm=algorithm)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], body: Any, signature: str = "") -> str:
    return f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(body))}.{signature}"


def test_valid_hs256_token_gives_the_principal() -> None:
    principal = decode_token(jwt.encode(claims(), SECRET, algorithm="HS256"), SECRET)
    assert principal.authenticated
    assert (principal.user_id, principal.church_id, principal.person_id) == ("u1", "CH1", "P1")
    assert principal.display_name == "Pat Doe"
    assert principal.can("Chat__Host") and not principal.can("Content__Edit")
    assert principal.group_ids == {"G1"} and principal.leader_group_ids == {"G2"}


def test_issued_development_token_round_trips() -> None:
    token = issue_token(SECRET, church_id="CH9", person_id="P9", permissions=["Content__Edit"])
    principal = decode_token(token, SECRET)
    assert principal.in_church("CH9") and principal.can("Content__Edit")


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())

REJECTED: dict[str, Callable[[], str]] = {
    "forged signature": lambda: jwt.encode(
        claims(), "another-secret-0123456789abcdef0123", algorithm="HS256"
    ),
    "expired": lambda: jwt.encode(claims(exp=int(time.time()) - 60), SECRET, algorithm="HS256"),
    "alg none": lambda: unsigned({"alg": "none", "typ": "JWT"}, claims()),
    "alg none with signature": lambda: unsigned({"alg": "none"}, claims(), "c2ln"),
    "HS384 under the same secret": lambda: weak(claims(), SECRET, "HS384"),
    "HS512 under the same secret": lambda: weak(claims(), SECRET, "HS512"),
    "RS256": lambda: jwt.encode(claims(), RSA_KEY, algorithm="RS256"),
    "ES256": lambda: jwt.encode(claims(), EC_KEY, algorithm="ES256"),
    "tampered claims": lambda: _tampered(),
    "not yet valid": lambda: jwt.encode(
        claims(nbf=int(time.time()) + 600), SECRET, algorithm="HS256"
    ),
    "no exp (never expires)": lambda: jwt.encode(
        {k: v for k, v in claims().items() if k != "exp"}, SECRET, algorithm="HS256"
    ),
    "exp not a number": lambda: jwt.encode(claims(exp="never"), SECRET, algorithm="HS256"),
    "garbage": lambda: "not.a.jwt",
    "two parts": lambda: "abc.def",
    "empty": lambda: "",
    "binary junk": lambda: "\x00\xff.\x01.\x02",
    "array payload": lambda: unsigned({"alg": "HS256"}, [1, 2]),
}


def _tampered() -> str:
    header, _, signature = jwt.encode(claims(), SECRET, algorithm="HS256").split(".")
    return f"{header}.{_b64(orjson.dumps(claims(churchId='CH2')))}.{signature}"


@pytest.mark.parametrize("kind", sorted(REJECTED))
def test_anything_but_a_valid_hs256_token_is_anonymous(kind: str) -> None:
    assert decode_token(REJECTED[kind](), SECRET) == ANONYMOUS


def test_token_without_user_or_church_is_not_authenticated() -> None:
    for missing in ("id", "churchId"):
        body = claims()
        del body[missing]
        assert not decode_token(jwt.encode(body, SECRET, algorithm="HS256"), SECRET).authenticated


def test_wrongly_typed_claims_are_ignored_not_trusted() -> None:
    body = claims(
        permissions="Content__Edit", groupIds={"G1": True}, leaderGroupIds=None, personId=["P1"]
    )
    principal = decode_token(jwt.encode(body, SECRET, algorithm="HS256"), SECRET)
    assert principal.authenticated
    assert principal.permissions == frozenset() and principal.group_ids == frozenset()
    assert principal.person_id == ""


def test_no_secret_authenticates_nobody() -> None:
    assert decode_token(jwt.encode(claims(), SECRET, algorithm="HS256"), "") == ANONYMOUS


def test_bearer_header_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic abc") == ""
    assert bearer_token(None) == ""
    assert bearer_token("Bearer") == ""
