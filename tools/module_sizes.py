"""Fail when a production module passes the size a module may have: one past it
usually holds two things, to be split where the seam is. Prints each such module
with its size. Production code: app.py, keys/, registry/, verify/ (Python only)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400
PRODUCTION = ("app.py", "keys", "registry", "verify")


def production_modules(root: Path) -> list[Path]:
    found: list[Path] = []
    for name in PRODUCTION:
        path = root / name
        found.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return found


def oversized(root: Path, limit: int = MAX_LINES) -> list[tuple[Path, int]]:
    """Every production module of more than ``limit`` lines, with its line count."""
    sizes = ((path, len(path.read_text(encoding="utf-8").splitlines())) for path in production_modules(root))
    return [(path, lines) for path, lines in sizes if lines > limit]


def main() -> int:
    too_long = oversized(ROOT)
    for path, lines in too_long:
        print(f"{path.relative_to(ROOT)}: {lines} lines (at most {MAX_LINES})", file=sys.stderr)
    return 1 if too_long else 0


if __name__ == "__main__":
    sys.exit(main())
