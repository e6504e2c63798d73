# Sourced by the Spark roles: PySpark comes from Spark's own zips, never from the Python environment,
# so a Databricks runtime can put its own pyspark first.
# shellcheck shell=bash
export SPARK_HOME="${SPARK_HOME:-/opt/spark}"
for py4j in "$SPARK_HOME"/python/lib/py4j-*-src.zip; do
  [ -e "$py4j" ] && export PYTHONPATH="$SPARK_HOME/python/lib/pyspark.zip:$py4j${PYTHONPATH:+:$PYTHONPATH}"
done
