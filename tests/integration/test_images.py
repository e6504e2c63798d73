"""Unified images built for real: Docker engine, authenticated registry, PySpark runs inside."""

import asyncio
import io
import shlex
import uuid
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from kubricks.images.backend import Deadline, DockerBackend
from kubricks.images.builder import resolve_inputs
from kubricks.images.check import Finding, check_image
from kubricks.images.outcomes import BuildError, BuildOutcome, InputError, RegistryError
from kubricks.images.registry import RegistryClient
from kubricks.images.render import BuildContext, ResolvedInputs
from tests.image_support import DATA, WORDCOUNT, build, credentials, spark_image_spec

RAPIDS = "25.04.0"
"""A RAPIDS Accelerator release the Maven mirror serves; its jar is downloaded and checked against its SHA-1."""


def run_in(docker_api: docker.APIClient, image: str, script: str, **options: Any) -> tuple[int, str]:
    container = docker_api.create_container(image, command=["bash", "-c", script], **options)
    try:
        docker_api.start(container)
        status = docker_api.wait(container, timeout=300)["StatusCode"]
        return status, docker_api.logs(container).decode()
    finally:
        docker_api.remove_container(container, force=True)


@pytest.fixture(scope="module")
def repository() -> str:
    return f"tests/wordcount-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def built(platform: dict[str, str], repository: str) -> BuildOutcome:
    return build(platform, spark_image_spec(platform, repository))


@pytest.fixture(scope="module")
def pulled_by_digest(platform: dict[str, str], built: BuildOutcome, docker_api: docker.APIClient) -> Iterator[str]:
    """The image pulled back from the registry by its digest: the build left nothing tagged on the engine."""
    image = built.images[0]
    by_digest = f"{image.ref.rsplit(':', 1)[0]}@{image.digest}"
    assert not docker_api.images(name=image.ref)
    user, password = credentials(platform)[platform["KUBRICKS_TEST_REGISTRY"]]
    for event in docker_api.pull(
        by_digest.split("@", maxsplit=1)[0],
        tag=image.digest,
        auth_config={"username": user, "password": password},
        stream=True,
        decode=True,
    ):
        assert "errorDetail" not in event, event
    yield by_digest


def test_build_pushes_the_variant_with_digest_and_size(built: BuildOutcome) -> None:
    assert [image.variant for image in built.images] == ["cpu"]
    image = built.images[0]
    assert image.digest.startswith("sha256:")
    assert image.ref.endswith(f":cpu-{built.inputs_hash.removeprefix('sha256:')[:24]}")
    assert image.size_bytes > 100_000_000


def test_pyspark_job_computes_pi(docker_api: docker.APIClient, pulled_by_digest: str) -> None:
    script = (DATA / "pi.py").read_text()
    status, output = run_in(
        docker_api,
        pulled_by_digest,
        f"printf %s {shlex.quote(script)} > /tmp/pi.py && spark-submit --master 'local[2]' /tmp/pi.py",
    )
    assert status == 0, output[-3000:]
    assert "PI 3.14" in output


def test_wheel_entry_point_runs_as_a_databricks_python_wheel_task(
    docker_api: docker.APIClient, pulled_by_digest: str
) -> None:
    status, output = run_in(
        docker_api,
        pulled_by_digest,
        "spark-submit --master 'local[2]' /opt/kubricks/bin/run-entry-point.py"
        " wordcount wordcount 'to be or not to be'",
    )
    assert status == 0, output[-3000:]
    assert 'WORDCOUNT {"be": 2, "not": 1, "or": 1, "to": 2}' in output


def test_databricks_contract_check_passes(platform: dict[str, str], pulled_by_digest: str) -> None:
    findings = check_image(pulled_by_digest, "cpu", databricks=True, docker_host=platform["DOCKER_HOST"])
    failed = [f.line() for f in findings if f.failed]
    assert not failed
    assert {f.check for f in findings} >= {"driver role", "executor role", "no pyspark in the venv", "libraries user"}


def test_same_spec_builds_nothing_and_keeps_the_digest(
    platform: dict[str, str], repository: str, built: BuildOutcome
) -> None:
    again = build(platform, spark_image_spec(platform, repository))
    assert again.built == []
    assert again.inputs_hash == built.inputs_hash
    assert [i.digest for i in again.images] == [i.digest for i in built.images]
    assert [i.size_bytes for i in again.images] == [i.size_bytes for i in built.images], "one size, the registry's"


def test_an_app_change_rebuilds_only_the_last_layers(
    platform: dict[str, str], repository: str, built: BuildOutcome
) -> None:
    # A change never built before, so the layer cache cannot already hold its layers.
    marker = uuid.uuid4().hex
    changed = {**WORDCOUNT, "wordcount.py": WORDCOUNT["wordcount.py"] + f"\n# a change to the app only: {marker}\n"}
    rebuilt = build(platform, spark_image_spec(platform, repository), app=changed)
    assert rebuilt.inputs_hash != built.inputs_hash
    (pushed,) = rebuilt.built
    ran = pushed.rebuilt
    print(f"app change: {len(ran)} of {len(pushed.steps)} steps ran; the rest came from the layer cache")
    assert len(pushed.steps) - len(ran) >= 20
    assert all("pyspark" not in step and "apt-get" not in step and "venv" not in step for step in ran), ran
    assert any("COPY app/0/" in step for step in ran)


def check_built(
    platform: dict[str, str], docker_api: docker.APIClient, tag: str, dockerfile: str, *, databricks: bool
) -> list[Finding]:
    """The image check's findings on an image built from ``dockerfile``, removed afterwards."""
    for event in docker_api.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, decode=True, rm=True):
        assert "errorDetail" not in event, event
    try:
        return check_image(tag, "cpu", databricks=databricks, docker_host=platform["DOCKER_HOST"])
    finally:
        docker_api.remove_image(tag, force=True)


def test_a_broken_databricks_image_fails_the_check_naming_what_is_wrong(
    platform: dict[str, str], pulled_by_digest: str, docker_api: docker.APIClient
) -> None:
    broken = f"{platform['KUBRICKS_TEST_REGISTRY']}/tests/broken:{uuid.uuid4().hex[:8]}"
    site = "$(/databricks/python3/bin/python -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])')"
    dockerfile = (
        f"FROM {pulled_by_digest}\nUSER root\n"
        "RUN SUDO_FORCE_REMOVE=yes dpkg --purge sudo"
        f" && mkdir -p {site}/pyspark && touch {site}/pyspark/__init__.py\n"
        "USER 185\n"
    )
    findings = check_built(platform, docker_api, broken, dockerfile, databricks=True)
    failed = {f.check: f.detail for f in findings if f.failed}
    assert failed.keys() == {"databricks packages", "no pyspark in the venv"}
    assert failed["databricks packages"] == "missing: sudo"
    assert "pyspark importable from /databricks/python3" in failed["no pyspark in the venv"]
    assert not findings[0].ok, "failing findings come first"


def test_an_executor_whose_backend_class_is_missing_fails_the_check(
    platform: dict[str, str], pulled_by_digest: str, docker_api: docker.APIClient
) -> None:
    broken = f"{platform['KUBRICKS_TEST_REGISTRY']}/tests/no-k8s-backend:{uuid.uuid4().hex[:8]}"
    dockerfile = f"FROM {pulled_by_digest}\nUSER root\nRUN rm /opt/spark/jars/spark-kubernetes_*.jar\nUSER 185\n"
    findings = check_built(platform, docker_api, broken, dockerfile, databricks=False)
    failed = {f.check: f.detail for f in findings if f.failed}
    assert failed.keys() == {"executor role", "spark-kubernetes jar"}
    assert "KubernetesExecutorBackend" in failed["executor role"], "the JVM's own error, naming the class"


def test_gpu_variant_with_rapids_on_a_cuda_like_base_passes_the_gpu_checks(
    platform: dict[str, str], repository: str
) -> None:
    spec = spark_image_spec(platform, repository, variants=["gpu"], databricks=None, gpu={"rapids": RAPIDS})
    outcome = build(platform, spec)
    (image,) = outcome.images
    assert (image.variant, image.rapids) == ("gpu", RAPIDS)
    findings = check_image(image.ref, "gpu", databricks=False, docker_host=platform["DOCKER_HOST"])
    by_check = {f.check: f for f in findings}
    assert by_check["CUDA runtime"].ok, by_check["CUDA runtime"].detail
    assert by_check["CUDA runtime"].detail.startswith("libcudart.so.12")
    # No GPU here: the script runs and prints valid JSON, but that it finds GPUs is not shown, so not passed.
    discovery = by_check["GPU discovery script"]
    assert discovery.line().startswith("SKIP  GPU discovery script: no GPU here"), discovery.line()
    assert '{"name": "gpu", "addresses": []}' in discovery.detail
    assert by_check["RAPIDS jar"].line() == f"PASS  RAPIDS jar: /opt/spark/jars/rapids-4-spark_2.12-{RAPIDS}.jar"
    assert not [f.line() for f in findings if f.failed]


def test_a_wrong_registry_password_fails_before_building(platform: dict[str, str], repository: str) -> None:
    spec = spark_image_spec(platform, f"{repository}-denied")
    with pytest.raises(RegistryError) as failed:
        build(platform, spec, password="wrong-password")
    assert "refused the credentials given" in str(failed.value)
    assert failed.value.refused


def test_a_refused_push_is_caught_in_the_stream(platform: dict[str, str], pulled_by_digest: str) -> None:
    """The push itself fails in-band (a chunk with errorDetail), which the backend turns into an error."""
    ref = f"{platform['KUBRICKS_TEST_REGISTRY']}/tests/refused:{uuid.uuid4().hex[:8]}"
    # The base is on the engine and named by no base_images entry, so only the push needs the credentials.
    context = BuildContext(dockerfile=f"FROM {pulled_by_digest} AS cpu\n", files={}, build_args={})
    wrong = {platform["KUBRICKS_TEST_REGISTRY"]: ("kubricks", "wrong-password")}
    with pytest.raises(BuildError) as failed:
        DockerBackend(platform["DOCKER_HOST"]).build_and_push(
            context, "cpu", ref, wrong, lambda _: None, Deadline.after(120)
        )
    assert f"pushing {ref} failed" in str(failed.value)
    assert not failed.value.retriable, str(failed.value)


def test_registry_client_reports_refused_credentials(platform: dict[str, str], built: BuildOutcome) -> None:
    wrong = RegistryClient({platform["KUBRICKS_TEST_REGISTRY"]: ("kubricks", "wrong-password")})
    with pytest.raises(RegistryError, match="refused the credentials given"):
        asyncio.run(wrong.manifest(built.images[0].ref))
    right = RegistryClient(credentials(platform))
    manifest = asyncio.run(right.manifest(built.images[0].ref))
    assert manifest is not None
    assert manifest.digest == built.images[0].digest
    assert asyncio.run(right.manifest(built.images[0].ref.rsplit(":", 1)[0] + ":no-such-tag")) is None


def test_unresolvable_base_image_is_an_input_error(platform: dict[str, str], repository: str) -> None:
    spec = spark_image_spec(platform, repository, base={"cpu": f"{platform['KUBRICKS_TEST_REGISTRY']}/base/nope:1"})
    with pytest.raises(InputError, match="does not exist"):
        asyncio.run(resolve_inputs(spec, RegistryClient(credentials(platform)), {}, None))


def test_resolved_inputs_pin_the_base_digest(platform: dict[str, str], repository: str) -> None:
    spec = spark_image_spec(platform, repository)
    inputs: ResolvedInputs = asyncio.run(
        resolve_inputs(spec, RegistryClient(credentials(platform)), {"wordcount": WORDCOUNT}, None)
    )
    assert inputs.base_digests[platform["KUBRICKS_TEST_BASE_IMAGE"]].startswith("sha256:")
