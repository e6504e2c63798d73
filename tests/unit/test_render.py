"""The Dockerfile renderer: golden files for the examples, and one test per spec shape."""

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

from kubricks.api.sparkimage import SparkImageSpec
from kubricks.images.render import (
    BuildContext,
    ResolvedInputs,
    git_key,
    image_tag,
    rapids_plugins,
    rapids_version,
    render,
)
from tests.invalid_manifests import example, patched
from tests.support import assert_golden

GOLDEN = Path(__file__).parent / "golden"
DIGEST = "sha256:" + "a" * 64
COMMIT = "0123456789abcdef0123456789abcdef01234567"
INPUTS = ResolvedInputs(
    base_digests={
        "ubuntu:22.04": DIGEST,
        "nvidia/cuda:12.4.1-runtime-ubuntu22.04": DIGEST,
        "apache/spark:3.5.3": DIGEST,
    },
    git_commits={git_key("https://github.com/example/etl.git", "main"): COMMIT},
    config_maps={"etl-code": {"main.py": "print('etl')\n", "pyproject.toml": "[project]\nname = 'etl'\n"}},
    ca_bundle="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
)


def spec_of(file: str, changes: dict[str, Any] | None = None) -> SparkImageSpec:
    return SparkImageSpec.model_validate(patched(example(file), changes or {})["spec"])


def rendered(file: str, changes: dict[str, Any] | None = None, inputs: ResolvedInputs = INPUTS) -> BuildContext:
    return render(spec_of(file, changes), inputs)


@pytest.mark.parametrize("file", ["sparkimage-pip.yaml", "sparkimage-gpu.yaml", "sparkimage-databricks.yaml"])
def test_golden_dockerfiles(file: str) -> None:
    """Set KUBRICKS_UPDATE_GOLDEN=1 to rewrite them after an intended change; review the diff."""
    golden = GOLDEN / f"{Path(file).stem}.Dockerfile"
    assert_golden(golden, rendered(file).dockerfile)


def test_bases_are_pinned_by_digest() -> None:
    dockerfile = rendered("sparkimage-gpu.yaml").dockerfile
    assert f"FROM ubuntu:22.04@{DIGEST} AS base-cpu" in dockerfile
    assert f"FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04@{DIGEST} AS base-gpu" in dockerfile
    assert f"FROM apache/spark:3.5.3@{DIGEST} AS spark-dist" in dockerfile


def test_pip_spark_is_laid_out_as_a_distribution() -> None:
    context = rendered("sparkimage-pip.yaml")
    assert "pip install pyspark==3.5.3" in context.dockerfile
    assert "layout-pip-spark.py /opt/spark" in context.dockerfile
    assert "build/layout-pip-spark.py" in context.files


def test_archive_spark_is_checked_against_its_checksum() -> None:
    checksum = "ab" * 64
    url = "https://archive.example.com/spark-3.5.3-bin-hadoop3.tgz"
    dockerfile = rendered(
        "sparkimage-pip.yaml", {"spec.spark.source": {"archive": {"url": url, "sha512": checksum}}}
    ).dockerfile
    assert f"curl -fsSL -o /tmp/spark.tgz {url}" in dockerfile
    assert f'echo "{checksum}  /tmp/spark.tgz" | sha512sum -c -' in dockerfile
    assert "pyspark" not in dockerfile


def test_image_spark_is_copied_from_the_image() -> None:
    dockerfile = rendered("sparkimage-gpu.yaml").dockerfile
    assert "COPY --from=spark-dist /opt/spark /opt/spark" in dockerfile


def test_each_variant_is_a_target_with_the_contract() -> None:
    dockerfile = rendered("sparkimage-gpu.yaml").dockerfile
    for variant in ("cpu", "gpu"):
        final = dockerfile.split(f"FROM base-{variant} AS {variant}\n", 1)[1].split("\n\n", 1)[0]
        assert "openjdk-17-jre-headless" in final
        assert "tini" in final
        assert "USER 185" in final
        assert 'ENTRYPOINT ["/opt/kubricks/bin/entrypoint"]' in final
        assert "chmod g+w /etc/passwd" in final
        assert "chmod -R g+rwX /opt/spark/work-dir" in final
        assert 'PYSPARK_PYTHON="/opt/kubricks/python/bin/python3"' in final


def test_gpu_variant_gets_rapids_and_the_discovery_script() -> None:
    context = rendered("sparkimage-gpu.yaml")
    gpu = context.dockerfile.split("FROM base-gpu AS gpu\n", 1)[1]
    assert "COPY --from=rapids /opt/rapids/ /opt/spark/jars/" in gpu
    assert "rapids-4-spark_2.12-25.04.0.jar.sha1" in context.dockerfile
    assert "kubricks/bin/gpu-discovery" in context.files
    cpu = context.dockerfile.split("FROM base-cpu AS cpu\n", 1)[1].split("FROM base-gpu AS gpu", 1)[0]
    assert "rapids" not in cpu


@pytest.mark.parametrize(
    ("changes", "opt_spark", "databricks_jars"),
    [
        ({}, True, False),
        ({"spec.databricks": {"runtime": "15.4-LTS"}}, True, True),
        ({"spec.gpu": None}, False, False),
    ],
    ids=["kubernetes", "databricks-runtime-loads-its-own-jars", "no-rapids"],
)
def test_the_rapids_jar_goes_where_each_runtime_loads_jars(
    changes: dict[str, Any], opt_spark: bool, databricks_jars: bool
) -> None:
    gpu = rendered("sparkimage-gpu.yaml", changes).dockerfile.split("FROM base-gpu AS gpu\n", 1)[1]
    assert ("COPY --from=rapids /opt/rapids/ /opt/spark/jars/" in gpu) == opt_spark
    assert ("COPY --from=rapids /opt/rapids/ /databricks/jars/" in gpu) == databricks_jars


@pytest.mark.parametrize(
    ("variants", "gpu", "variant", "version"),
    [
        (["cpu", "gpu"], {"rapids": "25.04.0"}, "gpu", "25.04.0"),
        (["cpu", "gpu"], {"rapids": "25.04.0"}, "cpu", None),
        (["gpu"], {}, "gpu", None),
    ],
)
def test_rapids_version(variants: list[str], gpu: dict[str, str], variant: str, version: str | None) -> None:
    assert (
        rapids_version(spec_of("sparkimage-gpu.yaml", {"spec.variants": variants, "spec.gpu": gpu}), variant) == version
    )


@pytest.mark.parametrize(
    ("given", "plugins"),
    [
        (None, "com.nvidia.spark.SQLPlugin"),
        ("", "com.nvidia.spark.SQLPlugin"),
        ("org.example.Mine", "org.example.Mine,com.nvidia.spark.SQLPlugin"),
        ("com.nvidia.spark.SQLPlugin,org.example.Mine", "com.nvidia.spark.SQLPlugin,org.example.Mine"),
    ],
)
def test_rapids_joins_the_users_plugins(given: str | None, plugins: str) -> None:
    assert rapids_plugins(given) == plugins


def test_databricks_contract() -> None:
    dockerfile = rendered("sparkimage-databricks.yaml").dockerfile
    assert "python3 -m venv --system-site-packages /databricks/python3" in dockerfile
    assert 'PYSPARK_PYTHON="/databricks/python3/bin/python3"' in dockerfile
    assert 'LANG="C.UTF-8"' in dockerfile
    assert 'LC_ALL="C.UTF-8"' in dockerfile
    assert "useradd --create-home libraries && usermod --lock libraries" in dockerfile
    for package in ("acl", "bash", "coreutils", "iproute2", "procps", "sudo", "openjdk-17-jdk-headless"):
        assert package in dockerfile
    deps = dockerfile.split("AS deps-cpu\n", 1)[1].split("\n\n", 1)[0]
    assert "pyspark" not in deps, "pyspark must stay off the Databricks venv's path"


def test_app_sources_and_wheels() -> None:
    context = rendered("sparkimage-databricks.yaml")
    assert context.files["app/0/main.py"] == b"print('etl')\n"
    assert "COPY app/0/ /tmp/src/0/" in context.dockerfile
    assert "pip wheel --no-deps --wheel-dir /opt/kubricks/wheels /tmp/src/0" in context.dockerfile
    assert "pip wheel --wheel-dir /opt/kubricks/wheels -- mycompany-etl==1.4.0" in context.dockerfile
    assert "--no-index --find-links /opt/kubricks/wheels" in context.dockerfile


def test_git_source_is_fetched_at_the_resolved_commit() -> None:
    dockerfile = rendered("sparkimage-pip.yaml").dockerfile
    assert f"git fetch -q --depth 1 -- https://github.com/example/etl.git {COMMIT}" in dockerfile
    assert "cp -a /tmp/git/0/jobs/etl/. /tmp/src/0/" in dockerfile


def test_sources_without_wheel_are_copied_as_files() -> None:
    dockerfile = rendered("sparkimage-databricks.yaml", {"spec.app.wheel": False}).dockerfile
    assert "cp -a /tmp/src/0/. /opt/app/" in dockerfile
    assert "--no-deps --wheel-dir" not in dockerfile


def test_the_app_comes_last_in_the_final_stage() -> None:
    final = rendered("sparkimage-databricks.yaml").dockerfile.split("AS cpu\n", 1)[1]
    assert final.index("COPY --from=deps-cpu") < final.index("COPY --from=app-cpu")
    assert final.index("COPY --from=spark") < final.index("COPY --from=app-cpu")


def test_extra_cas_are_trusted_only_in_download_stages() -> None:
    context = rendered("sparkimage-pip.yaml")
    assert context.files["build/extra-ca.pem"].startswith(b"-----BEGIN CERTIFICATE-----")
    final = context.dockerfile.split("AS cpu\n", 1)[1]
    tools = context.dockerfile.split("AS tools-cpu\n", 1)[1].split("\n\n", 1)[0]
    assert "update-ca-certificates" in tools
    assert "extra-ca" not in final
    without = rendered("sparkimage-pip.yaml", inputs=ResolvedInputs(git_commits=INPUTS.git_commits))
    assert "build/extra-ca.pem" not in without.files
    assert "update-ca-certificates" not in without.dockerfile


def test_package_index_and_system_packages() -> None:
    dockerfile = rendered(
        "sparkimage-pip.yaml",
        {"spec.python.indexUrl": "https://pypi.example.com/simple", "spec.system.packages": ["git", "curl"]},
    ).dockerfile
    assert "PIP_INDEX_URL=https://pypi.example.com/simple" in dockerfile
    final = dockerfile.split("AS cpu\n", 1)[1]
    assert "curl" in final
    assert "git" in final


def test_unresolved_config_map_is_an_error() -> None:
    with pytest.raises(ValueError, match="etl-code"):
        rendered("sparkimage-databricks.yaml", inputs=ResolvedInputs())


def test_context_tarball_holds_the_dockerfile_and_executable_scripts() -> None:
    context = rendered("sparkimage-pip.yaml")
    with tarfile.open(fileobj=io.BytesIO(context.tarball())) as archive:
        members = {m.name: m for m in archive.getmembers()}
    assert "Dockerfile" in members
    assert members["kubricks/bin/entrypoint"].mode & 0o111


class TestContentAddress:
    def test_same_inputs_same_hash(self) -> None:
        assert rendered("sparkimage-pip.yaml").inputs_hash() == rendered("sparkimage-pip.yaml").inputs_hash()

    @pytest.mark.parametrize(
        "changes",
        [
            {"spec.spark.version": "3.5.4"},
            {"spec.python.packages": ["pandas==2.2.2"]},
            {"spec.system.packages": ["curl"]},
            {"spec.build.buildArgs": {"A": "1"}},
            {"spec.spark.java": 21},
        ],
        ids=["spark", "python-packages", "system-packages", "build-args", "java"],
    )
    def test_every_spec_input_changes_the_hash(self, changes: dict[str, Any]) -> None:
        assert rendered("sparkimage-pip.yaml", changes).inputs_hash() != rendered("sparkimage-pip.yaml").inputs_hash()

    def test_base_digest_git_commit_and_config_map_content_change_the_hash(self) -> None:
        baseline = rendered("sparkimage-databricks.yaml").inputs_hash()
        new_base = ResolvedInputs(**{**INPUTS.__dict__, "base_digests": {"ubuntu:22.04": "sha256:" + "b" * 64}})
        new_code = ResolvedInputs(**{**INPUTS.__dict__, "config_maps": {"etl-code": {"main.py": "print(2)"}}})
        assert rendered("sparkimage-databricks.yaml", inputs=new_base).inputs_hash() != baseline
        assert rendered("sparkimage-databricks.yaml", inputs=new_code).inputs_hash() != baseline
        new_commit = ResolvedInputs(**{**INPUTS.__dict__, "git_commits": {}})
        assert (
            rendered("sparkimage-pip.yaml", inputs=new_commit).inputs_hash()
            != rendered("sparkimage-pip.yaml").inputs_hash()
        )

    @pytest.mark.parametrize(
        "script", ["kubricks/bin/entrypoint", "kubricks/bin/spark-env", "kubricks/bin/gpu-discovery"]
    )
    def test_the_images_own_scripts_are_part_of_it(self, script: str) -> None:
        context = rendered("sparkimage-gpu.yaml")
        assert script in context.files
        changed = BuildContext(context.dockerfile, {**context.files, script: b"#!/bin/sh\n"}, context.build_args)
        assert changed.inputs_hash() != context.inputs_hash()

    @pytest.mark.parametrize(
        "metadata",
        [{"metadata.name": "another-name"}, {"metadata.namespace": "another-team"}],
        ids=["name", "namespace"],
    )
    def test_the_resources_name_and_namespace_are_not(self, metadata: dict[str, str]) -> None:
        assert rendered("sparkimage-pip.yaml", metadata).inputs_hash() == rendered("sparkimage-pip.yaml").inputs_hash()

    def test_the_builds_own_cas_are_not_they_only_let_downloads_verify(self) -> None:
        other_ca = ResolvedInputs(**{**INPUTS.__dict__, "ca_bundle": "-----BEGIN CERTIFICATE-----\nMIIC\n"})
        assert (
            rendered("sparkimage-pip.yaml", inputs=other_ca).inputs_hash()
            == rendered("sparkimage-pip.yaml").inputs_hash()
        )

    def test_tag_names_the_variant_and_the_hash(self) -> None:
        inputs_hash = "sha256:" + "c" * 64
        assert image_tag(inputs_hash, "gpu") == "gpu-" + "c" * 24


def bypassing_validation(spec: SparkImageSpec, location: str, value: Any) -> SparkImageSpec:
    """``spec`` with one value set without validation, as a model built in code could be."""
    *parents, leaf = location.split(".")
    node: Any = spec
    for name in parents:
        node = getattr(node, name)
    if isinstance(getattr(node, leaf), list):
        getattr(node, leaf).append(value)
    elif isinstance(getattr(node, leaf), dict):
        getattr(node, leaf).update(value)
    else:
        object.__setattr__(node, leaf, value)
    return spec


@pytest.mark.parametrize(
    ("location", "value", "named"),
    [
        ("python.packages", "pandas\nRUN echo injected", "spec.python.packages[2]"),
        ("env", {"A\nRUN echo injected": "x"}, "spec.env (a key)"),
        ("env", {"A": "x\rRUN echo injected"}, "spec.env.A"),
        ("spark.version", "3.5.3\nRUN echo injected", "spec.spark.version"),
        ("build.build_args", {"A": "\nRUN echo"}, "spec.build.buildArgs.A"),
    ],
)
def test_the_renderer_refuses_line_breaks_that_bypassed_validation(location: str, value: Any, named: str) -> None:
    spec = bypassing_validation(spec_of("sparkimage-pip.yaml"), location, value)
    with pytest.raises(ValueError, match="line break") as refused:
        render(spec, INPUTS)
    assert named in str(refused.value)


def test_the_renderer_refuses_a_resolved_input_with_a_line_break() -> None:
    inputs = ResolvedInputs(**{**INPUTS.__dict__, "base_digests": {"ubuntu:22.04": DIGEST + "\nRUN id"}})
    with pytest.raises(ValueError, match="resolved inputs"):
        rendered("sparkimage-pip.yaml", inputs=inputs)


def test_user_words_never_reach_pip_or_git_as_options() -> None:
    dockerfile = rendered("sparkimage-pip.yaml").dockerfile
    assert "/bin/pip install -- pandas==2.2.3 pyarrow==17.0.0\n" in dockerfile
    assert "git fetch -q --depth 1 -- " in dockerfile


def test_every_stage_that_runs_commands_is_scoped_to_the_cache_of_its_namespace() -> None:
    context = rendered("sparkimage-gpu.yaml")
    stages = context.dockerfile.split("\n\n")[1:]
    for stage in stages:
        runs = "\nRUN " in stage
        assert ("\nARG KUBRICKS_CACHE_SCOPE\n" in stage) == runs, stage
    scoped = render(spec_of("sparkimage-gpu.yaml"), ResolvedInputs(**{**INPUTS.__dict__, "cache_scope": "team-b"}))
    assert scoped.engine_build_args()["KUBRICKS_CACHE_SCOPE"] == "team-b"
    assert scoped.inputs_hash() == context.inputs_hash(), "the same spec has one content address in every namespace"
