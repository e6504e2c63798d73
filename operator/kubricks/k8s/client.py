"""Thin, synchronous wrappers over the kubernetes client; callers in async code run them in a thread."""

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


@cache
def api_client() -> client.ApiClient:
    """In-cluster credentials when running in a pod, the kubeconfig otherwise."""
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    return client.ApiClient()


def _read(kind: str, namespace: str, name: str) -> Any:
    core = client.CoreV1Api(api_client())
    read = core.read_namespaced_secret if kind == "Secret" else core.read_namespaced_config_map
    try:
        return read(name, namespace)
    except ApiException as error:
        if error.status == 404:
            raise MissingObject(f"the {kind} {namespace}/{name} does not exist") from None
        raise


def read_secret(namespace: str, name: str) -> dict[str, bytes]:
    secret = _read("Secret", namespace, name)
    return {key: base64.b64decode(value) for key, value in (secret.data or {}).items()}


def read_config_map(namespace: str, name: str) -> dict[str, str]:
    return dict(_read("ConfigMap", namespace, name).data or {})


def default_namespace() -> str:
    """The namespace of the kubeconfig's current context, as kubectl picks it: "default" when it names none."""
    try:
        _, current = config.list_kube_config_contexts()
    except config.ConfigException:
        return "default"
    return str(current["context"].get("namespace") or "default")


def read_custom_object(plural: str, namespace: str, name: str) -> dict[str, Any] | None:
    """A kubricks resource as the API server serves it; None when it does not exist."""
    try:
        found = client.CustomObjectsApi(api_client()).get_namespaced_custom_object(
            GROUP, VERSION, namespace, plural, name
        )
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    return cast(dict[str, Any], found)


def read_pod(namespace: str, name: str) -> dict[str, Any] | None:
    """A pod as the API server serves it; None when it does not exist."""
    try:
        pod = client.CoreV1Api(api_client()).read_namespaced_pod(name, namespace)
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    return dict(api_client().sanitize_for_serialization(pod))


def list_pods(namespace: str, selector: str) -> list[dict[str, Any]]:
    pods = client.CoreV1Api(api_client()).list_namespaced_pod(namespace, label_selector=selector).items
    return [api_client().sanitize_for_serialization(pod) for pod in pods]


def open_pod_log(
    namespace: str, name: str, container: str, *, follow: bool, tail_lines: int | None
) -> Iterator[bytes] | None:
    """The log of a pod's container, line by line as the API server sends it (with ``follow``, until the
    container ends); None when the pod does not exist. The request is made here, so that its errors come before
    any line."""
    try:
        response = client.CoreV1Api(api_client()).read_namespaced_pod_log(
            name, namespace, container=container, follow=follow, tail_lines=tail_lines, _preload_content=False
        )
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    # Typed as the log's text, which it is only with _preload_content; without, the response to read from.
    return _lines(cast(urllib3.HTTPResponse, response))


def _lines(response: urllib3.HTTPResponse) -> Iterator[bytes]:
    with response:
        yield from response


def read_log_tail(namespace: str, name: str, container: str, lines: int, limit_bytes: int) -> str:
    """The last ``lines`` lines of a container's log, at most ``limit_bytes``; empty when the pod is gone."""
    try:
        text = client.CoreV1Api(api_client()).read_namespaced_pod_log(
            name, namespace, container=container, tail_lines=lines, limit_bytes=limit_bytes
        )
    except ApiException as error:
        if error.status == 404:
            return ""
        raise
    return str(text)


def read_namespace_labels(name: str) -> dict[str, str]:
    metadata = client.CoreV1Api(api_client()).read_namespace(name).metadata
    return dict((metadata.labels if metadata else None) or {})


def read_config_map_data(namespace: str, name: str) -> dict[str, str] | None:
    """A ConfigMap's text files by name; None when it does not exist."""
    try:
        config_map = client.CoreV1Api(api_client()).read_namespaced_config_map(name, namespace)
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    return dict(config_map.data or {})


def patch_status(plural: str, namespace: str, name: str, status: dict[str, Any]) -> None:
    """A merge patch of the status subresource; a vanished object is no error."""
    try:
        client.CustomObjectsApi(api_client()).patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, plural, name, {"status": status}
        )
    except ApiException as error:
        if error.status != 404:
            raise


FIELD_MANAGER = "kubricks"


@cache
def dynamic_client() -> DynamicClient:
    return DynamicClient(api_client())


def apply(manifest: dict[str, Any]) -> None:
    """Server-side apply as kubricks: creates the object, or leaves an identical one as it is."""
    resource = dynamic_client().resources.get(api_version=manifest["apiVersion"], kind=manifest["kind"])
    dynamic_client().server_side_apply(resource, body=manifest, field_manager=FIELD_MANAGER, force_conflicts=True)


def delete_labelled(namespace: str, selector: str, kinds: Iterable[tuple[str, str]] = ()) -> None:
    """Deletes the pods, services and configmaps that match a label selector, and the objects of ``kinds``
    ((apiVersion, kind) pairs) that do; a kind the cluster does not serve has none."""
    core = client.CoreV1Api(api_client())
    core.delete_collection_namespaced_pod(namespace, label_selector=selector)
    core.delete_collection_namespaced_config_map(namespace, label_selector=selector)
    core.delete_collection_namespaced_service(namespace, label_selector=selector)
    for api_version, kind in kinds:
        try:
            resource = dynamic_client().resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            continue
        resource.delete(namespace=namespace, label_selector=selector)


def create_custom_object(plural: str, namespace: str, body: dict[str, Any]) -> None:
    """Creates a kubricks resource; one of that name that exists already stays as it is (where apply would make it
    what ``body`` says)."""
    try:
        client.CustomObjectsApi(api_client()).create_namespaced_custom_object(GROUP, VERSION, namespace, plural, body)
    except ApiException as error:
        if error.status != 409:
            raise


def delete_custom_object(plural: str, namespace: str, name: str) -> None:
    try:
        client.CustomObjectsApi(api_client()).delete_namespaced_custom_object(GROUP, VERSION, namespace, plural, name)
    except ApiException as error:
        if error.status != 404:
            raise


def remove_finalizer(plural: str, namespace: str, name: str, finalizers: list[str], finalizer: str) -> None:
    """Takes ``finalizer`` off an object whose ``finalizers`` were read just now; a concurrent change fails the
    patch's test, and the next event tries again."""
    patch = [
        {"op": "test", "path": "/metadata/finalizers", "value": finalizers},
        {"op": "replace", "path": "/metadata/finalizers", "value": [f for f in finalizers if f != finalizer]},
    ]
    try:
        client.CustomObjectsApi(api_client()).patch_namespaced_custom_object(
            GROUP, VERSION, namespace, plural, name, patch, _content_type="application/json-patch+json"
        )
    except ApiException as error:
        if error.status not in (404, 422):
            raise
