"""kubeflow spark-operator's SparkApplication (sparkoperator.k8s.io/v1beta2) → SparkJob, and its
ScheduledSparkApplication → ScheduledSparkJob. Pure.

Each field of a SparkApplication's spec goes through the handler its table names (SPEC_FIELDS, DRIVER_FIELDS,
EXECUTOR_FIELDS and the smaller ones), in the table's order, so that a handler finds what an earlier one mapped:
the volumes before the pods that mount them, the pods before memoryOverheadFactor. A field no table names is
reported, never dropped in silence. Every value is checked against the kubricks field it goes to: what that field
refuses but a Kubernetes pod takes goes into the pod's raw template, anything else is reported as an Unmapped,
named as in the SparkApplication. The SparkJob is then validated as the API server would validate it; one that is
not valid is not returned, and each reason is reported instead.

Some of what kubeflow made of a SparkApplication its manifest does not say: the Spark UI's Ingress came from the
operator's flags (--ingress-url-format, --ingress-class-name), which the import is given as OperatorFlags. Where a
field maps but kubricks does something different enough to matter (its own Prometheus metrics instead of the JMX
exporter's), a Note says so beside the fields not mapped.

A ScheduledSparkApplication's template is a SparkApplication's spec and goes through the same tables; what its
template loses is reported under spec.template.
"""

import copy
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, Literal, NamedTuple, TypeVar
from urllib.parse import urlsplit

from annotated_types import Le
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from kubricks.api.base import ApiModel, memory_bytes
from kubricks.api.crd import GROUP, VERSION
from kubricks.api.pods import Container, InitContainer, PodSecurityContext, SecurityContext
from kubricks.api.scheduled import ScheduledSparkJob, ScheduledSparkJobSpec
from kubricks.api.sparkjob import (
    DRIVER_POD_CONF,
    AppSpec,
    BatchScheduler,
    Dependencies,
    DriverSpec,
    DynamicAllocation,
    EventLog,
    ExecutorSpec,
    JobImage,
    KubernetesTarget,
    PodSettings,
    PodSpec,
    RestartPolicy,
    SparkJob,
    SparkJobSpec,
    SparkUi,
    UiIngress,
    UiService,
    driver_pod_conf,
)
from kubricks.scheduling import InvalidSchedule, Schedule
from kubricks.spark.attempt import Attempt
from kubricks.spark.manifests import (
    DRIVER_CONTAINER,
    EXECUTOR_CONTAINER,
    MIN_OVERHEAD_MIB,
    Submission,
    spark_properties,
)
from kubricks.spark.ui import DRIVER_METRICS_PATH, EXECUTOR_METRICS_PATH, UI_PORT, UI_PORT_NAME

API_VERSION = "sparkoperator.k8s.io/v1beta2"
APPLICATION = "SparkApplication"
SCHEDULED_APPLICATION = "ScheduledSparkApplication"

UNKNOWN_FIELD = "not a field of kubeflow's v1beta2 API that this importer knows"
MALFORMED = "not of the shape kubeflow's API gives this field"
PLACEHOLDER_UID = "00000000-0000-0000-0000-000000000000"
"""Stands in for the uid the API server gives the SparkJob, when its Spark properties are rendered to compare."""

Role = Literal["driver", "executor"]
ROLES: tuple[Role, ...] = ("driver", "executor")
ROLE_MODELS: dict[Role, type[PodSpec]] = {"driver": DriverSpec, "executor": ExecutorSpec}
SPARK_CONTAINERS: dict[Role, str] = {"driver": DRIVER_CONTAINER, "executor": EXECUTOR_CONTAINER}

KEPT_METADATA = ("name", "generateName", "namespace", "labels", "annotations")
"""What a SparkApplication's metadata says that its SparkJob's should too; the rest (uid, resourceVersion,
managedFields...) the API server wrote about the SparkApplication itself."""
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

HADOOP_CONF_VOLUME = "hadoop-configmap-volume"
HADOOP_CONF_DIR = "/etc/hadoop/conf"
"""Where kubeflow mounts spec.hadoopConfigMap, with HADOOP_CONF_DIR pointing there."""
LOCAL_DIR_PREFIX = "spark-local-dir-"
"""Spark takes volumes named so as its local storage, where kubricks gives it an emptyDir of its own."""
SECRET_TYPE_FILES = {
    "GCPServiceAccount": ("GOOGLE_APPLICATION_CREDENTIALS", "key.json"),
    "HadoopDelegationToken": ("HADOOP_TOKEN_FILE_LOCATION", "hadoop.token"),
}
"""The variable kubeflow points at a file of a mounted Secret of this secretType, and the file."""
PLAIN_MOUNT_TYPE = "Generic"
"""The secretType of a Secret that is only mounted."""
KUBEFLOW_RETRY_INTERVAL = 5
"""Seconds between attempts when a restartPolicy other than Never gives none: kubeflow's default."""

SPARK_CONF_FIELDS: dict[str, tuple[Role, str]] = {
    "spark.driver.cores": ("driver", "cores"),
    "spark.driver.memory": ("driver", "memory"),
    "spark.driver.memoryOverhead": ("driver", "memoryOverhead"),
    "spark.kubernetes.driver.request.cores": ("driver", "coreRequest"),
    "spark.kubernetes.driver.limit.cores": ("driver", "coreLimit"),
    "spark.executor.instances": ("executor", "instances"),
    "spark.executor.cores": ("executor", "cores"),
    "spark.executor.memory": ("executor", "memory"),
    "spark.executor.memoryOverhead": ("executor", "memoryOverhead"),
    "spark.kubernetes.executor.request.cores": ("executor", "coreRequest"),
    "spark.kubernetes.executor.limit.cores": ("executor", "coreLimit"),
}
"""Spark properties that kubricks sets from a pod field: in sparkConf kubeflow passes them on, so they become that
field, unless the SparkApplication sets the field too (which won in kubeflow as well)."""
WHOLE_NUMBER_FIELDS = ("cores", "instances")


@dataclass(frozen=True)
class Unmapped:
    """A field of the SparkApplication that its SparkJob does not carry, and why."""

    field: str
    """As in the SparkApplication: spec.driver.podName, spec.sparkConf[spark.app.name], spec.volumes[2]; or the
    import's option that stood for a flag of kubeflow's operator: --ingress-url-format."""
    reason: str


@dataclass(frozen=True)
class Note:
    """A field of the SparkApplication that its SparkJob carries, but with a difference worth knowing."""

    field: str
    text: str


@dataclass(frozen=True)
class OperatorFlags:
    """Flags of kubeflow's operator that shaped what it made of every SparkApplication, which no manifest says."""

    ingress_url_format: str | None = None
    """--ingress-url-format, such as {{$appName}}.{{$appNamespace}}.spark.example.com: the host of the Ingress
    kubeflow made for each application's UI."""
    ingress_class_name: str | None = None
    """--ingress-class-name: the IngressClass of those Ingresses."""


# --- Checking values against kubricks' fields -------------------------------------------------------------------


@cache
def _adapter(model: type[ApiModel], alias: str) -> TypeAdapter[Any]:
    """Validates one field of ``model``, by its JSON name, as the model does, but alone: no rule across fields."""
    for info in model.model_fields.values():
        if info.alias == alias:
            form: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
            return TypeAdapter(form)
    raise KeyError(f"{model.__name__} has no field {alias}")


def _most(model: type[ApiModel], name: str) -> int:
    """The largest value the model's whole-number field takes."""
    for bound in model.model_fields[name].metadata:
        if isinstance(bound, Le) and isinstance(bound.le, int):
            return bound.le
    raise KeyError(f"{model.__name__}.{name} has no upper bound")


def _why(error: ErrorDetails) -> str:
    return error["msg"].removeprefix("Value error, ")


@dataclass(frozen=True)
class _Refused:
    """What a kubricks field refused: an entry of a map (its key), an item of a list (its index), or, with key
    None, the value as a whole."""

    key: Any
    value: Any
    why: str

    @property
    def suffix(self) -> str:
        return "" if self.key is None else f"[{self.key}]"


def _sort_out(model: type[ApiModel], alias: str, value: Any) -> tuple[Any, list[_Refused]]:
    """What the field ``alias`` of ``model`` takes of ``value`` (None: nothing), and what it refuses. A map or a
    list loses only the entries the field refuses; any other value is taken whole or not at all."""
    adapter = _adapter(model, alias)
    if not isinstance(value, dict | list):
        try:
            adapter.validate_python(value)
        except ValidationError as error:
            return None, [_Refused(None, value, _why(error.errors()[0]))]
        return value, []
    entries: dict[Any, Any] = dict(enumerate(value)) if isinstance(value, list) else dict(value)
    refused: list[_Refused] = []
    while True:
        keys = list(entries)
        candidate = list(entries.values()) if isinstance(value, list) else dict(entries)
        try:
            adapter.validate_python(candidate)
        except ValidationError as error:
            culprits: dict[Any, str] = {}
            for detail in error.errors():
                key = _entry_key(detail["loc"], keys, by_index=isinstance(value, list))
                if key not in entries:
                    return None, [*refused, _Refused(None, value, _why(detail))]
                culprits.setdefault(key, _why(detail))
            refused += [_Refused(key, entries.pop(key), why) for key, why in culprits.items()]
            continue
        return candidate, refused


def _entry_key(location: tuple[int | str, ...], keys: list[Any], by_index: bool) -> Any:
    """The key (or original index) of the entry an error is about; None for an error about the value as a whole."""
    if not location:
        return None
    if not by_index:
        return location[0]
    position = location[0]
    return keys[position] if isinstance(position, int) and position < len(keys) else None


def _merge(target: dict[str, Any], key: str, value: Any) -> None:
    """``value`` into ``target[key]``: lists add up, objects merge (the new value's keys win), else it replaces."""
    existing = target.get(key)
    if isinstance(existing, list) and isinstance(value, list):
        existing.extend(value)
    elif isinstance(existing, dict) and isinstance(value, dict):
        existing.update(value)
    else:
        target[key] = value


# --- The SparkJob being made --------------------------------------------------------------------------------------


VolumeKind = Literal["modelled", "template", "lost"]


@dataclass
class _Draft:
    """The SparkJob being made from one SparkApplication's spec."""

    source: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    """The SparkJob's: its name and namespace fill in the Ingress URL format's placeholders."""
    flags: OperatorFlags = OperatorFlags()
    spec: dict[str, Any] = field(default_factory=lambda: {"image": {}, "app": {}, "kubernetes": {}})
    unmapped: list[Unmapped] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    volume_kinds: dict[str, VolumeKind] = field(default_factory=dict)
    """The SparkApplication's volumes by name: in spec.kubernetes.volumes, in the templates of the pods that mount
    them (a type kubricks does not model), or not mapped."""
    template_volumes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def lose(self, path: str, reason: str) -> None:
        self.unmapped.append(Unmapped(path, reason))

    def note(self, path: str, text: str) -> None:
        self.notes.append(Note(path, text))

    def section(self, *keys: str) -> dict[str, Any]:
        """The object at ``keys`` under spec, made empty where missing."""
        node = self.spec
        for key in keys:
            node = node.setdefault(key, {})
        return node

    def put(self, keys: tuple[str, ...], model: type[ApiModel], alias: str, value: Any, path: str) -> bool:
        """``value`` into the field ``alias`` of the section at ``keys``, as far as the field takes it; what it
        refuses is reported. False when nothing was taken."""
        kept, refused = _sort_out(model, alias, value)
        for entry in refused:
            self.lose(path + entry.suffix, entry.why)
        if kept in (None, {}, []):
            return False
        self.section(*keys)[alias] = kept
        return True

    def add_volume(self, volume: dict[str, Any], path: str) -> bool:
        """A volume kubricks models into spec.kubernetes.volumes, once; False (reported) when it cannot go."""
        name = volume["name"]
        present = [v for v in self.spec["kubernetes"].get("volumes", []) if v["name"] == name]
        if (present and present[0] != volume) or self.volume_kinds.get(name, "modelled") != "modelled":
            self.lose(path, f"a different volume is already named {name}")
            return False
        if present:
            return True
        _, refused = _sort_out(KubernetesTarget, "volumes", [volume])
        if refused:
            self.lose(path, refused[0].why)
            return False
        self.spec["kubernetes"].setdefault("volumes", []).append(volume)
        self.volume_kinds[name] = "modelled"
        return True


@dataclass
class _Pod:
    """The driver's or the executors' settings of the SparkJob being made."""

    draft: _Draft
    role: Role

    @property
    def settings(self) -> dict[str, Any]:
        return self.draft.section("kubernetes", self.role)

    def lose(self, path: str, reason: str) -> None:
        self.draft.lose(path, reason)

    def put(self, alias: str, value: Any, path: str) -> bool:
        return self.draft.put(("kubernetes", self.role), ROLE_MODELS[self.role], alias, value, path)

    def put_or_template(self, alias: str, value: Any, target: Callable[[], dict[str, Any]], key: str) -> None:
        """``value`` into the field ``alias`` as far as it takes it; what it refuses into ``target()[key]`` of the
        pod template, where Kubernetes reads the same value."""
        kept, refused = _sort_out(ROLE_MODELS[self.role], alias, value)
        if kept not in (None, {}, []):
            self.settings[alias] = kept
        for entry in refused:
            if entry.key is None:
                target()[key] = entry.value
            elif isinstance(value, list):
                _merge(target(), key, [entry.value])
            else:
                _merge(target(), key, {entry.key: entry.value})

    def template_spec(self) -> dict[str, Any]:
        template: dict[str, Any] = self.settings.setdefault("template", {})
        spec: dict[str, Any] = template.setdefault("spec", {})
        return spec

    def spark_container(self) -> dict[str, Any]:
        """The template's first container: kubricks, like Spark, makes the Spark container of it."""
        containers: list[dict[str, Any]] = self.template_spec().setdefault("containers", [])
        if not containers:
            containers.append({"name": SPARK_CONTAINERS[self.role]})
        return containers[0]

    def use_template_volume(self, volume: dict[str, Any]) -> None:
        volumes = self.template_spec().setdefault("volumes", [])
        if all(present.get("name") != volume["name"] for present in volumes):
            volumes.append(volume)

    def put_mount(self, mount: dict[str, Any], path: str) -> bool:
        _, refused = _sort_out(ROLE_MODELS[self.role], "volumeMounts", [mount])
        if refused:
            self.lose(path, refused[0].why)
            return False
        self.settings.setdefault("volumeMounts", []).append(mount)
        return True


UI_SERVICE = ("kubernetes", "ui", "service")
UI_INGRESS = ("kubernetes", "ui", "ingress")


@dataclass
class _Ui:
    """Settings of a Service, and of its Ingress, that kubeflow put in front of the driver's UI port: they become
    spec.kubernetes.ui."""

    draft: _Draft
    default_port_name: str
    """What kubeflow named the Service's port when the settings name none."""
    no_ingress: str | None
    """Why the Ingress settings are not mapped when the SparkJob has no ui.ingress; None when kubeflow made no
    Ingress of them either."""

    def lose(self, path: str, reason: str) -> None:
        self.draft.lose(path, reason)

    def ingress(self, path: str) -> dict[str, Any] | None:
        """The SparkJob's ui.ingress, where the setting at ``path`` goes; None when it has none (reported where
        kubeflow made an Ingress)."""
        ingress: dict[str, Any] | None = (self.draft.spec["kubernetes"].get("ui") or {}).get("ingress")
        if ingress is None and self.no_ingress is not None:
            self.lose(path, self.no_ingress)
        return ingress


@dataclass
class _ScheduleDraft:
    """The ScheduledSparkJob being made from one ScheduledSparkApplication's spec."""

    source_metadata: dict[str, Any]
    """The ScheduledSparkApplication's: its template's SparkJob is made as kubeflow made each run, with its labels."""
    namespace: str | None
    flags: OperatorFlags
    spec: dict[str, Any] = field(
        default_factory=lambda: {
            "successfulRunsHistoryLimit": KUBEFLOW_HISTORY_LIMIT,
            "failedRunsHistoryLimit": KUBEFLOW_HISTORY_LIMIT,
        }
    )
    refused: bool = False
    """A field was refused in a way that leaves no valid ScheduledSparkJob to make."""
    unmapped: list[Unmapped] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def lose(self, path: str, reason: str) -> None:
        self.unmapped.append(Unmapped(path, reason))

    def note(self, path: str, text: str) -> None:
        self.notes.append(Note(path, text))


Scope = TypeVar("Scope", _Draft, _Pod, _Ui, _ScheduleDraft)
Handler = Callable[[Scope, str, Any], None]


def _map_fields(scope: Scope, path: str, value: Any, fields: dict[str, Handler[Scope]]) -> None:
    """Each field of the object ``value`` (at ``path``) through its handler, in the table's order; a field the
    table does not name is reported."""
    if not isinstance(value, dict):
        scope.lose(path, "not an object")
        return
    for key, handler in fields.items():
        if value.get(key) is None:
            continue
        try:
            handler(scope, f"{path}.{key}", value[key])
        except (AttributeError, TypeError):
            # A hand-written file may hold a value of another shape than kubeflow's API server would have let in.
            scope.lose(f"{path}.{key}", MALFORMED)
    for key in value:
        if key not in fields:
            scope.lose(f"{path}.{key}", UNKNOWN_FIELD)


def _ignored(scope: _Draft | _Pod | _ScheduleDraft, path: str, value: Any) -> None:
    """A field kubricks needs no counterpart of."""


def _lost(reason: str) -> Callable[[_Draft | _Pod, str, Any], None]:
    def handle(scope: _Draft | _Pod, path: str, value: Any) -> None:
        scope.lose(path, reason)

    return handle


# --- The driver and the executors ----------------------------------------------------------------------------------


def _copy(alias: str) -> Handler[_Pod]:
    def handle(pod: _Pod, path: str, value: Any) -> None:
        pod.put(alias, value, path)

    return handle


def _whole_number(alias: str) -> Handler[_Pod]:
    """kubeflow's newer versions write cores as an int-or-string."""

    def handle(pod: _Pod, path: str, value: Any) -> None:
        pod.put(alias, int(value) if isinstance(value, str) and value.isdigit() else value, path)

    return handle


def _pod_field(alias: str) -> Handler[_Pod]:
    """A pod field kubricks models under Kubernetes' name; what the model refuses goes to the template's pod spec,
    where Kubernetes takes it."""

    def handle(pod: _Pod, path: str, value: Any) -> None:
        pod.put_or_template(alias, value, pod.template_spec, alias)

    return handle


def _in_template_spec(key: str) -> Handler[_Pod]:
    """A pod field kubricks does not model: into the template's pod spec."""

    def handle(pod: _Pod, path: str, value: Any) -> None:
        if value is not False:
            pod.template_spec()[key] = value

    return handle


def _in_spark_container(key: str) -> Handler[_Pod]:
    """A field of the Spark container kubricks does not model: into the template's first container."""

    def handle(pod: _Pod, path: str, value: Any) -> None:
        _merge(pod.spark_container(), key, value)

    return handle


def _template(pod: _Pod, path: str, value: Any) -> None:
    pod.put("template", value, path)


def _role_image(pod: _Pod, path: str, value: Any) -> None:
    image = pod.draft.spec["image"]
    if "ref" not in image and pod.draft.source.get("image") is None:
        pod.draft.put(("image",), JobImage, "ref", value, path)
    elif image.get("ref") != value:
        pod.lose(path, "kubricks runs the driver and the executors from one image, spec.image")


def _memory_overhead(pod: _Pod, path: str, value: Any) -> None:
    """kubeflow reads a bare number as MiB, as Spark does."""
    pod.put("memoryOverhead", f"{value}m" if str(value).isdigit() else value, path)


def _gpu(pod: _Pod, path: str, value: Any) -> None:
    name = value.get("name")
    if name != "nvidia.com/gpu":
        pod.lose(f"{path}.name", f"kubricks requests nvidia.com/gpu only, not {name}")
        return
    pod.put("gpus", value.get("quantity", 0), f"{path}.quantity")


def _java_options(pod: _Pod, path: str, value: Any) -> None:
    """Line breaks are whitespace between JVM options, as in a YAML block; kubricks keeps the options on one line."""
    pod.put("javaOptions", " ".join(value.split("\n")) if isinstance(value, str) else value, path)


def _set_variable(pod: _Pod, alias: Literal["env", "envValueFrom"], name: Any, value: Any) -> bool:
    """One variable of the Spark container into env (a literal) or envValueFrom, out of the other; False when
    kubricks refuses it (a name Kubernetes allows but kubricks does not, a source it does not model)."""
    _, refused = _sort_out(ROLE_MODELS[pod.role], alias, {name: value})
    if refused:
        return False
    other = "envValueFrom" if alias == "env" else "env"
    pod.settings.setdefault(alias, {})[name] = value
    pod.settings.get(other, {}).pop(name, None)
    return True


def _set_env_var(pod: _Pod, variable: dict[str, Any]) -> None:
    """A Kubernetes EnvVar of the Spark container, modelled where kubricks can, else in the template's container."""
    keys = set(variable)
    if keys <= {"name", "value"} and _set_variable(pod, "env", variable.get("name"), variable.get("value", "")):
        return
    if keys == {"name", "valueFrom"} and _set_variable(pod, "envValueFrom", variable["name"], variable["valueFrom"]):
        return
    _merge(pod.spark_container(), "env", [variable])


def _env(pod: _Pod, path: str, value: Any) -> None:
    for variable in value:
        _set_env_var(pod, variable)


def _env_vars(pod: _Pod, path: str, value: Any) -> None:
    for name, literal in value.items():
        _set_env_var(pod, {"name": name, "value": literal})


def _env_secret_key_refs(pod: _Pod, path: str, value: Any) -> None:
    for name, ref in value.items():
        _set_env_var(
            pod, {"name": name, "valueFrom": {"secretKeyRef": {"name": ref.get("name"), "key": ref.get("key")}}}
        )


def _env_from(pod: _Pod, path: str, value: Any) -> None:
    pod.put_or_template("envFrom", value, pod.spark_container, "envFrom")


def _volume_name(name: Any, suffix: str) -> str:
    """The volume kubeflow (ConfigMaps, -vol) or Spark (Secrets, -volume) names after the object, as a DNS label."""
    return f"{str(name).replace('.', '-')}{suffix}"[:63].rstrip("-")


def _mount_new_volume(pod: _Pod, path: str, volume: dict[str, Any], mount: dict[str, Any]) -> bool:
    return pod.draft.add_volume(volume, path) and pod.put_mount(mount, path)


def _config_maps(pod: _Pod, path: str, value: Any) -> None:
    """Mounted read-only, as kubeflow mounts them."""
    for index, entry in enumerate(value):
        volume = {"name": _volume_name(entry.get("name"), "-vol"), "configMap": {"name": entry.get("name")}}
        mount = {"name": volume["name"], "mountPath": entry.get("path"), "readOnly": True}
        _mount_new_volume(pod, f"{path}[{index}]", volume, mount)


def _secrets(pod: _Pod, path: str, value: Any) -> None:
    """Mounted as Spark mounts spark.kubernetes.<role>.secrets.<name>, with the variable their secretType asks for."""
    for index, entry in enumerate(value):
        at = f"{path}[{index}]"
        volume = {"name": _volume_name(entry.get("name"), "-volume"), "secret": {"secretName": entry.get("name")}}
        mount_path = entry.get("path")
        if not _mount_new_volume(pod, at, volume, {"name": volume["name"], "mountPath": mount_path}):
            continue
        kind = entry.get("secretType", PLAIN_MOUNT_TYPE)
        if kind in SECRET_TYPE_FILES:
            variable, file = SECRET_TYPE_FILES[kind]
            _set_env_var(pod, {"name": variable, "value": posixpath.join(mount_path, file)})
        elif kind != PLAIN_MOUNT_TYPE:
            pod.lose(f"{at}.secretType", f"the Secret is mounted, but kubricks knows no variable for {kind}")


def _volume_mounts(pod: _Pod, path: str, value: Any) -> None:
    for index, mount in enumerate(value):
        at, name = f"{path}[{index}]", mount.get("name")
        kind = pod.draft.volume_kinds.get(name)
        if kind == "modelled":
            pod.put_mount(mount, at)
        elif kind == "template":
            pod.use_template_volume(pod.draft.template_volumes[name])
            _merge(pod.spark_container(), "volumeMounts", [mount])
        elif kind == "lost":
            pod.lose(at, f"its volume {name} was not mapped")
        else:
            pod.lose(at, f"spec.volumes has no volume {name}")


def _kubeflow_escalation(context: dict[str, Any]) -> dict[str, Any]:
    """A container kubeflow ran privileged or with CAP_SYS_ADMIN, which Kubernetes allows only with privilege
    escalation: kubricks' restricted defaults forbid that unless said."""
    added = (context.get("capabilities") or {}).get("add") or []
    escalating = context.get("privileged") is True or "CAP_SYS_ADMIN" in added
    if escalating and "allowPrivilegeEscalation" not in context:
        return {**context, "allowPrivilegeEscalation": True}
    return context


def _security_context(
    alias: str, model: type[ApiModel], in_template: Callable[[_Pod], dict[str, Any]]
) -> Handler[_Pod]:
    """The fields kubricks models into ``alias``, merged over its restricted defaults; the others into the
    template's securityContext."""
    modelled = {info.alias for info in model.model_fields.values()}

    def handle(pod: _Pod, path: str, value: Any) -> None:
        own = _kubeflow_escalation({key: setting for key, setting in value.items() if key in modelled})
        rest = {key: setting for key, setting in value.items() if key not in modelled}
        if own:
            pod.put(alias, own, path)
        if rest:
            _merge(in_template(pod), "securityContext", rest)

    return handle


def _modelled_container(pod: _Pod, alias: str, container: dict[str, Any]) -> dict[str, Any] | None:
    """A Kubernetes container as kubricks models it (env as maps), or None when the model cannot hold it: fields
    it lacks (probes, lifecycle), a variable it refuses, a mount of a volume it does not model."""
    model = InitContainer if alias == "initContainers" else Container
    if not set(container) <= {info.alias for info in model.model_fields.values()}:
        return None
    modelled = {key: setting for key, setting in container.items() if key != "env"}
    if isinstance(container.get("securityContext"), dict):
        modelled["securityContext"] = _kubeflow_escalation(container["securityContext"])
    for variable in container.get("env") or []:
        if set(variable) <= {"name", "value"}:
            modelled.setdefault("env", {})[variable.get("name")] = variable.get("value", "")
        elif set(variable) == {"name", "valueFrom"}:
            modelled.setdefault("envValueFrom", {})[variable["name"]] = variable["valueFrom"]
        else:
            return None
    mounts = container.get("volumeMounts") or []
    if any(pod.draft.volume_kinds.get(mount.get("name")) != "modelled" for mount in mounts):
        return None
    _, refused = _sort_out(ROLE_MODELS[pod.role], alias, [modelled])
    return None if refused else modelled


def _containers(alias: Literal["sidecars", "initContainers"], template_key: str) -> Handler[_Pod]:
    def handle(pod: _Pod, path: str, value: Any) -> None:
        for index, container in enumerate(value):
            modelled = _modelled_container(pod, alias, container)
            if modelled is not None:
                pod.settings.setdefault(alias, []).append(modelled)
                continue
            names = [mount.get("name") for mount in container.get("volumeMounts") or []]
            lost = [name for name in names if pod.draft.volume_kinds.get(name) == "lost"]
            if lost:
                pod.lose(f"{path}[{index}]", f"it mounts the volume {lost[0]}, which was not mapped")
                continue
            for name in names:
                if pod.draft.volume_kinds.get(name) == "template":
                    pod.use_template_volume(pod.draft.template_volumes[name])
            if template_key == "containers":
                pod.spark_container()
            _merge(pod.template_spec(), template_key, [container])

    return handle


def _host_network(pod: _Pod, path: str, value: Any) -> None:
    """With the DNS policy kubeflow gives such a pod, so that it still resolves the cluster's names."""
    if value is True:
        spec = pod.template_spec()
        spec["hostNetwork"] = True
        spec.setdefault("dnsPolicy", "ClusterFirstWithHostNet")


def _service_account(pod: _Pod, path: str, value: Any) -> None:
    if pod.role == "driver":
        pod.draft.put(("kubernetes",), KubernetesTarget, "serviceAccount", value, path)
    else:
        pod.template_spec()["serviceAccountName"] = value


def _delete_on_termination(pod: _Pod, path: str, value: Any) -> None:
    if not isinstance(value, bool):
        pod.lose(path, "not true or false")
        return
    pod.draft.section("app", "sparkConf")["spark.kubernetes.executor.deleteOnTermination"] = str(value).lower()


POD_FIELDS: dict[str, Handler[_Pod]] = {
    # First: the fields below add to the SparkApplication's own template.
    "template": _template,
    "image": _role_image,
    "cores": _whole_number("cores"),
    "coreRequest": _copy("coreRequest"),
    "coreLimit": _copy("coreLimit"),
    "memory": _copy("memory"),
    "memoryOverhead": _memory_overhead,
    "memoryLimit": _lost("kubricks sets the memory limit to the request: memory plus memoryOverhead"),
    "gpu": _gpu,
    "javaOptions": _java_options,
    "labels": _copy("labels"),
    "annotations": _copy("annotations"),
    # In the order kubeflow applies them, so that a later variable of the same name wins as it does there.
    "envVars": _env_vars,
    "envSecretKeyRefs": _env_secret_key_refs,
    "env": _env,
    "envFrom": _env_from,
    "configMaps": _config_maps,
    "secrets": _secrets,
    "volumeMounts": _volume_mounts,
    "nodeSelector": _pod_field("nodeSelector"),
    "affinity": _pod_field("affinity"),
    "tolerations": _pod_field("tolerations"),
    "priorityClassName": _pod_field("priorityClassName"),
    "schedulerName": _pod_field("schedulerName"),
    "terminationGracePeriodSeconds": _pod_field("terminationGracePeriodSeconds"),
    "hostAliases": _pod_field("hostAliases"),
    "dnsConfig": _pod_field("dnsConfig"),
    "podSecurityContext": _security_context("podSecurityContext", PodSecurityContext, _Pod.template_spec),
    "securityContext": _security_context("securityContext", SecurityContext, _Pod.spark_container),
    "sidecars": _containers("sidecars", "containers"),
    "initContainers": _containers("initContainers", "initContainers"),
    "lifecycle": _in_spark_container("lifecycle"),
    "ports": _in_spark_container("ports"),
    "hostNetwork": _host_network,
    "shareProcessNamespace": _in_template_spec("shareProcessNamespace"),
    "runtimeClassName": _in_template_spec("runtimeClassName"),
    "serviceAccount": _service_account,
}
"""The fields of kubeflow's SparkPodSpec and those its DriverSpec and ExecutorSpec both add."""

DRIVER_FIELDS: dict[str, Handler[_Pod]] = {
    **POD_FIELDS,
    "podName": _lost("kubricks names the driver pod itself, one per attempt"),
    "kubernetesMaster": _lost("the driver talks to the API server of the cluster it runs in"),
    "serviceAnnotations": _copy("serviceAnnotations"),
    "serviceLabels": _copy("serviceLabels"),
}

EXECUTOR_FIELDS: dict[str, Handler[_Pod]] = {
    "instances": _whole_number("instances"),
    **POD_FIELDS,
    "deleteOnTermination": _delete_on_termination,
}


def _pods(role: Role, fields: dict[str, Handler[_Pod]]) -> Handler[_Draft]:
    def handle(draft: _Draft, path: str, value: Any) -> None:
        _map_fields(_Pod(draft, role), path, value, fields)

    return handle


def _kubeflow_root(pod: _Pod) -> None:
    """A pod kubeflow ran as root (runAsUser 0) without a word on runAsNonRoot, which kubricks' restricted
    defaults set to true unless said."""
    settings = pod.draft.spec["kubernetes"].get(pod.role, {})
    container, pod_context = settings.get("securityContext", {}), settings.get("podSecurityContext", {})
    if "runAsNonRoot" in container or "runAsNonRoot" in pod_context:
        return
    user_set_in = "securityContext" if "runAsUser" in container else "podSecurityContext"
    if settings.get(user_set_in, {}).get("runAsUser") == 0:
        settings[user_set_in]["runAsNonRoot"] = False


# --- The application, its image and its target ---------------------------------------------------------------------


def _image(draft: _Draft, path: str, value: Any) -> None:
    draft.put(("image",), JobImage, "ref", value, path)


def _image_pull_policy(draft: _Draft, path: str, value: Any) -> None:
    draft.put(("image",), JobImage, "pullPolicy", value, path)


def _image_pull_secrets(draft: _Draft, path: str, value: Any) -> None:
    first, *others = value or [None]
    if first is not None:
        draft.put(("image",), JobImage, "pullSecret", first, f"{path}[0]")
    for index, _ in enumerate(others, start=1):
        draft.lose(f"{path}[{index}]", "kubricks pulls with one Secret, spec.image.pullSecret")


def _application_type(draft: _Draft, path: str, value: Any) -> None:
    """Java, Scala and Python need no field: the application file says which."""
    if value == "R":
        draft.lose(path, "kubricks runs JVM and Python applications, not R")


def _mode(draft: _Draft, path: str, value: Any) -> None:
    if value != "cluster":
        draft.lose(path, "kubricks runs the driver in a pod of its own (cluster mode) only")


def _app_field(alias: str) -> Handler[_Draft]:
    def handle(draft: _Draft, path: str, value: Any) -> None:
        draft.put(("app",), AppSpec, alias, value, path)

    return handle


def _main_class(draft: _Draft, path: str, value: Any) -> None:
    """spark-submit runs a .py application with PythonRunner whatever --class says, and kubricks refuses a
    mainClass beside one."""
    if not str(draft.source.get("mainApplicationFile", "")).endswith(".py"):
        draft.put(("app",), AppSpec, "mainClass", value, path)


def _spark_conf(draft: _Draft, path: str, value: Any) -> None:
    """kubeflow passes hadoopConf after sparkConf, so that hadoopConf wins over a spark.hadoop.* of the same key;
    in kubricks sparkConf wins, so such an entry is left out of it."""
    hadoop_keys = {f"spark.hadoop.{key}" for key in draft.source.get("hadoopConf") or {}}
    conf = {key: setting for key, setting in value.items() if key not in hadoop_keys}
    for key, (role, alias) in SPARK_CONF_FIELDS.items():
        if key not in conf:
            continue
        setting = conf.pop(key)
        if alias in (draft.source.get(role) or {}):
            continue
        if alias in WHOLE_NUMBER_FIELDS and isinstance(setting, str) and setting.isdigit():
            setting = int(setting)
        _Pod(draft, role).put(alias, setting, f"{path}[{key}]")
    for key in driver_pod_conf(conf):
        field_name = next(field for prefix, field in DRIVER_POD_CONF.items() if key.startswith(prefix))
        draft.lose(f"{path}[{key}]", f"kubricks writes the driver pod itself; set this through {field_name}")
        del conf[key]
    _event_log(draft, conf, path)
    draft.put(("app",), AppSpec, "sparkConf", conf, path)


def _kubernetes_field(alias: str) -> Handler[_Draft]:
    def handle(draft: _Draft, path: str, value: Any) -> None:
        draft.put(("kubernetes",), KubernetesTarget, alias, value, path)

    return handle


def _hadoop_config_map(draft: _Draft, path: str, value: Any) -> None:
    """Mounted where kubeflow mounts it, in the driver and the executors, with HADOOP_CONF_DIR pointing there."""
    if not draft.add_volume({"name": HADOOP_CONF_VOLUME, "configMap": {"name": value}}, path):
        return
    pods = draft.section("kubernetes", "pods")
    pods.setdefault("volumeMounts", []).append(
        {"name": HADOOP_CONF_VOLUME, "mountPath": HADOOP_CONF_DIR, "readOnly": True}
    )
    pods.setdefault("env", {})["HADOOP_CONF_DIR"] = HADOOP_CONF_DIR


def _volumes(draft: _Draft, path: str, value: Any) -> None:
    """The types kubricks models into spec.kubernetes.volumes, the others (nfs, csi, projected...) kept for the
    templates of the pods that mount them."""
    for index, volume in enumerate(value):
        at, name = f"{path}[{index}]", volume.get("name")
        if name in draft.volume_kinds:
            draft.lose(at, f"a second volume named {name}")
        elif str(name).startswith(LOCAL_DIR_PREFIX):
            draft.volume_kinds[name] = "lost"
            draft.lose(
                at, "Spark's local storage: kubricks gives Spark an emptyDir of its own, named spark-local-dir-1"
            )
        elif _sort_out(KubernetesTarget, "volumes", [volume])[1]:
            draft.volume_kinds[name] = "template"
            draft.template_volumes[name] = volume
        else:
            draft.add_volume(volume, at)


def _node_selector(draft: _Draft, path: str, value: Any) -> None:
    draft.put(("kubernetes", "pods"), PodSettings, "nodeSelector", value, path)


def _memory_overhead_factor(draft: _Draft, path: str, value: Any) -> None:
    """As the memoryOverhead Spark derives from it, max(factor * memory, 384m), for each pod that sets none: kubricks
    sets the factor itself, from the application's language."""
    try:
        factor = float(value)
    except ValueError:
        draft.lose(path, "not a number")
        return
    for role in ROLES:
        settings = _Pod(draft, role).settings
        if "memoryOverhead" not in settings:
            memory_mib = memory_bytes(settings.get("memory", PodSpec.model_fields["memory"].default)) // 2**20
            settings["memoryOverhead"] = f"{max(int(factor * memory_mib), MIN_OVERHEAD_MIB)}m"


def _dependency(alias: str) -> Handler[_Draft]:
    def handle(draft: _Draft, path: str, value: Any) -> None:
        draft.put(("kubernetes", "deps"), Dependencies, alias, value, path)

    return handle


DEPS_FIELDS: dict[str, Handler[_Draft]] = {
    alias: _dependency(alias)
    for alias in ("jars", "files", "pyFiles", "archives", "packages", "excludePackages", "repositories")
}


def _deps(draft: _Draft, path: str, value: Any) -> None:
    _map_fields(draft, path, value, DEPS_FIELDS)


RESTART_POLICY_FIELDS = (
    "type",
    "onFailureRetries",
    "onFailureRetryInterval",
    "onSubmissionFailureRetries",
    "onSubmissionFailureRetryInterval",
)
DYNAMIC_ALLOCATION_FIELDS = (
    "enabled",
    "initialExecutors",
    "minExecutors",
    "maxExecutors",
    "shuffleTrackingEnabled",
    "shuffleTrackingTimeout",
)


def _restart_policy(draft: _Draft, path: str, value: Any) -> None:
    """kubeflow counts failed submissions apart from failed runs; kubricks counts a refused submission as a failed
    attempt, so one retries and one backoffSeconds cover both."""
    for key in value:
        if key not in RESTART_POLICY_FIELDS:
            draft.lose(f"{path}.{key}", UNKNOWN_FIELD)
    kind = value.get("type") or "Never"
    if kind == "Never" or not draft.put(("restartPolicy",), RestartPolicy, "type", kind, f"{path}.type"):
        return
    interval = value.get("onFailureRetryInterval", KUBEFLOW_RETRY_INTERVAL)
    draft.put(("restartPolicy",), RestartPolicy, "backoffSeconds", interval, f"{path}.onFailureRetryInterval")
    if kind == "Always":
        most = _most(RestartPolicy, "retries")
        draft.section("restartPolicy")["retries"] = most
        draft.lose(
            f"{path}.type", f"kubeflow restarts an Always application without end, kubricks {most} times at most"
        )
    else:
        retries = value.get("onFailureRetries", 0)
        draft.put(("restartPolicy",), RestartPolicy, "retries", retries, f"{path}.onFailureRetries")
        submission_retries = value.get("onSubmissionFailureRetries")
        if submission_retries is not None and submission_retries != retries:
            draft.lose(
                f"{path}.onSubmissionFailureRetries",
                f"kubricks retries a failed submission as a failed run, restartPolicy.retries ({retries}) times",
            )
    submission_interval = value.get("onSubmissionFailureRetryInterval")
    if submission_interval is not None and submission_interval != interval:
        draft.lose(
            f"{path}.onSubmissionFailureRetryInterval",
            f"kubricks waits restartPolicy.backoffSeconds ({interval}) after a failed submission as after a failed run",
        )


def _dynamic_allocation(draft: _Draft, path: str, value: Any) -> None:
    """kubeflow reads nothing else of it unless enabled. Spark starts max(initialExecutors, executor.instances)
    executors, which kubricks' executor.instances says; without maxExecutors it sets no bound, kubricks' most."""
    if value.get("enabled") is not True:
        return
    keys = ("kubernetes", "dynamicAllocation")
    draft.section(*keys)["enabled"] = True
    for alias in ("minExecutors", "maxExecutors"):
        if alias in value:
            draft.put(keys, DynamicAllocation, alias, value[alias], f"{path}.{alias}")
    draft.section(*keys).setdefault("maxExecutors", _most(DynamicAllocation, "max_executors"))
    initial = value.get("initialExecutors")
    if initial is not None:
        executor = _Pod(draft, "executor")
        instances = executor.settings.get("instances")
        both = isinstance(initial, int) and isinstance(instances, int)
        executor.put("instances", max(initial, instances) if both else initial, f"{path}.initialExecutors")
    timeout = value.get("shuffleTrackingTimeout")
    if timeout is not None:
        draft.section("app", "sparkConf")["spark.dynamicAllocation.shuffleTracking.timeout"] = str(timeout)
    if value.get("shuffleTrackingEnabled") is False:
        draft.lose(f"{path}.shuffleTrackingEnabled", "kubricks always tracks shuffles with dynamic allocation")
    for key in value:
        if key not in DYNAMIC_ALLOCATION_FIELDS:
            draft.lose(f"{path}.{key}", UNKNOWN_FIELD)


def _python_version(draft: _Draft, path: str, value: Any) -> None:
    if str(value) != "3":
        draft.lose(path, "kubricks' images run Python 3")


def _time_to_live(draft: _Draft, path: str, value: Any) -> None:
    """kubeflow deletes the application itself once it has lived this long."""
    if draft.put((), SparkJobSpec, "ttlSecondsAfterFinished", value, path):
        draft.spec["ttlPolicy"] = "DeleteJob"


def _suspend(draft: _Draft, path: str, value: Any) -> None:
    if value is True:
        draft.spec["suspend"] = True


BATCH_SCHEDULERS = ("volcano", "yunikorn")
DEFAULT_SCHEDULERS = ("", "default-scheduler", "kube-scheduler")


def _batch_scheduler(draft: _Draft, path: str, value: Any) -> None:
    """kubeflow gangs the driver and its initial executors under Volcano and YuniKorn, as kubricks does."""
    if value in BATCH_SCHEDULERS:
        draft.section("kubernetes", "batchScheduler")["name"] = value
    elif value not in DEFAULT_SCHEDULERS:
        draft.lose(path, f"kubricks' batchScheduler is one of {', '.join(BATCH_SCHEDULERS)}")


def _batch_scheduler_options(draft: _Draft, path: str, value: Any) -> None:
    keys = ("kubernetes", "batchScheduler")
    scheduled = "name" in draft.spec.get("kubernetes", {}).get("batchScheduler", {})
    for key, option in value.items():
        where = f"{path}.{key}"
        if not scheduled:
            draft.lose(where, "without spec.batchScheduler volcano or yunikorn, kubricks has no queue for it")
        elif key == "queue":
            draft.put(keys, BatchScheduler, "queue", option, where)
        elif key == "priorityClassName":
            if draft.put(("kubernetes", "driver"), DriverSpec, "priorityClassName", option, where):
                draft.note(where, "the driver's priorityClassName, which kubricks gives the PodGroup too")
        elif key == "resources":
            draft.lose(where, "kubricks asks for the driver's and the initial executors' requests together")
        else:
            draft.lose(where, UNKNOWN_FIELD)


# --- The Spark UI, its metrics and its event log -------------------------------------------------------------------


KUBEFLOW_UI_PORT_NAME = "spark-driver-ui-port"
"""What kubeflow names the port of the UI's Service when sparkUIOptions.servicePortName does not say."""
KUBEFLOW_PLACEHOLDER = re.compile(r"{{\s*\$(appName|appNamespace|appId)\s*}}")
"""What kubeflow fills in in an Ingress URL format."""
NO_INGRESS_FLAG = (
    "kubeflow made the UI's Ingress only with its operator's --ingress-url-format, which the SparkApplication does "
    "not say: give kubricks import the same --ingress-url-format"
)
JMX_EXPORTER = "kubricks runs no JMX exporter: monitoring.prometheus serves Spark's own metrics on the UI port"
METRICS_CONFIGURATION = (
    "the metrics configuration of kubeflow's JMX exporter: kubricks configures Spark's metrics system itself, "
    "for its PrometheusServlet"
)
KUBEFLOW_JMX_EXPORTER_PORT = 8090
JMX_EXPORTER_FIELDS = ("jmxExporterJar", "port", "portName", "configFile", "configuration")
METRICS_CONFIGURATION_FIELDS = ("metricsProperties", "metricsPropertiesFile")

EVENT_LOG_ENABLED = "spark.eventLog.enabled"
EVENT_LOG_DIR = "spark.eventLog.dir"
EVENT_LOG_COMPRESS = "spark.eventLog.compress"
EVENT_LOG_ROLLING = "spark.eventLog.rolling.enabled"
EVENT_LOG_MAX_FILE_SIZE = "spark.eventLog.rolling.maxFileSize"
SPARK_MAX_FILE_SIZE = "128m"
"""Spark's spark.eventLog.rolling.maxFileSize when rolling is on and the property is not set."""


def _ingress(draft: _Draft, url_format: str, path: str) -> None:
    """The UI's Ingress at the host kubeflow made of ``url_format`` (at ``path``) for this application, of the
    class kubeflow's operator gave every Ingress."""
    host = _ingress_host(draft, url_format, path)
    class_name = draft.flags.ingress_class_name
    if host is not None and draft.put(UI_INGRESS, UiIngress, "host", host, path) and class_name:
        draft.put(UI_INGRESS, UiIngress, "className", class_name, "--ingress-class-name")


def _ingress_host(draft: _Draft, url_format: str, path: str) -> str | None:
    """The host of kubeflow's Ingress URL for the SparkJob; None (reported) when kubricks cannot serve the UI at
    that URL."""
    values = {"appName": draft.metadata.get("name"), "appNamespace": draft.metadata.get("namespace")}
    missing = {
        "appName": "the SparkApplication has no name, only a generateName",
        "appNamespace": "the SparkApplication names no namespace: give kubricks import --namespace",
        "appId": "the Spark application's id is new with each attempt, where the SparkJob's Ingress keeps one host",
    }
    for placeholder in KUBEFLOW_PLACEHOLDER.findall(url_format):
        if values.get(placeholder) is None:
            draft.lose(path, f"{{{{${placeholder}}}}}: {missing[placeholder]}")
            return None
    url = KUBEFLOW_PLACEHOLDER.sub(lambda match: str(values[match[1]]), url_format)
    # As kubeflow reads a format without a scheme.
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.path not in ("", "/"):
        draft.lose(path, f"a path after the host ({parts.path}): kubricks serves the UI at / of a host of its own")
        return None
    return parts.netloc


def _flagged_ingress(draft: _Draft) -> None:
    """kubeflow's operator with --ingress-url-format made the UI of every application an Ingress."""
    if draft.flags.ingress_url_format:
        _ingress(draft, draft.flags.ingress_url_format, "--ingress-url-format")


def _ui_service(alias: str) -> Handler[_Ui]:
    def handle(ui: _Ui, path: str, value: Any) -> None:
        ui.draft.put(UI_SERVICE, UiService, alias, value, path)

    return handle


def _ui_port_name(ui: _Ui, path: str, value: Any) -> None:
    if value not in (ui.default_port_name, UI_PORT_NAME):
        ui.lose(path, f"kubricks names the UI Service's port {UI_PORT_NAME}: what refers to it by name must use that")


def _ui_ingress_url_format(ui: _Ui, path: str, value: Any) -> None:
    _ingress(ui.draft, value, path)


def _ui_ingress_annotations(ui: _Ui, path: str, value: Any) -> None:
    if ui.ingress(path) is not None:
        ui.draft.put(UI_INGRESS, UiIngress, "annotations", value, path)


def _ui_ingress_tls(ui: _Ui, path: str, value: Any) -> None:
    """A wildcard host (*.spark.example.com) that covers the Ingress's host becomes that host: kubricks' TLS hosts
    are host names, and the Ingress serves that one only."""
    ingress = ui.ingress(path)
    if ingress is None:
        return
    host = ingress["host"]
    tls = [
        {**entry, "hosts": list(dict.fromkeys(host if _covers(name, host) else name for name in entry["hosts"]))}
        if isinstance(entry, dict) and isinstance(entry.get("hosts"), list)
        else entry
        for entry in value
    ]
    ui.draft.put(UI_INGRESS, UiIngress, "tls", tls, path)


def _covers(wildcard: Any, host: str) -> bool:
    """Whether ``wildcard`` matches ``host`` as an Ingress's wildcard host does: *. for exactly the first label."""
    if not (isinstance(wildcard, str) and wildcard.startswith("*.") and host.endswith(wildcard[1:])):
        return False
    label = host.removesuffix(wildcard[1:])
    return bool(label) and "." not in label


SPARK_UI_FIELDS: dict[str, Handler[_Ui]] = {
    "servicePort": _ui_service("port"),
    "serviceType": _ui_service("type"),
    "serviceAnnotations": _ui_service("annotations"),
    "serviceLabels": _ui_service("labels"),
    "servicePortName": _ui_port_name,
    "ingressAnnotations": _ui_ingress_annotations,
    "ingressTLS": _ui_ingress_tls,
}
"""Every field of kubeflow's SparkUIConfiguration."""

DRIVER_INGRESS_FIELDS: dict[str, Handler[_Ui]] = {
    # First: the Ingress the settings below go to.
    "ingressURLFormat": _ui_ingress_url_format,
    **SPARK_UI_FIELDS,
}
"""Every field of kubeflow's DriverIngressConfiguration."""


def _spark_ui_options(draft: _Draft, path: str, value: Any) -> None:
    """kubeflow made the UI a Service of its own, and with its operator's --ingress-url-format an Ingress."""
    flagged = draft.flags.ingress_url_format
    no_ingress = "the UI's Ingress was not mapped: see --ingress-url-format" if flagged else NO_INGRESS_FLAG
    _map_fields(_Ui(draft, KUBEFLOW_UI_PORT_NAME, no_ingress), path, value, SPARK_UI_FIELDS)


def _driver_ingress_options(draft: _Draft, path: str, value: Any) -> None:
    """kubeflow exposed each of these ports of the driver through a Service, and an Ingress, of its own; kubricks
    exposes the UI's port only. An entry for it maps as sparkUIOptions do, unless they or --ingress-url-format made
    the UI's Service or Ingress already."""
    for index, options in enumerate(value):
        at, port = f"{path}[{index}]", options.get("servicePort")
        if port != UI_PORT:
            draft.lose(at, f"kubricks exposes the Spark UI's port ({UI_PORT}) only, not {port}")
        elif draft.spec["kubernetes"].get("ui"):
            draft.lose(
                at,
                "kubricks makes one Service and one Ingress for the UI: spec.sparkUIOptions' or --ingress-url-format's",
            )
        else:
            no_ingress = "the UI's Ingress was not mapped: see its ingressURLFormat"
            ui = _Ui(draft, f"driver-ing-{UI_PORT}", no_ingress if options.get("ingressURLFormat") else None)
            _map_fields(ui, at, options, DRIVER_INGRESS_FIELDS)


def _exposed_metrics(draft: _Draft, path: str, value: Any) -> None:
    """kubricks serves the driver's metrics and the executors' together, and needs no JMX exporter for them."""
    if value is True:
        draft.section("kubernetes", "monitoring")["prometheus"] = True
    elif value is not False:
        draft.lose(path, "not true or false")


def _jmx_exporter(draft: _Draft, path: str, value: Any) -> None:
    _map_fields(draft, path, value, {key: _lost(JMX_EXPORTER) for key in JMX_EXPORTER_FIELDS})


MONITORING_FIELDS: dict[str, Handler[_Draft]] = {
    "exposeDriverMetrics": _exposed_metrics,
    "exposeExecutorMetrics": _exposed_metrics,
    **{key: _lost(METRICS_CONFIGURATION) for key in METRICS_CONFIGURATION_FIELDS},
    "prometheus": _jmx_exporter,
}
"""Every field of kubeflow's MonitoringSpec."""


def _monitoring(draft: _Draft, path: str, value: Any) -> None:
    """kubeflow's JMX exporter becomes Spark's own PrometheusServlet, whose metrics are named otherwise. kubeflow
    made no ServiceMonitor, and neither does the SparkJob."""
    _map_fields(draft, path, value, MONITORING_FIELDS)
    if not isinstance(value, dict) or not draft.spec["kubernetes"].get("monitoring", {}).get("prometheus"):
        return
    prometheus = value.get("prometheus")
    exporter: dict[str, Any] = prometheus if isinstance(prometheus, dict) else {}
    settings = [*(value.get(key) for key in METRICS_CONFIGURATION_FIELDS), *map(exporter.get, JMX_EXPORTER_FIELDS)]
    if any(setting is not None for setting in settings):
        port = exporter.get("port", KUBEFLOW_JMX_EXPORTER_PORT)
        draft.note(
            path,
            f"kubricks serves Spark's own metrics (its PrometheusServlet) on the UI port {UI_PORT}, at "
            f"{DRIVER_METRICS_PATH} and {EXECUTOR_METRICS_PATH}, not the JMX exporter's on port {port}: the metric "
            "names differ, and no prometheus.io/* pod annotations point at them",
        )


def _spark_boolean(value: Any) -> bool | None:
    """A boolean property as Spark reads it, true or false in any case; None for anything else."""
    return {"true": True, "false": False}.get(str(value).strip().lower())


def _event_log(draft: _Draft, conf: dict[str, Any], path: str) -> None:
    """spark.eventLog.* out of ``conf`` into spec.kubernetes.eventLog, whose properties kubricks sets over sparkConf.
    An event log that is off, or without a directory kubricks takes, stays in sparkConf: without eventLog kubricks
    sets none of these, and Spark reads them as in kubeflow (a directory from the sparkConfigMap's
    spark-defaults.conf, or its default)."""
    directory = conf.get(EVENT_LOG_DIR)
    if _spark_boolean(conf.get(EVENT_LOG_ENABLED)) is not True or directory is None:
        return
    if _sort_out(EventLog, "dir", directory)[1]:
        return
    event_log: dict[str, Any] = {"dir": directory}
    compress = _spark_boolean(conf.get(EVENT_LOG_COMPRESS))
    if compress is not None:
        event_log["compress"] = compress
    elif EVENT_LOG_COMPRESS in conf:
        draft.lose(f"{path}[{EVENT_LOG_COMPRESS}]", "not true or false")
    draft.section("kubernetes")["eventLog"] = event_log
    if _spark_boolean(conf.get(EVENT_LOG_ROLLING)) is True:
        # Spark reads the size in any case; kubricks' field takes it in lower case.
        size = str(conf.get(EVENT_LOG_MAX_FILE_SIZE, SPARK_MAX_FILE_SIZE)).strip().lower()
        at = f"{path}[{EVENT_LOG_MAX_FILE_SIZE}]"
        draft.put(("kubernetes", "eventLog"), EventLog, "rollingMaxFileSize", size, at)
    for key in (EVENT_LOG_ENABLED, EVENT_LOG_DIR, EVENT_LOG_COMPRESS, EVENT_LOG_ROLLING, EVENT_LOG_MAX_FILE_SIZE):
        conf.pop(key, None)


SPEC_FIELDS: dict[str, Handler[_Draft]] = {
    "type": _application_type,
    "sparkVersion": _ignored,
    "mode": _mode,
    "proxyUser": _lost("kubricks has no spark-submit --proxy-user: the driver runs as its pod's user"),
    "image": _image,
    "imagePullPolicy": _image_pull_policy,
    "imagePullSecrets": _image_pull_secrets,
    "mainApplicationFile": _app_field("mainApplicationFile"),
    "mainClass": _main_class,
    "arguments": _app_field("arguments"),
    # Before the pods: a pod field set in the SparkApplication wins over the same property in sparkConf.
    "sparkConf": _spark_conf,
    "hadoopConf": _app_field("hadoopConf"),
    "sparkConfigMap": _kubernetes_field("sparkConfigMap"),
    # Before the pods, which mount them.
    "volumes": _volumes,
    "hadoopConfigMap": _hadoop_config_map,
    "nodeSelector": _node_selector,
    "driver": _pods("driver", DRIVER_FIELDS),
    "executor": _pods("executor", EXECUTOR_FIELDS),
    # After the pods, whose memory and instances they read.
    "memoryOverheadFactor": _memory_overhead_factor,
    "dynamicAllocation": _dynamic_allocation,
    "deps": _deps,
    "restartPolicy": _restart_policy,
    "timeToLiveSeconds": _time_to_live,
    "pythonVersion": _python_version,
    # kubeflow's controller reads neither: restartPolicy says how to retry.
    "failureRetries": _ignored,
    "retryInterval": _ignored,
    "monitoring": _monitoring,
    # Before driverIngressOptions, whose entry for the UI's port maps only where these made no UI Service or Ingress.
    "sparkUIOptions": _spark_ui_options,
    "driverIngressOptions": _driver_ingress_options,
    "batchScheduler": _batch_scheduler,
    # After batchScheduler, whose queue they set.
    "batchSchedulerOptions": _batch_scheduler_options,
    "suspend": _suspend,
    "driverPodDisruptionBudget": _lost("kubricks makes no PodDisruptionBudget for the driver"),
}
"""Every field of kubeflow's SparkApplicationSpec, in the order they are mapped."""


# --- One SparkApplication, and a stream of documents ---------------------------------------------------------------


def _executor_count(draft: _Draft) -> None:
    """kubeflow starts one executor when neither executor.instances nor dynamic allocation says; kubricks two."""
    enabled = draft.spec["kubernetes"].get("dynamicAllocation", {}).get("enabled", False)
    if not enabled:
        _Pod(draft, "executor").settings.setdefault("instances", 1)


def _template_containers_volumes(pod: _Pod) -> None:
    """kubricks gives a pod the job's volumes that its modelled containers mount; one that only a container of the
    template mounts goes into the template too."""
    settings = pod.draft.spec["kubernetes"].get(pod.role, {})
    template_spec = (settings.get("template") or {}).get("spec") or {}
    shared = pod.draft.spec["kubernetes"].get("pods", {})
    modelled = [settings, shared, *settings.get("sidecars", []), *settings.get("initContainers", [])]
    mounted = {mount["name"] for container in modelled for mount in container.get("volumeMounts", [])}
    volumes = {volume["name"]: volume for volume in pod.draft.spec["kubernetes"].get("volumes", [])}
    for container in [*(template_spec.get("containers") or []), *(template_spec.get("initContainers") or [])]:
        for mount in container.get("volumeMounts") or []:
            name = mount.get("name")
            if name in volumes and name not in mounted:
                pod.use_template_volume(volumes[name])


def _metadata(source: dict[str, Any], namespace: str | None) -> dict[str, Any]:
    metadata = {key: copy.deepcopy(source[key]) for key in KEPT_METADATA if source.get(key)}
    annotations = metadata.get("annotations", {})
    annotations.pop(LAST_APPLIED, None)
    if not annotations:
        metadata.pop("annotations", None)
    if namespace:
        metadata["namespace"] = namespace
    return metadata


def _application_labels(draft: _Draft, labels: dict[str, Any]) -> None:
    """kubeflow puts the SparkApplication's labels on its driver pod too, under the driver's own."""
    if labels:
        driver = _Pod(draft, "driver")
        driver.put("labels", {**labels, **driver.settings.get("labels", {})}, "metadata.labels")


def _location(location: Iterable[int | str]) -> str:
    """A pydantic error's location as a SparkJob field: spec.kubernetes.volumes[0]."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":
            path += f".{part}" if path else part
    return path


def _overridden_spark_conf(job: SparkJob) -> list[Unmapped]:
    """The sparkConf entries kubricks replaces with values of its own, where kubeflow passed them on."""
    metadata = job.metadata
    attempt = Attempt(metadata.get("name", "job"), metadata.get("namespace", "default"), PLACEHOLDER_UID, 1)
    properties = spark_properties(Submission.of(job, attempt, job.spec.image.ref or "", None))
    return [
        Unmapped(f"spec.sparkConf[{key}]", "kubricks sets this Spark property itself; this value would be ignored")
        for key, value in job.spec.app.spark_conf.items()
        if properties.get(key) != value
    ]


def _in_field_order(section: dict[str, Any], model: type[ApiModel]) -> dict[str, Any]:
    """``section`` with its fields in the order of the model's, as kubectl explain lists them, so that a SparkJob
    reads in the same order."""
    return {info.alias: section[info.alias] for info in model.model_fields.values() if info.alias in section}


class Conversion(NamedTuple):
    """What one SparkApplication becomes."""

    job: dict[str, Any] | None
    """The SparkJob; None when no valid one can be made."""
    unmapped: list[Unmapped]
    notes: list[Note]


def spark_job(
    application: dict[str, Any], namespace: str | None = None, flags: OperatorFlags = OperatorFlags()
) -> Conversion:
    """The SparkJob of a kubeflow SparkApplication, what it does not carry, and what it carries differently.
    ``namespace``, when given, replaces the SparkApplication's; ``flags`` are those kubeflow's operator ran with."""
    source = copy.deepcopy(application)
    spec = source.get("spec") or {}
    metadata = _metadata(source.get("metadata") or {}, namespace)
    draft = _Draft(spec, metadata, flags)
    _flagged_ingress(draft)
    _map_fields(draft, "spec", spec, SPEC_FIELDS)
    _executor_count(draft)
    for role in ROLES:
        _kubeflow_root(_Pod(draft, role))
        _template_containers_volumes(_Pod(draft, role))
    _application_labels(draft, metadata.get("labels", {}))
    kubernetes = draft.spec["kubernetes"] = _in_field_order(draft.spec["kubernetes"], KubernetesTarget)
    if "ui" in kubernetes:
        kubernetes["ui"] = _in_field_order(kubernetes["ui"], SparkUi)
    job = {"apiVersion": f"{GROUP}/{VERSION}", "kind": SparkJob.KIND, "metadata": metadata, "spec": draft.spec}
    try:
        model = SparkJob.model_validate(job)
    except ValidationError as error:
        invalid = [Unmapped(_location(e["loc"]), f"no SparkJob is made: {_why(e)}") for e in error.errors()]
        return Conversion(None, [*draft.unmapped, *invalid], draft.notes)
    return Conversion(job, [*draft.unmapped, *_overridden_spark_conf(model)], draft.notes)


# --- ScheduledSparkApplication ----------------------------------------------------------------------------------

KUBEFLOW_HISTORY_LIMIT = 1
"""How many succeeded and how many failed runs kubeflow keeps when a ScheduledSparkApplication does not say."""
KUBEFLOW_LOCAL_ZONE = "Local"
"""kubeflow's timeZone for the time zone of its operator's process."""
SCHEDULE_ZONE = re.compile(r"^(CRON_TZ|TZ)=(\S+)\s+(.+)$")
"""A time zone at the head of a schedule, which kubeflow's cron library reads and kubricks takes in spec.timeZone."""
GO_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
MINUTES_PER_HOUR, HOURS_PER_DAY = 60, 24


def _cron_of_every(duration: str) -> str | None:
    """The cron expression of kubeflow's ``@every <duration>`` where the interval divides an hour or a day evenly
    (whole minutes or hours), so that fixed times of the clock keep it; None for another."""
    match = GO_DURATION.fullmatch(duration)
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total_minutes, remainder = divmod(hours * 3600 + minutes * 60 + seconds, 60)
    if remainder or not total_minutes:
        return None
    if MINUTES_PER_HOUR % total_minutes == 0:
        return f"*/{total_minutes} * * * *"
    every_hours, minutes_left = divmod(total_minutes, MINUTES_PER_HOUR)
    if minutes_left == 0 and HOURS_PER_DAY % every_hours == 0:
        return f"0 */{every_hours} * * *" if every_hours < HOURS_PER_DAY else "0 0 * * *"
    return None


def _schedule(draft: _ScheduleDraft, path: str, value: Any) -> None:
    schedule = str(value).strip()
    zone = SCHEDULE_ZONE.fullmatch(schedule)
    if zone:
        name, schedule = zone.group(2), zone.group(3)
        if draft.spec.setdefault("timeZone", name) != name:
            draft.lose(path, f"names the time zone {name}, and spec.timeZone another: kubricks takes spec.timeZone")
    if schedule.startswith("@every "):
        every = schedule.removeprefix("@every ").strip()
        cron = _cron_of_every(every)
        if cron is None:
            reason = f"no ScheduledSparkJob is made: @every {every} is no whole divisor of an hour or a day, which "
            draft.lose(path, reason + "fixed clock times could keep; write spec.schedule as a cron expression")
            draft.refused = True
            return
        draft.note(path, f"kubeflow ran @every {every} counted from its start; kubricks runs at fixed times: {cron}")
        schedule = cron
    draft.spec["schedule"] = schedule


def _time_zone(draft: _ScheduleDraft, path: str, value: Any) -> None:
    if value == KUBEFLOW_LOCAL_ZONE:
        draft.note(path, "kubeflow read the schedule in its operator's local time zone; kubricks reads it in UTC")
        return
    draft.spec["timeZone"] = value


def _schedule_field(alias: str) -> Handler[_ScheduleDraft]:
    def handle(draft: _ScheduleDraft, path: str, value: Any) -> None:
        draft.spec[alias] = value

    return handle


def _in_template(path: str) -> str:
    """A field of the template's SparkApplication spec, named as in the ScheduledSparkApplication."""
    return f"spec.template.{path.removeprefix('spec.')}" if path.startswith("spec.") else path


def _schedule_template(draft: _ScheduleDraft, path: str, value: Any) -> None:
    application = {"metadata": draft.source_metadata, "spec": value}
    job, lost, notes = spark_job(application, draft.namespace, draft.flags)
    draft.unmapped += [Unmapped(_in_template(entry.field), entry.reason) for entry in lost]
    draft.notes += [Note(_in_template(note.field), note.text) for note in notes]
    if job is None:
        draft.refused = True
        return
    draft.spec["template"] = job["spec"]


SCHEDULED_FIELDS: dict[str, Handler[_ScheduleDraft]] = {
    # Before the schedule, which may name a time zone too.
    "timeZone": _time_zone,
    "schedule": _schedule,
    "concurrencyPolicy": _schedule_field("concurrencyPolicy"),
    "suspend": _schedule_field("suspend"),
    "successfulRunHistoryLimit": _schedule_field("successfulRunsHistoryLimit"),
    "failedRunHistoryLimit": _schedule_field("failedRunsHistoryLimit"),
    "template": _schedule_template,
}
"""The fields of kubeflow's ScheduledSparkApplicationSpec."""


def _refusals(scheduled: dict[str, Any]) -> list[Unmapped]:
    """Why the ScheduledSparkJob could not be valid, as the API server and the operator would judge it."""
    try:
        model = ScheduledSparkJob.model_validate(scheduled)
        Schedule.of(model.spec.schedule, model.spec.time_zone)
    except ValidationError as error:
        # A rule of the whole object is about its name.
        return [Unmapped(_location(e["loc"]) or "metadata.name", f"no ScheduledSparkJob is made: {_why(e)}")
                for e in error.errors()]  # fmt: skip
    except InvalidSchedule as invalid:
        field_name = "spec.timeZone" if invalid.reason == "UnknownTimeZone" else "spec.schedule"
        return [Unmapped(field_name, f"no ScheduledSparkJob is made: {invalid}")]
    return []


def scheduled_spark_job(
    application: dict[str, Any], namespace: str | None = None, flags: OperatorFlags = OperatorFlags()
) -> Conversion:
    """The ScheduledSparkJob of a kubeflow ScheduledSparkApplication, what it does not carry, and what it carries
    differently; its template becomes a SparkJob's spec as a SparkApplication's spec does."""
    source = copy.deepcopy(application)
    draft = _ScheduleDraft(source.get("metadata") or {}, namespace, flags)
    _map_fields(draft, "spec", source.get("spec") or {}, SCHEDULED_FIELDS)
    if draft.refused:
        return Conversion(None, draft.unmapped, draft.notes)
    scheduled = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": ScheduledSparkJob.KIND,
        "metadata": _metadata(draft.source_metadata, namespace),
        "spec": _in_field_order(draft.spec, ScheduledSparkJobSpec),
    }
    refused = _refusals(scheduled)
    return Conversion(None if refused else scheduled, [*draft.unmapped, *refused], draft.notes)


@dataclass(frozen=True)
class Imported:
    """What ``kubricks import`` prints."""

    documents: list[Any]
    """The SparkJobs, and the documents of other kinds unchanged, in their order."""
    messages: list[str]
    """For standard error: one line per field not mapped, one per note, and one per document passed through."""
    unmapped: int
    """How many fields were not mapped."""


def _name(document: Any, number: int) -> str:
    metadata = document.get("metadata") if isinstance(document, dict) else None
    if isinstance(metadata, dict) and (metadata.get("name") or metadata.get("generateName")):
        return str(metadata.get("name") or metadata.get("generateName"))
    return f"document {number}"


def _items(documents: Iterable[Any]) -> Iterable[Any]:
    """The documents, with the items of a List (what kubectl get -o yaml prints) in its place."""
    for document in documents:
        if isinstance(document, dict) and document.get("apiVersion") == "v1" and document.get("kind") == "List":
            yield from document.get("items") or []
        elif document is not None:
            yield document


def import_documents(
    documents: Iterable[Any], namespace: str | None = None, flags: OperatorFlags = OperatorFlags()
) -> Imported:
    """SparkApplications as SparkJobs, ScheduledSparkApplications as ScheduledSparkJobs; any other document
    unchanged."""
    out: list[Any] = []
    messages: list[str] = []
    unmapped = 0
    for number, document in enumerate(_items(documents), start=1):
        name = _name(document, number)
        is_dict = isinstance(document, dict)
        api_version, kind = (document.get("apiVersion"), document.get("kind")) if is_dict else (None, None)
        notes: list[Note] = []
        if api_version == API_VERSION and kind == APPLICATION:
            job, lost, notes = spark_job(document, namespace, flags)
            out += [job] if job is not None else []
        elif api_version == API_VERSION and kind == SCHEDULED_APPLICATION:
            job, lost, notes = scheduled_spark_job(document, namespace, flags)
            out += [job] if job is not None else []
        else:
            out.append(document)
            messages.append(
                f"{name}: passed through unchanged: {kind or 'no kind'} is not a {API_VERSION} {APPLICATION} "
                f"or {SCHEDULED_APPLICATION}"
            )
            continue
        messages += [f"{name}: {entry.field}: {entry.reason}" for entry in lost]
        messages += [f"{name}: {note.field}: note: {note.text}" for note in notes]
        unmapped += len(lost)
    return Imported(out, messages, unmapped)
