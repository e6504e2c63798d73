"""Keeps credentials written into URLs out of what people read: status, Events, logs. Pure."""

import re

USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#]+@")
REDACTED = "***"


def redact_userinfo(text: str) -> str:
    """``text`` with the user name and password of every URL in it replaced: ``https://u:token@host/x`` becomes
    ``https://***@host/x``; a build prints the URLs it fetches, and some carry a token."""
    return USERINFO.sub(rf"\1{REDACTED}@", text)
