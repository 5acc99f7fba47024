"""Where receipts are counted: ``receipt_issued`` is called once for every receipt
signed (API or PDF), with its verdict. The metrics room connects its counter here."""

from __future__ import annotations


def receipt_issued(verdict: str) -> None:
    """One receipt was signed for ``verdict``. Counted by the metrics room, when present."""
    del verdict
