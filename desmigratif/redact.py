"""Keep full NIKs and No. KKs out of the application's logs.

No code of the project logs one on purpose, but some messages carry what they were given: a
404 for an address someone typed a NIK into, a database error quoting the duplicate key
(`Key (nik)=(3507...) already exists`) in a failed import's traceback. The filter below is
set on the log handlers (settings.LOGGING), so whatever reaches them has every run of 16
digits masked the way the pages mask a NIK.

This module imports nothing of Django's models: logging is configured before the apps load.
"""

import logging
import re

# 16 digits not part of a longer number (nor the decimals of one, "took 1.0885000000008406 s"):
# a NIK or a No. KK.
SIXTEEN_DIGITS = re.compile(r"(?<!\d)(?<!\d\.)(\d{4})\d{8}(\d{4})(?!\d)")
BULLET = "\u2022"


def redact(text: str) -> str:
    return SIXTEEN_DIGITS.sub(lambda match: match[1] + BULLET * 8 + match[2], text)


class RedactNik(logging.Filter):
    """Masks 16-digit numbers in the message, the traceback and the stack of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let the handler report it as it would
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
