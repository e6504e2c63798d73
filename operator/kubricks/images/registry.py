"""A small async client of the registry HTTP API (distribution v2) on httpx: does a tag exist, what is its
digest and size. Handles basic auth and bearer-token challenges; never logs credentials."""

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from kubricks.bounded_http import TooLarge, read_at_most, total_deadline
from kubricks.images.outcomes import RegistryError

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
MANIFEST_LIMIT_BYTES = 4 * 1024 * 1024
"""The largest manifest read: the distribution spec lets registries refuse bigger ones, and the registry is the
user's choice, so it must not make the operator read without end."""
TOKEN_LIMIT_BYTES = 1024 * 1024
DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


@dataclass(frozen=True)
class ImageName:
    registry: str
    repository: str
    reference: str
    """A tag or a digest."""

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def scheme(self) -> str:
        # Loopback registries speak plain HTTP, as Docker itself allows them to.
        host = self.registry.split(":", 1)[0]
        return "http" if host in ("localhost", "127.0.0.1", "::1") or host.startswith("127.") else "https"


def parse_image(ref: str) -> ImageName:
    """Splits an image reference as Docker does: the first component is a registry when it has a dot, a
    port or is localhost; otherwise the image lives on Docker Hub (``library/`` for one-word names)."""
    name, digest = ref.split("@", 1) if "@" in ref else (ref, "")
    tag = ""
    last_slash = name.rfind("/")
    if ":" in name[last_slash + 1 :]:
        name, tag = name.rsplit(":", 1)
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = DOCKER_HUB, name
        if "/" not in repository:
            repository = f"library/{repository}"
    return ImageName(registry, repository, digest or tag or "latest")


Credentials = dict[str, tuple[str, str]]
"""Registry host → (user name, password)."""


def credentials_from_docker_config(config: str | bytes) -> Credentials:
    """The registry credentials of a ``.dockerconfigjson`` (or ``~/.docker/config.json``) document."""
    try:
        auths = json.loads(config).get("auths", {})
    except (ValueError, AttributeError) as error:
        raise RegistryError(f"the docker config is not valid JSON: {error}") from None
    found: Credentials = {}
    for server, entry in auths.items():
        host = re.sub(r"^https?://", "", server).split("/", 1)[0]
        if host in ("index.docker.io", DOCKER_HUB_API):
            host = DOCKER_HUB
        if entry.get("username") and entry.get("password"):
            found[host] = (entry["username"], entry["password"])
        elif entry.get("auth"):
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            found[host] = (user, password)
    return found


@dataclass(frozen=True)
class Manifest:
    digest: str
    size_bytes: int
    """Config and layers together (0 for an index of several platforms)."""


class RegistryClient:
    def __init__(self, credentials: Credentials | None = None, timeout: float = 30.0) -> None:
        self.credentials = credentials or {}
        self.timeout = timeout

    async def manifest(self, ref: str) -> Manifest | None:
        """The manifest behind ``ref``, or None when the registry has no such tag or digest."""
        image = parse_image(ref)
        url = f"{image.scheme}://{image.api_host}/v2/{image.repository}/manifests/{image.reference}"
        async with httpx.AsyncClient(timeout=self.timeout) as http:
            try:
                async with total_deadline(self.timeout * 2, f"the manifest of {ref}"):
                    response, body = await self._get(http, image, url)
            except httpx.HTTPError as error:
                raise RegistryError(f"cannot reach the registry {image.registry}: {error}") from None
        if response.status_code == 404:
            return None
        if response.status_code in (401, 403):
            who = "the credentials given" if image.registry in self.credentials else "anonymous access (no credentials)"
            raise RegistryError(
                f"the registry {image.registry} refused {who} for {image.repository} (HTTP {response.status_code})",
                refused=True,
            )
        if response.status_code != 200:
            raise RegistryError(f"the registry {image.registry} answered HTTP {response.status_code} for {ref}")
        return _manifest_of(image, ref, response, body)

    async def _get(self, http: httpx.AsyncClient, image: ImageName, url: str) -> tuple[httpx.Response, bytes]:
        headers = {"Accept": MANIFEST_TYPES}
        response, body = await capped_get(http, url, MANIFEST_LIMIT_BYTES, headers=headers)
        if response.status_code != 401:
            return response, body
        challenge = response.headers.get("WWW-Authenticate", "")
        basic = self.credentials.get(image.registry)
        if challenge.lower().startswith("basic") and basic:
            return await capped_get(http, url, MANIFEST_LIMIT_BYTES, headers=headers, auth=basic)
        if challenge.lower().startswith("bearer"):
            token = await self._bearer_token(http, challenge, basic)
            if token:
                headers["Authorization"] = f"Bearer {token}"
                return await capped_get(http, url, MANIFEST_LIMIT_BYTES, headers=headers)
        return response, body

    @staticmethod
    async def _bearer_token(http: httpx.AsyncClient, challenge: str, basic: tuple[str, str] | None) -> str | None:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", None)
        if not realm:
            return None
        response, body = await capped_get(http, realm, TOKEN_LIMIT_BYTES, params=params, auth=basic)
        if response.status_code != 200:
            return None
        try:
            answer = json.loads(body)
        except ValueError:
            return None
        token = answer.get("token") or answer.get("access_token") if isinstance(answer, dict) else None
        return str(token) if token else None


def _manifest_of(image: ImageName, ref: str, response: httpx.Response, body: bytes) -> Manifest:
    """The manifest a 200 answer describes. The digest is the body's own hash: what a pull by digest would get,
    and what a pinned reference must match."""
    digest = f"sha256:{hashlib.sha256(body).hexdigest()}"
    announced = response.headers.get("Docker-Content-Digest", digest)
    if announced != digest or (DIGEST.match(image.reference) and image.reference != digest):
        raise RegistryError(f"the registry {image.registry} sent a manifest for {ref} that does not match its digest")
    try:
        document = json.loads(body)
        size = sum(layer.get("size", 0) for layer in document.get("layers", [])) + document.get("config", {}).get(
            "size", 0
        )
    except (ValueError, AttributeError, TypeError):
        raise RegistryError(f"the registry {image.registry} sent a manifest for {ref} that is not JSON") from None
    return Manifest(digest=digest, size_bytes=size)


async def capped_get(http: httpx.AsyncClient, url: str, limit: int, **options: Any) -> tuple[httpx.Response, bytes]:
    """GET ``url``, reading at most ``limit`` bytes of the body."""
    async with http.stream("GET", url, **options) as response:
        try:
            return response, await read_at_most(response, limit)
        except TooLarge:
            where = httpx.URL(url)
            raise RegistryError(f"{where.host} sent more than {limit} bytes for {where.path}") from None
