"""Credentials written into URLs never reach status, Events or logs."""

import pytest

from kubricks.redact import redact_userinfo


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "Looking in indexes: https://ci:s3cr3t@pypi.example/simple",
            "Looking in indexes: https://***@pypi.example/simple",
        ),
        ("git ls-remote https://x-token:ghp_abc@github.com/a/b.git", "git ls-remote https://***@github.com/a/b.git"),
        ("fetch http://token@host:8080/x and ssh://git@host/y", "fetch http://***@host:8080/x and ssh://***@host/y"),
        ("HTTPS://USER:PW@HOST/", "HTTPS://***@HOST/"),
        ("no url here, user@example.com", "no url here, user@example.com"),
        ("https://host/path?user=a@b", "https://host/path?user=a@b"),
        ("https://host/a@b", "https://host/a@b"),
    ],
)
def test_userinfo_is_redacted(text: str, shown: str) -> None:
    assert redact_userinfo(text) == shown
