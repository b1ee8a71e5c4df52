"""`serve`'s log lines carry what clients send (a request's path and query) only as text a
terminal shows: whatever the HTTP parser lets through, the operator reading the log is not
driven by it."""

from __future__ import annotations

import logging

from ..untrusted import shown

SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access")
"""The loggers uvicorn writes its messages and its access lines to."""


class ShownRecords(logging.Filter):
    """Escapes a record's message and text arguments as `shown` does, before any handler (and
    uvicorn's access formatter, which reads the arguments one by one) formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record, its text made safe to show."""
        if isinstance(record.msg, str):
            record.msg = shown(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(shown(a) if isinstance(a, str) else a for a in record.args)
        return True


def show_server_logs() -> None:
    """Put the filter on uvicorn's loggers (after uvicorn has configured its logging), once."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ShownRecords) for f in logger.filters):
            logger.addFilter(ShownRecords())
