"""Reading answers from hosts a user chose (a registry, a token realm, a Databricks workspace): never more than a
limit, never for longer than a deadline, so no host can hold or fill the operator."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx


class TooLarge(Exception):
    """The answer went past the limit; what was read is dropped."""


async def read_at_most(response: httpx.Response, limit: int) -> bytes:
    """The body of a streamed ``response``, or TooLarge past ``limit`` bytes."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            raise TooLarge
    return bytes(body)


@contextlib.asynccontextmanager
async def total_deadline(seconds: float, request: str) -> AsyncIterator[None]:
    """httpx's timeouts bound each read; a host dripping a byte at a time must still end: past ``seconds`` in all,
    the request fails as a read timeout would."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        raise httpx.ReadTimeout(f"{request} took longer than {seconds:.0f}s in all") from None
