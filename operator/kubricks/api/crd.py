"""CustomResourceDefinitions generated from the pydantic models, the single source of the API.

pydantic emits JSON Schema with ``$ref``s, ``anyOf`` for optional fields and ``additionalProperties:
false``; Kubernetes wants a *structural* OpenAPI v3 schema: everything inline, one type per node, no
nulls. :func:`structural_schema` does that translation.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kubricks.api.base import Resource
from kubricks.api.databricks import DatabricksCluster, DatabricksWorkspace
from kubricks.api.scheduled import ScheduledSparkJob
from kubricks.api.sparkimage import SparkImage
from kubricks.api.sparkjob import SparkJob
from kubricks.api.yamlio import dump_all

GROUP = "kubricks.dev"
VERSION = "v1alpha1"
CATEGORY = "kubricks"
KINDS: tuple[type[Resource], ...] = (SparkImage, SparkJob, ScheduledSparkJob, DatabricksWorkspace, DatabricksCluster)

Schema = dict[str, Any]


def plural(kind: type[Resource]) -> str:
    return kind.KIND.lower() + "s"


def _resolve(node: Schema, defs: dict[str, Schema]) -> Schema:
    """Inline ``$ref``/``allOf``/optional ``anyOf``; the referring node's own keys win."""
    node = dict(node)
    if "$ref" in node:
        target = defs[node.pop("$ref").rsplit("/", 1)[-1]]
        node = {**_resolve(target, defs), **node}
    if "allOf" in node and len(node["allOf"]) == 1:
        node = {**_resolve(node.pop("allOf")[0], defs), **node}
    if "anyOf" in node:
        options = [option for option in node.pop("anyOf") if option.get("type") != "null"]
        if len(options) != 1:
            raise ValueError(f"a field may be one type or optional, not a union: {options}")
        node = {**_resolve(options[0], defs), **node}
    return node


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


_EMPTY: tuple[Any, ...] = ([], {})


def _is_collection(schema: Schema) -> bool:
    """A list or a map, where empty means the same as absent; not an object with named properties."""
    return schema.get("type") == "array" or "additionalProperties" in schema


def _minimal_default(default: Any, schema: Schema) -> Any:
    """An object default with only the keys that differ from their own defaults: ``{}`` when all do not."""
    if not isinstance(default, dict) or "properties" not in schema:
        return default
    minimal = {}
    for key, value in default.items():
        prop = schema["properties"].get(key, {})
        reduced = _minimal_default(value, prop)
        own_default = prop.get("default")
        if reduced == own_default or (own_default is None and _is_collection(prop) and reduced in _EMPTY):
            continue
        minimal[key] = reduced
    return minimal


def _has_nested_defaults(schema: Schema) -> bool:
    return any("default" in prop or _has_nested_defaults(prop) for prop in schema.get("properties", {}).values())


def _ordered(node: Schema) -> Schema:
    """type and description first, so the generated YAML reads well."""
    first = [key for key in ("type", "description") if key in node]
    return {key: node[key] for key in [*first, *(k for k in node if k not in first)]}


def structural_schema(node: Schema, defs: dict[str, Schema], *, defaults: bool = True) -> Schema:
    node = _resolve(node, defs)
    node.pop("title", None)
    if node.get("additionalProperties") is False or node.get("x-kubernetes-preserve-unknown-fields"):
        # With preserve-unknown-fields beside it, additionalProperties would make the API server prune what is
        # nested as unknown to an empty schema.
        node.pop("additionalProperties", None)
    if "patternProperties" in node:
        # Structural schemas cannot constrain map keys: keyed_map() checks them in CEL instead.
        (values,) = node.pop("patternProperties").values()
        node["additionalProperties"] = values
        node.pop("propertyNames", None)
    if "properties" in node:
        node["properties"] = {
            name: structural_schema(prop, defs, defaults=defaults) for name, prop in node["properties"].items()
        }
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            node[key] = structural_schema(node[key], defs, defaults=defaults)
    if "default" in node:
        if node["default"] is None or not defaults:
            del node["default"]
        else:
            node["default"] = _minimal_default(_without_nulls(node["default"]), node)
            # An empty list or map means the same as an absent one, and so does an empty object without
            # defaults inside; storing them only adds noise to diffs.
            if node["default"] in _EMPTY and (_is_collection(node) or not _has_nested_defaults(node)):
                del node["default"]
    return _ordered(node)


def resource_schema(kind: type[Resource]) -> Schema:
    raw = kind.model_json_schema(by_alias=True, mode="validation")
    defs = raw.pop("$defs", {})
    spec = structural_schema(raw["properties"]["spec"], defs)
    status = structural_schema(raw["properties"]["status"], defs, defaults=False)
    schema: Schema = {
        "type": "object",
        "description": raw["description"],
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string", "description": "The versioned schema of this object."},
            "kind": {"type": "string", "description": "The kind of this object."},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    }
    # Rules of the whole object: at the root, CEL sees metadata.name and metadata.generateName beside spec.
    if "x-kubernetes-validations" in raw:
        schema["x-kubernetes-validations"] = raw["x-kubernetes-validations"]
    return schema


def custom_resource_definition(kind: type[Resource]) -> Schema:
    name = plural(kind)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{name}.{GROUP}", "labels": {"app.kubernetes.io/part-of": "kubricks"}},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind.KIND,
                "listKind": f"{kind.KIND}List",
                "plural": name,
                "singular": kind.KIND.lower(),
                "shortNames": list(kind.SHORT_NAMES),
                "categories": [CATEGORY],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [dict(column) for column in kind.PRINTER_COLUMNS],
                    "schema": {"openAPIV3Schema": resource_schema(kind)},
                }
            ],
        },
    }


def crd_file_name(kind: type[Resource]) -> str:
    return f"{GROUP}_{plural(kind)}.yaml"


def render_yaml(documents: Iterable[Schema]) -> str:
    return dump_all(documents)


def write_crds(directory: Path) -> list[Path]:
    written = []
    for kind in KINDS:
        path = directory / crd_file_name(kind)
        path.write_text(render_yaml([custom_resource_definition(kind)]))
        written.append(path)
    return written
