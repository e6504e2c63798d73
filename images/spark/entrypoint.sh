#!/bin/bash
# The image's entrypoint, following Spark's Kubernetes image contract:
#   driver ARGS...    spark-submit in client mode inside the driver pod (what cluster mode starts)
#   executor          a KubernetesExecutorBackend configured from the SPARK_EXECUTOR_* variables
#   anything else     exec'd as it is
# Databricks ignores ENTRYPOINT and CMD, so nothing Databricks needs depends on this script.
set -eo pipefail

# Arbitrary uids (OpenShift and the like) still get a passwd entry: the JVM and Hadoop need a user name.
uid=$(id -u)
if ! getent passwd "$uid" >/dev/null 2>&1 && [ -w /etc/passwd ]; then
  echo "spark:x:${uid}:$(id -g):kubricks spark user:${SPARK_HOME:-/opt/spark}:/bin/false" >>/etc/passwd
fi

# Java options Spark passes as SPARK_JAVA_OPT_0, SPARK_JAVA_OPT_1, ... in index order.
java_options() {
  local index=0 name
  while name="SPARK_JAVA_OPT_${index}" && [ -n "${!name+set}" ]; do
    java_opts+=("${!name}")
    index=$((index + 1))
  done
}

case "${1:-}" in
  driver)
    shift
    # shellcheck source=spark-env.sh
    source /opt/kubricks/bin/spark-env
    exec /usr/bin/tini -s -- "$SPARK_HOME/bin/spark-submit" \
      --conf "spark.driver.bindAddress=${SPARK_DRIVER_BIND_ADDRESS:?the driver pod must set SPARK_DRIVER_BIND_ADDRESS}" \
      --conf "spark.executorEnv.SPARK_DRIVER_POD_IP=${SPARK_DRIVER_BIND_ADDRESS}" \
      --deploy-mode client "$@"
    ;;
  executor)
    shift
    # shellcheck source=spark-env.sh
    source /opt/kubricks/bin/spark-env
    java_opts=()
    java_options
    exec /usr/bin/tini -s -- "${JAVA_HOME}/bin/java" "${java_opts[@]}" \
      -Xms"${SPARK_EXECUTOR_MEMORY}" -Xmx"${SPARK_EXECUTOR_MEMORY}" \
      -cp "${SPARK_CONF_DIR:-$SPARK_HOME/conf}:${SPARK_CLASSPATH:+$SPARK_CLASSPATH:}${SPARK_HOME}/jars/*" \
      org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend \
      --driver-url "$SPARK_DRIVER_URL" --executor-id "$SPARK_EXECUTOR_ID" --cores "$SPARK_EXECUTOR_CORES" \
      --app-id "$SPARK_APPLICATION_ID" --hostname "$SPARK_EXECUTOR_POD_IP" \
      --resourceProfileId "${SPARK_RESOURCE_PROFILE_ID:-0}" --podName "${SPARK_EXECUTOR_POD_NAME:-}"
    ;;
  *)
    exec /usr/bin/tini -s -- "$@"
    ;;
esac
