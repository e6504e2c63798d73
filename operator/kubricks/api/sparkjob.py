"""SparkJob: one Spark application, run on this Kubernetes cluster or on Databricks."""

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from kubricks.api.base import (
    AGE_COLUMN,
    DNS_LABEL,
    PHASE_COLUMN,
    ApiModel,
    CpuQuantity,
    MemorySize,
    OneLine,
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
from kubricks.api.pods import (
    NAMED_LIST,
    UNIQUE_NAMES,
    Affinity,
    Container,
    DnsConfig,
    EnvFromSource,
    EnvMap,
    EnvValueFromMap,
    HostAlias,
    HostName,
    InitContainer,
    PodSecurityContext,
    SecurityContext,
    Template,
    Toleration,
    Volume,
    VolumeMount,
)


class JobImage(ImageChoice):
    """The image the job runs: exactly one of sparkImage or ref."""

    pull_secret: ResourceName | None = None
    """A kubernetes.io/dockerconfigjson Secret for pulling the image on Kubernetes."""
    pull_policy: Literal["IfNotPresent", "Always", "Never"] = "IfNotPresent"
    """When the kubelet pulls the image for the driver and the executors (spark.kubernetes.container.image.pullPolicy);
    Always for a tag that moves, IfNotPresent for a digest."""


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
    hadoop_conf: StringMap = {}
    """Hadoop configuration, such as fs.s3a.endpoint; each key becomes spark.hadoop.<key>."""

    def conf(self) -> dict[str, str]:
        """The Spark configuration the job asks for: hadoopConf as spark.hadoop.*, under sparkConf."""
        return {**{f"spark.hadoop.{key}": value for key, value in self.hadoop_conf.items()}, **self.spark_conf}


def _cel_effective(field: str, test: str) -> str:
    """CEL: ``test`` (a template of the value) holds for the container's ``field``, else for the pod's; false
    when neither sets it."""
    container, pod = "self.securityContext", "self.podSecurityContext"
    return (
        f"(has({container}) && has({container}.{field}) ? {test.format(f'{container}.{field}')}"
        f" : has({pod}) && has({pod}.{field}) && {test.format(f'{pod}.{field}')})"
    )


def _effective(pod: "PodSettings", field: str) -> object:
    """The container's ``field``, else the pod's (None when neither is set): what Kubernetes runs with."""
    for context in (pod.security_context, pod.pod_security_context):
        value = getattr(context, field, None)
        if value is not None:
            return value
    return None


class PodSettings(ApiModel):
    """Placement, environment, volumes and containers of a Spark pod."""

    rules: ClassVar[tuple[Rule, ...]] = (
        Rule(
            cel=f"!{_cel_effective('runAsUser', '{} == 0')} || {_cel_effective('runAsNonRoot', '!{}')}",
            message="spec.kubernetes.driver / executor: runAsUser 0 (root) needs runAsNonRoot: false beside it, in "
            "securityContext or podSecurityContext; with kubricks' default, true, the container would never start",
            check=lambda pod: _effective(pod, "run_as_user") != 0 or _effective(pod, "run_as_non_root") is False,
        ),
    )

    labels: StringMap = {}
    """Labels added to the pod."""
    annotations: StringMap = {}
    """Annotations added to the pod."""
    env: EnvMap = {}
    """Environment variables of the Spark container."""
    env_value_from: EnvValueFromMap = {}
    """Environment variables of the Spark container taken from a Secret, a ConfigMap or the pod, by name."""
    env_from: Annotated[list[EnvFromSource], Field(max_length=16)] = []
    """Every key of these Secrets and ConfigMaps as a variable of the Spark container."""
    volume_mounts: Annotated[list[VolumeMount], Field(max_length=32)] = []
    """Volumes of spec.kubernetes.volumes mounted into the Spark container."""
    java_options: OneLine | None = None
    """Extra JVM options (spark.driver.extraJavaOptions, spark.executor.extraJavaOptions), such as -XX:+UseG1GC."""
    node_selector: StringMap = {}
    """Node labels the pod must land on."""
    affinity: Affinity | None = None
    """Kubernetes affinity: nodes to land on, pods to land near or away from."""
    tolerations: Annotated[list[Toleration], Field(max_length=32)] = []
    """Taints the pod tolerates."""
    priority_class_name: ResourceName | None = None
    """The pod's PriorityClass."""
    scheduler_name: ResourceName | None = None
    """The scheduler that places the pod, such as volcano or yunikorn; the default scheduler by default."""
    termination_grace_period_seconds: Annotated[int, Field(ge=0, le=86400)] | None = None
    """How long the pod's containers get to stop after SIGTERM; 30 by default."""
    host_aliases: Annotated[list[HostAlias], Field(max_length=16)] = []
    """Lines added to the pod's /etc/hosts."""
    dns_config: DnsConfig | None = None
    """Resolver settings of the pod."""
    sidecars: Annotated[list[Container], Field(max_length=8, json_schema_extra=NAMED_LIST), UNIQUE_NAMES] = []
    """Containers that run beside the Spark container."""
    init_containers: Annotated[
        list[InitContainer], Field(max_length=8, json_schema_extra=NAMED_LIST), UNIQUE_NAMES
    ] = []
    """Containers that run to completion before the Spark container starts."""
    security_context: SecurityContext | None = None
    """The Spark container's security settings, over kubricks' restricted defaults (allowPrivilegeEscalation false,
    capabilities drop ALL); the namespace's Pod Security level bounds how far they may relax them."""
    pod_security_context: PodSecurityContext | None = None
    """The pod's security settings, over kubricks' restricted defaults (runAsNonRoot true, runAsUser 185,
    seccompProfile RuntimeDefault); the namespace's Pod Security level bounds how far they may relax them."""
    template: Template | None = None
    """A pod (metadata and spec) for anything the fields above do not say, merged as Spark merges
    spark.kubernetes.driver.podTemplateFile / executor.podTemplateFile: what kubricks sets wins, lists add up, and
    its first container is the Spark container."""


class PodSpec(PodSettings):
    """Resources, placement, environment and containers of a Spark pod; over spec.kubernetes.pods."""

    rules: ClassVar[tuple[Rule, ...]] = (
        *PodSettings.rules,
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


class DriverSpec(PodSpec):
    """The driver."""

    service_labels: StringMap = {}
    """Labels added to the driver's headless Service, through which executors reach it."""
    service_annotations: StringMap = {}
    """Annotations added to the driver's headless Service."""


class ExecutorSpec(PodSpec):
    """The executors."""

    instances: Annotated[int, Field(ge=0, le=10000)] = 2
    """How many executors (the initial number with dynamic allocation)."""


NoComma = Annotated[str, Field(pattern=r"^[^,\s]+$", max_length=2048)]
"""One item of a list that Spark keeps comma-separated in one property."""
MavenCoordinate = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.+-]+$", max_length=512)]
MavenModule = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$", max_length=512)]


class Dependencies(ApiModel):
    """What the driver fetches when the application starts, as spark-submit's --jars, --files, --py-files,
    --archives, --packages, --exclude-packages and --repositories. Paths: local:// (in the image), http(s)://,
    s3a://, gs://, abfss://, hdfs:// and whatever Hadoop file system the image carries."""

    jars: Annotated[list[NoComma], Field(max_length=128)] = []
    """Jars on the driver's and the executors' class path (spark.jars)."""
    files: Annotated[list[NoComma], Field(max_length=128)] = []
    """Files put in each executor's working directory (spark.files)."""
    py_files: Annotated[list[NoComma], Field(max_length=128)] = []
    """.py, .zip and .egg files on the Python path (spark.submit.pyFiles)."""
    archives: Annotated[list[NoComma], Field(max_length=128)] = []
    """Archives unpacked in each executor's working directory; name#alias names the directory (spark.archives)."""
    packages: Annotated[list[MavenCoordinate], Field(max_length=128)] = []
    """Maven coordinates, groupId:artifactId:version, resolved with their dependencies (spark.jars.packages)."""
    exclude_packages: Annotated[list[MavenModule], Field(max_length=128)] = []
    """groupId:artifactId of dependencies left out of packages' resolution (spark.jars.excludes)."""
    repositories: Annotated[list[NoComma], Field(max_length=32)] = []
    """Maven repositories searched for packages besides Maven Central (spark.jars.repositories)."""


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


class UiService(ApiModel):
    """A Service of its own for the Spark UI (the driver's headless Service serves it inside the cluster already)."""

    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"
    """ClusterIP, NodePort or LoadBalancer."""
    port: Annotated[int, Field(ge=1, le=65535)] = 4040
    """The Service's port; it forwards to the UI's 4040."""
    labels: StringMap = {}
    """Labels added to the Service."""
    annotations: StringMap = {}
    """Annotations added to the Service, such as a cloud load balancer's."""


class IngressTls(ApiModel):
    """TLS for some of the Ingress's hosts."""

    hosts: Annotated[list[HostName], Field(max_length=16)] = []
    """The hosts the certificate covers; the Ingress's host by default."""
    secret_name: ResourceName | None = None
    """The kubernetes.io/tls Secret with the certificate; the Ingress controller's default certificate without."""


class UiIngress(ApiModel):
    """An Ingress that serves the Spark UI under a host name of its own."""

    host: HostName
    """The host name, such as etl-daily.spark.example.com."""
    class_name: ResourceName | None = None
    """The IngressClass; the cluster's default class without."""
    tls: Annotated[list[IngressTls], Field(max_length=4)] = []
    """TLS settings; plain HTTP without."""
    annotations: StringMap = {}
    """Annotations added to the Ingress, such as the controller's."""


class ParentRef(ApiModel):
    """A Gateway the route attaches to."""

    name: ResourceName
    """The Gateway's name."""
    namespace: ResourceName | None = None
    """Its namespace; the job's by default."""
    section_name: Annotated[str, Field(pattern=DNS_LABEL, max_length=253)] | None = None
    """One of its listeners; all by default."""


class UiRoute(ApiModel):
    """A Gateway API HTTPRoute that serves the Spark UI."""

    parent_refs: Annotated[list[ParentRef], Field(min_length=1, max_length=8)]
    """The Gateways it attaches to."""
    hostnames: Annotated[list[HostName], Field(max_length=16)] = []
    """The host names it answers; the Gateway's by default."""
    annotations: StringMap = {}
    """Annotations added to the HTTPRoute."""


class SparkUi(ApiModel):
    """How the Spark UI (the driver's port 4040) is reached while the job runs."""

    service: UiService | None = None
    """A Service of its own for the UI; ingress and httpRoute route to it, and imply it."""
    ingress: UiIngress | None = None
    """An Ingress in front of the UI."""
    http_route: UiRoute | None = None
    """A Gateway API HTTPRoute in front of the UI."""


class Monitoring(ApiModel):
    """Prometheus metrics of the driver and the executors, through Spark's own PrometheusServlet."""

    rules: ClassVar = (
        Rule(
            cel="!((has(self.serviceMonitor) && self.serviceMonitor) || (has(self.podMonitor) && self.podMonitor))"
            " || (has(self.prometheus) && self.prometheus)",
            message="spec.kubernetes.monitoring.serviceMonitor / podMonitor need monitoring.prometheus: true, "
            "which makes Spark serve the metrics they scrape",
            check=lambda m: m.prometheus or not (m.service_monitor or m.pod_monitor),
        ),
    )

    prometheus: bool = False
    """Serve the driver's metrics at /metrics/prometheus/ and the executors' at /metrics/executors/prometheus/ on
    the UI port (spark.ui.prometheus.enabled and the PrometheusServlet sink)."""
    service_monitor: bool = False
    """Create a Prometheus Operator ServiceMonitor that scrapes both, through the UI's Service."""
    pod_monitor: bool = False
    """Create a Prometheus Operator PodMonitor that scrapes both on the driver pod."""
    labels: StringMap = {}
    """Labels added to the ServiceMonitor or PodMonitor, such as the release label Prometheus selects them by."""
    interval: Annotated[str, Field(pattern=r"^[0-9]+(ms|s|m|h)$", max_length=16)] | None = None
    """How often Prometheus scrapes, such as 30s; Prometheus' default without."""


class EventLog(ApiModel):
    """Spark's event log, which a Spark history server reads once the job is gone."""

    dir: NoComma
    """Where the driver writes it: a volume mounted on the driver (file:///spark-events) or a file system such as
    s3a://bucket/spark-events."""
    compress: bool = False
    """Compress the log (spark.eventLog.compress)."""
    rolling_max_file_size: Annotated[str, Field(pattern=r"^[0-9]+[kmg]?b?$", max_length=16)] | None = None
    """Roll the log over at this size, such as 128m (spark.eventLog.rolling.enabled); one file without."""


ROLES = ("pods", "driver", "executor")


def _cel_mounts_declared(settings: str) -> str:
    """CEL: every volumeMount of ``settings`` (a PodSettings) and of its containers names a volume of the job."""
    declared = "has(self.volumes) && self.volumes.exists(v, v.name == m.name)"
    own = f"(!has({settings}.volumeMounts) || {settings}.volumeMounts.all(m, {declared}))"
    container_mounts = f"!has(c.volumeMounts) || c.volumeMounts.all(m, {declared})"
    containers = [
        f"(!has({settings}.{kind}) || {settings}.{kind}.all(c, {container_mounts}))"
        for kind in ("sidecars", "initContainers")
    ]
    return f"(!has({settings}) || (" + " && ".join([own, *containers]) + "))"


def _undeclared_mounts(kubernetes: "KubernetesTarget") -> set[str]:
    declared = {volume.name for volume in kubernetes.volumes}
    mounts = set()
    for role in ROLES:
        settings: PodSettings = getattr(kubernetes, role)
        mounts |= {mount.name for mount in settings.volume_mounts}
        for container in (*settings.sidecars, *settings.init_containers):
            mounts |= {mount.name for mount in container.volume_mounts}
    return mounts - declared


def _over(name: str, shared: Any, own: Any) -> Any:
    """One field of the role's pod settings over the shared one's."""
    if own is None or name == "template":
        return shared if own is None else own
    if isinstance(own, dict):
        return {**shared, **own}
    if isinstance(own, list):
        return [*shared, *own]
    if isinstance(own, ApiModel) and isinstance(shared, ApiModel):
        return shared.model_copy(update={field: value for field, value in own if value is not None})
    return own


class BatchScheduler(ApiModel):
    """A batch scheduler for the driver and executor pods."""

    name: Literal["volcano", "yunikorn"]
    """volcano or yunikorn: the pods' schedulerName, and how the gang is told to it."""
    queue: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=253)] | None = None
    """The scheduler's queue: a Volcano Queue, or a YuniKorn queue such as root.team-a."""
    gang: bool = True
    """Place the driver and the initial executors together or not at all (Volcano: a PodGroup with their
    resources; YuniKorn: task groups on the driver). Executors beyond those are placed one by one, so dynamic
    allocation keeps working."""


class KubernetesTarget(ApiModel):
    """Run as Spark driver and executor pods on this cluster."""

    rules: ClassVar = (
        Rule(
            cel=" && ".join(_cel_mounts_declared(f"self.{role}") for role in ROLES),
            message="spec.kubernetes: every volumeMounts[].name (of pods, driver, executor and their sidecars and "
            "initContainers) must name a volume of spec.kubernetes.volumes",
            check=lambda kubernetes: not _undeclared_mounts(kubernetes),
        ),
        Rule(
            cel="!has(self.batchScheduler) || "
            + " && ".join(f"!(has(self.{role}) && has(self.{role}.schedulerName))" for role in ROLES),
            message="spec.kubernetes.batchScheduler sets the pods' schedulerName: leave out "
            "spec.kubernetes.pods/driver/executor.schedulerName",
            check=lambda k: k.batch_scheduler is None or not any(getattr(k, r).scheduler_name for r in ROLES),
        ),
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
    driver: DriverSpec = DriverSpec()
    """The driver pod."""
    executor: ExecutorSpec = ExecutorSpec()
    """The executor pods."""
    dynamic_allocation: DynamicAllocation = DynamicAllocation()
    """Dynamic allocation of executors."""
    volumes: Annotated[list[Volume], Field(max_length=32, json_schema_extra=NAMED_LIST), UNIQUE_NAMES] = []
    """Volumes the driver's and the executors' containers may mount (volumeMounts)."""
    pods: PodSettings = PodSettings()
    """Settings the driver and the executors share; their own add to these (labels, env, lists) or replace them."""
    deps: Dependencies = Dependencies()
    """Jars, files and packages fetched when the application starts."""
    ui: SparkUi = SparkUi()
    """How the Spark UI is reached: its URL is in status.kubernetes.uiUrl."""
    monitoring: Monitoring = Monitoring()
    """Prometheus metrics of the driver and executors."""
    event_log: EventLog | None = None
    """Spark's event log, for a history server."""
    spark_config_map: ResourceName | None = None
    """A ConfigMap in the job's namespace with Spark's configuration files: spark-defaults.conf (under
    app.sparkConf and what kubricks sets), log4j2.properties and any other file of SPARK_CONF_DIR."""
    driver_start_timeout_seconds: Annotated[int, Field(ge=10, le=86400)] = 600
    """How long the driver pod may take to start running (scheduling, image pull) before the attempt fails."""
    queue_name: ResourceName | None = None
    """A Kueue LocalQueue of the job's namespace: the driver and the executors carry kueue.x-k8s.io/queue-name,
    so Kueue's pod integration admits each as the queue's quota allows (executors one by one, so dynamic allocation
    keeps working). To hold the whole job instead, let Kueue or an admission controller set spec.suspend."""
    batch_scheduler: BatchScheduler | None = None
    """Schedule the pods with Volcano or YuniKorn, as a gang unless told otherwise."""

    def settings(self, role: Literal["driver", "executor"]) -> PodSpec:
        """The role's pod settings over the shared ones (spec.kubernetes.pods): maps merged and lists added up,
        the role's entries last; objects merged field by field; a template and any other value the role's when it
        sets one."""
        own: PodSpec = getattr(self, role)
        return own.model_copy(
            update={
                name: _over(name, getattr(self.pods, name), getattr(own, name)) for name in PodSettings.model_fields
            }
        )


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


DRIVER_POD_CONF = {
    "spark.kubernetes.driver.label.": "spec.kubernetes.driver.labels",
    "spark.kubernetes.driver.annotation.": "spec.kubernetes.driver.annotations",
    "spark.kubernetes.driver.service.label.": "spec.kubernetes.driver.serviceLabels",
    "spark.kubernetes.driver.service.annotation.": "spec.kubernetes.driver.serviceAnnotations",
    "spark.kubernetes.driver.node.selector.": "spec.kubernetes.driver.nodeSelector",
    "spark.kubernetes.node.selector.": "spec.kubernetes.pods.nodeSelector",
    "spark.kubernetes.driverEnv.": "spec.kubernetes.driver.env",
    "spark.kubernetes.driver.secrets.": "spec.kubernetes.volumes and spec.kubernetes.driver.volumeMounts",
    "spark.kubernetes.driver.secretKeyRef.": "spec.kubernetes.driver.envValueFrom",
    "spark.kubernetes.driver.volumes.": "spec.kubernetes.volumes and spec.kubernetes.driver.volumeMounts",
    "spark.kubernetes.driver.podTemplateFile": "spec.kubernetes.driver.template",
    "spark.kubernetes.driver.podTemplateContainerName": "spec.kubernetes.driver.template (its first container)",
    "spark.kubernetes.driver.scheduler.name": "spec.kubernetes.driver.schedulerName",
    "spark.kubernetes.scheduler.name": "spec.kubernetes.pods.schedulerName",
    "spark.kubernetes.container.image.pullPolicy": "spec.image.pullPolicy",
}
"""Spark settings of the driver pod, which spark-submit applies and kubricks, writing the driver pod itself, would
not: each has a field, named here."""


def driver_pod_conf(spark_conf: dict[str, str]) -> list[str]:
    """The keys of ``spark_conf`` that set the driver pod, which a field must set instead."""
    return [key for key in spark_conf if key.startswith(tuple(DRIVER_POD_CONF))]


class SparkJobSpec(ApiModel):
    """One Spark application and where it runs: exactly one of kubernetes or databricks."""

    rules: ClassVar = (
        exactly_one_of("spec", "kubernetes", "databricks"),
        Rule(
            cel="!has(self.kubernetes) || !has(self.app.sparkConf) || self.app.sparkConf.all(k, "
            + " && ".join(f"!k.startsWith('{prefix}')" for prefix in DRIVER_POD_CONF)
            + ")",
            message="spec.app.sparkConf: kubricks writes the driver pod itself, so Spark's driver pod settings "
            "would be ignored there; set them through fields instead: "
            + "; ".join(f"{key}* → {field}" for key, field in DRIVER_POD_CONF.items()),
            check=lambda spec: spec.kubernetes is None or not driver_pod_conf(spec.app.spark_conf),
        ),
        Rule(
            cel="!has(self.kubernetes) || !has(self.app.sparkConf) || !('spark.ui.port' in self.app.sparkConf)"
            " || self.app.sparkConf['spark.ui.port'] == '4040'",
            message='spec.app.sparkConf["spark.ui.port"] must be 4040 (or left out) on Kubernetes: the driver\'s '
            "Services, the Ingress, the HTTPRoute and the monitors reach the Spark UI there",
            check=lambda spec: spec.kubernetes is None or spec.app.spark_conf.get("spark.ui.port", "4040") == "4040",
        ),
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
    suspend: bool = False
    """Hold the job: while true nothing is created. Set on a submitted or running job, it stops the attempt
    (its pods are deleted, its Databricks run cancelled) and the job waits as Suspended; set back to false, a new
    attempt starts. Kueue, or any admission controller, holds jobs through this field."""
    ttl_seconds_after_finished: Annotated[int, Field(ge=0)] = 86400
    """Seconds after the job finishes before kubricks cleans up as ttlPolicy says; 0 cleans up at once."""
    ttl_policy: Literal["DeleteResources", "DeleteJob"] = "DeleteResources"
    """What goes once ttlSecondsAfterFinished has passed: DeleteResources (the job's pods, Services and
    ConfigMaps; the SparkJob stays, so a GitOps tool that applied it does not create it again and run it twice)
    or DeleteJob (the SparkJob itself, and with it everything it owns, as kubeflow's timeToLiveSeconds does)."""


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

    ui_url: str | None = None
    """Where the Spark UI answers while the driver runs: the Ingress's or HTTPRoute's URL, else the Service's."""
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

    phase: (
        Literal["Pending", "WaitingForImage", "Submitted", "Running", "Suspended", "Succeeded", "Failed", "Cancelled"]
        | None
    ) = None
    """Pending, WaitingForImage, Submitted, Running, Suspended (spec.suspend holds it), Succeeded, Failed or
    Cancelled."""
    target: Literal["kubernetes", "databricks"] | None = None
    """Where the job runs."""
    attempt: Annotated[int, Field(ge=0)] | None = None
    """The current attempt, from 1: a retry, a resumed suspension and a spec edit of a finished job each start
    the next."""
    retries: Annotated[int, Field(ge=0)] | None = None
    """Retries of the current spec so far (restartPolicy.retries bounds them); a spec edit counts afresh."""
    image: str | None = None
    """The image reference (by digest) that actually ran."""
    start_time: datetime | None = None
    """When the current attempt started."""
    completion_time: datetime | None = None
    """When the job finished."""
    next_attempt_time: datetime | None = None
    """When the next attempt starts, while a failed attempt backs off."""
    spec_digest: str | None = None
    """A digest of what the current attempt runs (the spec without suspend and the TTL fields): a finished job
    runs again when its spec's digest differs."""
    expired_time: datetime | None = None
    """When ttlSecondsAfterFinished passed and the job's pods and resources were deleted (ttlPolicy
    DeleteResources keeps the SparkJob)."""
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
