"""The kubricks API (group kubricks.dev, version v1alpha1): pydantic models, the source of the CRDs."""

from kubricks.api.databricks import DatabricksCluster, DatabricksWorkspace
from kubricks.api.scheduled import ScheduledSparkJob
from kubricks.api.sparkimage import SparkImage
from kubricks.api.sparkjob import SparkJob

__all__ = ["DatabricksCluster", "DatabricksWorkspace", "ScheduledSparkJob", "SparkImage", "SparkJob"]
