# kwok: plays the kubelet of the one thing that cannot be real here, a GPU node (hack/kwok/nodes.yaml),
# inside the kind cluster, with the stages of hack/kwok/stages.yaml.
# shellcheck shell=bash

KWOK_PORT=${KUBRICKS_TESTENV_KWOK_PORT:-10247}

kwok_answers() { curl -fsS "http://127.0.0.1:$KWOK_PORT/healthz" | grep -q ok; }

gpu_node_ready() {
  kubectl_ get node kwok-gpu-0 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -q True
}

kwok_up() {
  process_running kwok || {
    log "starting kwok for the fake GPU node"
    start_process kwok "$(tool_dir kwok "$KWOK_VERSION")/kwok" \
      --kubeconfig "$ADMIN_KUBECONFIG" \
      --config "$HACK_DIR/kwok/stages.yaml" \
      --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
      --node-lease-duration-seconds 40 \
      --cidr 10.250.0.1/16 --node-ip 10.0.0.1 \
      --server-address "127.0.0.1:$KWOK_PORT"
  }
  wait_for 60 kwok kwok_answers || die "kwok did not become healthy" "see its log: $LOG_DIR/kwok.log" "$LOG_DIR/kwok.log"
  # Node status is the kubelet's to write: create the node, then let kwok's node-initialize stage fill it.
  local logfile="$LOG_DIR/kwok-nodes.log"
  kubectl_ apply --server-side --field-manager kubricks-testenv -f "$HACK_DIR/kwok/nodes.yaml" >"$logfile" 2>&1 ||
    die "creating the fake GPU node failed" "see the log" "$logfile"
  wait_for 60 "the fake GPU node to be Ready" gpu_node_ready ||
    die "the fake GPU node did not become Ready" "see kwok's log: $LOG_DIR/kwok.log" "$LOG_DIR/kwok.log"
}

kwok_down() { stop_process kwok; }

kwok_status() {
  kwok_answers 2>/dev/null && echo "kwok        up    fake GPU node kwok-gpu-0" || echo "kwok        down"
}
