"""The image check: runs containers from an image and verifies the contracts it must meet.

Running (``inspect_image``) gathers facts with a few containers; judging them (``judge``) is pure, so
every finding can be tested without Docker.
"""

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import docker
from docker.errors import DockerException, ImageNotFound

from kubricks.images.render import DATABRICKS_PACKAGES, DATABRICKS_VENV, GPU_DISCOVERY_SCRIPT, SPARK_UID

PROBE = (
    r"""
fact() { printf '%s=%s\n' "$1" "$(printf '%s' "$2" | tr '\n' ' ')"; }
fact spark_submit "$(/opt/spark/bin/spark-submit --version 2>&1 | grep -o 'version [0-9][0-9.]*' | head -n1)"
fact java "$(java -version 2>&1 | head -n1)"
fact javac "$(javac -version 2>&1 | head -n1)"
fact tini "$(test -x /usr/bin/tini && echo yes)"
fact pyspark_spark_roles "$(. /opt/kubricks/bin/spark-env 2>/dev/null \
  && "$PYSPARK_PYTHON" -c 'import pyspark; print(pyspark.__version__)' 2>&1 | tail -n1)"
fact kubernetes_jar "$(ls /opt/spark/jars/spark-kubernetes_*.jar 2>/dev/null | head -n1)"
fact passwd_mode "$(stat -c '%g %A' /etc/passwd)"
fact os "$(. /etc/os-release && echo "$ID $VERSION_ID")"
for package in __PACKAGES__; do
  fact "package_$package" "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)"
done
fact venv_python "$(test -x __VENV__/bin/python && echo yes)"
fact venv_system_site_packages "$(sed -n 's/^include-system-site-packages *= *//p' __VENV__/pyvenv.cfg 2>/dev/null)"
fact venv_pyspark "$(__VENV__/bin/python -c 'import pyspark; print(pyspark.__file__)' 2>&1 | tail -n1)"
fact libraries_user "$(getent passwd libraries | cut -d: -f1)"
fact libraries_password "$(getent shadow libraries | cut -d: -f2 | cut -c1)"
fact cuda_runtime "$(ldconfig -p 2>/dev/null | grep -o 'libcudart\.so[.0-9]*' | head -n1)"
fact discovery_executable "$(test -x __DISCOVERY__ && echo yes)"
fact discovery_output "$(__DISCOVERY__ 2>&1)"
fact rapids_jar "$(ls /opt/spark/jars/rapids-4-spark_*.jar 2>/dev/null | head -n1)"
""".replace("__PACKAGES__", " ".join(DATABRICKS_PACKAGES))
    .replace("__VENV__", DATABRICKS_VENV)
    .replace("__DISCOVERY__", GPU_DISCOVERY_SCRIPT)
)

ARBITRARY_UID = "12345:0"
EXECUTOR_STARTED = re.compile(r"KubernetesExecutorBackend: (Started daemon|Connecting to driver)")
"""What the executor backend logs once its JVM runs it; a ClassNotFoundException naming the class is no start."""


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str
    required: bool = True
    """A failed required finding fails the check; others are advice."""
    skipped: bool = False
    """The check could not run here (no GPU): it neither passes nor fails."""

    @property
    def failed(self) -> bool:
        return self.required and not self.ok and not self.skipped

    def line(self) -> str:
        mark = "SKIP" if self.skipped else "PASS" if self.ok else ("FAIL" if self.required else "WARN")
        return f"{mark}  {self.check}: {self.detail}"


@dataclass
class Observations:
    """What the containers showed."""

    facts: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    """The image's Config (User, Env, Entrypoint)."""
    arbitrary_uid_output: str = ""
    driver_exit: int | None = None
    driver_output: str = ""
    executor_output: str = ""


def _env(config: dict[str, Any]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)


def judge(observed: Observations, variant: str, databricks: bool) -> list[Finding]:
    """The findings, failing ones first."""
    facts = observed.facts
    env = _env(observed.config)
    findings = [
        Finding(
            "spark-submit",
            bool(facts.get("spark_submit")),
            facts.get("spark_submit") or "spark-submit --version failed",
        ),
        Finding("java", "version" in facts.get("java", ""), facts.get("java") or "no java"),
        Finding("tini", facts.get("tini") == "yes", "/usr/bin/tini" if facts.get("tini") == "yes" else "tini missing"),
        Finding(
            "user",
            str(observed.config.get("User", "")).split(":")[0] == str(SPARK_UID),
            f"runs as {observed.config.get('User') or 'root'} (expected {SPARK_UID})",
        ),
        Finding(
            "arbitrary uid",
            observed.arbitrary_uid_output.split() == ["spark", "writable"],
            f"uid {ARBITRARY_UID}: {' '.join(observed.arbitrary_uid_output.split()) or 'no output'}"
            " (expected a passwd entry and a writable work dir)",
        ),
        Finding(
            "driver role",
            observed.driver_exit == 0 and "version" in observed.driver_output,
            "entrypoint driver --version "
            + ("ran spark-submit" if observed.driver_exit == 0 else f"exited {observed.driver_exit}"),
        ),
        _executor_finding(observed.executor_output),
        Finding(
            "pyspark for Spark roles",
            facts.get("pyspark_spark_roles", "").replace(".", "").isdigit(),
            f"import pyspark with Spark's zips: {facts.get('pyspark_spark_roles') or 'no output'}",
        ),
        Finding(
            "spark-kubernetes jar",
            bool(facts.get("kubernetes_jar")),
            facts.get("kubernetes_jar") or "no spark-kubernetes jar in /opt/spark/jars",
        ),
    ]
    if databricks:
        findings.extend(_databricks_findings(facts, env))
    if variant == "gpu":
        findings.extend(_gpu_findings(facts))
    return sorted(findings, key=lambda f: (not f.failed, f.ok, f.skipped, not f.required))


def _executor_finding(output: str) -> Finding:
    started = EXECUTOR_STARTED.search(output)
    if started:
        return Finding("executor role", True, f"entrypoint executor: {started.group(0)}")
    last = output.strip().splitlines()[-1:] or ["no output"]
    return Finding("executor role", False, f"entrypoint executor did not start the backend: {last[0]}")


def _databricks_findings(facts: dict[str, str], env: dict[str, str]) -> list[Finding]:
    missing = [p for p in DATABRICKS_PACKAGES if "install ok installed" not in facts.get(f"package_{p}", "")]
    venv_pyspark = facts.get("venv_pyspark", "")
    return [
        Finding("databricks packages", not missing, f"missing: {', '.join(missing)}" if missing else "all installed"),
        Finding(
            "databricks venv",
            facts.get("venv_python") == "yes",
            f"{DATABRICKS_VENV}/bin/python " + ("exists" if facts.get("venv_python") == "yes" else "is missing"),
        ),
        Finding(
            "venv system site packages",
            facts.get("venv_system_site_packages", "").lower() == "true",
            f"include-system-site-packages = {facts.get('venv_system_site_packages') or 'unset'}",
        ),
        Finding(
            "PYSPARK_PYTHON",
            env.get("PYSPARK_PYTHON", "").startswith(f"{DATABRICKS_VENV}/bin/python"),
            f"PYSPARK_PYTHON={env.get('PYSPARK_PYTHON', '(unset)')}",
        ),
        Finding(
            "libraries user",
            facts.get("libraries_user") == "libraries" and facts.get("libraries_password") == "!",
            "present and locked"
            if facts.get("libraries_user") == "libraries" and facts.get("libraries_password") == "!"
            else "missing or not locked",
        ),
        Finding(
            "no pyspark in the venv",
            "ModuleNotFoundError" in venv_pyspark,
            "Databricks provides pyspark"
            if "ModuleNotFoundError" in venv_pyspark
            else f"pyspark importable from {DATABRICKS_VENV}: {venv_pyspark}",
        ),
        Finding("JDK", "javac" in facts.get("javac", ""), facts.get("javac") or "no javac"),
        Finding(
            "locale",
            env.get("LANG") == "C.UTF-8" and env.get("LC_ALL") == "C.UTF-8",
            f"LANG={env.get('LANG', '(unset)')} LC_ALL={env.get('LC_ALL', '(unset)')}",
        ),
        Finding(
            "ubuntu base",
            facts.get("os", "").startswith("ubuntu"),
            f"{facts.get('os') or 'unknown OS'} (Databricks documents Ubuntu bases)",
            required=False,
        ),
    ]


def _discovery_finding(facts: dict[str, str]) -> Finding:
    """The script must print Spark's ResourceInformation JSON; that it finds GPUs only a GPU machine can show."""
    output = facts.get("discovery_output", "")
    try:
        parsed = json.loads(output)
        addresses = parsed.get("addresses") if parsed.get("name") == "gpu" else None
    except (ValueError, AttributeError):
        addresses = None
    said = f"{GPU_DISCOVERY_SCRIPT} printed {output or 'nothing'}"
    if facts.get("discovery_executable") != "yes" or not isinstance(addresses, list):
        return Finding("GPU discovery script", False, said)
    if not addresses:
        return Finding("GPU discovery script", False, f"no GPU here: {said}; on a GPU node it lists them", skipped=True)
    return Finding("GPU discovery script", True, said)


def _gpu_findings(facts: dict[str, str]) -> list[Finding]:
    return [
        Finding("CUDA runtime", bool(facts.get("cuda_runtime")), facts.get("cuda_runtime") or "libcudart not found"),
        _discovery_finding(facts),
        Finding(
            "RAPIDS jar",
            bool(facts.get("rapids_jar")),
            facts.get("rapids_jar") or "not on the classpath",
            required=False,
        ),
    ]


def _run(client: docker.DockerClient, image: str, **options: Any) -> tuple[int, str]:
    container = client.containers.create(image, **options)
    try:
        container.start()
        status = container.wait(timeout=120)
        return int(status["StatusCode"]), container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)


def _executor_output(client: docker.DockerClient, image: str) -> str:
    """Starts the executor role against a driver that is not there and reads what the JVM logged."""
    env = {
        "SPARK_EXECUTOR_MEMORY": "256m",
        "SPARK_DRIVER_URL": "spark://CoarseGrainedScheduler@127.0.0.1:9/",
        "SPARK_EXECUTOR_ID": "1",
        "SPARK_EXECUTOR_CORES": "1",
        "SPARK_APPLICATION_ID": "kubricks-image-check",
        "SPARK_EXECUTOR_POD_IP": "127.0.0.1",
    }
    container = client.containers.create(image, command=["executor"], environment=env)
    try:
        container.start()
        deadline = time.monotonic() + 60
        output = ""
        while time.monotonic() < deadline:
            output = container.logs().decode(errors="replace")
            container.reload()
            if EXECUTOR_STARTED.search(output) or container.status == "exited":
                break
            time.sleep(0.5)
        return output
    finally:
        container.remove(force=True)


def observe(image: str, docker_host: str | None = None) -> Observations:
    """Runs the probe containers; the image must be local or pullable by the engine."""
    try:
        client = docker.DockerClient(base_url=docker_host) if docker_host else docker.from_env()
        try:
            config = client.api.inspect_image(image)["Config"]
        except ImageNotFound:
            client.images.pull(image)
            config = client.api.inspect_image(image)["Config"]
        _, probe = _run(client, image, entrypoint=["/bin/bash", "-c"], command=[PROBE], user="0")
        facts = dict(line.split("=", 1) for line in probe.splitlines() if "=" in line)
        _, arbitrary = _run(
            client,
            image,
            command=["bash", "-c", "id -un; test -w /opt/spark/work-dir && echo writable"],
            user=ARBITRARY_UID,
        )
        driver_exit, driver = _run(
            client, image, command=["driver", "--version"], environment={"SPARK_DRIVER_BIND_ADDRESS": "127.0.0.1"}
        )
        executor = _executor_output(client, image)
    except DockerException as error:
        raise RuntimeError(f"cannot run {image}: {error}") from None
    return Observations(
        facts=facts,
        config=config,
        arbitrary_uid_output=arbitrary,
        driver_exit=driver_exit,
        driver_output=driver,
        executor_output=executor,
    )


def check_image(image: str, variant: str, databricks: bool, docker_host: str | None = None) -> list[Finding]:
    return judge(observe(image, docker_host), variant, databricks)
