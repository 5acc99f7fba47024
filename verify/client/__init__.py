"""The offline verifier client: verify the Centre's credentials and letters of
introduction with its public keys, status lists and roster, without asking the
server each time. No Flask and no database.

    from verify.client import Verifier

    verifier = Verifier("https://xacminh.thiduakhenthuong.vn", trust="<root thumbprint>")
    verifier.sync()                      # download and check the signed documents
    result = verifier.verify(token_or_url_or_image_path)
    result.verdict, result.claims, result.staff

Every failure to decide raises a ``ClientError`` subclass; a verdict never does.
"""

from __future__ import annotations

from verify.client.errors import (
    ClientError,
    InputError,
    NetworkError,
    NoServerError,
    NotSyncedError,
    RootChangedError,
    StaleDataError,
    TrustError,
    UndecidableError,
)
from verify.client.verifier import DataAge, SyncReport, VerificationResult, Verifier
from verify.verdicts import Verdict

__all__ = [
    "ClientError",
    "DataAge",
    "InputError",
    "NetworkError",
    "NoServerError",
    "NotSyncedError",
    "RootChangedError",
    "StaleDataError",
    "SyncReport",
    "TrustError",
    "UndecidableError",
    "Verdict",
    "VerificationResult",
    "Verifier",
]
