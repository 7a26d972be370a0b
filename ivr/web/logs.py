"""One log filter: phone numbers masked to their last four digits in every record.

Callers' numbers reach log records from many places: a view's own message, a
URL Twilio reports (`ErrorUrl` with `cb=15559876543`), a database error, a
traceback. Rather than trust every call site, `install()` runs MaskPhoneNumbers
on every record any logger makes (gunicorn's, SQLAlchemy's and this app's),
before any handler formats it, tracebacks included.
"""
from __future__ import annotations

import logging

from ivr.basics import phone

# The one logger whose records keep their numbers: why start-up was refused,
# quoting the operator's own settings and the documented example numbers.
SETTINGS_LOGGER = "ivr.settings"


mask = phone.mask_text


class MaskPhoneNumbers(logging.Filter):
    """Render the record's message with numbers masked; the same for its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_numbers_masked", False) or record.name == SETTINGS_LOGGER:
            return True
        try:
            message = record.getMessage()
        except Exception:
            return True
        record.msg, record.args = mask(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        record._numbers_masked = True
        return True


_FILTER = MaskPhoneNumbers()


def install() -> None:
    """Mask every record as it is made, whichever logger or handler it goes to. Idempotent."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "masks_numbers", False):
        return

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        _FILTER.filter(record)
        return record

    masked_record.masks_numbers = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masked_record)
