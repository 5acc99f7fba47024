"""Logs as one JSON object per line (``LOG_FORMAT=json``), for a log shipper to read
without parsing prose. A line holds the time, the level, the logger, the message and
the fields a caller passed in ``extra`` (the access line: request id, method, route
template, status, duration, client address). Callers never pass a token's full text,
a reporter's data or a password; the access line names the route's template
(``/v/<token>``), never the path or the query."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask

# attributes every LogRecord has: anything else on a record came from ``extra``
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
HANDLER_NAME = "chinhdanh.json"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def init_app(app: Flask) -> bool:
    """With ``LOG_FORMAT=json``, send the ``chinhdanh`` loggers' records to stderr as
    JSON lines (once per process, however many apps are built); returns whether the
    access line should be written."""
    if str(app.config.get("LOG_FORMAT") or "").lower() != "json":
        return False
    logger = logging.getLogger("chinhdanh")
    if not any(h.get_name() == HANDLER_NAME for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(HANDLER_NAME)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    return True
