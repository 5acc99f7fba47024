"""The offline client and a key set the offline root signs once (issue 13): accepted
until its ``exp``, refused once expired, refused when older than the one cached,
by ``version`` or by ``iat``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from factories import BASE_URL, NOW, TEST_ROOTS, add_person, issue, sign_keys
from helpers_client import flask_fetcher
from joserfc.jwk import OKPKey
from sqlalchemy import delete

from keys import jose
from keys import service as key_service
from keys.contract import KEYSET_TYP
from keys.models import KeyPurpose, SignedKeySet
from verify.client import Verdict, Verifier
from verify.client.errors import RollbackError, StaleDataError

DAY = timedelta(days=1)


@pytest.fixture()
def make_verifier(app, tmp_path, clock):
    fetcher, _adapter = flask_fetcher(app, BASE_URL)

    def build(**kw: Any) -> Verifier:
        kw.setdefault("cache_dir", tmp_path / "cache")
        kw.setdefault("tofu", True)
        kw.setdefault("clock", lambda: clock.at)  # the client's clock and the server's agree
        return Verifier(BASE_URL, fetcher=fetcher, **kw)

    return build


def test_a_key_set_is_accepted_until_its_exp(session, master, signing_key, make_verifier, clock):
    add_person(session)
    token = issue(session, master, now=NOW).token  # the key set is signed at NOW for 30 days
    clock.at = NOW + 30 * DAY - timedelta(minutes=1)
    result = make_verifier().verify(token)
    assert result.verdict is Verdict.VALID
    assert result.data.keyset_expires_at == NOW + 30 * DAY


def test_an_expired_key_set_is_refused(session, master, signing_key, make_verifier, clock):
    add_person(session)
    token = issue(session, master, now=NOW).token
    make_verifier().sync()
    clock.at = NOW + 30 * DAY + timedelta(minutes=11)  # past its exp and any clock skew
    with pytest.raises(RollbackError) as refused:
        make_verifier().sync()
    assert refused.value.code == "rollback"
    assert f"expired on {(NOW + 30 * DAY).isoformat()}" in str(refused.value)
    with pytest.raises(RollbackError):  # an online check fetches it again, and refuses it too
        make_verifier().verify(token)
    with pytest.raises(StaleDataError):  # offline, the cached one is past its exp
        make_verifier(offline=True).verify(token)


def test_an_older_key_set_is_refused_once_a_newer_one_is_cached(session, master, signing_key, make_verifier, clock):
    add_person(session)
    token = issue(session, master, now=NOW).token
    clock.at = NOW + timedelta(hours=1)
    sign_keys(session, now=clock.at)  # version 2
    make_verifier().sync()
    # the server (restored from a backup, or a proxy replaying) serves version 1 again
    session.execute(delete(SignedKeySet).where(SignedKeySet.version == 2))
    session.commit()
    with pytest.raises(RollbackError) as refused:
        make_verifier().sync()
    assert str(refused.value) == "The server sent a key set older than the one already cached."
    assert make_verifier(offline=True).verify(token).verdict is Verdict.VALID  # the cache stays trusted


def _stored(session: Any, *, version: int, claims_version: int, iat_after: timedelta) -> None:
    """A key set signed by the genuine root with the given version claim and iat,
    stored as the newest (``version``) so the server serves it."""
    root = key_service.active_key(session, KeyPurpose.ROOT)
    iat = NOW + iat_after
    claims = {
        "iss": BASE_URL,
        "iat": int(iat.timestamp()),
        "exp": int((iat + 30 * DAY).timestamp()),
        "version": claims_version,
        "keys": [
            {**key_service.jwk_entry(k), "state": k.state.value}
            for k in key_service.list_keys(session)
            if k.purpose is KeyPurpose.SIGNING
        ],
    }
    token = jose.sign(
        {"alg": jose.ALG, "typ": KEYSET_TYP, "kid": root.kid}, claims, OKPKey.import_key(TEST_ROOTS[root.kid])
    )
    session.add(
        SignedKeySet(version=version, root_kid=root.kid, token=token, key_states={}, issued_at=iat, expires_at=iat)
    )
    session.commit()


@pytest.mark.parametrize(
    ("claims_version", "iat_after"),
    [
        (1, timedelta(hours=2)),  # a lower version, however new its iat
        (2, timedelta(hours=2)),  # the same version with other content
        (3, timedelta(minutes=30)),  # a higher version signed earlier than the cached one
    ],
    ids=["lower version", "same version, other content", "earlier iat"],
)
def test_rollback_by_version_or_iat_is_refused(
    session, master, signing_key, make_verifier, clock, claims_version, iat_after
):
    add_person(session)
    issue(session, master, now=NOW)
    clock.at = NOW + timedelta(hours=1)
    sign_keys(session, now=clock.at)  # version 2, iat NOW + 1h
    make_verifier().sync()
    _stored(session, version=10, claims_version=claims_version, iat_after=iat_after)
    clock.at = NOW + timedelta(hours=3)
    with pytest.raises(RollbackError):
        make_verifier().sync()


def test_a_newer_key_set_replaces_the_cached_one(session, master, signing_key, make_verifier, clock):
    add_person(session)
    issue(session, master, now=NOW)
    make_verifier().sync()
    clock.at = NOW + timedelta(hours=1)
    key_service.rotate_key(session, master, now=clock.at)
    sign_keys(session, now=clock.at)
    token = issue(session, master, now=clock.at).token  # signed by the new key
    assert make_verifier().sync().keys == 2
    assert make_verifier(offline=True).verify(token).verdict is Verdict.VALID
