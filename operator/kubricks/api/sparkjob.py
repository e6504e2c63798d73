"""SparkJob: one Spark application, run on this Kubernetes cluster or on Databricks."""

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from kubricks.api.base import (
    AGE_COLUMN,
    PHASE_COLUMN,
    ApiModel,
    CpuQuantity,
    MemorySize,
    Resource,
    ResourceName,
    Rule,
    Status,
    StringMap,
    cel_is_cpu,
    cel_millicores,
    cpu_millicores,
    exactly_one_of,
)
from kubricks.api.databricks import (
    ClusterId,
    ClusterShape,
    ImageChoice,
    RegistryAuth,
    one_registry_credential,
)


class JobImage(ImageChoice):
    """The image the job runs: exactly one of sparkImage or ref."""

    pull_secret: ResourceName | None = None
    """A kubernetes.io/dockerconfigjson Secret for pulling the image on Kubernetes."""


class WheelApp(ApiModel):
    """A console entry point of a wheel installed in the image."""

    package_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=128)]
    """The distribution's name, such as etl."""
    entry_point: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=128)]
    """The console entry point to run, such as run."""


_JAR = "self.mainApplicationFile.endsWith('.jar')"


class AppSpec(ApiModel):
    """What runs: exactly one of mainApplicationFile or wheel."""

    rules: ClassVar = (
        exactly_one_of("spec.app", "mainApplicationFile", "wheel"),
        Rule(
            cel=f"!has(self.mainApplicationFile) || {_JAR} == has(self.mainClass)",
            message="spec.app.mainClass is required with a .jar mainApplicationFile and must be omitted with a .py one",
            check=lambda app: (
                app.main_application_file is None
                or app.main_application_file.endswith(".jar") == (app.main_class is not None)
            ),
        ),
        Rule(
            cel="!has(self.wheel) || !has(self.mainClass)",
            message="spec.app.mainClass must be omitted with spec.app.wheel: the entry point says what runs",
            check=lambda app: app.wheel is None or app.main_class is None,
        ),
    )

    main_application_file: (
        Annotated[
            str,
            Field(pattern=r"^(local|file|https?|s3a?|gs|abfss|dbfs|hdfs)?:?/*[^\s]*\.(py|jar)$", max_length=2048),
        ]
        | None
    ) = None
    """The application: a .py file or a jar, such as local:///opt/app/main.py."""
    main_class: Annotated[str, Field(pattern=r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$", max_length=512)] | None = None
    """The main class of a jar application."""
    wheel: WheelApp | None = None
    """A console entry point of a wheel in the image; runs unchanged on Kubernetes and Databricks."""
    arguments: Annotated[list[Annotated[str, Field(max_length=4096)]], Field(max_length=256)] = []
    """Arguments passed to the application."""
    spark_conf: StringMap = {}
    """Spark configuration, such as spark.sql.shuffle.partitions."""


class Toleration(ApiModel):
    """A Kubernetes toleration."""

    key: Annotated[str, Field(max_length=316)] | None = None
    """The taint key; empty with operator Exists tolerates everything."""
    operator: Literal["Exists", "Equal"] | None = None
    """Exists or Equal (the default)."""
    value: Annotated[str, Field(max_length=63)] | None = None
    """The taint value to match."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    """The taint effect to match; empty matches all."""
    toleration_seconds: int | None = None
    """How long a NoExecute taint is tolerated."""


class SeccompProfile(ApiModel):
    """A seccomp profile."""

    rules: ClassVar = (
        Rule(
            cel="(self.type == 'Localhost') == has(self.localhostProfile)",
            message="seccompProfile.localhostProfile (spec.kubernetes.driver / executor) is required with type "
            "Localhost and must be omitted with any other type",
            check=lambda profile: (profile.type == "Localhost") == (profile.localhost_profile is not None),
        ),
    )

    type: Literal["RuntimeDefault", "Localhost", "Unconfined"]
    """RuntimeDefault (the container runtime's profile), Localhost (a profile file on the node) or Unconfined."""
    localhost_profile: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    """With type Localhost: the profile's path, relative to the kubelet's seccomp directory."""


CapabilityName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64)]
"""A Linux capability as Kubernetes names it, such as NET_BIND_SERVICE."""


class Capabilities(ApiModel):
    """Linux capabilities added to or dropped from the container runtime's default set."""

    add: Annotated[list[CapabilityName], Field(max_length=64)] | None = None
    """Capabilities to add, such as NET_BIND_SERVICE."""
    drop: Annotated[list[CapabilityName], Field(max_length=64)] | None = None
    """Capabilities to drop; replaces kubricks' default, ALL."""


UserId = Annotated[int, Field(ge=0, le=2147483647)]


class RunAs(ApiModel):
    """Who a pod's processes run as, and under which seccomp profile."""

    run_as_user: UserId | None = None
    """The UID the processes run as; kubricks' default is 185, the user of its images."""
    run_as_group: UserId | None = None
    """The GID the processes run as; default: the image's."""
    run_as_non_root: bool | None = None
    """Whether the kubelet refuses to start a container that would run as root; kubricks' default is true."""
    seccomp_profile: SeccompProfile | None = None
    """The seccomp profile; kubricks' default is RuntimeDefault."""


class PodSecurityContext(RunAs):
    """Security settings of the whole pod, merged field by field over kubricks' defaults."""

    fs_group: UserId | None = None
    """A GID added to every process's groups, which owns the pod's volumes."""


_ESCALATING = (
    "(has(self.privileged) && self.privileged)"
    " || (has(self.capabilities) && has(self.capabilities.add) && 'CAP_SYS_ADMIN' in self.capabilities.add)"
)


def _escalating(context: "SecurityContext") -> bool:
    added = (context.capabilities.add if context.capabilities else None) or []
    return bool(context.privileged) or "CAP_SYS_ADMIN" in added


class SecurityContext(RunAs):
    """Security settings of the Spark container, merged field by field over kubricks' defaults; those it shares
    with podSecurityContext win over the pod's."""

    rules: ClassVar = (
        Rule(
            # Kubernetes refuses a container that is privileged, or adds CAP_SYS_ADMIN, without privilege escalation.
            cel=f"!({_ESCALATING}) || (has(self.allowPrivilegeEscalation) && self.allowPrivilegeEscalation)",
            message="spec.kubernetes.driver.securityContext / executor.securityContext: privileged: true (or adding "
            "CAP_SYS_ADMIN) needs allowPrivilegeEscalation: true, which kubricks' default (false) would contradict",
            check=lambda context: not _escalating(context) or context.allow_privilege_escalation is True,
        ),
    )

    allow_privilege_escalation: bool | None = None
    """Whether a process may gain more privileges than its parent (setuid binaries); kubricks' default is false."""
    privileged: bool | None = None
    """Run the container privileged: with every capability and the node's devices."""
    capabilities: Capabilities | None = None
    """Linux capabilities; kubricks' default drops ALL."""
    read_only_root_filesystem: bool | None = None
    """Mount the image's file system read-only."""


def _cel_effective(field: str, test: str) -> str:
    """CEL: ``test`` (a template of the value) holds for the container's ``field``, else for the pod's; false
    when neither sets it."""
    container, pod = "self.securityContext", "self.podSecurityContext"
    return (
        f"(has({container}) && has({container}.{field}) ? {test.format(f'{container}.{field}')}"
        f" : has({pod}) && has({pod}.{field}) && {test.format(f'{pod}.{field}')})"
    )


def _effective(pod: "PodSpec", field: str) -> object:
    """The container's ``field``, else the pod's (None when neither is set): what Kubernetes runs with."""
    for context in (pod.security_context, pod.pod_security_context):
        value = getattr(context, field, None)
        if value is not None:
            return value
    return None


class PodSpec(ApiModel):
    """Resources and placement of a Spark pod."""

    rules: ClassVar = (
        Rule(
            # Malformed quantities pass here: the pattern refuses them with the clearer message. Both sides are whole
            # millicores; the 0.5 absorbs the rounding of double arithmetic (0.1 * 1000.0 > 100.0).
            cel=f"!has(self.coreLimit) || !{cel_is_cpu('coreLimit')}"
            f" || (has(self.coreRequest) && !{cel_is_cpu('coreRequest')})"
            f" || {cel_millicores('coreLimit')} + 0.5 >= (has(self.coreRequest) ? {cel_millicores('coreRequest')}"
            " : double(has(self.cores) ? self.cores : 1) * 1000.0)",
            message="spec.kubernetes.driver.coreLimit / executor.coreLimit must not be below the pod's CPU request "
            "(coreRequest, else cores): Kubernetes refuses a pod whose limit is below its request",
            check=lambda pod: (
                pod.core_limit is None
                or cpu_millicores(pod.core_limit) >= cpu_millicores(pod.core_request or str(pod.cores))
            ),
        ),
        Rule(
            cel=f"!{_cel_effective('runAsUser', '{} == 0')} || {_cel_effective('runAsNonRoot', '!{}')}",
            message="spec.kubernetes.driver / executor: runAsUser 0 (root) needs runAsNonRoot: false beside it, in "
            "securityContext or podSecurityContext; with kubricks' default, true, the container would never start",
            check=lambda pod: _effective(pod, "run_as_user") != 0 or _effective(pod, "run_as_non_root") is False,
        ),
    )

    cores: Annotated[int, Field(ge=1, le=512)] = 1
    """CPU cores: the tasks that run at once (spark.driver.cores, spark.executor.cores); the CPU request by default."""
    core_request: CpuQuantity | None = None
    """The pod's CPU request as a quantity (250m, 0.5, 2), less or more than cores; default: cores."""
    core_limit: CpuQuantity | None = None
    """The pod's CPU limit as a quantity (500m, 1), not below the CPU request; default: none."""
    memory: MemorySize = "1g"
    """Heap memory, in Spark's notation (512m, 2g) or as a quantity (2Gi)."""
    memory_overhead: MemorySize | None = None
    """Memory beyond the heap; defaults to Spark's (10% of memory, at least 384m; 40% for Python)."""
    gpus: Annotated[int, Field(ge=0, le=64)] = 0
    """NVIDIA GPUs (nvidia.com/gpu); needs the gpu image variant or an explicit image ref."""
    labels: StringMap = {}
    """Labels added to the pod."""
    annotations: StringMap = {}
    """Annotations added to the pod."""
    env: StringMap = {}
    """Environment variables of the Spark container."""
    node_selector: StringMap = {}
    """Node labels the pod must land on."""
    tolerations: Annotated[list[Toleration], Field(max_length=32)] = []
    """Taints the pod tolerates."""
    security_context: SecurityContext | None = None
    """The Spark container's security settings, over kubricks' restricted defaults (allowPrivilegeEscalation false,
    capabilities drop ALL); the namespace's Pod Security level bounds how far they may relax them."""
    pod_security_context: PodSecurityContext | None = None
    """The pod's security settings, over kubricks' restricted defaults (runAsNonRoot true, runAsUser 185,
    seccompProfile RuntimeDefault); the namespace's Pod Security level bounds how far they may relax them."""


class ExecutorSpec(PodSpec):
    """The executors."""

    instances: Annotated[int, Field(ge=0, le=10000)] = 2
    """How many executors (the initial number with dynamic allocation)."""


class DynamicAllocation(ApiModel):
    """Spark dynamic allocation with shuffle tracking."""

    rules: ClassVar = (
        Rule(
            # The API server checks this rule against the field's bare default {} too, before nested defaults.
            cel="!has(self.minExecutors) || !has(self.maxExecutors) || self.minExecutors <= self.maxExecutors",
            message="spec.kubernetes.dynamicAllocation.minExecutors must not exceed maxExecutors",
            check=lambda d: d.min_executors <= d.max_executors,
        ),
    )

    enabled: bool = False
    """Scale executors with the load."""
    min_executors: Annotated[int, Field(ge=0, le=10000)] = 0
    """The fewest executors."""
    max_executors: Annotated[int, Field(ge=1, le=10000)] = 10
    """The most executors."""


class KubernetesTarget(ApiModel):
    """Run as Spark driver and executor pods on this cluster."""

    rules: ClassVar = (
        Rule(
            cel="self.dynamicAllocation.enabled || self.executor.instances >= 1",
            message="spec.kubernetes.executor.instances must be at least 1 unless dynamicAllocation is enabled",
            check=lambda k: k.dynamic_allocation.enabled or k.executor.instances >= 1,
        ),
    )

    service_account: Annotated[
        str,
        Field(pattern=r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", max_length=253),
    ] = ""
    """The driver's service account; empty: one kubricks manages per namespace, allowed to run executors only."""
    driver: PodSpec = PodSpec()
    """The driver pod."""
    executor: ExecutorSpec = ExecutorSpec()
    """The executor pods."""
    dynamic_allocation: DynamicAllocation = DynamicAllocation()
    """Dynamic allocation of executors."""
    driver_start_timeout_seconds: Annotated[int, Field(ge=10, le=86400)] = 600
    """How long the driver pod may take to start running (scheduling, image pull) before the attempt fails."""


class NewCluster(ClusterShape):
    """A job cluster created for the run and booted from the image."""

    rules: ClassVar = (exactly_one_of("spec.databricks.cluster.new", "numWorkers", "autoscale"),)


class ClusterChoice(ApiModel):
    """Where the run executes: exactly one of new, existingClusterId or clusterRef."""

    rules: ClassVar = (exactly_one_of("spec.databricks.cluster", "new", "existingClusterId", "clusterRef"),)

    new: NewCluster | None = None
    """A new job cluster, booted from the image, terminated after the run."""
    existing_cluster_id: ClusterId | None = None
    """An existing all-purpose cluster's ID; it must already run a compatible image."""
    cluster_ref: ResourceName | None = None
    """A DatabricksCluster in this namespace."""


class JobRegistryAuth(RegistryAuth):
    """How the job cluster pulls the image: exactly one of secret, databricksSecret or fromSparkImage.
    Without registryAuth no registry credentials are sent to Databricks."""

    rules: ClassVar = (one_registry_credential("spec.databricks.registryAuth"),)


class DatabricksTarget(ApiModel):
    """Run on Databricks, on a cluster booted from the image."""

    workspace: ResourceName
    """A DatabricksWorkspace in this namespace."""
    cluster: ClusterChoice
    """The cluster the run executes on."""
    registry_auth: JobRegistryAuth | None = None
    """How the cluster pulls the image; omit for a public image (nothing is sent then)."""
    timeout_seconds: Annotated[int, Field(ge=0)] = 0
    """How long the run may take before Databricks cancels it; 0 means no limit."""


class RestartPolicy(ApiModel):
    """What happens after a failed attempt."""

    type: Literal["Never", "OnFailure", "Always"] = "Never"
    """Never, OnFailure (retry failed attempts) or Always (also rerun succeeded ones)."""
    retries: Annotated[int, Field(ge=0, le=100)] = 0
    """How many more attempts may follow the first."""
    backoff_seconds: Annotated[int, Field(ge=0, le=86400)] = 30
    """The wait before the next attempt."""


class SparkJobSpec(ApiModel):
    """One Spark application and where it runs: exactly one of kubernetes or databricks."""

    rules: ClassVar = (
        exactly_one_of("spec", "kubernetes", "databricks"),
        Rule(
            cel="has(self.kubernetes) == has(oldSelf.kubernetes)",
            message="spec.kubernetes / spec.databricks: the target of a SparkJob cannot change; "
            "delete the SparkJob and create it again",
        ),
        Rule(
            cel="!has(self.kubernetes) || (self.kubernetes.driver.gpus == 0 && self.kubernetes.executor.gpus == 0)"
            " || has(self.image.ref) || self.image.variant == 'gpu'",
            message="spec.kubernetes.driver.gpus / executor.gpus need spec.image.variant: gpu "
            "or an explicit spec.image.ref",
            check=lambda spec: (
                spec.kubernetes is None
                or (spec.kubernetes.driver.gpus == 0 and spec.kubernetes.executor.gpus == 0)
                or spec.image.ref is not None
                or spec.image.variant == "gpu"
            ),
        ),
        Rule(
            cel="!has(self.databricks) || !has(self.databricks.registryAuth) || "
            "!has(self.databricks.registryAuth.fromSparkImage) || !self.databricks.registryAuth.fromSparkImage || "
            "has(self.image.sparkImage)",
            message="spec.databricks.registryAuth.fromSparkImage needs spec.image.sparkImage: name the SparkImage "
            "whose push Secret to send, or give registryAuth.secret",
            check=lambda spec: (
                not (
                    spec.databricks and spec.databricks.registry_auth and spec.databricks.registry_auth.from_spark_image
                )
                or spec.image.spark_image is not None
            ),
        ),
    )

    image: JobImage
    """The image to run."""
    app: AppSpec
    """The application."""
    kubernetes: KubernetesTarget | None = None
    """Run on this Kubernetes cluster."""
    databricks: DatabricksTarget | None = None
    """Run on Databricks."""
    restart_policy: RestartPolicy = RestartPolicy()
    """Retries of failed attempts."""
    ttl_seconds_after_finished: Annotated[int, Field(ge=0)] = 86400
    """Seconds after the job finishes before kubricks deletes it; 0 deletes it at once."""


class ExecutorCounts(ApiModel):
    """Executor pods by phase."""

    pending: int = 0
    """Pending executors."""
    running: int = 0
    """Running executors."""
    succeeded: int = 0
    """Executors that succeeded."""
    failed: int = 0
    """Executors that failed."""


class KubernetesRunStatus(ApiModel):
    """The Spark pods of the current attempt."""

    driver_pod: str | None = None
    """The driver pod's name."""
    driver_service: str | None = None
    """The driver's headless Service."""
    executors: ExecutorCounts | None = None
    """Executor pods by phase."""


class DatabricksRunStatus(ApiModel):
    """The Databricks run of the current attempt."""

    run_id: int | None = None
    """The run's ID."""
    run_page_url: str | None = None
    """The run's page in the workspace."""
    life_cycle_state: str | None = None
    """Databricks' life cycle state, such as RUNNING or TERMINATED."""
    result_state: str | None = None
    """Databricks' result state, such as SUCCESS or FAILED."""
    state_message: str | None = None
    """Databricks' message about the state."""
    cluster_id: str | None = None
    """The cluster the run executes on."""


class SparkJobStatus(Status):
    """The observed state of a SparkJob."""

    phase: Literal["Pending", "WaitingForImage", "Submitted", "Running", "Succeeded", "Failed", "Cancelled"] | None = (
        None
    )
    """Pending, WaitingForImage, Submitted, Running, Succeeded, Failed or Cancelled."""
    target: Literal["kubernetes", "databricks"] | None = None
    """Where the job runs."""
    attempt: Annotated[int, Field(ge=0)] | None = None
    """The current attempt, from 1."""
    image: str | None = None
    """The image reference (by digest) that actually ran."""
    start_time: datetime | None = None
    """When the current attempt started."""
    completion_time: datetime | None = None
    """When the job finished."""
    next_attempt_time: datetime | None = None
    """When the next attempt starts, while a failed attempt backs off."""
    kubernetes: KubernetesRunStatus | None = None
    """The Spark pods of the current attempt."""
    databricks: DatabricksRunStatus | None = None
    """The Databricks run of the current attempt."""


class SparkJob(Resource):
    """A Spark application that runs on this cluster or on Databricks, from the same image."""

    KIND: ClassVar[str] = "SparkJob"
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ("spjob",)
    PRINTER_COLUMNS: ClassVar[tuple[dict[str, str], ...]] = (
        PHASE_COLUMN,
        {"name": "Target", "type": "string", "jsonPath": ".status.target"},
        {"name": "Attempt", "type": "integer", "jsonPath": ".status.attempt"},
        {"name": "Image", "type": "string", "jsonPath": ".status.image"},
        AGE_COLUMN,
    )

    spec: SparkJobSpec
    """The application and its target."""
    status: SparkJobStatus | None = None
    """What happened."""
