"""The offline verifier client: verify the Centre's credentials and letters of
introduction with its public keys, status lists and roster, without asking the
server each time. No Flask and no database.

    from verify.client import Verifier

    verifier = Verifier("https://xacminh.thiduakhenthuong.vn", trust="<root thumbprint>")  # or tofu=True
    verifier.sync()                      # download and check the signed documents
    result = verifier.verify(token_or_url_or_image_path)
    result.verdict, result.claims, result.staff

Every failure to decide raises a ``ClientError`` subclass; a verdict never does.
"""

from __future__ import annotations

from verify.client.errors import (
    ClientError,
    InputError,
    InsecureServerError,
    NetworkError,
    NoServerError,
    NotSyncedError,
    RootChangedError,
    StaleDataError,
    TrustError,
    TrustRequiredError,
    UndecidableError,
)
from verify.client.results import DataAge, SyncReport, VerificationResult
from verify.client.verifier import Verifier
from verify.core.verdicts import Verdict

__all__ = [
    "ClientError",
    "DataAge",
    "InputError",
    "InsecureServerError",
    "NetworkError",
    "NoServerError",
    "NotSyncedError",
    "RootChangedError",
    "StaleDataError",
    "SyncReport",
    "TrustError",
    "TrustRequiredError",
    "UndecidableError",
    "Verdict",
    "VerificationResult",
    "Verifier",
]
