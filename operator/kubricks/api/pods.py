"""Kubernetes' own pod types, the parts a SparkJob's pods may set, with Kubernetes' field names and meanings.

They are modelled rather than passed through so that ``kubectl explain`` teaches them and the API server refuses
a mistake when the SparkJob is applied, not when its driver is created. What they leave out, a SparkJob's raw
``template`` carries.
"""

from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field
from pydantic.config import JsonDict

from kubricks.api.base import (
    DNS_LABEL,
    ENV_NAME,
    ENV_NAMES,
    ApiModel,
    EnvName,
    ImageReference,
    ResourceName,
    Rule,
    SecretKey,
    StringMap,
    exactly_one_of,
    map_keys,
)

ContainerName = Annotated[str, Field(pattern=DNS_LABEL, min_length=1, max_length=63)]
VolumeName = Annotated[str, Field(pattern=DNS_LABEL, min_length=1, max_length=63)]
Path = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]+$", max_length=4096)]
FileMode = Annotated[int, Field(ge=0, le=0o777)]
Quantity = Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)?([eE][0-9]+|[kMGTPE]i?|m|n|u)?$", max_length=64)]
LabelKey = Annotated[str, Field(min_length=1, max_length=316)]
Words = Annotated[list[Annotated[str, Field(max_length=4096)]], Field(max_length=256)]


def _names_unique(items: list[Any]) -> list[Any]:
    names = [item.name for item in items]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"names must be unique in the list; repeated: {', '.join(duplicates)}")
    return items


NAMED_LIST: JsonDict = {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]}
"""A list of objects keyed by their name, as Kubernetes keeps volumes and containers: the API server refuses two
with one name, and so does pydantic with UNIQUE_NAMES."""
UNIQUE_NAMES = AfterValidator(_names_unique)
HostName = Annotated[str, Field(pattern=r"^[A-Za-z0-9.-]+$", max_length=253)]
IpAddress = Annotated[str, Field(pattern=r"^[0-9a-fA-F.:]+$", max_length=45)]


# --- Environment -------------------------------------------------------------------------------------------------


class KeyRef(ApiModel):
    """One key of a Secret or ConfigMap in the job's namespace."""

    name: ResourceName
    """The Secret's or ConfigMap's name."""
    key: SecretKey
    """The key."""
    optional: bool | None = None
    """Start the container even if the object or the key is missing."""


class FieldRef(ApiModel):
    """A field of the pod."""

    field_path: Annotated[str, Field(pattern=r"^[A-Za-z.\[\]'/_-]+$", max_length=256)]
    """Such as metadata.name, metadata.labels['app'], spec.nodeName, status.podIP."""
    api_version: Annotated[str, Field(max_length=64)] | None = None
    """The API version the path is written in; v1 by default."""


class ResourceFieldRef(ApiModel):
    """A resource request or limit of a container of the pod."""

    resource: Annotated[str, Field(pattern=r"^(requests|limits)\.[a-z.-/]+$", max_length=128)]
    """Such as limits.memory or requests.cpu."""
    container_name: ContainerName | None = None
    """The container; this one by default."""
    divisor: Quantity | None = None
    """The unit of the value, such as 1Mi; 1 by default."""


class EnvVarSource(ApiModel):
    """Where a variable's value comes from: exactly one of secretKeyRef, configMapKeyRef, fieldRef or
    resourceFieldRef."""

    rules: ClassVar = (
        exactly_one_of(
            "spec.kubernetes.<pods|driver|executor>.envValueFrom.<name>",
            "secretKeyRef",
            "configMapKeyRef",
            "fieldRef",
            "resourceFieldRef",
        ),
    )

    secret_key_ref: KeyRef | None = None
    """A key of a Secret."""
    config_map_key_ref: KeyRef | None = None
    """A key of a ConfigMap."""
    field_ref: FieldRef | None = None
    """A field of the pod, such as status.podIP."""
    resource_field_ref: ResourceFieldRef | None = None
    """A resource request or limit of the container."""


class ObjectRef(ApiModel):
    """A Secret or ConfigMap in the job's namespace."""

    name: ResourceName
    """Its name."""
    optional: bool | None = None
    """Start the container even if it is missing."""


class EnvFromSource(ApiModel):
    """Every key of a Secret or ConfigMap as a variable: exactly one of secretRef or configMapRef."""

    rules: ClassVar = (exactly_one_of("spec.kubernetes.<pods|driver|executor>.envFrom[]", "secretRef", "configMapRef"),)

    prefix: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)] | None = None
    """Put before every key to make the variable's name."""
    secret_ref: ObjectRef | None = None
    """A Secret."""
    config_map_ref: ObjectRef | None = None
    """A ConfigMap."""


EnvMap = Annotated[
    dict[EnvName, str],
    Field(
        max_length=256,
        json_schema_extra=map_keys(
            "spec.kubernetes.<pods|driver|executor>.env (and of their containers)", ENV_NAME, ENV_NAMES
        ),
    ),
]
EnvValueFromMap = Annotated[
    dict[EnvName, EnvVarSource],
    Field(
        max_length=64,
        json_schema_extra=map_keys(
            "spec.kubernetes.<pods|driver|executor>.envValueFrom (and of their containers)", ENV_NAME, ENV_NAMES
        ),
    ),
]


_SEGMENT = r"[^/.\x00-\x1f\x7f][^/\x00-\x1f\x7f]*"
SUB_PATH = f"^{_SEGMENT}(/{_SEGMENT})*$"
"""A relative path whose segments do not start with a dot: no .., so it stays inside the volume."""

# --- Volumes -----------------------------------------------------------------------------------------------------


class KeyToPath(ApiModel):
    """One key of a ConfigMap or Secret, projected as a file."""

    key: SecretKey
    """The key."""
    path: Annotated[str, Field(pattern=r"^[^/\x00-\x1f\x7f]([^\x00-\x1f\x7f]*)$", max_length=4096)]
    """The file's path relative to the mount, without a .. element."""
    mode: FileMode | None = None
    """The file's mode, such as 0400 (256 in JSON)."""


class ConfigMapVolume(ApiModel):
    """A ConfigMap's keys as files."""

    name: ResourceName
    """The ConfigMap."""
    items: Annotated[list[KeyToPath], Field(max_length=256)] | None = None
    """Only these keys, at these paths; every key, named after itself, by default."""
    default_mode: FileMode | None = None
    """The files' mode; 0644 by default."""
    optional: bool | None = None
    """Start the pod even if the ConfigMap is missing."""


class SecretVolume(ApiModel):
    """A Secret's keys as files."""

    secret_name: ResourceName
    """The Secret."""
    items: Annotated[list[KeyToPath], Field(max_length=256)] | None = None
    """Only these keys, at these paths; every key, named after itself, by default."""
    default_mode: FileMode | None = None
    """The files' mode; 0644 by default."""
    optional: bool | None = None
    """Start the pod even if the Secret is missing."""


class ClaimVolume(ApiModel):
    """A PersistentVolumeClaim in the job's namespace."""

    claim_name: ResourceName
    """The claim."""
    read_only: bool | None = None
    """Mount it read-only."""


class EmptyDirVolume(ApiModel):
    """A directory that lives as long as the pod."""

    medium: Literal["", "Memory"] | None = None
    """Memory for a tmpfs; the node's disk by default."""
    size_limit: Quantity | None = None
    """The most it may hold, such as 1Gi."""


class HostPathVolume(ApiModel):
    """A file or directory of the node (the namespace's Pod Security level must be privileged)."""

    path: Path
    """The path on the node."""
    type: (
        Literal["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"]
        | None
    ) = None
    """What must be there; nothing is checked by default."""


class Volume(ApiModel):
    """A volume of the Spark pods: exactly one of persistentVolumeClaim, configMap, secret, emptyDir or hostPath.
    Other volume types go in a template."""

    rules: ClassVar = (
        exactly_one_of(
            "spec.kubernetes.volumes[]", "persistentVolumeClaim", "configMap", "secret", "emptyDir", "hostPath"
        ),
    )

    name: VolumeName
    """The volume's name, which volumeMounts refer to."""
    persistent_volume_claim: ClaimVolume | None = None
    """A PersistentVolumeClaim."""
    config_map: ConfigMapVolume | None = None
    """A ConfigMap's keys as files."""
    secret: SecretVolume | None = None
    """A Secret's keys as files."""
    empty_dir: EmptyDirVolume | None = None
    """A scratch directory."""
    host_path: HostPathVolume | None = None
    """A path on the node."""


class VolumeMount(ApiModel):
    """Where a volume of spec.kubernetes.volumes appears in a container."""

    name: VolumeName
    """The volume, by its name in spec.kubernetes.volumes."""
    mount_path: Annotated[str, Field(pattern=r"^/[^:\x00-\x1f\x7f]*$", max_length=4096)]
    """The absolute path in the container."""
    sub_path: Annotated[str, Field(pattern=SUB_PATH, max_length=4096)] | None = None
    """Mount only this path within the volume."""
    read_only: bool | None = None
    """Mount it read-only."""


# --- Placement ---------------------------------------------------------------------------------------------------


class Requirement(ApiModel):
    """A label key, an operator and values."""

    key: LabelKey
    """The label key."""
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    """In, NotIn, Exists, DoesNotExist (and for node labels Gt, Lt)."""
    values: Annotated[list[Annotated[str, Field(max_length=63)]], Field(max_length=64)] | None = None
    """The values; none with Exists and DoesNotExist."""


class NodeSelectorTerm(ApiModel):
    """Node labels (matchExpressions) and fields (matchFields), all of which must match."""

    match_expressions: Annotated[list[Requirement], Field(max_length=16)] | None = None
    """Requirements on node labels."""
    match_fields: Annotated[list[Requirement], Field(max_length=16)] | None = None
    """Requirements on node fields (metadata.name)."""


class NodeSelector(ApiModel):
    """Terms of which at least one must match."""

    node_selector_terms: Annotated[list[NodeSelectorTerm], Field(max_length=16)]
    """The terms, ORed."""


class PreferredSchedulingTerm(ApiModel):
    """A node term and how much matching it weighs."""

    weight: Annotated[int, Field(ge=1, le=100)]
    """1 to 100."""
    preference: NodeSelectorTerm
    """The term."""


class NodeAffinity(ApiModel):
    """Which nodes the pod may or would rather land on."""

    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    """Nodes the pod must land on."""
    preferred_during_scheduling_ignored_during_execution: (
        Annotated[list[PreferredSchedulingTerm], Field(max_length=16)] | None
    ) = None
    """Nodes the pod would rather land on."""


class LabelSelector(ApiModel):
    """Labels (matchLabels) and requirements (matchExpressions), all of which must match."""

    match_labels: StringMap | None = None
    """Labels that must be equal."""
    match_expressions: Annotated[list[Requirement], Field(max_length=16)] | None = None
    """Requirements."""


class PodAffinityTerm(ApiModel):
    """Pods, found by labels in some namespaces, and the topology (node, zone) to share or avoid with them."""

    label_selector: LabelSelector | None = None
    """The pods."""
    namespaces: Annotated[list[ResourceName], Field(max_length=16)] | None = None
    """Their namespaces; the job's by default."""
    namespace_selector: LabelSelector | None = None
    """Their namespaces, by label."""
    topology_key: LabelKey
    """The node label that says what "together" means, such as kubernetes.io/hostname."""


class WeightedPodAffinityTerm(ApiModel):
    """A pod affinity term and how much matching it weighs."""

    weight: Annotated[int, Field(ge=1, le=100)]
    """1 to 100."""
    pod_affinity_term: PodAffinityTerm
    """The term."""


class PodAffinity(ApiModel):
    """Pods to be placed with (podAffinity) or away from (podAntiAffinity)."""

    required_during_scheduling_ignored_during_execution: (
        Annotated[list[PodAffinityTerm], Field(max_length=16)] | None
    ) = None
    """Terms that must hold."""
    preferred_during_scheduling_ignored_during_execution: (
        Annotated[list[WeightedPodAffinityTerm], Field(max_length=16)] | None
    ) = None
    """Terms that should hold."""


class Affinity(ApiModel):
    """Kubernetes affinity: where the pod may land, by node and by the pods already there."""

    node_affinity: NodeAffinity | None = None
    """By node labels."""
    pod_affinity: PodAffinity | None = None
    """Near other pods."""
    pod_anti_affinity: PodAffinity | None = None
    """Away from other pods."""


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


class HostAlias(ApiModel):
    """Lines added to the pod's /etc/hosts."""

    ip: IpAddress
    """The address."""
    hostnames: Annotated[list[HostName], Field(max_length=16)]
    """Its names."""


class DnsOption(ApiModel):
    """A resolver option."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$", max_length=64)]
    """Such as ndots."""
    value: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]*$", max_length=64)] | None = None
    """Such as 2."""


class DnsConfig(ApiModel):
    """Resolver settings merged into those the DNS policy gives."""

    nameservers: Annotated[list[IpAddress], Field(max_length=3)] | None = None
    """Name server addresses."""
    searches: Annotated[list[HostName], Field(max_length=32)] | None = None
    """Search domains."""
    options: Annotated[list[DnsOption], Field(max_length=16)] | None = None
    """Resolver options."""


# --- Security ----------------------------------------------------------------------------------------------------


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


# --- Containers --------------------------------------------------------------------------------------------------


class ContainerPort(ApiModel):
    """A port the container listens on."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=15)] | None = None
    """Its name, which Services and probes may refer to."""
    container_port: Annotated[int, Field(ge=1, le=65535)]
    """The port."""
    protocol: Literal["TCP", "UDP", "SCTP"] | None = None
    """TCP by default."""


class Resources(ApiModel):
    """Resource requests and limits, such as cpu: 100m, memory: 64Mi."""

    requests: Annotated[dict[str, Quantity], Field(max_length=16)] | None = None
    """What the scheduler reserves."""
    limits: Annotated[dict[str, Quantity], Field(max_length=16)] | None = None
    """The most the container may use."""


class Container(ApiModel):
    """A container beside the Spark one (a sidecar) or before it (an init container). It runs restricted like the
    Spark container, with its securityContext merged over kubricks' defaults."""

    name: ContainerName
    """The container's name, unique in the pod."""
    image: ImageReference | None = None
    """The image; the job's by default."""
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    """When the kubelet pulls the image; Kubernetes' default by default."""
    command: Words | None = None
    """The entry point; the image's by default."""
    args: Words | None = None
    """The arguments; the image's by default."""
    working_dir: Path | None = None
    """The working directory; the image's by default."""
    env: EnvMap = {}
    """Environment variables."""
    env_value_from: EnvValueFromMap = {}
    """Environment variables taken from a Secret, a ConfigMap or the pod, by name."""
    env_from: Annotated[list[EnvFromSource], Field(max_length=16)] = []
    """Every key of these Secrets and ConfigMaps as a variable."""
    ports: Annotated[list[ContainerPort], Field(max_length=16)] = []
    """Ports it listens on."""
    resources: Resources | None = None
    """Its requests and limits."""
    volume_mounts: Annotated[list[VolumeMount], Field(max_length=32)] = []
    """Volumes of spec.kubernetes.volumes it mounts."""
    security_context: SecurityContext | None = None
    """Its security settings, over kubricks' restricted defaults."""


class InitContainer(Container):
    """A container that runs before the Spark container; with restartPolicy Always, a native sidecar that starts
    first and keeps running."""

    restart_policy: Literal["Always"] | None = None
    """Always makes it a sidecar that runs beside the Spark container (Kubernetes 1.29 and later)."""


Template = Annotated[
    dict[str, Any],
    Field(json_schema_extra={"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
]
"""A raw Kubernetes object, kept as written."""
