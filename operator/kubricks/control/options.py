"""What ``kubricks run`` was told: the choices an admin makes once for every namespace. The command line builds
them, the operator keeps them in kopf's memo, and the handlers read them from there."""

from dataclasses import dataclass, field

from kubricks.spark.admission import Policy


@dataclass(frozen=True)
class OperatorOptions:
    default_pull_secret: str | None = None
    """The pull Secret (a name: each namespace provides its own) of jobs that name none."""
    policy: Policy = field(default_factory=Policy)
    """What Spark pods may ask for beyond Pod Security."""
    databricks_allowed_hosts: tuple[str, ...] = ()
    """The Databricks hosts credentials may be sent to; none: any."""
    max_builds: int = 4
    """How many SparkImage builds run at once."""
    max_builds_per_namespace: int = 2
    """How many of them one namespace may hold."""
