"""Keeping credentials out of log lines and messages that quote URLs or HTTP headers.

Third-party libraries log what they send at DEBUG: ``websockets`` logs the
request line (a ``ws_url``'s query string may carry a token) and every
header (``Authorization: Bearer <room JWT>`` for the simulator's rooms);
LiveKit's SDK quotes the URL it dials, ``access_token`` and all. We hand
them loggers of our own that carry a `RedactingFilter` (`redacting_logger`),
so a record is cleaned before any handler (ours or the user's) sees it.
"""

from __future__ import annotations

import logging
import re

REDACTED = "<redacted>"
"""What a secret is replaced with."""

# The value of a header that carries a credential, to the end of the line.
_CREDENTIAL_HEADER = re.compile(
    r"(?im)\b(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key)"
    r"(\s*[:=]\s*)[^\r\n]*"
)
# A bearer credential anywhere in the text.
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s'\",;]+")
# A query string (the part of a URL or request target after "?"), up to the
# next space or quote: every parameter of it may be a credential.
_QUERY = re.compile(r"\?[^\s'\"<>]*=[^\s'\"<>]*")
# A credential-named assignment outside a URL (``token=...``, ``api_key: ...``).
_ASSIGNMENT = re.compile(
    r"(?i)\b([\w-]*(?:token|secret|password|passwd|api[_-]?key|signature|jwt))"
    r"([\"']?\s*[=:]\s*[\"']?)(?!<redacted>)[^\s&'\",;)]+"
)
# A JWT (LiveKit tokens, the service's session tokens): three base64url parts.
_JWT = re.compile(r"\beyJ[\w-]*\.[\w-]+\.[\w-]*")


def redact_text(text: str) -> str:
    """Return `text` with query strings, credential headers, bearer tokens and JWTs redacted."""
    text = _CREDENTIAL_HEADER.sub(rf"\1\2{REDACTED}", text)
    text = _BEARER.sub(rf"\1 {REDACTED}", text)
    text = _QUERY.sub(f"?{REDACTED}", text)
    text = _ASSIGNMENT.sub(rf"\1\2{REDACTED}", text)
    return _JWT.sub(REDACTED, text)


def safe_url(url: str) -> str:
    """Return `url` as ``scheme://host:port/path`` at most: no userinfo, query or fragment.

    It never parses the port, so it works on the malformed URLs it is used
    to report.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    rest = re.split(r"[?#]", rest, maxsplit=1)[0]
    netloc, slash, path = rest.partition("/")
    host = netloc.rpartition("@")[2]
    return f"{scheme}{sep}{host}{slash}{path}"


class RedactingFilter(logging.Filter):
    """A filter that rewrites each record with `redact_text` (message, traceback, stack).

    Attached to a logger, it runs before that logger's handlers and before
    the record propagates, so every handler sees the cleaned record. A
    record with a traceback gets it pre-formatted (and cleaned) in
    ``exc_text``, its ``exc_info`` dropped, since a formatter would
    otherwise render the raw exception again.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Clean `record` in place; always keep it."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let logging report it as usual
            return True
        record.msg, record.args = redact_text(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


def redacting_logger(name: str) -> logging.Logger:
    """Return the logger `name`, with a `RedactingFilter` attached (once)."""
    named = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in named.filters):
        named.addFilter(RedactingFilter())
    return named
