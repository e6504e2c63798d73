"""Spark on Kubernetes: what spark-submit cluster mode would create, and the SparkJob state machine."""
