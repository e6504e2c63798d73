# The Docker engine: an engine that already answers is used as it is; otherwise Debian's dockerd is
# started with its data under the platform's state directory.
# shellcheck shell=bash

OWN_DOCKER_SOCKET="$KUBRICKS_STATE_DIR/docker/docker.sock"
# The platform's own client configuration, so that logging in to the test registry leaves ~/.docker alone.
export DOCKER_CONFIG="$KUBRICKS_STATE_DIR/docker-config"

docker_answers() { DOCKER_HOST=$1 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# The engine the platform uses: the caller's DOCKER_HOST or the default socket when either answers,
# else the one this platform starts.
docker_host() {
  local candidate
  for candidate in ${DOCKER_HOST:-} unix:///var/run/docker.sock; do
    docker_answers "$candidate" && { echo "$candidate"; return; }
  done
  echo "unix://$OWN_DOCKER_SOCKET"
}

docker_up() {
  need_command docker docker.io
  export DOCKER_HOST
  DOCKER_HOST=$(docker_host)
  docker_answers "$DOCKER_HOST" && return 0
  need_command dockerd docker.io
  log "starting dockerd (socket $OWN_DOCKER_SOCKET)"
  mkdir -p "$KUBRICKS_STATE_DIR/docker"
  start_process dockerd dockerd \
    --data-root "$KUBRICKS_STATE_DIR/docker/data" \
    --exec-root "$KUBRICKS_STATE_DIR/docker/exec" \
    --pidfile "$KUBRICKS_STATE_DIR/docker/dockerd.pid" \
    --host "$DOCKER_HOST"
  wait_for 60 dockerd docker_answers "$DOCKER_HOST" ||
    die "dockerd did not start" "dockerd needs root (or rootless setup) and cgroups; see the log" "$LOG_DIR/dockerd.log"
}

docker_down() { stop_process dockerd; }

docker_status() {
  local host
  host=$(docker_host)
  docker_answers "$host" && echo "docker      up    $host ($(DOCKER_HOST=$host docker version --format '{{.Server.Version}}'))" ||
    echo "docker      down"
}
