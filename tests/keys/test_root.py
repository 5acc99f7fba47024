"""keys.root on its own: the root file, the key set it signs, and how healthy the
served one is."""

from __future__ import annotations

import stat
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from factories import BASE_URL, NOW, TEST_ROOTS, make_keys, make_root

from keys import root
from keys import service as key_service
from keys.errors import KeySetDaysError, NoKeySetError, RootFileError, RootMismatchError
from keys.models import KeyPurpose


def test_the_root_file_is_made_0600_and_never_overwritten(tmp_path):
    private = Ed25519PrivateKey.generate()
    path = tmp_path / "root.key"
    root.write_root_file(path, private)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert root.read_root_file(path).private_bytes_raw() == private.private_bytes_raw()
    with pytest.raises(RootFileError, match="never overwritten"):
        root.write_root_file(path, Ed25519PrivateKey.generate())
    assert root.read_root_file(path).private_bytes_raw() == private.private_bytes_raw()
    with pytest.raises(RootFileError, match="cannot create"):
        root.write_root_file(tmp_path / "missing" / "root.key", private)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a key",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        b"A" * 10_000,
    ],
    ids=["empty", "text", "bad PEM", "an EC key", "large"],
)
def test_only_an_ed25519_pem_is_a_root_file(tmp_path, content):
    path = tmp_path / "root.key"
    path.write_bytes(content)
    with pytest.raises(RootFileError, match="is not a root key file"):
        root.read_root_file(path)
    with pytest.raises(RootFileError, match="cannot read"):
        root.read_root_file(tmp_path / "absent.key")


def test_sign_keyset_checks_the_key_and_the_days(session, master):
    with pytest.raises(NoKeySetError):
        root.served_keyset(session)
    make_root(session)
    key_service.generate_key(session, master, now=NOW)
    with pytest.raises(RootMismatchError):
        root.sign_keyset(session, Ed25519PrivateKey.generate(), issuer=BASE_URL, now=NOW)
    active = key_service.active_key(session, KeyPurpose.ROOT)
    for days in (0, root.MAX_KEYSET_DAYS + 1):
        with pytest.raises(KeySetDaysError):
            root.sign_keyset(session, TEST_ROOTS[active.kid], issuer=BASE_URL, now=NOW, days=days)
    first = root.sign_keyset(session, TEST_ROOTS[active.kid], issuer=BASE_URL, now=NOW, days=1)
    second = root.sign_keyset(session, TEST_ROOTS[active.kid], issuer=BASE_URL, now=NOW)
    assert (first.version, second.version) == (1, 2)
    assert second.expires_at == NOW + timedelta(days=root.DEFAULT_KEYSET_DAYS)
    assert root.served_keyset(session).version == 2
    # a new root serves nothing until it signs
    make_root(session, rotate=True)
    with pytest.raises(NoKeySetError):
        root.served_keyset(session)


def test_keyset_health(session, master):
    assert root.keyset_health(session, now=NOW) == root.KeySetHealth(signed=False)
    make_keys(session, master)
    expires = NOW + timedelta(days=30)
    assert root.keyset_health(session, now=NOW).ok
    soon = root.keyset_health(session, now=expires - root.KEYSET_WARNING)
    assert soon.expiring and not soon.expired and not soon.ok
    assert not root.keyset_health(session, now=expires - root.KEYSET_WARNING - timedelta(seconds=1)).expiring
    gone = root.keyset_health(session, now=expires)
    assert gone.expired and not gone.expiring
    key_service.rotate_key(session, master, now=NOW)
    stale = root.keyset_health(session, now=NOW)
    assert stale.stale and not stale.ok and stale.version == 1
