"""Credentials out of URLs before a URL is shown, logged or sent to a browser.

A provider's base URL may carry a password (``http://user:secret@proxy/v1``) or a key in its query
(``?api-key=...``); :func:`redact_url` keeps what a person needs to recognise the server and drops the rest.
:class:`RedactUrlsFilter` does the same to log records (the HTTP client logs every request's URL).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SECRET_QUERY_KEYS = re.compile(r"(key|token|secret|password|passwd|pwd|sig|signature|auth|credential)",
                               re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """``url`` with the userinfo's password and secret-looking query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparsable URL)"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:***@{hostport}" if has_password else f"***@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(SECRET_QUERY_KEYS.search(k) for k, _ in pairs):
            query = urlencode([(k, "***" if SECRET_QUERY_KEYS.search(k) else v) for k, v in pairs], safe="*")
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_urls_in(text: str) -> str:
    """Every URL inside ``text`` redacted (for error messages that quote one)."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


class RedactUrlsFilter(logging.Filter):
    """Redacts URLs in a record's message and arguments (httpx logs ``HTTP Request: POST <url> ...``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "://" in record.msg:
            record.msg = redact_urls_in(record.msg)
        if isinstance(record.args, tuple) and any("://" in str(a) for a in record.args):
            record.args = tuple(redact_urls_in(str(a)) if "://" in str(a) else a for a in record.args)
        return True


_installed: set[str] = set()


def install_log_redaction(*logger_names: str) -> None:
    """Add the filter to these loggers once (idempotent)."""
    for name in logger_names:
        if name not in _installed:
            logging.getLogger(name).addFilter(RedactUrlsFilter())
            _installed.add(name)
