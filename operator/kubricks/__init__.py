"""kubricks: one Spark image for Kubernetes and Databricks, and Spark jobs that run on either."""

__version__ = "0.1.0"
