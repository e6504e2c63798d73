"""Thin, synchronous wrappers over the kubernetes client; callers in async code run them in a thread.

Every answer is read as the API server's JSON from the raw response, never into the client's model classes:
its typed API classes build those on first use, which alone costs the operator some 20 MiB, and nothing here
needs them."""

import base64
import json
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any, cast

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ResourceNotFoundError

from kubricks.api.crd import GROUP, VERSION
from kubricks.failures import MissingObject


def failure_of(error: Exception) -> tuple[int, str] | None:
    """The HTTP status (0 when there was no answer) and the API server's own message of a failed call; None
    for an error that did not come from a call."""
    if isinstance(error, ApiException):
        return int(error.status or 0), _server_message(error)
    if isinstance(error, urllib3.exceptions.HTTPError | ConnectionError):
        return 0, str(error)
    return None


def _server_message(error: ApiException) -> str:
    try:
        return str(json.loads(error.body or "{}").get("message") or error.reason)
    except (ValueError, AttributeError):
        return str(error.reason)


API_CONNECTIONS = 16
"""Connections to the API server, and threads of the operator's calls: as many calls at once as connections."""


@cache
def api_client() -> client.ApiClient:
    """In-cluster credentials when running in a pod, the kubeconfig otherwise."""
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    configuration = client.Configuration.get_default_copy()
    configuration.connection_pool_maxsize = API_CONNECTIONS
    return client.ApiClient(configuration)


def call(
    method: str, path: str, *, body: Any = None, query: list[tuple[str, Any]] | None = None, content_type: str = ""
) -> Any:
    """One request to the API server, its answer unread (``_json`` reads it, ``_drained`` discards it):
    ``serialize=False`` keeps the dynamic client from reading it into its own objects."""
    extra = {"content_type": content_type} if content_type else {}
    return dynamic_client().request(method, path, body=body, query_params=query or [], serialize=False, **extra)


def _json(response: Any) -> Any:
    return json.loads(response.data)


def _drained(response: Any) -> None:
    """An answer nothing reads is read to its end all the same, which hands its connection back to the pool."""
    response.drain_conn()


def _core(namespace: str, plural: str, name: str = "") -> str:
    return f"/api/v1/namespaces/{namespace}/{plural}" + (f"/{name}" if name else "")


def _custom(namespace: str, plural: str, name: str = "") -> str:
    return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{plural}" + (f"/{name}" if name else "")


def _answer(path: str, query: list[tuple[str, Any]] | None = None) -> Any:
    """A GET's unread answer; None when there is nothing at ``path``."""
    try:
        return call("GET", path, query=query)
    except ApiException as error:
        if error.status == 404:
            return None
        raise


def read_json(path: str) -> dict[str, Any] | None:
    """What the API server serves at ``path``; None when there is nothing."""
    response = _answer(path)
    return None if response is None else cast(dict[str, Any], _json(response))


def _data(kind: str, namespace: str, name: str) -> dict[str, str] | None:
    """The data of a Secret or a ConfigMap; None when it does not exist."""
    found = read_json(_core(namespace, "secrets" if kind == "Secret" else "configmaps", name))
    return None if found is None else dict(found.get("data") or {})


def _required(kind: str, namespace: str, name: str) -> dict[str, str]:
    data = _data(kind, namespace, name)
    if data is None:
        raise MissingObject(f"the {kind} {namespace}/{name} does not exist")
    return data


def read_secret(namespace: str, name: str) -> dict[str, bytes]:
    return {key: base64.b64decode(value) for key, value in _required("Secret", namespace, name).items()}


def read_config_map(namespace: str, name: str) -> dict[str, str]:
    return _required("ConfigMap", namespace, name)


def default_namespace() -> str:
    """The namespace of the kubeconfig's current context, as kubectl picks it: "default" when it names none."""
    try:
        _, current = config.list_kube_config_contexts()
    except config.ConfigException:
        return "default"
    return str(current["context"].get("namespace") or "default")


def read_custom_object(plural: str, namespace: str, name: str) -> dict[str, Any] | None:
    """A kubricks resource as the API server serves it; None when it does not exist."""
    return read_json(_custom(namespace, plural, name))


def read_pod(namespace: str, name: str) -> dict[str, Any] | None:
    """A pod as the API server serves it; None when it does not exist."""
    return read_json(_core(namespace, "pods", name))


def list_pods(namespace: str, selector: str) -> list[dict[str, Any]]:
    return list(_json(call("GET", _core(namespace, "pods"), query=[("labelSelector", selector)]))["items"])


def _log(namespace: str, name: str, query: list[tuple[str, Any]]) -> Any:
    """A container's log as it comes; None when the pod does not exist."""
    return _answer(_core(namespace, "pods", name) + "/log", query)


def open_pod_log(
    namespace: str, name: str, container: str, *, follow: bool, tail_lines: int | None
) -> Iterator[bytes] | None:
    """The log of a pod's container, line by line as the API server sends it (with ``follow``, until the
    container ends); None when the pod does not exist. The request is made here, so that its errors come before
    any line."""
    query: list[tuple[str, Any]] = [("container", container), ("follow", str(follow).lower())]
    if tail_lines is not None:
        query.append(("tailLines", tail_lines))
    response = _log(namespace, name, query)
    return None if response is None else _lines(response)


def _lines(response: urllib3.HTTPResponse) -> Iterator[bytes]:
    with response:
        yield from response


def read_log_tail(namespace: str, name: str, container: str, lines: int, limit_bytes: int) -> str:
    """The last ``lines`` lines of a container's log, at most ``limit_bytes``; empty when the pod is gone."""
    response = _log(namespace, name, [("container", container), ("tailLines", lines), ("limitBytes", limit_bytes)])
    return "" if response is None else str(response.data.decode("utf-8", "replace"))


def read_namespace_labels(name: str) -> dict[str, str]:
    return dict(_json(call("GET", f"/api/v1/namespaces/{name}"))["metadata"].get("labels") or {})


def read_config_map_data(namespace: str, name: str) -> dict[str, str] | None:
    """A ConfigMap's text files by name; None when it does not exist."""
    return _data("ConfigMap", namespace, name)


def patch_status(plural: str, namespace: str, name: str, status: dict[str, Any]) -> None:
    """A merge patch of the status subresource; a vanished object is no error."""
    _unless(
        404,
        "PATCH",
        _custom(namespace, plural, name) + "/status",
        body={"status": status},
        content_type="application/merge-patch+json",
    )


def _unless(ignored: int, method: str, path: str, **request: Any) -> None:
    """A request whose answer nothing reads; the status ``ignored`` means it is done already."""
    try:
        _drained(call(method, path, **request))
    except ApiException as error:
        if error.status != ignored:
            raise


FIELD_MANAGER = "kubricks"


@cache
def dynamic_client() -> DynamicClient:
    return DynamicClient(api_client())


def _resource_of(manifest: dict[str, Any]) -> Any:
    """The API resource that serves the manifest's apiVersion and kind."""
    return dynamic_client().resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])


def apply(manifest: dict[str, Any]) -> None:
    """Server-side apply as kubricks: creates the object, or makes an existing one what ``manifest`` says."""
    _drained(
        dynamic_client().server_side_apply(
            _resource_of(manifest), body=manifest, field_manager=FIELD_MANAGER, force_conflicts=True, serialize=False
        )
    )


def create(manifest: dict[str, Any]) -> None:
    """Creates an object that is never changed once made (one of an attempt's); one of that name that exists
    already, as a restarted operator may find it, stays as it is. Cheaper than an apply: no managed fields."""
    try:
        _drained(dynamic_client().create(_resource_of(manifest), body=manifest, serialize=False))
    except ApiException as error:
        if error.status != 409:
            raise


EVENT_SOURCE = "kubricks"


def create_event(involved: dict[str, Any], kind: str, reason: str, message: str, at: str) -> None:
    """A core/v1 Event about ``involved`` (an object's apiVersion, kind and metadata), as ``kubectl describe``
    lists them."""
    metadata = involved["metadata"]
    namespace = metadata["namespace"]
    body: Any = {
        "metadata": {"generateName": f"{metadata['name']}.", "namespace": namespace},
        "involvedObject": {
            "apiVersion": involved["apiVersion"],
            "kind": involved["kind"],
            "name": metadata["name"],
            "namespace": namespace,
            "uid": metadata["uid"],
        },
        "type": kind,
        "reason": reason,
        "message": message,
        "source": {"component": EVENT_SOURCE},
        "reportingComponent": EVENT_SOURCE,
        "firstTimestamp": at,
        "lastTimestamp": at,
        "count": 1,
    }
    _drained(call("POST", _core(namespace, "events"), body=body))


def delete_labelled(namespace: str, selector: str, kinds: Iterable[tuple[str, str]] = ()) -> None:
    """Deletes the pods, services and configmaps that match a label selector, and the objects of ``kinds``
    ((apiVersion, kind) pairs) that do; a kind the cluster does not serve has none."""
    for plural in ("pods", "configmaps", "services"):
        _drained(call("DELETE", _core(namespace, plural), query=[("labelSelector", selector)]))
    for api_version, kind in kinds:
        try:
            resource = dynamic_client().resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            continue
        _drained(dynamic_client().delete(resource, namespace=namespace, label_selector=selector, serialize=False))


def create_custom_object(plural: str, namespace: str, body: dict[str, Any]) -> None:
    """Creates a kubricks resource; one of that name that exists already stays as it is (where apply would make it
    what ``body`` says)."""
    _unless(409, "POST", _custom(namespace, plural), body=body)


def delete_custom_object(plural: str, namespace: str, name: str) -> None:
    _unless(404, "DELETE", _custom(namespace, plural, name))


def remove_finalizer(plural: str, namespace: str, name: str, finalizers: list[str], finalizer: str) -> None:
    """Takes ``finalizer`` off an object whose ``finalizers`` were read just now; a concurrent change fails the
    patch's test, and the next event tries again."""
    patch = [
        {"op": "test", "path": "/metadata/finalizers", "value": finalizers},
        {"op": "replace", "path": "/metadata/finalizers", "value": [f for f in finalizers if f != finalizer]},
    ]
    try:
        _drained(
            call("PATCH", _custom(namespace, plural, name), body=patch, content_type="application/json-patch+json")
        )
    except ApiException as error:
        if error.status not in (404, 422):
            raise
