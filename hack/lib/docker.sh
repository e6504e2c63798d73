# The platform's own Docker engine (Debian's dockerd), with its data under the platform's state
# directory, so that the kind cluster, the builds and the images of the tests never touch another engine.
# shellcheck shell=bash

OWN_DOCKER_SOCKET="$KUBRICKS_STATE_DIR/docker/docker.sock"
# The platform's own client configuration, so that logging in to the test registry leaves ~/.docker alone.
export DOCKER_CONFIG="$KUBRICKS_STATE_DIR/docker-config"
CAP_SYS_RESOURCE=24

docker_host() { echo "unix://$OWN_DOCKER_SOCKET"; }
export DOCKER_HOST
DOCKER_HOST=$(docker_host)

docker_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# True where this process may not hold CAP_SYS_RESOURCE: privileged containers then need the runtime
# wrapper of hack/docker/runc-without-sys-resource.
lacks_cap_sys_resource() {
  local bounding
  bounding=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
  (( ((0x$bounding >> CAP_SYS_RESOURCE) & 1) == 0 ))
}

# The wrapper is copied next to the engine's state: the engine outlives the checkout that started it.
docker_runtime_args() {
  lacks_cap_sys_resource || return 0
  local wrapper="$KUBRICKS_STATE_DIR/docker/runc-without-sys-resource"
  install -m 0755 "$HACK_DIR/docker/runc-without-sys-resource" "$wrapper"
  echo --add-runtime "kubricks-runc=$wrapper" --default-runtime kubricks-runc
}

docker_up() {
  need_command docker docker.io
  docker_answers && return 0
  need_command dockerd docker.io
  need_command runc runc
  log "starting dockerd (socket $OWN_DOCKER_SOCKET)"
  mkdir -p "$KUBRICKS_STATE_DIR/docker"
  need_command jq jq
  # shellcheck disable=SC2046
  start_process dockerd dockerd \
    --data-root "$KUBRICKS_STATE_DIR/docker/data" \
    --exec-root "$KUBRICKS_STATE_DIR/docker/exec" \
    --pidfile "$KUBRICKS_STATE_DIR/docker/dockerd.pid" \
    --host "$DOCKER_HOST" $(docker_runtime_args)
  wait_for 60 dockerd docker_answers ||
    die "dockerd did not start" "dockerd needs root (or rootless setup) and cgroups; see the log" "$LOG_DIR/dockerd.log"
}

# dockerd leaves its bridges behind; the host gets them back only once the engine has stopped.
docker_down() {
  process_running dockerd || return 0
  stop_process dockerd 60
  ip link delete docker0 2>/dev/null || true
}

docker_status() {
  docker_answers && echo "docker      up    $DOCKER_HOST ($(docker version --format '{{.Server.Version}}'))" ||
    echo "docker      down"
}
