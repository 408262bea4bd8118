"""Log lines: plain text or one JSON object a line, each carrying the request id of its request.

The request id lives in a context variable that http.py sets for each HTTP request, so every line
logged while that request is served — by relaybox, by the libraries it calls, by uvicorn's error
logger — carries it, without passing it around.  Lines logged outside a request (the engine,
start-up) have no request id.
"""

from __future__ import annotations

import logging
import re
import sys
import secrets
from contextvars import ContextVar
from datetime import datetime, timezone

import orjson

#: The id of the HTTP request being served in this task, or None.
request_id: ContextVar[str | None] = ContextVar("relaybox_request_id", default=None)

#: An `X-Request-ID` a client may choose: 1–128 visible ASCII characters of a safe set (what
#: proxies and tracing systems send: UUIDs, hex, base64url, dotted ids).  Anything else is replaced
#: by a new id, so that a client cannot write arbitrary text into the logs.
CLIENT_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")

#: Attributes every LogRecord has (and uvicorn's terminal-coloured copy of its message): not copied
#: into the JSON object as extra fields.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName", "color_message"}


def new_request_id() -> str:
    """32 random hex digits, as `uuid.uuid4().hex` looks but without building a UUID (this runs
    for every request that brings no id of its own)."""
    return secrets.token_hex(16)


def accept_request_id(value: str | None) -> str:
    """The client's `X-Request-ID` when it is acceptable (CLIENT_ID), else a new one."""
    if value and CLIENT_ID.fullmatch(value):
        return value
    return new_request_id()


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (or None) to every record that passes through a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601 with milliseconds), level, logger, message,
    request_id when there is one, exception text when there is one, and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid is not None:
            entry["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "request_id" and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return super().format(record)


def configure(level: str, fmt: str) -> None:
    """Send every log line (relaybox's, uvicorn's, the libraries') to stderr in format `fmt`
    ("json" or "text") at `level`.  Replaces the root logger's handlers; idempotent."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's loggers keep handlers of their own when it configures logging; relaybox runs it
    # with log_config=None, and these lines make sure its records reach the root handler.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
