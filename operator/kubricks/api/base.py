"""Building blocks shared by every kind: the base model, validation rules, common field types, status.

A :class:`Rule` is written once and enforced twice: as a CEL ``x-kubernetes-validations`` entry, so the
API server rejects bad input, and as a pydantic check, so offline tools (``kubricks job render``) reject
the same input with the same message.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, GetJsonSchemaHandler, model_validator
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


@dataclass(frozen=True)
class Rule:
    """One cross-field rule: a CEL expression for the API server and the same check in Python.

    ``check`` is None for transition rules (those that compare with ``oldSelf``), which only the API
    server can judge.
    """

    cel: str
    message: str
    check: Callable[[Any], bool] | None = None

    def as_validation(self) -> dict[str, str]:
        return {"rule": self.cel, "message": self.message}


def exactly_one_of(path: str, *fields: str) -> Rule:
    """``path`` holds exactly one of ``fields`` (JSON names)."""
    names = " / ".join(f"{path}.{f}" for f in fields)
    return Rule(
        cel=f"[{', '.join(f'has(self.{f})' for f in fields)}].exists_one(x, x)",
        message=f"exactly one of {names} must be set",
        check=lambda model: sum(model.is_set(f) for f in fields) == 1,
    )


def at_most_one_of(path: str, *fields: str) -> Rule:
    names = " / ".join(f"{path}.{f}" for f in fields)
    return Rule(
        cel=f"[{', '.join(f'has(self.{f})' for f in fields)}].filter(x, x).size() <= 1",
        message=f"at most one of {names} may be set",
        check=lambda model: sum(model.is_set(f) for f in fields) <= 1,
    )


def immutable(path: str, fix: str) -> dict[str, Any]:
    """Schema extras that make a field immutable once set."""
    return {"x-kubernetes-validations": [{"rule": "self == oldSelf", "message": f"{path} is immutable; {fix}"}]}


class ApiModel(BaseModel):
    """Base of every spec and status model: camelCase JSON names, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        use_attribute_docstrings=True,
        validate_default=True,
        # Built on first use: most nested models are never validated on their own, and each built validator costs
        # memory (some 8 MiB for all of them) in every process that imports the API.
        defer_build=True,
    )

    rules: ClassVar[tuple[Rule, ...]] = ()

    def is_set(self, json_name: str) -> bool:
        """What CEL's ``has(self.<json_name>)`` sees: the field is present in the object."""
        for name, field in type(self).model_fields.items():
            if json_name in (field.alias, name):
                return getattr(self, name) is not None
        raise KeyError(json_name)

    @model_validator(mode="after")
    def _check_rules(self) -> "ApiModel":
        for rule in self.rules:
            if rule.check is not None and not rule.check(self):
                raise ValueError(rule.message)
        return self

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        if cls.rules:
            handler.resolve_ref_schema(schema)["x-kubernetes-validations"] = [
                rule.as_validation() for rule in cls.rules
            ]
        return schema

    def to_json(self) -> dict[str, Any]:
        """The object as the API server stores it: JSON names, no unset optional fields."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- Field types ------------------------------------------------------------------------------------

DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

ResourceName = Annotated[str, Field(pattern=DNS_SUBDOMAIN, min_length=1, max_length=253)]
"""The name of another Kubernetes object in the same namespace (DNS-1123 subdomain)."""

SecretKey = Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]+$", min_length=1, max_length=253)]

_REPOSITORY = r"[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*"
ImageRepository = Annotated[str, Field(pattern=f"^{_REPOSITORY}$", max_length=255)]
"""An image repository without tag or digest, such as ``registry.example.com/team/etl``."""

ImageReference = Annotated[
    str,
    Field(
        pattern=f"^{_REPOSITORY}(:[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?(@sha256:[a-f0-9]{{64}})?$",
        max_length=512,
    ),
]
"""An image reference: repository with a tag, a digest, or both."""

HttpUrl = Annotated[
    str,
    # Printable ASCII only (no space, no control character); the host part without / ? #.
    Field(pattern=r'^https?://[!"$-.0->@-~]+(/[!-~]*)?$', max_length=2048, json_schema_extra={"format": "uri"}),
]

StringMap = Annotated[dict[str, str], Field(max_length=256)]

ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
"""No line break nor any other control character: a value that ends up in a Dockerfile or on a command line
stays one word of one instruction."""

OneLine = Annotated[str, Field(pattern=ONE_LINE, max_length=4096)]

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
KEY_MAX_LENGTH = 256


def map_keys(path: str, key_pattern: str, keys: str) -> JsonDict:
    """Schema extras of a map at ``path`` whose keys match ``key_pattern`` (described as ``keys``). The API server
    has no schema for map keys, so CEL checks them; pydantic checks them from the key type."""
    rule: JsonDict = {
        "rule": f"self.all(k, k.size() <= {KEY_MAX_LENGTH} && k.matches(r'{key_pattern}'))",
        "message": f"the keys of {path} must be {keys}",
    }
    return {"x-kubernetes-validations": [rule]}


EnvName = Annotated[str, Field(pattern=ENV_NAME, min_length=1, max_length=KEY_MAX_LENGTH)]
ENV_NAMES = "variable names: letters, digits and _, not starting with a digit"


# Memory sizes: Spark's notation (512m, 2g, 1.5g; any case, optional b) and Kubernetes' binary
# quantities (512Mi, 2Gi). Both mean powers of 1024, as Spark reads them.
MEMORY_PATTERN = r"^[0-9]+(\.[0-9]+)?([kKmMgGtTpP]([bB]|i)?)$"
_MEMORY_UNITS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


def memory_bytes(size: str) -> int:
    """The number of bytes a memory size means."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([kmgtp])(?:b|i)?", size.lower())
    if match is None:
        raise ValueError(f"{size!r} is not a memory size: use Spark's notation (512m, 2g) or a quantity (2Gi)")
    number, unit = match.groups()
    return int(float(number) * 1024 ** _MEMORY_UNITS[unit])


def spark_memory(size_bytes: int) -> str:
    """The exact Spark notation for a size, in the largest unit that divides it (``2g``, ``1536m``)."""
    for unit, power in sorted(_MEMORY_UNITS.items(), key=lambda item: -item[1]):
        if size_bytes % 1024**power == 0:
            return f"{size_bytes // 1024**power}{unit}"
    return f"{size_bytes}b"


def _normalise_memory(size: str) -> str:
    size_bytes = memory_bytes(size)
    if size_bytes <= 0:
        raise ValueError(f"memory size {size!r} must be greater than zero")
    return spark_memory(size_bytes)


MemorySize = Annotated[
    str,
    Field(pattern=MEMORY_PATTERN, max_length=32),
    AfterValidator(_normalise_memory),
]
"""A memory size, normalised to Spark's notation: ``2Gi`` and ``2048m`` both become ``2g``."""

# CPU quantities as Kubernetes writes them for a pod's request or limit, never zero: millicores (250m) or a
# decimal number of cores (0.5, 2) to at most three places, as Kubernetes takes no finer CPU than 1m.
_MILLICORES = r"0*[1-9][0-9]*m"
_CORES = r"0*[1-9][0-9]*(\.[0-9]{1,3})?|0+\.([1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9])"
CPU_PATTERN = f"^({_MILLICORES}|{_CORES})$"


def cpu_millicores(quantity: str) -> int:
    """The millicores a CPU quantity means: ``250m`` and ``0.25`` are both 250."""
    if quantity.endswith("m"):
        return int(quantity[:-1])
    return int(Decimal(quantity) * 1000)


def cel_is_cpu(field: str) -> str:
    """CEL: ``self.<field>`` is a CPU quantity (the schema's pattern reports it if not, but CEL rules run anyway)."""
    return f"self.{field}.matches(r'{CPU_PATTERN}')"


def cel_millicores(field: str) -> str:
    """CEL for :func:`cpu_millicores` of ``self.<field>`` as a double; Kubernetes before 1.29 has no quantity()."""
    value = f"self.{field}"
    return f"({value}.endsWith('m') ? double({value}.find('^[0-9]+')) : double({value}) * 1000.0)"


CpuQuantity = Annotated[str, Field(pattern=CPU_PATTERN, max_length=32)]
"""A CPU quantity greater than zero: millicores (``250m``) or cores (``0.5``, ``2``), at most 1m precise."""


# --- Status -----------------------------------------------------------------------------------------


class Condition(ApiModel):
    """A condition in the standard metav1.Condition shape."""

    type: Annotated[
        str,
        Field(
            max_length=316,
            pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
        ),
    ]
    """The condition's type, such as Ready."""
    status: Literal["True", "False", "Unknown"]
    """Whether the condition holds."""
    reason: Annotated[str, Field(max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")]
    """A CamelCase word saying why the condition is in its status."""
    message: Annotated[str, Field(max_length=32768)] = ""
    """A human-readable explanation."""
    last_transition_time: datetime
    """When the status last changed."""
    observed_generation: Annotated[int, Field(ge=0)] | None = None
    """The .metadata.generation the condition was set from."""


class Status(ApiModel):
    """Fields every kind's status has, so that kstatus-based tools (Flux, Argo CD, kubectl wait) work."""

    observed_generation: Annotated[int, Field(ge=0)] | None = None
    """The .metadata.generation this status describes."""
    message: Annotated[str, Field(max_length=32768)] | None = None
    """What is happening now, or what went wrong and how to fix it."""
    conditions: (
        Annotated[
            list[Condition],
            Field(
                max_length=32,
                json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
            ),
        ]
        | None
    ) = None
    """The latest observations; Ready says whether the resource is ready for use."""


PHASE_COLUMN = {"name": "Phase", "type": "string", "jsonPath": ".status.phase"}
AGE_COLUMN = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


class Resource(ApiModel):
    """A whole custom resource as the API server serves it; subclasses add spec and status."""

    KIND: ClassVar[str]
    SHORT_NAMES: ClassVar[tuple[str, ...]]
    PRINTER_COLUMNS: ClassVar[tuple[dict[str, str], ...]]

    api_version: Literal["kubricks.dev/v1alpha1"] = "kubricks.dev/v1alpha1"
    kind: str
    metadata: dict[str, Any] = {}
