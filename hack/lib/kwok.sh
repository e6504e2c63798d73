# kwok: plays the kubelet for fake nodes (hack/kwok/nodes.yaml) with the stages of hack/kwok/stages.yaml.
# shellcheck shell=bash

KWOK_PORT=${KUBRICKS_TESTENV_KWOK_PORT:-10247}

kwok_answers() { curl -fsS "http://127.0.0.1:$KWOK_PORT/healthz" | grep -q ok; }

nodes_ready() {
  local ready
  ready=$(kubectl --kubeconfig "$ADMIN_KUBECONFIG" get nodes -l type=kwok \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)
  [ "$ready" -ge 3 ]
}

kwok_up() {
  need_command kubectl kubernetes-client
  start_component kwok "$KWOK_PORT" kwok_answers -- "$(tool_dir kwok "$KWOK_VERSION")/kwok" \
    --kubeconfig "$KUBRICKS_STATE_DIR/kwok.kubeconfig" \
    --config "$HACK_DIR/kwok/stages.yaml" \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds 40 \
    --cidr 10.244.0.1/16 --node-ip 10.0.0.1 \
    --server-address "127.0.0.1:$KWOK_PORT"
  # Node status is the kubelet's to write: create the nodes, then let kwok's node-initialize stage fill it.
  local logfile="$LOG_DIR/kwok-nodes.log"
  kubectl --kubeconfig "$ADMIN_KUBECONFIG" apply --server-side --field-manager kubricks-testenv \
    -f "$HACK_DIR/kwok/nodes.yaml" >"$logfile" 2>&1 || die "creating the kwok nodes failed" "see the log" "$logfile"
  wait_for 60 "the kwok nodes to be Ready" nodes_ready ||
    die "the kwok nodes did not become Ready" "see kwok's log: $LOG_DIR/kwok.log" "$LOG_DIR/kwok.log"
}

kwok_down() { stop_process kwok; }

kwok_status() {
  kwok_answers 2>/dev/null && echo "kwok        up    $(kubectl --kubeconfig "$ADMIN_KUBECONFIG" get nodes -l type=kwok --no-headers 2>/dev/null | awk '{printf "%s(%s) ", $1, $2}')" ||
    echo "kwok        down"
}
