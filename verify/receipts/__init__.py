"""Verification receipts (biên bản xác minh): a verdict signed for the officer's file,
as a compact JWS from the verify API (``receipt=1``), as a one-page PDF with its QR
(``/v/<token>/receipt.pdf``), and checked again on ``/r/<receipt>``. Receipts are not
stored: the signature is the record."""
