"""Which image a job runs, from the SparkImage index: a digest once Ready, with what the image carries."""

from typing import Any

import pytest

from kubricks.api.databricks import ImageChoice
from kubricks.control.images import resolve_image
from kubricks.jobs import ImageState

DIGEST = "sha256:" + "c" * 64
READY = {
    "spec": {"registry": {"repository": "r.example.com/ml", "credentialsSecret": "push"}},
    "status": {
        "phase": "Ready",
        "images": [
            {"variant": "cpu", "ref": "r.example.com/ml:cpu-1", "digest": DIGEST},
            {"variant": "gpu", "ref": "r.example.com/ml:gpu-1", "digest": DIGEST, "rapids": "25.04.0"},
        ],
    },
}


@pytest.mark.parametrize(
    ("choice", "index", "state"),
    [
        ({"ref": "r.example.com/x@" + DIGEST}, {}, ImageState(ref="r.example.com/x@" + DIGEST)),
        ({"sparkImage": "ml"}, {}, ImageState(waiting="the SparkImage ml does not exist")),
        (
            {"sparkImage": "ml"},
            {("team", "ml"): [{"spec": {}, "status": {"phase": "Building", "message": "step 3"}}]},
            ImageState(waiting="the SparkImage ml is Building: step 3"),
        ),
        (
            {"sparkImage": "ml"},
            {("team", "ml"): [READY]},
            ImageState(ref="r.example.com/ml@" + DIGEST, pull_secret="push"),
        ),
        (
            {"sparkImage": "ml", "variant": "gpu"},
            {("team", "ml"): [READY]},
            ImageState(ref="r.example.com/ml@" + DIGEST, pull_secret="push", rapids="25.04.0"),
        ),
    ],
    ids=["plain-ref", "missing", "building", "ready-cpu", "ready-gpu-with-rapids"],
)
def test_resolve_image(choice: dict[str, Any], index: dict[Any, Any], state: ImageState) -> None:
    assert resolve_image(ImageChoice.model_validate(choice), "team", index) == state
