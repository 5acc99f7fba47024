"""``python -m verify``: the offline verifier client (see docs/offline-client.md)."""

from __future__ import annotations

import sys

from verify.client.cli import main

if __name__ == "__main__":
    sys.exit(main())
