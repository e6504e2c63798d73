"""SparkImage: one unified Spark image per variant, for Spark on Kubernetes and Databricks alike."""

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from kubricks.api.base import (
    AGE_COLUMN,
    ENV_NAME,
    ENV_NAMES,
    PHASE_COLUMN,
    ApiModel,
    EnvName,
    HttpUrl,
    ImageReference,
    ImageRepository,
    OneLine,
    Resource,
    ResourceName,
    Rule,
    Status,
    exactly_one_of,
    map_keys,
)

Variant = Literal["cpu", "gpu"]

PIP_REQUIREMENT = r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._, -]*\])?([ <>=!~;@(,][ -~]*)?$"
"""A requirement as pip reads it (name, extras, then versions, markers or ``@ URL``), printable ASCII on one line
and starting with a letter or digit, so it can never be read as an option or end a Dockerfile instruction."""
PipRequirement = Annotated[str, Field(pattern=PIP_REQUIREMENT, min_length=1, max_length=512)]
PackageList = Annotated[list[PipRequirement], Field(max_length=512)]

ImageEnv = Annotated[
    dict[EnvName, OneLine], Field(max_length=256, json_schema_extra=map_keys("spec.env", ENV_NAME, ENV_NAMES))
]
BuildArgs = Annotated[
    dict[EnvName, OneLine],
    Field(max_length=256, json_schema_extra=map_keys("spec.build.buildArgs", ENV_NAME, ENV_NAMES)),
]

_PATH_SEGMENT = r"\.{0,2}[A-Za-z0-9_-][A-Za-z0-9._-]*"
"""A file or directory name that is not . or .."""
RELATIVE_PATH = f"^{_PATH_SEGMENT}(/{_PATH_SEGMENT})*$"
ABSOLUTE_PATH = f"^(/{_PATH_SEGMENT})+/?$"
GIT_REF = r"^[A-Za-z0-9_][A-Za-z0-9._/+-]*$"
GIT_URL = r"^(https?|ssh|git)://[!-~]+$|^[A-Za-z0-9_][A-Za-z0-9_.-]*@[A-Za-z0-9][A-Za-z0-9_.-]*:[!-,.-~][!-~]*$"


class PipSpark(ApiModel):
    """Spark from the package index: pyspark==<version>, which carries Spark's jars and bin/."""


class ArchiveSpark(ApiModel):
    """Spark from a binary distribution archive (spark-<version>-bin-hadoop3.tgz)."""

    url: HttpUrl
    """Where to download the archive."""
    sha512: Annotated[str, Field(pattern=r"^[a-fA-F0-9]{128}$")]
    """The archive's SHA-512 checksum, hex; the build fails when it does not match."""


class ImageSpark(ApiModel):
    """Spark copied from another image (a multi-stage COPY --from)."""

    ref: ImageReference
    """The image holding a Spark distribution, such as apache/spark:3.5.3."""
    path: Annotated[str, Field(pattern=ABSOLUTE_PATH, max_length=1024)] = "/opt/spark"
    """Where Spark lives in that image."""


class SparkSource(ApiModel):
    """Where Spark comes from: exactly one of pip, archive or image."""

    rules: ClassVar = (exactly_one_of("spec.spark.source", "pip", "archive", "image"),)

    pip: PipSpark | None = None
    """pyspark==<version> from the package index."""
    archive: ArchiveSpark | None = None
    """A Spark binary distribution archive."""
    image: ImageSpark | None = None
    """Spark copied from another image."""


class SparkSpec(ApiModel):
    """The Spark distribution and the JVM it runs on."""

    rules: ClassVar = (
        Rule(
            cel="!self.version.startsWith('4.') || self.java >= 17",
            message="spec.spark.java must be 17 or 21 for Spark 4",
            check=lambda spark: not spark.version.startswith("4.") or spark.java >= 17,
        ),
    )

    version: Annotated[str, Field(pattern=r"^[34]\.[0-9]+\.[0-9]+$", max_length=16)]
    """The Spark version, such as 3.5.3."""
    scala: Literal["2.12", "2.13"] | None = None
    """The Scala version of the Spark build; defaults to 2.12 for Spark 3 and 2.13 for Spark 4."""
    java: Literal[8, 11, 17, 21] = 17
    """The Java version of the runtime."""
    source: SparkSource = SparkSource(pip=PipSpark())
    """Where Spark comes from."""

    @model_validator(mode="after")
    def _default_scala(self) -> "SparkSpec":
        if self.scala is None:
            self.scala = "2.13" if self.version.startswith("4.") else "2.12"
        return self


class PythonSpec(ApiModel):
    """The Python environment of the image."""

    packages: PackageList = []
    """Requirements installed with pip, such as pandas==2.2.3."""
    index_url: HttpUrl | None = None
    """The package index to install from instead of the default one."""
    extra_index_urls: Annotated[list[HttpUrl], Field(max_length=16)] = []
    """More package indexes to search."""


class SystemSpec(ApiModel):
    """Operating-system packages."""

    packages: Annotated[
        list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:_-]+)?$", max_length=256)]],
        Field(max_length=512),
    ] = []
    """OS packages installed with the base's package manager, such as git or git=1:2.39.5-0+deb12u1."""


class GitSource(ApiModel):
    """Application code from a git repository."""

    url: Annotated[str, Field(pattern=GIT_URL, max_length=2048)]
    """The repository to clone."""
    ref: Annotated[str, Field(pattern=GIT_REF, min_length=1, max_length=256)] = "main"
    """The branch, tag or commit to check out; the resolved commit goes into the image's content address."""
    sub_path: Annotated[str, Field(pattern=RELATIVE_PATH, max_length=1024)] | None = None
    """A directory inside the repository to take instead of its root."""


class ConfigMapSource(ApiModel):
    """Application code from a ConfigMap in the SparkImage's namespace: one file per key."""

    name: ResourceName
    """The ConfigMap's name."""


class AppSource(ApiModel):
    """One source of application code: exactly one of git, configMap or pip."""

    rules: ClassVar = (exactly_one_of("spec.app.sources[]", "git", "configMap", "pip"),)

    git: GitSource | None = None
    """Code from a git repository."""
    config_map: ConfigMapSource | None = None
    """Code from a ConfigMap."""
    pip: PipRequirement | None = None
    """A package requirement installed with pip, such as mycompany-etl==1.4.0."""


class AppSpec(ApiModel):
    """The application baked into the image."""

    sources: Annotated[list[AppSource], Field(max_length=32)] = []
    """Code baked into the image under /opt/app, in order."""
    wheel: bool = False
    """Build the sources into a wheel and install it, so its console entry points are runnable."""


class BaseImages(ApiModel):
    """The base image of each variant."""

    cpu: ImageReference = "ubuntu:22.04"
    """The base of the cpu variant."""
    gpu: ImageReference = "nvidia/cuda:12.4.1-runtime-ubuntu22.04"
    """The base of the gpu variant: a CUDA runtime image."""


class GpuSpec(ApiModel):
    """Extras of the gpu variant."""

    rapids: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$", max_length=32)] | None = None
    """The RAPIDS Accelerator for Apache Spark version whose jar goes on the classpath, such as 25.04.0. GPU
    SparkJobs running the image turn it on (spark.plugins=com.nvidia.spark.SQLPlugin) on either target."""


class DatabricksImageSpec(ApiModel):
    """Makes every variant a Databricks custom container as well."""

    runtime: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+(\.x)?(-LTS)?$", max_length=32)]
    """The Databricks Runtime the image is meant for, such as 15.4-LTS."""


class RegistrySpec(ApiModel):
    """Where the built image is pushed."""

    repository: ImageRepository
    """The repository to push to, without a tag: registry.example.com/team/etl. The tag is a content address."""
    credentials_secret: ResourceName | None = None
    """A kubernetes.io/dockerconfigjson Secret in this namespace with push and pull access."""


class ProxySpec(ApiModel):
    """HTTP proxies used during the build."""

    http: HttpUrl | None = None
    """The proxy for http:// URLs."""
    https: HttpUrl | None = None
    """The proxy for https:// URLs."""
    no_proxy: OneLine | None = None
    """Hosts reached without a proxy, comma-separated."""


class CaCertificates(ApiModel):
    """Extra certificate authorities the build trusts."""

    config_map: ResourceName
    """A ConfigMap in this namespace whose values are PEM certificates."""


class BuildSpec(ApiModel):
    """How the image is built."""

    build_args: BuildArgs = {}
    """Docker build arguments."""
    proxy: ProxySpec | None = None
    """Proxies for downloads during the build."""
    ca_certificates: CaCertificates | None = None
    """Extra CAs trusted by every download during the build."""
    timeout_seconds: Annotated[int, Field(ge=60, le=86400)] = 3600
    """How long building the SparkImage may take: every variant, with its pulls and pushes. At the deadline the
    build is stopped on the engine and the SparkImage fails with BuildTimedOut until the spec changes."""


class SparkImageSpec(ApiModel):
    """The image to build: Spark, Python, the application, per variant (cpu, gpu)."""

    rules: ClassVar = (
        Rule(
            cel="!has(self.gpu) || !has(self.gpu.rapids) || 'gpu' in self.variants",
            message="spec.gpu.rapids needs 'gpu' in spec.variants",
            check=lambda spec: spec.gpu is None or spec.gpu.rapids is None or "gpu" in spec.variants,
        ),
    )

    spark: SparkSpec
    """The Spark distribution."""
    python: PythonSpec = PythonSpec()
    """The Python environment."""
    system: SystemSpec = SystemSpec()
    """OS packages."""
    app: AppSpec = AppSpec()
    """The application code."""
    variants: Annotated[
        list[Variant], Field(min_length=1, max_length=2, json_schema_extra={"x-kubernetes-list-type": "set"})
    ] = ["cpu"]
    """The images to build: cpu, gpu or both; each runs as driver, executor and Databricks container."""
    base: BaseImages = BaseImages()
    """The base image of each variant."""
    gpu: GpuSpec | None = None
    """Extras of the gpu variant."""
    databricks: DatabricksImageSpec | None = None
    """When set, every variant also satisfies the Databricks custom container contract."""
    env: ImageEnv = {}
    """Environment variables set in the image."""
    registry: RegistrySpec
    """Where the image is pushed."""
    build: BuildSpec = BuildSpec()
    """How the image is built."""


class BuiltImage(ApiModel):
    """One pushed variant."""

    variant: Variant
    """The variant."""
    ref: str
    """The pushed reference with its tag."""
    digest: Annotated[str, Field(pattern=r"^sha256:[a-f0-9]{64}$")]
    """The manifest digest the registry reported."""
    size_bytes: Annotated[int, Field(ge=0)] = 0
    """The image's size in the registry: its compressed layers and config, what a pull downloads."""
    rapids: str | None = None
    """The RAPIDS Accelerator version on the image's classpath (gpu variant with spec.gpu.rapids); jobs
    running the image on GPUs turn it on."""


class SparkImageStatus(Status):
    """The observed state of a SparkImage."""

    phase: Literal["Pending", "Building", "Ready", "Failed"] | None = None
    """Pending, Building, Ready or Failed."""
    inputs_hash: Annotated[str, Field(pattern=r"^sha256:[a-f0-9]{64}$")] | None = None
    """The content address of every build input; the image tag derives from it."""
    images: Annotated[list[BuiltImage], Field(max_length=2)] | None = None
    """The pushed images, one per variant."""


class SparkImage(Resource):
    """A unified Spark image: kubricks builds it, pushes it, and keeps status.images current."""

    KIND: ClassVar[str] = "SparkImage"
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ("spimg",)
    PRINTER_COLUMNS: ClassVar[tuple[dict[str, str], ...]] = (
        PHASE_COLUMN,
        {"name": "Variants", "type": "string", "jsonPath": ".spec.variants"},
        {"name": "Image", "type": "string", "jsonPath": ".status.images[0].ref"},
        AGE_COLUMN,
    )

    spec: SparkImageSpec
    """What to build."""
    status: SparkImageStatus | None = None
    """What was built."""
