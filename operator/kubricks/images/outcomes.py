"""What building an image reports: its outcome and its failures. Pure: the lifecycle classifies these without
importing the clients that raise them."""

from dataclasses import dataclass

from kubricks.api.sparkimage import BuiltImage


class BuildError(Exception):
    """The build or the push failed. ``log_tail`` holds the last lines of its output."""

    def __init__(self, message: str, log_tail: str = "", *, retriable: bool = False, timed_out: bool = False) -> None:
        super().__init__(message)
        self.log_tail = log_tail
        self.retriable = retriable
        self.timed_out = timed_out


class InputError(Exception):
    """A build input cannot be resolved: a base image, a git ref, a ConfigMap. Fixing the spec fixes it."""


class RegistryError(Exception):
    """The registry could not be reached or refused the request; the message says which and why."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused
        """The registry refused the credentials: retrying will not help until they change."""


@dataclass(frozen=True)
class PushedImage:
    ref: str
    digest: str
    steps: list[str]
    """Every build step, as Docker names it (Step n/m : INSTRUCTION)."""
    rebuilt: list[str]
    """The steps that ran, not served from the layer cache."""


@dataclass(frozen=True)
class BuildOutcome:
    inputs_hash: str
    images: list[BuiltImage]
    built: list[PushedImage]
    """The variants built now; the others were already in the registry."""
