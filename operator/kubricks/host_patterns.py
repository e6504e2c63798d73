"""Host patterns an admin allows: a host name, *.DOMAIN for every host below DOMAIN, or an address. Pure."""

import re

_HOST_NAME = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
HOST_PATTERN = re.compile(rf"(\*\.)?{_HOST_NAME}|\[[0-9a-f:.]+\]")


def parse_host_patterns(patterns: str, example: str) -> tuple[str, ...]:
    """The host patterns of a comma-separated list, lower-cased; ``example`` is a host name the error suggests."""
    parsed = tuple(p.strip().lower() for p in patterns.split(",") if p.strip())
    for pattern in parsed:
        if not HOST_PATTERN.fullmatch(pattern):
            raise ValueError(
                f"{pattern!r} is not a host pattern: give a host name such as {example}, or *.DOMAIN for every "
                "host under DOMAIN, without scheme, port or path"
            )
    return parsed


def host_matches(host: str, patterns: tuple[str, ...]) -> bool:
    """Whether ``host`` matches one of ``patterns`` (none: every host). ``*.DOMAIN`` matches every host below
    DOMAIN, at any depth, but not DOMAIN itself."""
    if not patterns:
        return True
    host = host.lower()
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern.strip("[]"):
            return True
    return False
