"""What a SparkJob's pods may ask for: the Pod Security level of their namespace and the operator's policy. Pure.

The API server's Pod Security admission refuses a driver pod that asks too much, but the executors are Spark's
driver's to create: refused one by one, they would leave the driver waiting. So an attempt is checked before it
creates anything, and a job asking too much fails at once, naming the field to change and what an admin could
allow instead.
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kubricks.api.sparkjob import KubernetesTarget, PodSpec, SparkJob
from kubricks.host_patterns import host_matches
from kubricks.spark.attempt import Attempt
from kubricks.spark.manifests import (
    DRIVER_CONTAINER,
    EXECUTOR_CONTAINER,
    SERVICE_ACCOUNT,
    Submission,
    driver_pod,
    executor_pod_template,
)

Level = Literal["privileged", "baseline", "restricted"]
LEVELS: tuple[Level, ...] = ("privileged", "baseline", "restricted")
"""The Pod Security Standards' levels, from the least to the most restrictive."""
ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"

BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
        "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    }
)  # fmt: skip
"""The capabilities the baseline level lets a container add; restricted allows NET_BIND_SERVICE alone."""
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
RESTRICTED_SECCOMP = ("RuntimeDefault", "Localhost")
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
EXECUTOR_ANNOTATION = "spark.kubernetes.executor.annotation."
EXECUTOR_SERVICE_ACCOUNT = "spark.kubernetes.authenticate.executor.serviceAccountName"
EXECUTOR_VOLUME = re.compile(r"spark\.kubernetes\.executor\.volumes\.(?P<type>[A-Za-z]+)\.(?P<name>[^.]+)\..+")
VOLUME_NEEDS: dict[str, Level] = {"hostPath": "privileged", "nfs": "baseline"}
"""Executor volume types (of Spark's properties) and the least restrictive level that allows them; Spark's others,
emptyDir and persistentVolumeClaim, every level allows."""


# --- Pod Security ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One setting of a job's pods and the least restrictive Pod Security level that allows it."""

    field: str
    value: str
    needs: Level


@dataclass(frozen=True)
class PodSecurity:
    """The Pod Security level a job's namespace enforces. Without a label, the operator's default applies."""

    namespace: str = ""
    level: Level = "restricted"
    labelled: bool = False

    @classmethod
    def of(cls, namespace: str, labels: Mapping[str, str], default: Level) -> "PodSecurity":
        value = labels.get(ENFORCE_LABEL)
        if value is None:
            return cls(namespace, default, labelled=False)
        # A value no level has counts as the most restrictive: the safe side of a typo.
        return cls(namespace, value if value in LEVELS else "restricted", labelled=True)

    def allows(self, finding: Finding) -> bool:
        return LEVELS.index(finding.needs) >= LEVELS.index(self.level)


def security_context_findings(field: str, pod: Mapping[str, Any], container: Mapping[str, Any]) -> list[Finding]:
    """What a pod's and its container's securityContexts (``field``.podSecurityContext, ``field``.securityContext)
    need beyond the restricted level, as the Pod Security Standards say."""
    pod_field, container_field = f"{field}.podSecurityContext", f"{field}.securityContext"
    found = []
    if container.get("privileged"):
        found.append(Finding(f"{container_field}.privileged", "true", "privileged"))
    added = (container.get("capabilities") or {}).get("add") or []
    beyond_baseline = [c for c in added if c not in BASELINE_CAPABILITIES]
    if beyond_baseline:
        found.append(Finding(f"{container_field}.capabilities.add", ", ".join(beyond_baseline), "privileged"))
    beyond_restricted = [c for c in added if c in BASELINE_CAPABILITIES - RESTRICTED_CAPABILITIES]
    if beyond_restricted:
        found.append(Finding(f"{container_field}.capabilities.add", ", ".join(beyond_restricted), "baseline"))
    for context_field, context in ((pod_field, pod), (container_field, container)):
        if (context.get("seccompProfile") or {}).get("type") == "Unconfined":
            found.append(Finding(f"{context_field}.seccompProfile.type", "Unconfined", "privileged"))
        if context.get("runAsNonRoot") is False:
            found.append(Finding(f"{context_field}.runAsNonRoot", "false", "baseline"))
        if context.get("runAsUser") == 0:
            found.append(Finding(f"{context_field}.runAsUser", "0", "baseline"))
    if pod.get("runAsNonRoot") is None and container.get("runAsNonRoot") is None:
        found.append(Finding(f"{pod_field}.runAsNonRoot", "unset", "baseline"))
    seccomp = container.get("seccompProfile") or pod.get("seccompProfile")
    if seccomp is None:
        found.append(Finding(f"{pod_field}.seccompProfile", "unset", "baseline"))
    if container.get("allowPrivilegeEscalation") is not False:
        escalation = "true" if container.get("allowPrivilegeEscalation") else "unset"
        found.append(Finding(f"{container_field}.allowPrivilegeEscalation", escalation, "baseline"))
    dropped = (container.get("capabilities") or {}).get("drop") or []
    if "ALL" not in dropped:
        found.append(Finding(f"{container_field}.capabilities.drop", f"[{', '.join(dropped)}] without ALL", "baseline"))
    return found


def pod_annotations(role: str, spec: PodSpec, spark_conf: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """The annotations a role's pods get, each with the field it comes from: the executors' sparkConf ones too, which
    their own annotations win over, as in the properties."""
    found = {}
    if role == "executor":
        for key, value in spark_conf.items():
            if key.startswith(EXECUTOR_ANNOTATION):
                found[key.removeprefix(EXECUTOR_ANNOTATION)] = (f'spec.app.sparkConf["{key}"]', value)
    for key, value in spec.annotations.items():
        found[key] = (f'spec.kubernetes.{role}.annotations["{key}"]', value)
    return found


def _roles(kubernetes: KubernetesTarget) -> tuple[tuple[str, PodSpec], ...]:
    return ("driver", kubernetes.settings("driver")), ("executor", kubernetes.settings("executor"))


HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def rendered_pods(job: SparkJob) -> dict[str, dict[str, Any]]:
    """The driver pod and the executor pod template as an attempt would create them: what is checked is what
    runs, whatever field (a sidecar, a volume, the raw template) it came from."""
    name, namespace = job.metadata.get("name", "job"), job.metadata.get("namespace", "default")
    submission = Submission.of(job, Attempt(name, namespace, "admission", 1), job.spec.image.ref or "image", None)
    return {"driver": driver_pod(submission)["spec"], "executor": executor_pod_template(submission)["spec"]}


def _container_field(role: str, spark_container: str, container: Mapping[str, Any]) -> str:
    if container.get("name") == spark_container:
        return f"spec.kubernetes.{role}"
    return f"spec.kubernetes.{role} (container {container.get('name')})"


def pod_findings(role: str, pod: Mapping[str, Any], spark_container: str) -> list[Finding]:
    """What a rendered pod needs beyond the restricted level: its containers' and its own securityContexts, host
    namespaces and hostPath volumes."""
    field = f"spec.kubernetes.{role}"
    pod_context = pod.get("securityContext") or {}
    found = []
    for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        container_field = _container_field(role, spark_container, container)
        for finding in security_context_findings(container_field, pod_context, container.get("securityContext") or {}):
            # The pod's own settings are reported once, for the Spark container.
            if container_field == field or not finding.field.startswith(f"{container_field}.podSecurityContext"):
                found.append(finding)
    for key in HOST_NAMESPACES:
        if pod.get(key):
            found.append(Finding(f"{field}.template.spec.{key}", "true", "privileged"))
    for volume in pod.get("volumes", []):
        if "hostPath" in volume:
            path = volume["hostPath"].get("path", "")
            found.append(Finding(f"spec.kubernetes.volumes[{volume['name']}].hostPath", path, "privileged"))
    return found


def pod_security_findings(job: SparkJob) -> list[Finding]:
    """Every setting of the driver's and the executors' pods that the restricted level forbids."""
    kubernetes = job.spec.kubernetes
    if kubernetes is None:
        return []
    spark_conf = job.spec.app.spark_conf
    pods = rendered_pods(job)
    containers = {"driver": DRIVER_CONTAINER, "executor": EXECUTOR_CONTAINER}
    found = []
    for role, spec in _roles(kubernetes):
        found += pod_findings(role, pods[role], containers[role])
        for key, (source, value) in pod_annotations(role, spec, spark_conf).items():
            # AppArmor, chosen by annotation: baseline lets a pod pick a profile, never go without one.
            if key.startswith(APPARMOR_ANNOTATION) and not _confined(value):
                found.append(Finding(source, value, "privileged"))
    for key in spark_conf:
        volume = EXECUTOR_VOLUME.fullmatch(key)
        if volume and volume["type"] in VOLUME_NEEDS:
            kind = volume["type"]
            found.append(Finding(f'spec.app.sparkConf["{key}"]', f"an executor {kind} volume", VOLUME_NEEDS[kind]))
    return list(dict.fromkeys(found))


def _confined(apparmor: str) -> bool:
    return apparmor in ("", "runtime/default") or apparmor.startswith("localhost/")


def pod_security_refusal(job: SparkJob, pod_security: PodSecurity) -> str | None:
    """Why the job's pods would break its namespace's Pod Security level, with the fix; None when they would not."""
    kubernetes = job.spec.kubernetes
    if kubernetes is None:
        return None
    beyond = [f for f in pod_security_findings(job) if not pod_security.allows(f)]
    if not beyond:
        return None
    needed = min((f.needs for f in beyond), key=LEVELS.index)
    source = (
        f"its label {ENFORCE_LABEL}"
        if pod_security.labelled
        else f"it has no {ENFORCE_LABEL} label, so the operator's --default-pod-security-level "
        "(chart value policy.defaultPodSecurityLevel) applies"
    )
    asked = "; ".join(f"{f.field}: {f.value}" for f in beyond)
    return (
        f"the Spark pods would exceed the Pod Security level {pod_security.level} of namespace "
        f"{pod_security.namespace} ({source}): {asked}. Remove or tighten these settings, or have an admin label "
        f"the namespace {ENFORCE_LABEL}={needed}"
    )


# --- The operator's policy ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """What an admin lets SparkJobs' pods ask for beyond what Pod Security judges (``kubricks run`` options, chart
    values policy.*)."""

    service_accounts: tuple[str, ...] = ()
    """The service accounts jobs may name; empty: any. The one kubricks manages is always allowed."""
    toleration_keys: tuple[str, ...] = ()
    """The taint keys pods may tolerate; empty: any."""
    allow_tolerate_all: bool = False
    """Whether a toleration without a key, which tolerates every taint, is allowed."""
    annotation_prefixes: tuple[str, ...] = ()
    """The prefixes of the annotation keys jobs may put on their pods; empty: any."""
    default_pod_security_level: Level = "restricted"
    """The Pod Security level of a namespace without the pod-security.kubernetes.io/enforce label."""
    ui_hosts: tuple[str, ...] = ()
    """Host patterns the Spark UI's Ingress and HTTPRoute may claim; empty: any."""
    ui_service_types: tuple[str, ...] = ("ClusterIP",)
    """The Service types the Spark UI's own Service may have: a NodePort or LoadBalancer puts the UI, which has
    no authentication, outside the cluster."""


def _service_account_violations(job: SparkJob, kubernetes: KubernetesTarget, policy: Policy) -> Iterator[str]:
    if not policy.service_accounts:
        return
    allowed = ", ".join(policy.service_accounts)
    named = (
        ("spec.kubernetes.serviceAccount", kubernetes.service_account),
        (f'spec.app.sparkConf["{EXECUTOR_SERVICE_ACCOUNT}"]', job.spec.app.spark_conf.get(EXECUTOR_SERVICE_ACCOUNT)),
    )
    for field, account in named:
        if account and account != SERVICE_ACCOUNT and account not in policy.service_accounts:
            yield (
                f"{field}: {account} is not an allowed service account; allowed: {allowed}, or none for kubricks' "
                "own (chart value policy.serviceAccounts, kubricks run --allowed-service-account)"
            )


def _toleration_violations(kubernetes: KubernetesTarget, policy: Policy) -> Iterator[str]:
    for role, spec in _roles(kubernetes):
        for index, toleration in enumerate(spec.tolerations):
            field = f"spec.kubernetes.{role}.tolerations[{index}]"
            if not toleration.key:
                if not policy.allow_tolerate_all:
                    yield (
                        f"{field}: a toleration without a key tolerates every taint "
                        "(chart value policy.allowTolerateAll, kubricks run --allow-tolerate-all)"
                    )
            elif policy.toleration_keys and toleration.key not in policy.toleration_keys:
                allowed = ", ".join(policy.toleration_keys)
                yield (
                    f"{field}.key: {toleration.key} is not an allowed taint key; allowed: {allowed} "
                    "(chart value policy.tolerations, kubricks run --allowed-toleration-key)"
                )


def _annotation_violations(job: SparkJob, kubernetes: KubernetesTarget, policy: Policy) -> Iterator[str]:
    if not policy.annotation_prefixes:
        return
    allowed = ", ".join(policy.annotation_prefixes)
    for role, spec in _roles(kubernetes):
        for key, (field, _) in pod_annotations(role, spec, job.spec.app.spark_conf).items():
            if not key.startswith(policy.annotation_prefixes):
                yield (
                    f"{field}: the key has no allowed prefix; allowed: {allowed} "
                    "(chart value policy.annotations, kubricks run --allowed-annotation-prefix)"
                )


def _ui_violations(kubernetes: KubernetesTarget, policy: Policy) -> Iterator[str]:
    ui = kubernetes.ui
    if ui.service and ui.service.type not in policy.ui_service_types:
        allowed = ", ".join(policy.ui_service_types)
        yield (
            f"spec.kubernetes.ui.service.type: {ui.service.type} is not an allowed type for the Spark UI's Service; "
            f"allowed: {allowed} (chart value policy.uiServiceTypes, kubricks run --allowed-ui-service-type)"
        )
    hosts = [("spec.kubernetes.ui.ingress.host", ui.ingress.host)] if ui.ingress else []
    if ui.http_route:
        hosts += [(f"spec.kubernetes.ui.httpRoute.hostnames[{i}]", h) for i, h in enumerate(ui.http_route.hostnames)]
    setting = "(chart value policy.uiHosts, kubricks run --allowed-ui-host)"
    for field, host in hosts:
        if not host_matches(host, policy.ui_hosts):
            yield f"{field}: {host} is not an allowed host; allowed: {', '.join(policy.ui_hosts)} {setting}"
    if ui.http_route and not ui.http_route.hostnames and policy.ui_hosts:
        yield (
            "spec.kubernetes.ui.httpRoute.hostnames: without host names the route answers every host of its "
            f"Gateways; name hosts among: {', '.join(policy.ui_hosts)} {setting}"
        )


def policy_violations(job: SparkJob, policy: Policy) -> list[str]:
    """What the job asks for that the operator's policy does not allow, each naming the field and the policy
    value an admin sets."""
    kubernetes = job.spec.kubernetes
    if kubernetes is None:
        return []
    return [
        *_service_account_violations(job, kubernetes, policy),
        *_toleration_violations(kubernetes, policy),
        *_annotation_violations(job, kubernetes, policy),
        *_ui_violations(kubernetes, policy),
    ]


def refusal(job: SparkJob, pod_security: PodSecurity, policy: Policy) -> str | None:
    """Why the job may not create its pods, or None."""
    violations = policy_violations(job, policy)
    reasons = []
    if violations:
        reasons.append(
            f"the operator's policy does not allow: {'; '.join(violations)}. Change these fields, or have an admin "
            "allow them"
        )
    pod_security_reason = pod_security_refusal(job, pod_security)
    if pod_security_reason:
        reasons.append(pod_security_reason)
    return ". ".join(reasons) or None
