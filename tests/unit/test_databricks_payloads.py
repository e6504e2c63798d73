"""Databricks request bodies: checked against the databricks-sdk dataclasses, which mirror the API."""

import inspect
from typing import Any

import pytest
from databricks.sdk.service import compute, jobs

from kubricks.api.databricks import DatabricksCluster, RegistryAuth
from kubricks.api.sparkjob import SparkJob
from kubricks.databricks.payloads import (
    REDACTED,
    BasicAuth,
    create_cluster,
    edit_cluster,
    idempotency_token,
    redacted,
    registry_secret,
    secret_references,
    submit_run,
)
from tests.invalid_manifests import example, patched

UID = "6f1c1b2a-0000-4000-8000-000000000001"
IMAGE = "registry.example.com/team/shared@sha256:" + "b" * 64
AUTH = BasicAuth("robot", "s3cret")


def job(file: str, name: str | None = None, changes: dict[str, Any] | None = None) -> SparkJob:
    return SparkJob.model_validate(patched(example(file, name), {"metadata.namespace": "team", **(changes or {})}))


def round_trips(dataclass: Any, body: dict[str, Any]) -> None:
    """from_dict/as_dict keeps every key: none is unknown to the API's own model."""
    assert dataclass.from_dict(body).as_dict() == body


def parameters(method: Any) -> set[str]:
    return set(inspect.signature(method).parameters) - {"self"}


def check_submit(body: dict[str, Any]) -> None:
    assert set(body) <= parameters(jobs.JobsAPI.submit)
    for run_task in body["tasks"]:
        round_trips(jobs.SubmitTask, run_task)
        if "new_cluster" in run_task:
            round_trips(compute.ClusterSpec, run_task["new_cluster"])


JOBS = [
    ("sparkjob-databricks-new-cluster.yaml", None),
    ("sparkjob-databricks-existing-cluster.yaml", "report-adhoc"),
    ("sparkjob-databricks-existing-cluster.yaml", "report-shared"),
]


@pytest.mark.parametrize(("file", "name"), JOBS)
def test_every_example_job_submits_a_body_the_api_knows(file: str, name: str | None) -> None:
    check_submit(submit_run(job(file, name), UID, 1, IMAGE, AUTH, cluster_id="0101-000000-cluster"))


def test_wheel_job_on_a_new_cluster() -> None:
    body = submit_run(job("sparkjob-databricks-new-cluster.yaml"), UID, 2, IMAGE, AUTH)
    (run_task,) = body["tasks"]
    assert run_task["python_wheel_task"] == {
        "package_name": "etl",
        "entry_point": "run",
        "parameters": ["--date", "2026-11-22"],
    }
    cluster = run_task["new_cluster"]
    assert cluster["docker_image"] == {"url": IMAGE, "basic_auth": {"username": "robot", "password": "s3cret"}}
    assert cluster["autoscale"] == {"min_workers": 1, "max_workers": 4}
    assert "num_workers" not in cluster
    assert cluster["spark_version"] == "15.4.x-scala2.12"
    assert cluster["init_scripts"] == [{"workspace": {"destination": "/Shared/init.sh"}}]
    assert cluster["custom_tags"] == {
        "team": "data-platform",
        "kubricks-kind": "SparkJob",
        "kubricks-namespace": "team",
        "kubricks-name": "etl-daily-dbx",
        "kubricks-uid": UID,
    }
    assert body["timeout_seconds"] == 7200
    assert body["idempotency_token"] == idempotency_token(UID, 2)
    assert body["run_name"] == "team/etl-daily-dbx (attempt 2)"


def test_the_idempotency_token_is_per_attempt_and_within_the_apis_limit() -> None:
    assert idempotency_token(UID, 1) == idempotency_token(UID, 1)
    assert idempotency_token(UID, 1) != idempotency_token(UID, 2)
    assert len(idempotency_token(UID, 1)) <= 64


def test_python_file_and_jar_tasks() -> None:
    py = submit_run(job("sparkjob-databricks-existing-cluster.yaml", "report-adhoc"), UID, 1, IMAGE, None)["tasks"][0]
    assert py["spark_python_task"] == {"python_file": "dbfs:/jobs/report.py"}
    assert py["existing_cluster_id"] == "0101-123456-abcdefgh"
    local = job(
        "sparkjob-databricks-existing-cluster.yaml",
        "report-adhoc",
        {"spec.app.mainApplicationFile": "local:///opt/app/report.py"},
    )
    assert (
        submit_run(local, UID, 1, IMAGE, None)["tasks"][0]["spark_python_task"]["python_file"]
        == "file:/opt/app/report.py"
    )
    jar = job(
        "sparkjob-databricks-new-cluster.yaml",
        changes={
            "spec.app": {
                "mainApplicationFile": "local:///opt/app/etl.jar",
                "mainClass": "org.example.Etl",
                "arguments": ["a"],
            }
        },
    )
    jar_task = submit_run(jar, UID, 1, IMAGE, None)["tasks"][0]
    assert jar_task["spark_jar_task"] == {"main_class_name": "org.example.Etl", "parameters": ["a"]}
    assert jar_task["libraries"] == [{"jar": "file:/opt/app/etl.jar"}]
    round_trips(jobs.SubmitTask, jar_task)


def test_cluster_ref_runs_on_the_referenced_cluster() -> None:
    body = submit_run(job("sparkjob-databricks-existing-cluster.yaml", "report-shared"), UID, 1, IMAGE, None, "0101-x")
    assert body["tasks"][0]["existing_cluster_id"] == "0101-x"


def test_app_spark_conf_goes_to_the_new_cluster() -> None:
    conf = {"spark.sql.shuffle.partitions": "8"}
    body = submit_run(
        job("sparkjob-databricks-new-cluster.yaml", changes={"spec.app.sparkConf": conf}), UID, 1, IMAGE, None
    )
    assert body["tasks"][0]["new_cluster"]["spark_conf"] == {"spark.sql.shuffle.partitions": "8"}


def test_app_hadoop_conf_goes_to_the_new_cluster_under_spark_conf() -> None:
    changes = {
        "spec.app.hadoopConf": {"fs.s3a.endpoint": "http://minio", "fs.x": "1"},
        "spec.app.sparkConf": {"spark.hadoop.fs.x": "2"},
    }
    body = submit_run(job("sparkjob-databricks-new-cluster.yaml", changes=changes), UID, 1, IMAGE, None)
    assert body["tasks"][0]["new_cluster"]["spark_conf"] == {
        "spark.hadoop.fs.s3a.endpoint": "http://minio",
        "spark.hadoop.fs.x": "2",
    }


@pytest.mark.parametrize(
    ("conf", "rapids", "expected"),
    [
        ({}, "25.04.0", {"spark.plugins": "com.nvidia.spark.SQLPlugin"}),
        (
            {"spark.plugins": "org.example.Mine", "spark.sql.x": "1"},
            "25.04.0",
            {"spark.plugins": "org.example.Mine,com.nvidia.spark.SQLPlugin", "spark.sql.x": "1"},
        ),
        ({"spark.sql.x": "1"}, None, {"spark.sql.x": "1"}),
    ],
    ids=["rapids", "joins-the-users-plugins", "no-rapids"],
)
def test_a_new_cluster_from_a_rapids_image_turns_it_on(
    conf: dict[str, str], rapids: str | None, expected: dict[str, str]
) -> None:
    resource = job("sparkjob-databricks-new-cluster.yaml", changes={"spec.app.sparkConf": conf})
    body = submit_run(resource, UID, 1, IMAGE, None, rapids=rapids)
    assert body["tasks"][0]["new_cluster"].get("spark_conf", {}) == expected
    check_submit(body)


def test_a_databricks_cluster_from_a_rapids_image_turns_it_on() -> None:
    cluster = DatabricksCluster.model_validate(
        patched(example("databrickscluster.yaml"), {"metadata.namespace": "team"})
    )
    create = create_cluster(cluster, UID, IMAGE, AUTH, rapids="25.04.0")
    assert create["spark_conf"] == {
        "spark.databricks.delta.preview.enabled": "true",
        "spark.plugins": "com.nvidia.spark.SQLPlugin",
    }
    assert edit_cluster(cluster, UID, "0101-abc", IMAGE, AUTH, rapids="25.04.0")["spark_conf"] == create["spark_conf"]


def test_databricks_secret_references_keep_the_password_out_of_the_request() -> None:
    auth = secret_references(
        RegistryAuth.model_validate({"databricksSecret": {"scope": "ci", "usernameKey": "u", "passwordKey": "p"}})
    )
    assert auth == BasicAuth("{{secrets/ci/u}}", "{{secrets/ci/p}}")
    body = submit_run(job("sparkjob-databricks-new-cluster.yaml"), UID, 1, IMAGE, auth)
    assert redacted(body) == body, "references are no secret and stay readable"


def test_redaction_hides_passwords() -> None:
    body = submit_run(job("sparkjob-databricks-new-cluster.yaml"), UID, 1, IMAGE, AUTH)
    shown = redacted(body)
    assert shown["tasks"][0]["new_cluster"]["docker_image"]["basic_auth"] == {"username": "robot", "password": REDACTED}
    assert "s3cret" not in str(shown)
    assert "s3cret" in str(body), "redacted() copies; the body itself is unchanged"


def test_cluster_create_and_edit_bodies() -> None:
    cluster = DatabricksCluster.model_validate(
        patched(example("databrickscluster.yaml"), {"metadata.namespace": "team"})
    )
    create = create_cluster(cluster, UID, IMAGE, AUTH)
    assert set(create) <= parameters(compute.ClustersAPI.create)
    round_trips(compute.DockerImage, create["docker_image"])
    assert create["cluster_name"] == "etl-shared"
    assert create["num_workers"] == 2
    assert create["autotermination_minutes"] == 60
    assert create["spark_conf"] == {"spark.databricks.delta.preview.enabled": "true"}
    edit = edit_cluster(cluster, UID, "0101-abc", IMAGE, AUTH)
    assert set(edit) <= parameters(compute.ClustersAPI.edit)
    assert edit == {"cluster_id": "0101-abc", **create}


def test_a_kubernetes_job_has_no_submit_body() -> None:
    with pytest.raises(ValueError, match="targets Kubernetes"):
        submit_run(job("sparkjob-kubernetes-wheel.yaml"), UID, 1, IMAGE, None)


@pytest.mark.parametrize(
    ("registry_auth", "push_secret", "sent"),
    [
        (None, "push", None),
        ({"secret": "pull"}, "push", "pull"),
        ({"secret": "pull", "fromSparkImage": False}, "push", "pull"),
        ({"fromSparkImage": True}, "push", "push"),
        ({"fromSparkImage": True}, None, None),
        ({"databricksSecret": {"scope": "ci", "usernameKey": "u", "passwordKey": "p"}}, "push", None),
    ],
    ids=["none-sends-nothing", "secret", "secret-from-image-false", "from-image", "from-image-without-one", "scope"],
)
def test_push_credentials_go_to_databricks_only_when_asked_for(
    registry_auth: dict[str, Any] | None, push_secret: str | None, sent: str | None
) -> None:
    auth = RegistryAuth.model_validate(registry_auth) if registry_auth else None
    assert registry_secret(auth, push_secret) == sent
