"""Which image a job or cluster runs, read from the SparkImage index."""

from typing import Any

from kubricks.api.databricks import ImageChoice
from kubricks.jobs import ImageState


def first_entry(index: Any, key: tuple[str, str]) -> dict[str, Any] | None:
    """The object a kopf index holds under ``key`` (one per namespace and name), if any."""
    return next(iter(index.get(key, [])), None)


def resolve_image(choice: ImageChoice, namespace: str, images: Any) -> ImageState:
    """A reference by digest once the SparkImage is Ready (with the Secret it was pushed with, which can pull it
    too), or why there is none yet."""
    if choice.ref:
        return ImageState(ref=choice.ref)
    name = choice.spark_image or ""
    entry = first_entry(images, (namespace, name))
    if entry is None:
        return ImageState(waiting=f"the SparkImage {name} does not exist")
    status = entry["status"]
    built = next((i for i in status.get("images") or [] if i.get("variant") == choice.variant), None)
    if status.get("phase") != "Ready" or built is None:
        why = status.get("message") or "not built yet"
        return ImageState(waiting=f"the SparkImage {name} is {status.get('phase') or 'Pending'}: {why}")
    repository = built["ref"].rsplit(":", 1)[0]
    pull_secret = entry["spec"].get("registry", {}).get("credentialsSecret")
    return ImageState(ref=f"{repository}@{built['digest']}", pull_secret=pull_secret, rapids=built.get("rapids"))
