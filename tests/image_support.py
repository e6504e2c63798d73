"""Building the test SparkImage (a wordcount wheel app) with the real builder, shared by the test suites."""

import asyncio
from pathlib import Path
from typing import Any

from kubricks.api.sparkimage import SparkImageSpec
from kubricks.images.backend import DockerBackend
from kubricks.images.builder import build_spark_image, resolve_inputs
from kubricks.images.outcomes import BuildOutcome
from kubricks.images.registry import RegistryClient

DATA = Path(__file__).resolve().parents[1] / "examples" / "apps"
WORDCOUNT = {path.name: path.read_text() for path in (DATA / "wordcount").iterdir() if path.is_file()}


def spark_image_spec(platform: dict[str, str], repository: str, **overrides: Any) -> SparkImageSpec:
    spec: dict[str, Any] = {
        "spark": {"version": "3.5.3"},
        "python": {"packages": ["six==1.16.0"]},
        "app": {"sources": [{"configMap": {"name": "wordcount"}}], "wheel": True},
        "base": {"cpu": platform["KUBRICKS_TEST_BASE_IMAGE"], "gpu": platform["KUBRICKS_TEST_GPU_BASE_IMAGE"]},
        "databricks": {"runtime": "15.4-LTS"},
        "registry": {"repository": f"{platform['KUBRICKS_TEST_REGISTRY']}/{repository}"},
    }
    spec.update(overrides)
    return SparkImageSpec.model_validate(spec)


def credentials(platform: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {
        platform["KUBRICKS_TEST_REGISTRY"]: (
            platform["KUBRICKS_TEST_REGISTRY_USER"],
            platform["KUBRICKS_TEST_REGISTRY_PASSWORD"],
        )
    }


def build(
    platform: dict[str, str], spec: SparkImageSpec, app: dict[str, str] | None = None, password: str | None = None
) -> BuildOutcome:
    creds = credentials(platform)
    if password is not None:
        creds = {host: (user, password) for host, (user, _) in creds.items()}

    async def run() -> BuildOutcome:
        inputs = await resolve_inputs(
            spec,
            RegistryClient(credentials(platform)),
            {"wordcount": app or WORDCOUNT},
            Path(platform["KUBRICKS_TEST_CA_BUNDLE"]).read_text(),
        )
        return await build_spark_image(spec, inputs, DockerBackend(platform["DOCKER_HOST"]), creds, lambda _: None)

    return asyncio.run(run())


def pinned_ref(platform: dict[str, str], repository: str) -> str:
    """The wordcount image built (or found in the registry) and named by its digest, as jobs run it."""
    image = build(platform, spark_image_spec(platform, repository)).images[0]
    return f"{image.ref.rsplit(':', 1)[0]}@{image.digest}"
