# The private registry: Debian's docker-registry (the distribution registry), htpasswd basic auth with
# bcrypt, credentials generated once per platform. Clients on the host use it at 127.0.0.1; the kind node
# reaches the same process through its network's gateway (see kind.sh), so it listens on every address.
# shellcheck shell=bash

REGISTRY_PORT=${KUBRICKS_TESTENV_REGISTRY_PORT:-5005}
REGISTRY_ADDRESS="127.0.0.1:$REGISTRY_PORT"
REGISTRY_DIR="$KUBRICKS_STATE_DIR/registry"
REGISTRY_USER=kubricks

registry_password() { cat "$REGISTRY_DIR/password"; }

registry_answers() { curl -fsS -o /dev/null -u "$REGISTRY_USER:$(registry_password)" "http://$REGISTRY_ADDRESS/v2/"; }

registry_up() {
  need_command docker-registry docker-registry
  need_command htpasswd apache2-utils
  mkdir -p "$REGISTRY_DIR/data"
  if [ ! -s "$REGISTRY_DIR/password" ]; then
    (umask 077 && openssl rand -hex 16 >"$REGISTRY_DIR/password")
    htpasswd -Bbc "$REGISTRY_DIR/htpasswd" "$REGISTRY_USER" "$(registry_password)" 2>/dev/null
  fi
  if ! process_running registry; then
    cat >"$REGISTRY_DIR/config.yml" <<YAML
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $REGISTRY_DIR/data}
  delete: {enabled: true}
http:
  addr: 0.0.0.0:$REGISTRY_PORT
  secret: $(openssl rand -hex 16)
auth:
  htpasswd: {realm: kubricks-testenv, path: $REGISTRY_DIR/htpasswd}
YAML
    log "starting the registry on $REGISTRY_ADDRESS"
    start_process registry docker-registry serve "$REGISTRY_DIR/config.yml"
  fi
  wait_for 30 registry registry_answers ||
    die "the registry on $REGISTRY_ADDRESS does not answer" "see the log; 'hack/testenv down && hack/testenv up' starts it afresh" "$LOG_DIR/registry.log"
  registry_password | docker login --username "$REGISTRY_USER" --password-stdin "$REGISTRY_ADDRESS" >/dev/null 2>&1 ||
    die "docker cannot log in to $REGISTRY_ADDRESS" "check 'docker info' and the registry log" "$LOG_DIR/registry.log"
}

registry_down() { stop_process registry; }

registry_status() {
  process_running registry && registry_answers && echo "registry    up    $REGISTRY_ADDRESS (user $REGISTRY_USER)" || echo "registry    down"
}

# registry_has REPOSITORY TAG: true when the registry serves a manifest for it.
registry_has() {
  curl -fs -o /dev/null -u "$REGISTRY_USER:$(registry_password)" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY_ADDRESS/v2/$1/manifests/$2"
}
