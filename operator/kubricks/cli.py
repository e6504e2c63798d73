"""The ``kubricks`` command."""

import asyncio
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click
import yaml
from kubernetes import config

from kubricks import __version__
from kubricks.api.base import DNS_SUBDOMAIN, Resource
from kubricks.api.crd import KINDS, custom_resource_definition, plural, render_yaml
from kubricks.api.sparkimage import SparkImage
from kubricks.api.sparkjob import SparkJob
from kubricks.api.yamlio import dump_all
from kubricks.control.leader import Leadership
from kubricks.control.options import OperatorOptions
from kubricks.databricks.payloads import REDACTED, BasicAuth, redacted, secret_references, submit_run
from kubricks.databricks.workspace_state import parse_allowed_hosts
from kubricks.dev import cluster as dev_cluster
from kubricks.dev.config import DevCluster
from kubricks.emulator.databricks import serve
from kubricks.host_patterns import parse_host_patterns
from kubricks.images.backend import DockerBackend
from kubricks.images.builder import build_spark_image, resolve_inputs
from kubricks.images.check import check_image
from kubricks.images.outcomes import BuildError, InputError, RegistryError
from kubricks.images.registry import Credentials, RegistryClient, credentials_from_docker_config
from kubricks.images.render import ResolvedInputs, render
from kubricks.k8s.client import (
    default_namespace,
    failure_of,
    list_pods,
    open_pod_log,
    read_config_map_data,
    read_custom_object,
    read_pod,
)
from kubricks.migrate.kubeflow import OperatorFlags, import_documents
from kubricks.spark.admission import ENFORCE_LABEL, LEVELS, Level, Policy
from kubricks.spark.attempt import Attempt
from kubricks.spark.manifests import attempt_resources
from kubricks.spark.pods import (
    CurrentAttempt,
    NoSuchPod,
    current_attempt,
    driver_not_running,
    executor_pod,
    forwarded_port,
    is_kubectl_chatter,
    log_not_started,
    pod_gone,
    port_forward_command,
    port_forward_ended,
    spark_container,
    spark_ui_line,
)
from kubricks.spark.ui import UI_PORT

R = TypeVar("R", bound=Resource)
RENDER_UID = "00000000-0000-0000-0000-000000000000"
"""Stands in for the uid the API server gives a SparkJob, from which attempt names derive."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """kubricks builds unified Spark images and runs Spark jobs on Kubernetes or Databricks."""


@main.command()
def version() -> None:
    """Print the version."""
    click.echo(__version__)


@main.command()
def crds() -> None:
    """Print the CustomResourceDefinitions as YAML: kubricks crds | kubectl apply --server-side -f -"""
    click.echo(render_yaml(custom_resource_definition(kind) for kind in KINDS), nl=False)


@main.command("run")
@click.option("--namespace", "-n", "namespaces", multiple=True, help="A namespace to watch (repeatable).")
@click.option("--all-namespaces", "-A", is_flag=True, help="Watch every namespace (the default without --namespace).")
@click.option("--standalone", is_flag=True, help="Do not coordinate with other kubricks instances (no peering).")
@click.option(
    "--liveness",
    default="http://0.0.0.0:8080/healthz",
    show_default=True,
    help="Where kopf serves its liveness probe.",
)
@click.option("--metrics-port", default=8081, show_default=True, help="Where /metrics is served; 0 turns it off.")
@click.option(
    "--probe-port",
    default=0,
    help="Where /healthz and /readyz are served (ready: reconciling, or a standby that can take over); 0: not.",
)
@click.option(
    "--leader-election-lease",
    default="",
    metavar="NAME",
    help="Reconcile only while holding this coordination.k8s.io Lease, so replicas stand by for one another.",
)
@click.option(
    "--leader-election-namespace",
    envvar="POD_NAMESPACE",
    default="",
    help="The Lease's namespace [default: POD_NAMESPACE, else the service account's, else the kubeconfig's].",
)
@click.option(
    "--leader-election-identity",
    envvar="POD_NAME",
    default="",
    help="This replica's name in the Lease [default: POD_NAME, else the host name and a random suffix].",
)
@click.option(
    "--default-pull-secret",
    default="",
    help="NAME of the dockerconfigjson Secret that Spark pods pull with when neither their job nor its "
    "SparkImage names one; each namespace that needs it provides its own (kubricks copies no Secret).",
)
@click.option(
    "--default-pod-security-level",
    type=click.Choice(LEVELS),
    default="restricted",
    show_default=True,
    help=f"The Pod Security level of namespaces without the {ENFORCE_LABEL} label: a SparkJob whose pods ask for "
    "more fails before any is created.",
)
@click.option(
    "--allowed-service-account",
    "service_accounts",
    multiple=True,
    metavar="NAME",
    help="A service account SparkJobs may run as (repeatable); without any, every one. The one kubricks "
    "manages is always allowed.",
)
@click.option(
    "--allowed-toleration-key",
    "toleration_keys",
    multiple=True,
    metavar="KEY",
    help="A taint key Spark pods may tolerate (repeatable); without any, every key.",
)
@click.option("--allow-tolerate-all", is_flag=True, help="Allow tolerations without a key, which tolerate every taint.")
@click.option(
    "--allowed-annotation-prefix",
    "annotation_prefixes",
    multiple=True,
    metavar="PREFIX",
    help="A prefix of the annotation keys SparkJobs may put on their pods (repeatable); without any, every key.",
)
@click.option(
    "--allowed-ui-host",
    "ui_hosts",
    multiple=True,
    metavar="PATTERN",
    help="A host the Spark UI's Ingress or HTTPRoute may claim (repeatable): a host name, or *.DOMAIN for every "
    "host under DOMAIN. Without any, every host.",
)
@click.option(
    "--allowed-ui-service-type",
    "ui_service_types",
    multiple=True,
    type=click.Choice(["ClusterIP", "NodePort", "LoadBalancer"]),
    default=Policy.ui_service_types,
    show_default=True,
    help="A type the Spark UI's own Service may have (repeatable).",
)
@click.option(
    "--max-builds",
    type=click.IntRange(min=1),
    default=OperatorOptions.max_builds,
    show_default=True,
    help="How many SparkImage builds run at once, in threads of their own.",
)
@click.option(
    "--max-builds-per-namespace",
    type=click.IntRange(min=1),
    default=OperatorOptions.max_builds_per_namespace,
    show_default=True,
    help="How many of them one namespace may hold; its further builds wait for one of its own to end.",
)
@click.option(
    "--databricks-allowed-host",
    "databricks_allowed_hosts",
    multiple=True,
    metavar="PATTERN",
    help="A Databricks workspace host the operator may send credentials to (repeatable): a host name, or "
    "*.DOMAIN for every host under DOMAIN such as *.cloud.databricks.com. Without any, every host is allowed.",
)
def run_operator(
    namespaces: tuple[str, ...],
    all_namespaces: bool,
    standalone: bool,
    liveness: str,
    metrics_port: int,
    probe_port: int,
    leader_election_lease: str,
    leader_election_namespace: str,
    leader_election_identity: str,
    default_pull_secret: str,
    default_pod_security_level: Level,
    service_accounts: tuple[str, ...],
    toleration_keys: tuple[str, ...],
    allow_tolerate_all: bool,
    annotation_prefixes: tuple[str, ...],
    ui_hosts: tuple[str, ...],
    ui_service_types: tuple[str, ...],
    max_builds: int,
    max_builds_per_namespace: int,
    databricks_allowed_hosts: tuple[str, ...],
) -> None:
    """Run the operator against the current kubeconfig (or the pod's service account)."""
    try:
        allowed_hosts = parse_allowed_hosts(",".join(databricks_allowed_hosts))
    except ValueError as invalid:
        raise click.BadParameter(str(invalid), param_hint="--databricks-allowed-host") from None
    if default_pull_secret and not re.fullmatch(DNS_SUBDOMAIN, default_pull_secret):
        raise click.BadParameter(
            "give the Secret's NAME (a DNS subdomain name); each job's namespace provides a Secret of that name",
            param_hint="--default-pull-secret",
        )
    for account in service_accounts:
        if not re.fullmatch(DNS_SUBDOMAIN, account):
            raise click.BadParameter(
                f"{account!r} is not a service account name", param_hint="--allowed-service-account"
            )
    try:
        allowed_ui_hosts = parse_host_patterns(",".join(ui_hosts), "spark.example.com")
    except ValueError as invalid:
        raise click.BadParameter(str(invalid), param_hint="--allowed-ui-host") from None
    policy = Policy(
        service_accounts,
        toleration_keys,
        allow_tolerate_all,
        annotation_prefixes,
        default_pod_security_level,
        allowed_ui_hosts,
        ui_service_types,
    )
    options = OperatorOptions(
        default_pull_secret=default_pull_secret or None,
        policy=policy,
        databricks_allowed_hosts=allowed_hosts,
        max_builds=max_builds,
        max_builds_per_namespace=max_builds_per_namespace,
    )
    leadership = None
    if leader_election_lease:
        leadership = Leadership(
            leader_election_namespace or running_namespace(),
            leader_election_lease,
            leader_election_identity or f"{socket.gethostname()}-{secrets.token_hex(4)}",
        )
    from kubricks.operator import run  # noqa: PLC0415 - loading the handlers registers them with kopf

    run(namespaces, all_namespaces, standalone, liveness or None, metrics_port, options, probe_port, leadership)


SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def running_namespace() -> str:
    """The namespace this process runs in: its pod's, else the kubeconfig context's."""
    if SERVICE_ACCOUNT_NAMESPACE.exists():
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
    return default_namespace()


@main.group()
def image() -> None:
    """Render, build and check unified Spark images."""


def load_resource(path: Path, kind: type[R]) -> R:
    """The one resource of ``kind`` in a YAML file, validated as the API server would."""
    try:
        documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
    except (OSError, yaml.YAMLError) as error:
        raise click.ClickException(f"cannot read {path}: {error}") from None
    found = [d for d in documents if d.get("kind") == kind.KIND]
    if len(found) != 1:
        raise click.ClickException(f"{path} must hold exactly one {kind.KIND} (found {len(found)})")
    try:
        return kind.model_validate(found[0])
    except ValueError as error:
        raise click.ClickException(f"{path} is not a valid {kind.KIND}:\n{error}") from None


def local_docker_credentials() -> Credentials:
    """The registry logins of the local Docker client (``docker login``)."""
    config = Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "config.json"
    return credentials_from_docker_config(config.read_bytes()) if config.is_file() else {}


def config_maps_from_cluster(resource: SparkImage) -> dict[str, dict[str, str]]:
    names = [s.config_map.name for s in resource.spec.app.sources if s.config_map]
    if not names:
        return {}
    try:
        config.load_kube_config()
    except config.ConfigException as error:
        raise click.ClickException(f"spec.app.sources names ConfigMaps but no cluster is reachable: {error}") from None
    return read_config_maps(names, resource.metadata.get("namespace"), "spec.app.sources")


def read_config_maps(names: list[str], namespace: str | None, field: str) -> dict[str, dict[str, str]]:
    """The named ConfigMaps' data, from the resource's namespace or the kubeconfig context's; a missing one is an
    error naming ``field``."""
    namespace = namespace or config.list_kube_config_contexts()[1]["context"].get("namespace", "default")
    found = {}
    for name in names:
        data = read_config_map_data(namespace, name)
        if data is None:
            raise click.ClickException(f"{field}: the ConfigMap {name} does not exist in namespace {namespace}")
        found[name] = data
    return found


def spark_config_from_cluster(resource: SparkJob) -> dict[str, str] | None:
    """The files of the job's sparkConfigMap, as the operator would read them; without a cluster to ask, None (and
    a note), so that a job renders offline too."""
    name = resource.spec.kubernetes.spark_config_map if resource.spec.kubernetes else None
    if name is None:
        return None
    try:
        config.load_kube_config()
    except config.ConfigException:
        click.echo(f"note: no cluster to read the sparkConfigMap {name} from; rendered without it", err=True)
        return None
    return read_config_maps([name], resource.metadata.get("namespace"), "spec.kubernetes.sparkConfigMap")[name]


@image.command("render")
@click.option("-f", "--file", "path", type=click.Path(exists=True, path_type=Path), required=True)
def image_render(path: Path) -> None:
    """Print the Dockerfile a SparkImage renders to (base images unpinned, git refs unresolved)."""
    resource = load_resource(path, SparkImage)
    config_maps: dict[str, dict[str, str]] = {s.config_map.name: {} for s in resource.spec.app.sources if s.config_map}
    click.echo(render(resource.spec, ResolvedInputs(config_maps=config_maps)).dockerfile, nl=False)


@image.command("build")
@click.option("-f", "--file", "path", type=click.Path(exists=True, path_type=Path), required=True)
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM certificates every download during the build must trust.",
)
def image_build(path: Path, ca_bundle: Path | None) -> None:
    """Build and push each variant of a SparkImage with the local Docker engine and login.

    Prints each variant's ref@digest on its own line; progress goes to standard error.
    """
    resource = load_resource(path, SparkImage)
    credentials = local_docker_credentials()

    def progress(line: str) -> None:
        click.echo(f"  {line}", err=True)

    async def run() -> None:
        inputs = await resolve_inputs(
            resource.spec,
            RegistryClient(credentials),
            config_maps_from_cluster(resource),
            ca_bundle.read_text() if ca_bundle else None,
        )
        outcome = await build_spark_image(resource.spec, inputs, DockerBackend(), credentials, progress)
        click.echo(f"inputs {outcome.inputs_hash}", err=True)
        for built in outcome.images:
            click.echo(f"{built.ref}@{built.digest}")

    try:
        asyncio.run(run())
    except (BuildError, InputError, RegistryError) as error:
        tail = getattr(error, "log_tail", "")
        raise click.ClickException(f"{error}\n{tail}".rstrip()) from None


@main.group()
def job() -> None:
    """Render SparkJobs, print their pods' logs and reach their Spark UI."""


@job.command("render")
@click.option("-f", "--file", "path", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--image", "image_ref", help="The image to run, for a job that names a SparkImage.")
def job_render(path: Path, image_ref: str | None) -> None:
    """Print what the operator would send or create for a SparkJob's first attempt.

    Kubernetes target: the manifests. Databricks target: the runs/submit request body, passwords redacted.
    """
    resource = load_resource(path, SparkJob)
    image_ref = image_ref or resource.spec.image.ref
    if image_ref is None:
        raise click.ClickException(
            f"spec.image.sparkImage names the SparkImage {resource.spec.image.spark_image}: "
            "pass --image with its status.images[].ref (or ref@digest)"
        )
    metadata = {"namespace": "default", **resource.metadata}
    resource = resource.model_copy(update={"metadata": metadata})
    uid = metadata.get("uid", RENDER_UID)
    if resource.spec.kubernetes is not None:
        attempt = Attempt(metadata["name"], metadata["namespace"], uid, 1)
        spark_config = spark_config_from_cluster(resource)
        click.echo(dump_all(attempt_resources(resource, attempt, image_ref, None, None, spark_config)), nl=False)
        return
    target = resource.spec.databricks
    auth = target.registry_auth if target else None
    basic = secret_references(auth) if auth and auth.databricks_secret else None
    if auth and auth.secret:
        basic = BasicAuth(f"<user from Secret {auth.secret}>", REDACTED)
    elif auth and auth.from_spark_image:
        basic = BasicAuth(f"<user from the push Secret of SparkImage {resource.spec.image.spark_image}>", REDACTED)
    cluster = target.cluster.cluster_ref if target else None
    body = submit_run(resource, uid, 1, image_ref, basic, f"<cluster of DatabricksCluster {cluster}>")
    click.echo(json.dumps(redacted(body), indent=2))


@contextmanager
def cluster_errors() -> Iterator[None]:
    """What the cluster answers, or its silence, as a one-line error."""
    try:
        yield
    except NoSuchPod as error:
        raise click.ClickException(str(error)) from None
    except config.ConfigException as error:
        raise click.ClickException(f"no cluster to talk to: {error}") from None
    except Exception as error:
        failure = failure_of(error)
        if failure is None:
            raise
        status, message = failure
        answer = "did not answer" if status == 0 else f"answered HTTP {status}"
        raise click.ClickException(f"the API server {answer}: {message}") from None


def current_attempt_in_cluster(namespace: str, name: str) -> CurrentAttempt:
    body = read_custom_object(plural(SparkJob), namespace, name)
    if body is None:
        raise click.ClickException(f"SparkJob {namespace}/{name} does not exist")
    return current_attempt(SparkJob.model_validate(body))


def read_pod_of(attempt: CurrentAttempt, name: str) -> Mapping[str, Any]:
    pod = read_pod(attempt.namespace, name)
    if pod is None:
        raise click.ClickException(pod_gone(attempt, name))
    return pod


NAMESPACE_HELP = "The SparkJob's namespace (default: the kubeconfig context's)."


@job.command("logs")
@click.argument("name")
@click.option("--namespace", "-n", help=NAMESPACE_HELP)
@click.option("--follow", "-f", is_flag=True, help="Keep printing the log as it grows, until the container ends.")
@click.option(
    "--executor",
    type=click.IntRange(min=1),
    metavar="N",
    help="Executor N's log (its spark-exec-id label) instead of the driver's.",
)
@click.option("--tail", "tail_lines", type=click.IntRange(min=0), metavar="LINES", help="Only the last LINES lines.")
def job_logs(name: str, namespace: str | None, follow: bool, executor: int | None, tail_lines: int | None) -> None:
    """Print the log of a SparkJob's driver pod, or of one of its executors, in its current attempt."""
    namespace = namespace or default_namespace()
    with cluster_errors():
        attempt = current_attempt_in_cluster(namespace, name)
        if executor is None:
            pod = read_pod_of(attempt, attempt.driver_pod)
        else:
            pod = executor_pod(attempt, list_pods(namespace, attempt.executor_selector), executor)
        not_started = log_not_started(attempt, pod)
        if not_started:
            raise click.ClickException(not_started)
        pod_name = pod["metadata"]["name"]
        lines = open_pod_log(namespace, pod_name, spark_container(pod), follow=follow, tail_lines=tail_lines)
        if lines is None:
            raise click.ClickException(pod_gone(attempt, pod_name))
        stdout = sys.stdout.buffer
        with suppress(KeyboardInterrupt):  # Ctrl-C is how one stops following a log that is still growing.
            for line in lines:
                stdout.write(line)
                if follow:
                    stdout.flush()


@job.command("ui")
@click.argument("name")
@click.option("--namespace", "-n", help=NAMESPACE_HELP)
@click.option(
    "--port",
    "local_port",
    type=click.IntRange(0, 65535),
    default=UI_PORT,
    show_default=True,
    help="The local port to listen on; 0 picks a free one.",
)
def job_ui(name: str, namespace: str | None, local_port: int) -> None:
    """Forward a local port to the Spark UI of a SparkJob's running driver, until Ctrl-C (needs kubectl)."""
    namespace = namespace or default_namespace()
    with cluster_errors():
        attempt = current_attempt_in_cluster(namespace, name)
        pod = read_pod_of(attempt, attempt.driver_pod)
    not_running = driver_not_running(attempt, pod)
    if not_running:
        raise click.ClickException(not_running)
    # Ctrl-C is how one stops forwarding; a SIGTERM stops it the same way, so that kubectl does not outlive us.
    previous_handler = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with suppress(KeyboardInterrupt):
            forward_spark_ui(attempt, local_port)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


def forward_spark_ui(attempt: CurrentAttempt, local_port: int) -> None:
    """Runs kubectl port-forward and prints the Spark UI's URL once kubectl listens. Whatever kubectl says besides
    its chatter goes to standard error; its end, before or after it listened, is an error."""
    try:
        kubectl = subprocess.Popen(
            port_forward_command(attempt, local_port), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    except FileNotFoundError:
        raise click.ClickException(f"kubectl is missing: {dev_cluster.INSTALL_HINTS['kubectl']}") from None
    said: deque[str] = deque(maxlen=3)
    forwarding = False
    try:
        for line in kubectl.stdout or ():
            port = forwarded_port(line)
            if port is not None and not forwarding:
                forwarding = True
                click.echo(spark_ui_line(attempt, port))
            elif not is_kubectl_chatter(line):
                said.append(line)
                if forwarding:
                    click.echo(line, err=True, nl=False)
        raise click.ClickException(port_forward_ended(attempt, kubectl.wait(), list(said), forwarding))
    finally:
        if kubectl.poll() is None:
            kubectl.terminate()
        kubectl.wait()


@main.group()
def databricks() -> None:
    """The Databricks side: a local emulator of its REST API."""


@databricks.command("emulate")
@click.option("--port", default=8765, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--token",
    "tokens",
    multiple=True,
    help="A personal access token to accept, by the /emulator/ controls too (repeatable).",
)
@click.option("--oauth-client", "oauth_clients", multiple=True, help="CLIENT_ID:CLIENT_SECRET to accept (repeatable).")
@click.option("--docker", "use_docker", is_flag=True, help="Run python_wheel_task runs for real in their image.")
def databricks_emulate(
    port: int, host: str, tokens: tuple[str, ...], oauth_clients: tuple[str, ...], use_docker: bool
) -> None:
    """Serve the Databricks REST API emulator (runs, clusters, workspace-conf, OAuth)."""
    clients = dict(pair.split(":", 1) for pair in oauth_clients)
    accepted = list(tokens) or [os.environ.get("KUBRICKS_EMULATOR_TOKEN", "dapi-kubricks-emulator")]
    click.echo(f"Databricks emulator on http://{host}:{port} (tokens: {len(accepted)}, OAuth clients: {len(clients)})")
    serve(
        port,
        accepted,
        clients,
        os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock") if use_docker else None,
        host,
    )


@image.command("check")
@click.argument("ref")
@click.option("--variant", type=click.Choice(["cpu", "gpu"]), default="cpu", show_default=True)
@click.option("--databricks", is_flag=True, help="Also check the Databricks custom container contract.")
def image_check(ref: str, variant: str, databricks: bool) -> None:
    """Run the contract checks on an image; exits non-zero when one fails."""
    try:
        findings = check_image(ref, variant, databricks)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    for finding in findings:
        click.echo(finding.line())
    failed = [f for f in findings if f.failed]
    skipped = [f for f in findings if f.skipped]
    click.echo(f"{len(findings) - len(failed) - len(skipped)} passed, {len(failed)} failed, {len(skipped)} skipped")
    if failed:
        sys.exit(1)


@main.group()
def dev() -> None:
    """A local kind cluster with a registry and the operator, for trying kubricks on a laptop."""


def dev_cluster_options(command: Callable[..., None]) -> Callable[..., None]:
    """--name and --registry-port, which together name a dev cluster."""
    command = click.option(
        "--registry-port", default=DevCluster.registry_port, show_default=True, help="The registry's local port."
    )(command)
    return click.option("--name", default=DevCluster.name, show_default=True, help="The kind cluster's name.")(command)


@contextmanager
def dev_errors() -> Iterator[None]:
    try:
        yield
    except dev_cluster.DevError as error:
        raise click.ClickException(str(error)) from None


@dev.command("up")
@dev_cluster_options
@click.option("--node-image", help="The kind node image (default: kind's own).")
@click.option("--registry-image", default="registry:2", show_default=True, help="The registry container's image.")
@click.option("--operator-image", help="A built operator image to load (default: build images/operator/Dockerfile).")
@click.option("--base-image", help="The base of the operator image build (default: its Dockerfile's).")
@click.option("--ca-bundle", type=click.Path(exists=True, path_type=Path), help="Extra CAs the image build trusts.")
@click.option("--source", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True,
              help="The kubricks checkout with the chart and the operator's Dockerfile.")  # fmt: skip
@click.option("--databricks-emulator", "emulator", is_flag=True, help="Also run the Databricks REST emulator.")
def dev_up(name: str, registry_port: int, **options: Any) -> None:
    """Create (or complete) the cluster, the registry and the operator; print what to apply next."""
    with dev_errors():
        dev_cluster.up(DevCluster(name, registry_port), dev_cluster.UpOptions(**options), click.echo)


@dev.command("down")
@dev_cluster_options
def dev_down(name: str, registry_port: int) -> None:
    """Delete the cluster and its registry."""
    with dev_errors():
        dev_cluster.down(DevCluster(name, registry_port), click.echo)


@dev.command("status")
@dev_cluster_options
def dev_status(name: str, registry_port: int) -> None:
    """One line per part; exits non-zero when one is down."""
    with dev_errors():
        parts = dev_cluster.status(DevCluster(name, registry_port))
    for part, is_up, detail in parts:
        click.echo(f"{part:<10} {'up' if is_up else 'down':<5} {detail}")
    if not all(is_up for _, is_up, _ in parts):
        sys.exit(1)


@main.command("import")
@click.option(
    "-f",
    "--file",
    "files",
    type=click.File("r"),
    multiple=True,
    required=True,
    help="A YAML file of kubeflow spark-operator SparkApplications and ScheduledSparkApplications (repeatable); "
    "- reads standard input.",
)
@click.option("--strict", is_flag=True, help="Exit 1 when any field could not be mapped.")
@click.option(
    "--namespace", "-n", help="The namespace of every SparkJob and ScheduledSparkJob, instead of the application's."
)
@click.option(
    "--ingress-url-format",
    metavar="FORMAT",
    help="The --ingress-url-format kubeflow's operator ran with, such as {{$appName}}.{{$appNamespace}}.example.com: "
    "each SparkJob's Spark UI gets an Ingress at that host, as kubeflow gave each application one.",
)
@click.option(
    "--ingress-class-name",
    metavar="CLASS",
    help="The --ingress-class-name kubeflow's operator ran with: the IngressClass of those Ingresses.",
)
def import_kubeflow(
    files: tuple[TextIO, ...],
    strict: bool,
    namespace: str | None,
    ingress_url_format: str | None,
    ingress_class_name: str | None,
) -> None:
    """Print kubeflow spark-operator SparkApplications as SparkJobs, ScheduledSparkApplications as ScheduledSparkJobs.

    Other documents pass through unchanged. What cannot be mapped goes to standard error, one line per field:
    NAME: spec.FIELD: REASON; a field that maps with a difference worth knowing gets a line NAME: spec.FIELD: note: ...
    """
    documents: list[Any] = []
    for file in files:
        try:
            documents += yaml.safe_load_all(file)
        except yaml.YAMLError as error:
            raise click.ClickException(f"cannot read {file.name}: {error}") from None
    imported = import_documents(documents, namespace, OperatorFlags(ingress_url_format, ingress_class_name))
    click.echo(dump_all(imported.documents), nl=False)
    for message in imported.messages:
        click.echo(message, err=True)
    if strict and imported.unmapped:
        sys.exit(1)
