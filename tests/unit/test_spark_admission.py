"""What a SparkJob's pods may ask for: the Pod Security Standards' levels and the operator's policy, table-driven."""

from datetime import datetime
from typing import Any

import pytest

from kubricks.api.sparkjob import SparkJob
from kubricks.jobs import ImageState
from kubricks.spark.admission import (
    Finding,
    PodSecurity,
    Policy,
    pod_security_findings,
    pod_security_refusal,
    policy_violations,
    refusal,
    security_context_findings,
)
from kubricks.spark.state import Observation, decide
from tests.invalid_manifests import example, patched

NOW = datetime(2026, 11, 22, 12, 0, 0)
UID = "6f1c1b2a-0000-4000-8000-000000000001"

RESTRICTED = PodSecurity("team", "restricted", labelled=True)
BASELINE = PodSecurity("team", "baseline", labelled=True)
PRIVILEGED = PodSecurity("team", "privileged", labelled=True)
ESCALATING = {"privileged": True, "allowPrivilegeEscalation": True}
APPARMOR = "container.apparmor.security.beta.kubernetes.io"


def job(changes: dict[str, Any] | None = None) -> SparkJob:
    manifest = patched(example("sparkjob-kubernetes-wheel.yaml"), {"metadata.namespace": "team", **(changes or {})})
    return SparkJob.model_validate(manifest)


def findings(changes: dict[str, Any]) -> set[tuple[str, str, str]]:
    resource = job(changes)
    assert resource.spec.kubernetes is not None
    return {(f.field, f.value, f.needs) for f in pod_security_findings(resource)}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, set()),
        # Sidecars, init containers, shared pod settings, volumes and the raw template are checked as rendered.
        (
            {"spec.kubernetes.pods.sidecars": [{"name": "proxy", "securityContext": ESCALATING}]},
            {
                (f"spec.kubernetes.{role} (container proxy).securityContext.{field}", value, needs)
                for role in ("driver", "executor")
                for field, value, needs in (
                    ("privileged", "true", "privileged"),
                    ("allowPrivilegeEscalation", "true", "baseline"),
                )
            },
        ),
        (
            {"spec.kubernetes.driver.initContainers": [{"name": "fetch", "securityContext": {"runAsUser": 0}}]},
            {("spec.kubernetes.driver (container fetch).securityContext.runAsUser", "0", "baseline")},
        ),
        (
            {
                "spec.kubernetes.volumes": [{"name": "node", "hostPath": {"path": "/etc"}}],
                "spec.kubernetes.executor.volumeMounts": [{"name": "node", "mountPath": "/node"}],
            },
            {("spec.kubernetes.volumes[node].hostPath", "/etc", "privileged")},
        ),
        (
            {"spec.kubernetes.driver.template": {"spec": {"hostNetwork": True}}},
            {("spec.kubernetes.driver.template.spec.hostNetwork", "true", "privileged")},
        ),
        (
            {"spec.kubernetes.executor.template": {"spec": {"containers": [{"name": "spark"}, {"name": "raw"}]}}},
            {
                (
                    "spec.kubernetes.executor (container raw).securityContext.allowPrivilegeEscalation",
                    "unset",
                    "baseline",
                ),
                (
                    "spec.kubernetes.executor (container raw).securityContext.capabilities.drop",
                    "[] without ALL",
                    "baseline",
                ),
            },
        ),
        (
            {"spec.kubernetes.driver.template": {"spec": {"securityContext": {"runAsUser": 1000}}}},
            set(),
        ),
        # What every level allows: other users and groups, a read-only root, Localhost seccomp, NET_BIND_SERVICE.
        (
            {
                "spec.kubernetes.driver.podSecurityContext": {
                    "runAsUser": 1000,
                    "runAsGroup": 0,
                    "fsGroup": 1000,
                    "seccompProfile": {"type": "Localhost", "localhostProfile": "spark.json"},
                },
                "spec.kubernetes.driver.securityContext": {
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"add": ["NET_BIND_SERVICE"]},
                },
            },
            set(),
        ),
        (
            {"spec.kubernetes.executor.securityContext": ESCALATING},
            {
                ("spec.kubernetes.executor.securityContext.privileged", "true", "privileged"),
                ("spec.kubernetes.executor.securityContext.allowPrivilegeEscalation", "true", "baseline"),
            },
        ),
        (
            {"spec.kubernetes.driver.securityContext": {"capabilities": {"add": ["NET_RAW", "CHOWN", "SYS_ADMIN"]}}},
            {
                ("spec.kubernetes.driver.securityContext.capabilities.add", "NET_RAW, SYS_ADMIN", "privileged"),
                ("spec.kubernetes.driver.securityContext.capabilities.add", "CHOWN", "baseline"),
            },
        ),
        (
            {"spec.kubernetes.driver.securityContext": {"capabilities": {"drop": ["NET_RAW"]}}},
            {("spec.kubernetes.driver.securityContext.capabilities.drop", "[NET_RAW] without ALL", "baseline")},
        ),
        (
            {"spec.kubernetes.executor.podSecurityContext": {"seccompProfile": {"type": "Unconfined"}}},
            {("spec.kubernetes.executor.podSecurityContext.seccompProfile.type", "Unconfined", "privileged")},
        ),
        (
            {"spec.kubernetes.executor.securityContext": {"seccompProfile": {"type": "Unconfined"}}},
            {("spec.kubernetes.executor.securityContext.seccompProfile.type", "Unconfined", "privileged")},
        ),
        (
            {"spec.kubernetes.driver.podSecurityContext": {"runAsNonRoot": False, "runAsUser": 0}},
            {
                ("spec.kubernetes.driver.podSecurityContext.runAsNonRoot", "false", "baseline"),
                ("spec.kubernetes.driver.podSecurityContext.runAsUser", "0", "baseline"),
            },
        ),
        (
            {"spec.kubernetes.executor.securityContext": {"runAsNonRoot": False, "runAsUser": 0}},
            {
                ("spec.kubernetes.executor.securityContext.runAsNonRoot", "false", "baseline"),
                ("spec.kubernetes.executor.securityContext.runAsUser", "0", "baseline"),
            },
        ),
        (
            {"spec.kubernetes.driver.annotations": {f"{APPARMOR}/x": "unconfined"}},
            {
                (
                    'spec.kubernetes.driver.annotations["container.apparmor.security.beta.kubernetes.io/x"]',
                    "unconfined",
                    "privileged",
                )
            },
        ),
        (
            {
                "spec.kubernetes.driver.annotations": {
                    "container.apparmor.security.beta.kubernetes.io/a": "runtime/default",
                    "container.apparmor.security.beta.kubernetes.io/b": "localhost/spark",
                }
            },
            set(),
        ),
        (
            {"spec.app.sparkConf": {f"spark.kubernetes.executor.annotation.{APPARMOR}/x": "unconfined"}},
            {
                (
                    'spec.app.sparkConf["spark.kubernetes.executor.annotation.'
                    'container.apparmor.security.beta.kubernetes.io/x"]',
                    "unconfined",
                    "privileged",
                )
            },
        ),
        (
            {
                "spec.app.sparkConf": {
                    "spark.kubernetes.executor.volumes.hostPath.data.mount.path": "/data",
                    "spark.kubernetes.executor.volumes.nfs.share.options.server": "nfs.example.com",
                    "spark.kubernetes.executor.volumes.persistentVolumeClaim.x.mount.path": "/x",
                }
            },
            {
                (
                    'spec.app.sparkConf["spark.kubernetes.executor.volumes.hostPath.data.mount.path"]',
                    "an executor hostPath volume",
                    "privileged",
                ),
                (
                    'spec.app.sparkConf["spark.kubernetes.executor.volumes.nfs.share.options.server"]',
                    "an executor nfs volume",
                    "baseline",
                ),
            },
        ),
    ],
    ids=[
        "defaults",
        "shared-sidecar",
        "init-container",
        "host-path-volume",
        "template-host-network",
        "template-container",
        "template-pod-user",
        "allowed-everywhere",
        "privileged",
        "capabilities-beyond-each-level",
        "drop-without-all",
        "unconfined-pod",
        "unconfined-container",
        "root-pod",
        "root-container",
        "apparmor-unconfined",
        "apparmor-profiles",
        "apparmor-by-spark-conf",
        "executor-volumes",
    ],
)
def test_what_each_setting_needs(changes: dict[str, Any], expected: set[tuple[str, str, str]]) -> None:
    """Each setting and the least restrictive Pod Security level that allows it, as the Pod Security Standards say;
    the driver pod's sparkConf volumes are none of Spark's business (kubricks writes the driver pod)."""
    assert findings(changes) == expected


@pytest.mark.parametrize(
    ("pod", "container", "expected"),
    [
        (
            {},
            {},
            {
                ("x.podSecurityContext.runAsNonRoot", "unset", "baseline"),
                ("x.podSecurityContext.seccompProfile", "unset", "baseline"),
                ("x.securityContext.allowPrivilegeEscalation", "unset", "baseline"),
                ("x.securityContext.capabilities.drop", "[] without ALL", "baseline"),
            },
        ),
        (
            {},
            {
                "runAsNonRoot": True,
                "seccompProfile": {"type": "RuntimeDefault"},
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
            set(),
        ),
    ],
    ids=["nothing-set", "all-on-the-container"],
)
def test_what_unset_contexts_need(
    pod: dict[str, Any], container: dict[str, Any], expected: set[tuple[str, str, str]]
) -> None:
    """Restricted asks for settings, not only against some: without them, a pod is baseline at most."""
    assert {(f.field, f.value, f.needs) for f in security_context_findings("x", pod, container)} == expected


@pytest.mark.parametrize(
    ("level", "needs", "allowed"),
    [
        ("restricted", "baseline", False),
        ("restricted", "privileged", False),
        ("baseline", "baseline", True),
        ("baseline", "privileged", False),
        ("privileged", "privileged", True),
        ("privileged", "baseline", True),
    ],
)
def test_a_level_allows_what_needs_it_or_less(level: Any, needs: Any, allowed: bool) -> None:
    assert PodSecurity("team", level).allows(Finding("f", "v", needs)) is allowed


@pytest.mark.parametrize(
    ("labels", "default", "expected"),
    [
        ({}, "restricted", PodSecurity("team", "restricted", labelled=False)),
        ({}, "baseline", PodSecurity("team", "baseline", labelled=False)),
        ({"pod-security.kubernetes.io/enforce": "privileged"}, "restricted", PRIVILEGED),
        ({"pod-security.kubernetes.io/enforce": "baseline"}, "privileged", BASELINE),
        ({"pod-security.kubernetes.io/enforce": "Privileged"}, "privileged", RESTRICTED),
        ({"pod-security.kubernetes.io/warn": "privileged"}, "restricted", PodSecurity("team", "restricted")),
    ],
    ids=["unlabelled", "unlabelled-other-default", "labelled", "label-wins", "unknown-value", "only-warn"],
)
def test_the_namespace_label_says_the_level(labels: dict[str, str], default: Any, expected: PodSecurity) -> None:
    assert PodSecurity.of("team", labels, default) == expected


PRIVILEGED_EXECUTORS = {"spec.kubernetes.executor.securityContext": ESCALATING}
ROOT_DRIVER = {"spec.kubernetes.driver.podSecurityContext": {"runAsNonRoot": False}}


@pytest.mark.parametrize(
    ("changes", "pod_security", "refused"),
    [
        ({}, RESTRICTED, None),
        (ROOT_DRIVER, BASELINE, None),
        (PRIVILEGED_EXECUTORS, PRIVILEGED, None),
        (
            ROOT_DRIVER,
            RESTRICTED,
            "the Spark pods would exceed the Pod Security level restricted of namespace team (its label "
            "pod-security.kubernetes.io/enforce): spec.kubernetes.driver.podSecurityContext.runAsNonRoot: false. "
            "Remove or tighten these settings, or have an admin label the namespace "
            "pod-security.kubernetes.io/enforce=baseline",
        ),
        (
            PRIVILEGED_EXECUTORS,
            BASELINE,
            "the Spark pods would exceed the Pod Security level baseline of namespace team (its label "
            "pod-security.kubernetes.io/enforce): spec.kubernetes.executor.securityContext.privileged: true. "
            "Remove or tighten these settings, or have an admin label the namespace "
            "pod-security.kubernetes.io/enforce=privileged",
        ),
        (
            PRIVILEGED_EXECUTORS,
            PodSecurity("team"),
            "the Spark pods would exceed the Pod Security level restricted of namespace team (it has no "
            "pod-security.kubernetes.io/enforce label, so the operator's --default-pod-security-level (chart value "
            "policy.defaultPodSecurityLevel) applies): spec.kubernetes.executor.securityContext.privileged: true; "
            "spec.kubernetes.executor.securityContext.allowPrivilegeEscalation: true. Remove or tighten these "
            "settings, or have an admin label the namespace pod-security.kubernetes.io/enforce=privileged",
        ),
    ],
    ids=["defaults", "within-baseline", "within-privileged", "beyond-restricted", "beyond-baseline", "by-default"],
)
def test_a_job_beyond_its_namespaces_level_is_refused_naming_field_level_and_fix(
    changes: dict[str, Any], pod_security: PodSecurity, refused: str | None
) -> None:
    assert pod_security_refusal(job(changes), pod_security) == refused


GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
TOLERATE_ALL = {"operator": "Exists"}
SA_POLICY = "(chart value policy.serviceAccounts, kubricks run --allowed-service-account)"
TOLERATION_POLICY = "(chart value policy.tolerations, kubricks run --allowed-toleration-key)"
EVERY_TAINT = "a toleration without a key tolerates every taint"
TOLERATE_ALL_POLICY = "(chart value policy.allowTolerateAll, kubricks run --allow-tolerate-all)"
ANNOTATION_POLICY = "(chart value policy.annotations, kubricks run --allowed-annotation-prefix)"
UI_HOST_POLICY = "(chart value policy.uiHosts, kubricks run --allowed-ui-host)"


@pytest.mark.parametrize(
    ("changes", "policy", "violations"),
    [
        ({}, Policy(), []),
        ({"spec.kubernetes.serviceAccount": "anything"}, Policy(), []),
        ({"spec.kubernetes.serviceAccount": "etl-runner"}, Policy(service_accounts=("etl-runner",)), []),
        ({}, Policy(service_accounts=("etl-runner",)), []),
        (
            {"spec.kubernetes.serviceAccount": "admin"},
            Policy(service_accounts=("etl-runner", "reporter")),
            [
                "spec.kubernetes.serviceAccount: admin is not an allowed service account; allowed: etl-runner, "
                f"reporter, or none for kubricks' own {SA_POLICY}"
            ],
        ),
        (
            {"spec.app.sparkConf": {"spark.kubernetes.authenticate.executor.serviceAccountName": "admin"}},
            Policy(service_accounts=("etl-runner",)),
            [
                'spec.app.sparkConf["spark.kubernetes.authenticate.executor.serviceAccountName"]: admin is not an '
                f"allowed service account; allowed: etl-runner, or none for kubricks' own {SA_POLICY}"
            ],
        ),
        (
            {"spec.app.sparkConf": {"spark.kubernetes.authenticate.executor.serviceAccountName": "kubricks-spark"}},
            Policy(service_accounts=("etl-runner",)),
            [],
        ),
        ({"spec.kubernetes.driver.tolerations": [GPU_TOLERATION]}, Policy(), []),
        ({"spec.kubernetes.driver.tolerations": [GPU_TOLERATION]}, Policy(toleration_keys=("nvidia.com/gpu",)), []),
        (
            {"spec.kubernetes.executor.tolerations": [GPU_TOLERATION, {**GPU_TOLERATION, "key": "dedicated"}]},
            Policy(toleration_keys=("nvidia.com/gpu",)),
            [
                "spec.kubernetes.executor.tolerations[1].key: dedicated is not an allowed taint key; allowed: "
                f"nvidia.com/gpu {TOLERATION_POLICY}"
            ],
        ),
        (
            {"spec.kubernetes.driver.tolerations": [TOLERATE_ALL]},
            Policy(),
            [f"spec.kubernetes.driver.tolerations[0]: {EVERY_TAINT} {TOLERATE_ALL_POLICY}"],
        ),
        (
            {"spec.kubernetes.executor.tolerations": [{**TOLERATE_ALL, "effect": "NoSchedule"}]},
            Policy(toleration_keys=("nvidia.com/gpu",)),
            [f"spec.kubernetes.executor.tolerations[0]: {EVERY_TAINT} {TOLERATE_ALL_POLICY}"],
        ),
        ({"spec.kubernetes.driver.tolerations": [TOLERATE_ALL]}, Policy(allow_tolerate_all=True), []),
        ({"spec.kubernetes.driver.annotations": {"anything/at-all": "x"}}, Policy(), []),
        (
            {
                "spec.kubernetes.driver.annotations": {"example.com/team": "a", "other.io/x": "b"},
                "spec.app.sparkConf": {"spark.kubernetes.executor.annotation.other.io/y": "c"},
            },
            Policy(annotation_prefixes=("example.com/", "prometheus.io/")),
            [
                f'spec.kubernetes.driver.annotations["other.io/x"]: the key has no allowed prefix; allowed: '
                f"example.com/, prometheus.io/ {ANNOTATION_POLICY}",
                f'spec.app.sparkConf["spark.kubernetes.executor.annotation.other.io/y"]: the key has no allowed '
                f"prefix; allowed: example.com/, prometheus.io/ {ANNOTATION_POLICY}",
            ],
        ),
        (
            {"spec.kubernetes.executor.annotations": {"prometheus.io/scrape": "true"}},
            Policy(annotation_prefixes=("prometheus.io/",)),
            [],
        ),
        ({"spec.kubernetes.ui": {"service": {"type": "ClusterIP"}}}, Policy(), []),
        (
            {"spec.kubernetes.ui": {"service": {"type": "LoadBalancer"}}},
            Policy(),
            [
                "spec.kubernetes.ui.service.type: LoadBalancer is not an allowed type for the Spark UI's Service; "
                "allowed: ClusterIP (chart value policy.uiServiceTypes, kubricks run --allowed-ui-service-type)"
            ],
        ),
        (
            {"spec.kubernetes.ui": {"service": {"type": "NodePort"}}},
            Policy(ui_service_types=("ClusterIP", "NodePort")),
            [],
        ),
        ({"spec.kubernetes.ui": {"ingress": {"host": "anything.example.org"}}}, Policy(), []),
        (
            {"spec.kubernetes.ui": {"ingress": {"host": "etl.spark.example.com"}}},
            Policy(ui_hosts=("*.spark.example.com",)),
            [],
        ),
        (
            {
                "spec.kubernetes.ui": {
                    "ingress": {"host": "payments.example.com"},
                    "httpRoute": {
                        "parentRefs": [{"name": "gw"}],
                        "hostnames": ["ok.spark.example.com", "spark.example.com"],
                    },
                }
            },
            Policy(ui_hosts=("*.spark.example.com",)),
            [
                f"spec.kubernetes.ui.ingress.host: payments.example.com is not an allowed host; allowed: "
                f"*.spark.example.com {UI_HOST_POLICY}",
                f"spec.kubernetes.ui.httpRoute.hostnames[1]: spark.example.com is not an allowed host; allowed: "
                f"*.spark.example.com {UI_HOST_POLICY}",
            ],
        ),
        (
            {"spec.kubernetes.ui": {"httpRoute": {"parentRefs": [{"name": "gw"}]}}},
            Policy(ui_hosts=("*.spark.example.com",)),
            [
                "spec.kubernetes.ui.httpRoute.hostnames: without host names the route answers every host of its "
                f"Gateways; name hosts among: *.spark.example.com {UI_HOST_POLICY}"
            ],
        ),
    ],
    ids=[
        "nothing-asked",
        "any-account-without-a-list",
        "listed-account",
        "kubricks-own-account",
        "unlisted-account",
        "unlisted-executor-account-by-spark-conf",
        "kubricks-own-executor-account",
        "any-key-without-a-list",
        "listed-key",
        "unlisted-key",
        "tolerate-all",
        "tolerate-all-of-an-effect-whatever-the-keys",
        "tolerate-all-allowed",
        "any-annotation-without-a-list",
        "annotations-outside-the-prefixes",
        "annotation-inside",
        "cluster-ip-ui-service",
        "load-balancer-by-default-refused",
        "node-port-allowed",
        "any-ui-host-without-a-list",
        "ui-host-under-an-allowed-domain",
        "ui-hosts-outside",
        "route-for-every-host",
    ],
)
def test_policy_violations_name_the_field_and_the_policy_value(
    changes: dict[str, Any], policy: Policy, violations: list[str]
) -> None:
    assert policy_violations(job(changes), policy) == violations


def test_both_refusals_are_told_together() -> None:
    changes = {**PRIVILEGED_EXECUTORS, "spec.kubernetes.serviceAccount": "admin"}
    message = refusal(job(changes), RESTRICTED, Policy(service_accounts=("etl-runner",))) or ""
    assert message.startswith("the operator's policy does not allow: spec.kubernetes.serviceAccount: admin")
    assert "Change these fields, or have an admin allow them. the Spark pods would exceed" in message
    assert refusal(job(), RESTRICTED, Policy()) is None


def test_a_job_asking_too_much_fails_before_anything_is_created() -> None:
    observation = Observation(
        job({**PRIVILEGED_EXECUTORS, "spec.restartPolicy": {"type": "Never"}}),
        UID,
        3,
        {},
        ImageState(waiting="the SparkImage etl is Building"),
        NOW,
        pod_security=RESTRICTED,
    )
    decision = decide(observation)
    assert (decision.status["phase"], decision.status["conditions"][0]["reason"]) == ("Failed", "SubmissionFailed")
    assert decision.status["message"].startswith("attempt 1: the Spark pods would exceed the Pod Security level")
    assert decision.create == []
    assert decision.event is not None and decision.event[:2] == ("Warning", "SubmissionFailed")


def test_a_job_within_its_namespaces_level_submits() -> None:
    observation = Observation(
        job(PRIVILEGED_EXECUTORS), UID, 3, {}, ImageState(ref="r@sha256:" + "a" * 64), NOW, pod_security=PRIVILEGED
    )
    assert decide(observation).status["phase"] == "Submitted"
