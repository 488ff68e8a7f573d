"""Where a ledger lives: an SQLite file (the default) or a PostgreSQL database named by a URL.

A location is a `Path` (or a plain path string) for SQLite, or a `postgresql://…` URL. URLs are only
ever shown through `masked()`: the password never reaches a message, a log or an output file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

LedgerLocation = str | Path
ENV_URL = "PDDBATCH_LEDGER_URL"
_SCHEMES = ("postgresql://", "postgres://")
_KEY_PASSWORD = re.compile(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")
_QUERY_PASSWORD = re.compile(r"(?i)([?&]password=)[^&]*")


def is_url(location: LedgerLocation) -> bool:
    """True for a PostgreSQL URL (`postgresql://…` or `postgres://…`)."""
    return isinstance(location, str) and location.strip().lower().startswith(_SCHEMES)


def from_setting(location: LedgerLocation) -> LedgerLocation:
    """A URL stays a string; anything else is a file path (`~` expanded)."""
    if is_url(location):
        return str(location).strip()
    return Path(location).expanduser()


def exists(location: LedgerLocation) -> bool:
    """Whether opening `location` would find a ledger rather than create one.

    A server is not probed here (opening it says what is wrong); a file must exist.
    """
    return True if is_url(location) else Path(location).expanduser().is_file()


def env_url() -> str | None:
    """The `PDDBATCH_LEDGER_URL` setting, when it is set and not blank."""
    value = os.environ.get(ENV_URL, "").strip()
    return value or None


def masked(location: LedgerLocation) -> str:
    """The location as shown to people: a URL's password replaced by `***`."""
    if not is_url(location):
        return str(location)
    text = str(location).strip()
    try:
        parts = urlsplit(text)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            if ":" in userinfo:
                userinfo = userinfo.split(":", 1)[0] + ":***"
            netloc = f"{userinfo}@{host}"
        query = _QUERY_PASSWORD.sub(r"\1***", "?" + parts.query)[1:] if parts.query else ""
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:   # unparseable: show the scheme only rather than risk the secret
        return text.split("://", 1)[0] + "://***"


def scrub(text: str, location: LedgerLocation) -> str:
    """`text` (e.g. a driver's error message) with the location's password removed."""
    if not is_url(location):
        return text
    try:
        secret = urlsplit(str(location).strip()).password
    except ValueError:
        secret = None
    if secret:
        text = text.replace(secret, "***")
    return _KEY_PASSWORD.sub(r"\1***", text)


def database_name(location: LedgerLocation) -> str:
    """The database a URL names ('' when it names none), for messages."""
    if not is_url(location):
        return ""
    return urlsplit(str(location).strip()).path.lstrip("/")
