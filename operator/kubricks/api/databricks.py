"""DatabricksWorkspace, DatabricksCluster, and the Databricks shapes SparkJob shares with them."""

import re
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from kubricks.api.base import (
    AGE_COLUMN,
    PHASE_COLUMN,
    ApiModel,
    ImageReference,
    Resource,
    ResourceName,
    Rule,
    SecretKey,
    Status,
    StringMap,
    exactly_one_of,
    immutable,
)
from kubricks.api.sparkimage import Variant

ClusterId = Annotated[str, Field(pattern=r"^[0-9A-Za-z-]+$", min_length=1, max_length=64)]
SparkVersion = Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+\.x-[-a-z0-9.]+$", max_length=64)]
NodeTypeId = Annotated[str, Field(pattern=r"^[-_.A-Za-z0-9]+$", min_length=1, max_length=128)]

_LABEL = r"[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_PORT = r"(:[1-9][0-9]{0,4})?"
_ANY_HOST = rf"{_LABEL}(\.{_LABEL})*|\[[0-9A-Fa-f:.]+\]"
# Plain http never leaves the machine or the cluster: the local emulator, or one run as an in-cluster Service.
_LOOPBACK_OR_SERVICE = rf"localhost|127(\.{_OCTET}){{3}}|\[::1\]|{_LABEL}\.{_LABEL}\.svc(\.cluster\.local)?"
WORKSPACE_HOST_PATTERN = rf"^(https://({_ANY_HOST})|http://({_LOOPBACK_OR_SERVICE})){_PORT}/?$"
"""A workspace URL: scheme, host and port only (one trailing / tolerated); no user, path, query or fragment."""
_PORT_AT_END = r":[0-9]{1,5}/?$"
MAX_PORT = 65535

WorkspaceHost = Annotated[str, Field(pattern=WORKSPACE_HOST_PATTERN, max_length=300)]
"""Where a workspace's credentials are sent, so nothing but the origin: see WORKSPACE_HOST_PATTERN."""


def _valid_workspace_host(host: str) -> bool:
    port = re.search(_PORT_AT_END, host)
    return bool(re.fullmatch(WORKSPACE_HOST_PATTERN, host)) and (
        port is None or int(port.group().strip(":/")) <= MAX_PORT
    )


WORKSPACE_HOST_RULE = Rule(
    # The pattern again, so that the API server's answer says how to fix it, and the port range it leaves open.
    cel=f"self.host.matches(r'{WORKSPACE_HOST_PATTERN}') && (!self.host.matches(r'{_PORT_AT_END}') || "
    f"int(self.host.find(r'{_PORT_AT_END}').replace(':', '').replace('/', '')) <= {MAX_PORT})",
    message="spec.host must be the workspace URL alone, https://HOST or https://HOST:PORT (port at most 65535), "
    "without user@, path, query or fragment; plain http:// only for localhost, 127.x.x.x, [::1] or an in-cluster "
    "Service (NAME.NAMESPACE.svc): write it as https://adb-1234567890123456.7.azuredatabricks.net",
    check=lambda spec: _valid_workspace_host(spec.host),
)


class Autoscale(ApiModel):
    """Workers scale between minWorkers and maxWorkers."""

    rules: ClassVar = (
        Rule(
            cel="self.minWorkers <= self.maxWorkers",
            message="autoscale.minWorkers must not exceed autoscale.maxWorkers",
            check=lambda a: a.min_workers <= a.max_workers,
        ),
    )

    min_workers: Annotated[int, Field(ge=0, le=100000)]
    """The fewest workers."""
    max_workers: Annotated[int, Field(ge=1, le=100000)]
    """The most workers."""


class Destination(ApiModel):
    """Where an init script lives."""

    destination: Annotated[str, Field(min_length=1, max_length=2048)]
    """The script's path or URL."""


class InitScript(ApiModel):
    """A cluster init script, in the Databricks API's shape: exactly one location."""

    rules: ClassVar = (exactly_one_of("initScripts[]", "workspace", "volumes", "dbfs", "s3", "abfss", "gcs", "file"),)

    workspace: Destination | None = None
    """A workspace file, such as /Shared/init.sh."""
    volumes: Destination | None = None
    """A Unity Catalog volume file."""
    dbfs: Destination | None = None
    """A DBFS file (deprecated by Databricks)."""
    s3: Destination | None = None
    """An S3 object."""
    abfss: Destination | None = None
    """An ADLS Gen2 file."""
    gcs: Destination | None = None
    """A Google Cloud Storage object."""
    file: Destination | None = None
    """A file on the cluster's nodes."""


InitScripts = Annotated[list[InitScript], Field(max_length=16)]


class DatabricksSecretAuth(ApiModel):
    """Registry credentials in a Databricks secret scope; only {{secrets/<scope>/<key>}} references are sent."""

    scope: Annotated[str, Field(pattern=r"^[\w.@-]+$", max_length=128)]
    """The secret scope."""
    username_key: Annotated[str, Field(pattern=r"^[\w.-]+$", max_length=128)]
    """The key holding the registry user name."""
    password_key: Annotated[str, Field(pattern=r"^[\w.-]+$", max_length=128)]
    """The key holding the registry password or token."""


def one_registry_credential(path: str) -> Rule:
    """Exactly one of secret, databricksSecret or fromSparkImage: true (false counts as not given)."""
    return Rule(
        cel="[has(self.secret), has(self.databricksSecret), has(self.fromSparkImage) && self.fromSparkImage]"
        ".exists_one(x, x)",
        message=f"exactly one of {path}.secret / {path}.databricksSecret / {path}.fromSparkImage: true must be set",
        check=lambda auth: (
            [auth.secret is not None, auth.databricks_secret is not None, auth.from_spark_image].count(True) == 1
        ),
    )


class RegistryAuth(ApiModel):
    """How the Databricks cluster pulls the image: exactly one of secret, databricksSecret or fromSparkImage.
    Without registryAuth no registry credentials are sent to Databricks."""

    rules: ClassVar = (one_registry_credential("spec.registryAuth"),)

    secret: ResourceName | None = None
    """A kubernetes.io/dockerconfigjson Secret in this namespace, sent as docker_image.basic_auth."""
    databricks_secret: DatabricksSecretAuth | None = None
    """Credentials in a Databricks secret scope, sent as {{secrets/<scope>/<key>}} references."""
    from_spark_image: bool = False
    """true: send the push credentials of the SparkImage named in spec.image.sparkImage (its
    spec.registry.credentialsSecret) as docker_image.basic_auth. Off unless set, because those credentials can
    push to the repository; prefer a pull-only secret or databricksSecret."""


class ClusterShape(ApiModel):
    """The shape of a Databricks cluster: runtime, node types, size, Spark settings."""

    spark_version: SparkVersion
    """The Databricks Runtime version key, such as 15.4.x-scala2.12."""
    node_type_id: NodeTypeId
    """The workers' node type, such as Standard_DS3_v2."""
    driver_node_type_id: NodeTypeId | None = None
    """The driver's node type; defaults to nodeTypeId."""
    num_workers: Annotated[int, Field(ge=0, le=100000)] | None = None
    """A fixed number of workers (exclusive with autoscale)."""
    autoscale: Autoscale | None = None
    """Autoscaling bounds (exclusive with numWorkers)."""
    spark_conf: StringMap = {}
    """Spark configuration of the cluster."""
    spark_env_vars: StringMap = {}
    """Environment variables of the cluster's Spark processes."""
    custom_tags: StringMap = {}
    """Tags on the cluster's cloud resources; kubricks adds its own."""
    init_scripts: InitScripts = []
    """Init scripts run on every node at start."""


class ImageChoice(ApiModel):
    """The image: exactly one of sparkImage (a SparkImage here) or ref (an image reference)."""

    rules: ClassVar = (exactly_one_of("spec.image", "sparkImage", "ref"),)

    spark_image: ResourceName | None = None
    """A SparkImage in this namespace; kubricks waits until it is Ready and uses its digest."""
    variant: Variant = "cpu"
    """Which of the SparkImage's variants to use."""
    ref: ImageReference | None = None
    """An image reference, preferably by digest."""


class TokenAuth(ApiModel):
    """A personal access token in a Secret."""

    secret: ResourceName
    """The Secret's name."""
    key: SecretKey = "token"
    """The key holding the token."""


class OAuthAuth(ApiModel):
    """OAuth machine-to-machine (service principal) credentials: a Secret with client-id and client-secret."""

    secret: ResourceName
    """The Secret's name."""


class WorkspaceAuth(ApiModel):
    """How kubricks authenticates: exactly one of token or oauth."""

    rules: ClassVar = (exactly_one_of("spec.auth", "token", "oauth"),)

    token: TokenAuth | None = None
    """A personal access token."""
    oauth: OAuthAuth | None = None
    """OAuth M2M client credentials."""


class DatabricksWorkspaceSpec(ApiModel):
    """A Databricks workspace kubricks talks to."""

    rules: ClassVar = (WORKSPACE_HOST_RULE,)

    host: WorkspaceHost
    """The workspace URL, such as https://adb-1234567890123456.7.azuredatabricks.net: https, host and optional
    port only; the operator's databricks.allowedHosts may restrict the hosts further."""
    auth: WorkspaceAuth
    """Credentials."""


class DatabricksWorkspaceStatus(Status):
    """What kubricks last saw of the workspace."""

    phase: Literal["Pending", "Connected", "Error"] | None = None
    """Connected when the credentials work and container services are enabled."""
    container_services_enabled: bool | None = None
    """Whether the workspace setting enableDcs (Databricks Container Services) is on."""
    last_checked_time: datetime | None = None
    """When the workspace was last checked."""


class DatabricksWorkspace(Resource):
    """A Databricks workspace and the credentials to reach it."""

    KIND: ClassVar[str] = "DatabricksWorkspace"
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ("dbws",)
    PRINTER_COLUMNS: ClassVar[tuple[dict[str, str], ...]] = (
        PHASE_COLUMN,
        {"name": "Host", "type": "string", "jsonPath": ".spec.host"},
        AGE_COLUMN,
    )

    spec: DatabricksWorkspaceSpec
    """The workspace."""
    status: DatabricksWorkspaceStatus | None = None
    """What kubricks last saw."""


class DatabricksClusterSpec(ClusterShape):
    """A long-lived Databricks cluster booted from a kubricks image; changing the image edits the cluster."""

    rules: ClassVar = (
        exactly_one_of("spec", "numWorkers", "autoscale"),
        Rule(
            cel="!has(self.registryAuth) || !has(self.registryAuth.fromSparkImage) || "
            "!self.registryAuth.fromSparkImage || has(self.image.sparkImage)",
            message="spec.registryAuth.fromSparkImage needs spec.image.sparkImage: name the SparkImage whose push "
            "Secret to send, or give registryAuth.secret",
            check=lambda spec: (
                not (spec.registry_auth and spec.registry_auth.from_spark_image) or spec.image.spark_image is not None
            ),
        ),
    )

    workspace: Annotated[
        ResourceName,
        Field(json_schema_extra=immutable("spec.workspace", "create a new DatabricksCluster in the other workspace")),
    ]
    """A DatabricksWorkspace in this namespace."""
    image: ImageChoice
    """The image the cluster boots from."""
    registry_auth: RegistryAuth | None = None
    """How the cluster pulls the image; omit for a public image (nothing is sent then)."""
    cluster_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    """The cluster's name in Databricks; defaults to <namespace>-<name>."""
    autotermination_minutes: Annotated[int, Field(ge=0, le=43200)] = 60
    """Minutes of inactivity before Databricks terminates the cluster; 0 never."""
    deletion_policy: Literal["Delete", "Terminate", "Retain"] = "Delete"
    """What deleting this resource does to the Databricks cluster."""


class DatabricksClusterStatus(Status):
    """The Databricks cluster as kubricks last saw it."""

    phase: Literal["Pending", "Running", "Terminated", "Error"] | None = None
    """Pending, Running, Terminated or Error."""
    cluster_id: ClusterId | None = None
    """The Databricks cluster ID."""
    state: Annotated[str, Field(max_length=64)] | None = None
    """The cluster state Databricks reports, such as RUNNING."""
    image: Annotated[str, Field(max_length=512)] | None = None
    """The image reference (by digest) the cluster boots from."""
    applied_spec_hash: Annotated[str, Field(max_length=80)] | None = None
    """A hash of the cluster specification last sent to Databricks; a difference means an edit is due."""


class DatabricksCluster(Resource):
    """A long-lived Databricks cluster that boots from a kubricks image."""

    KIND: ClassVar[str] = "DatabricksCluster"
    SHORT_NAMES: ClassVar[tuple[str, ...]] = ("dbcl",)
    PRINTER_COLUMNS: ClassVar[tuple[dict[str, str], ...]] = (
        PHASE_COLUMN,
        {"name": "ClusterID", "type": "string", "jsonPath": ".status.clusterId"},
        AGE_COLUMN,
    )

    spec: DatabricksClusterSpec
    """The cluster."""
    status: DatabricksClusterStatus | None = None
    """What kubricks last saw."""
