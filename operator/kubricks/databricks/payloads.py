"""SparkJob / DatabricksCluster → Databricks REST request bodies. Pure.

Field names are the Databricks API's own (Jobs API 2.2 ``runs/submit``, Clusters API 2.1
``clusters/create`` and ``clusters/edit``); the tests round-trip every body through the databricks-sdk
dataclasses.
"""

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from kubricks.api.databricks import ClusterShape, DatabricksCluster, RegistryAuth
from kubricks.api.sparkjob import SparkJob
from kubricks.images.render import rapids_plugins

REDACTED = "**redacted**"
TAG_PREFIX = "kubricks"
UID_TAG = f"{TAG_PREFIX}-uid"
"""The custom tag that ties a Databricks cluster to the resource it was made for."""


@dataclass(frozen=True)
class BasicAuth:
    """What goes into ``docker_image.basic_auth``: real credentials, or {{secrets/...}} references."""

    username: str
    password: str


def secret_references(auth: RegistryAuth) -> BasicAuth | None:
    """Registry credentials held in a Databricks secret scope, as references the cluster resolves."""
    if auth.databricks_secret is None:
        return None
    scope = auth.databricks_secret
    return BasicAuth(
        username=f"{{{{secrets/{scope.scope}/{scope.username_key}}}}}",
        password=f"{{{{secrets/{scope.scope}/{scope.password_key}}}}}",
    )


def registry_secret(auth: RegistryAuth | None, push_secret: str | None) -> str | None:
    """The dockerconfigjson Secret whose credentials go to Databricks: registryAuth.secret, or the SparkImage's
    ``push_secret`` only with registryAuth.fromSparkImage: true; none without registryAuth."""
    if auth is None:
        return None
    if auth.secret:
        return auth.secret
    return push_secret if auth.from_spark_image else None


def idempotency_token(uid: str, attempt: int) -> str:
    """One per SparkJob attempt: a restarted operator that submits again gets the same run back."""
    return hashlib.sha256(f"kubricks/{uid}/{attempt}".encode()).hexdigest()[:64]


def docker_image(url: str, auth: BasicAuth | None) -> dict[str, Any]:
    image: dict[str, Any] = {"url": url}
    if auth is not None:
        image["basic_auth"] = {"username": auth.username, "password": auth.password}
    return image


def _init_scripts(shape: ClusterShape) -> list[dict[str, Any]]:
    return [script.model_dump(mode="json", exclude_none=True) for script in shape.init_scripts]


def cluster_spec(
    shape: ClusterShape, image_url: str, auth: BasicAuth | None, tags: dict[str, str], spark_conf: dict[str, str]
) -> dict[str, Any]:
    """The cluster part shared by ``new_cluster`` and ``clusters/create``."""
    spec: dict[str, Any] = {"spark_version": shape.spark_version, "node_type_id": shape.node_type_id}
    if shape.driver_node_type_id:
        spec["driver_node_type_id"] = shape.driver_node_type_id
    if shape.autoscale:
        spec["autoscale"] = {"min_workers": shape.autoscale.min_workers, "max_workers": shape.autoscale.max_workers}
    else:
        spec["num_workers"] = shape.num_workers
    spec["docker_image"] = docker_image(image_url, auth)
    merged_conf = {**shape.spark_conf, **spark_conf}
    if merged_conf:
        spec["spark_conf"] = merged_conf
    if shape.spark_env_vars:
        spec["spark_env_vars"] = dict(shape.spark_env_vars)
    spec["custom_tags"] = {**shape.custom_tags, **tags}
    if shape.init_scripts:
        spec["init_scripts"] = _init_scripts(shape)
    return spec


def _tags(kind: str, metadata: dict[str, Any]) -> dict[str, str]:
    return {
        f"{TAG_PREFIX}-kind": kind,
        f"{TAG_PREFIX}-namespace": str(metadata.get("namespace", "default")),
        f"{TAG_PREFIX}-name": str(metadata.get("name", "")),
        UID_TAG: str(metadata.get("uid", "")),
    }


def _in_image(path: str) -> str:
    """A file baked into the image, as Databricks names local files (``file:/...``)."""
    return "file:" + path.removeprefix("local://") if path.startswith("local://") else path


def task(job: SparkJob) -> dict[str, Any]:
    """The task part: which kind of task runs what."""
    app = job.spec.app
    parameters = {"parameters": list(app.arguments)} if app.arguments else {}
    if app.wheel:
        return {
            "python_wheel_task": {
                "package_name": app.wheel.package_name,
                "entry_point": app.wheel.entry_point,
                **parameters,
            }
        }
    resource = app.main_application_file or ""
    if resource.endswith(".py"):
        return {"spark_python_task": {"python_file": _in_image(resource), **parameters}}
    return {
        "spark_jar_task": {"main_class_name": app.main_class, **parameters},
        "libraries": [{"jar": _in_image(resource)}],
    }


def task_key(name: str) -> str:
    return re.sub(r"[^\w-]", "_", name)[:100] or "kubricks"


def submit_run(
    job: SparkJob,
    uid: str,
    attempt: int,
    image_url: str,
    auth: BasicAuth | None,
    cluster_id: str | None = None,
    rapids: str | None = None,
) -> dict[str, Any]:
    """The ``runs/submit`` body for one attempt. ``cluster_id`` names the cluster of a ``clusterRef``;
    ``rapids`` is the RAPIDS Accelerator version the image carries, which a new cluster turns on."""
    target = job.spec.databricks
    if target is None:
        raise ValueError("spec.databricks is not set: this SparkJob targets Kubernetes")
    metadata = {**job.metadata, "uid": uid}
    run_task: dict[str, Any] = {"task_key": task_key(str(metadata.get("name", "")))}
    choice = target.cluster
    if choice.new:
        tags = _tags("SparkJob", metadata)
        conf = {**job.spec.app.conf(), **rapids_conf(job.spec.app.spark_conf, rapids)}
        run_task["new_cluster"] = cluster_spec(choice.new, image_url, auth, tags, conf)
    else:
        run_task["existing_cluster_id"] = choice.existing_cluster_id or cluster_id
    run_task.update(task(job))
    body: dict[str, Any] = {
        "run_name": f"{metadata.get('namespace', 'default')}/{metadata.get('name', '')} (attempt {attempt})",
        "idempotency_token": idempotency_token(uid, attempt),
        "tasks": [run_task],
    }
    if target.timeout_seconds:
        body["timeout_seconds"] = target.timeout_seconds
    return body


def rapids_conf(spark_conf: dict[str, str], rapids: str | None) -> dict[str, str]:
    """The Spark settings that turn the RAPIDS Accelerator an image carries on (its jar is on the runtime's
    classpath in /databricks/jars)."""
    return {"spark.plugins": rapids_plugins(spark_conf.get("spark.plugins"))} if rapids else {}


def create_cluster(
    cluster: DatabricksCluster, uid: str, image_url: str, auth: BasicAuth | None, rapids: str | None = None
) -> dict[str, Any]:
    """The ``clusters/create`` body of a DatabricksCluster."""
    metadata = {**cluster.metadata, "uid": uid}
    spec = cluster.spec
    conf = rapids_conf(spec.spark_conf, rapids)
    body = {
        "cluster_name": spec.cluster_name or f"{metadata.get('namespace', 'default')}-{metadata.get('name', '')}",
        **cluster_spec(spec, image_url, auth, _tags("DatabricksCluster", metadata), conf),
        "autotermination_minutes": spec.autotermination_minutes,
    }
    return body


def edit_cluster(
    cluster: DatabricksCluster,
    uid: str,
    cluster_id: str,
    image_url: str,
    auth: BasicAuth | None,
    rapids: str | None = None,
) -> dict[str, Any]:
    """The ``clusters/edit`` body: the whole new specification, for the cluster with ``cluster_id``."""
    return {"cluster_id": cluster_id, **create_cluster(cluster, uid, image_url, auth, rapids)}


def redacted(body: dict[str, Any]) -> dict[str, Any]:
    """A copy fit to print or log: passwords replaced, {{secrets/...}} references kept."""

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: REDACTED if k == "password" and not str(v).startswith("{{secrets/") else scrub(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    return dict(scrub(body))
