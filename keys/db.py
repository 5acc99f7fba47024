"""The name under which the migrations refer to the timestamp column type
(``keys.db.UTCDateTime``). Migrations are history and are never edited, so this name
stays; the type itself is ``keys.orm.UTCDateTime``."""

from __future__ import annotations

from keys.orm import UTCDateTime

__all__ = ["UTCDateTime"]
