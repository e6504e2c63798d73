"""kopf's record of an object's last handled state, built without copying what it throws away.

kopf builds an object's "essence" (spec, labels, annotations) on every watch event of every watched kind, pods
included, by deep-copying the whole body and then deleting metadata and status. managedFields and a pod's status
are most of a body, so under load that copy is work thrown away on every event. This storage hands kopf's own
builder only what it keeps, so the essence is the same and the copy is small.
"""

from collections.abc import Iterable
from typing import Any

import kopf

KEPT_METADATA = ("labels", "annotations", "ownerReferences")
"""The metadata kopf's essence keeps (labels, annotations) and what it names its annotation after (owners)."""


class EssenceOnlyDiffBaseStorage(kopf.AnnotationsDiffBaseStorage):
    def build(self, *, body: kopf.Body, extra_fields: Iterable[kopf.FieldSpec] | None = None) -> kopf.BodyEssence:
        extra = list(extra_fields or [])
        if extra:
            # A handler watching a status or metadata field needs it from the whole body.
            return super().build(body=body, extra_fields=extra)
        return super().build(body=essential_part(body))


def essential_part(body: kopf.Body) -> kopf.Body:
    """The body without what kopf's essence drops anyway: the status and the metadata it does not read."""
    metadata = body.get("metadata") or {}
    raw: Any = {key: value for key, value in body.items() if key not in ("metadata", "status")}
    raw["metadata"] = {key: metadata[key] for key in KEPT_METADATA if key in metadata}
    return kopf.Body(raw)
