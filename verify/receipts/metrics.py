"""Where receipts are counted: ``receipt_issued`` is called once for every receipt
signed (API or PDF), with its verdict (``chinhdanh_receipts_total`` on /metrics)."""

from __future__ import annotations

from registry.platform.metrics import RECEIPTS


def receipt_issued(verdict: str) -> None:
    """One receipt was signed for ``verdict``."""
    RECEIPTS.labels(verdict).inc()
