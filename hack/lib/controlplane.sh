# The Kubernetes control plane: etcd, kube-apiserver (TLS, client certificates, RBAC, service-account
# tokens), kube-controller-manager (garbage collection, service accounts) and kube-scheduler.
# shellcheck shell=bash

ETCD_PORT=${KUBRICKS_TESTENV_ETCD_PORT:-23790}
ETCD_PEER_PORT=${KUBRICKS_TESTENV_ETCD_PEER_PORT:-23800}
APISERVER_PORT=${KUBRICKS_TESTENV_APISERVER_PORT:-6443}
CONTROLLER_MANAGER_PORT=${KUBRICKS_TESTENV_CONTROLLER_MANAGER_PORT:-10257}
SCHEDULER_PORT=${KUBRICKS_TESTENV_SCHEDULER_PORT:-10259}
PKI_DIR="$KUBRICKS_STATE_DIR/pki"
ADMIN_KUBECONFIG="$KUBRICKS_STATE_DIR/kubeconfig"
SERVICE_CIDR=10.96.0.0/16

# issue_certificate NAME SUBJECT [SAN]: a key and a certificate signed by the platform's CA.
issue_certificate() {
  local name=$1 subject=$2 san=${3:-}
  [ -s "$PKI_DIR/$name.crt" ] && return 0
  local ext="$PKI_DIR/$name.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ -n "$san" ]; then echo "extendedKeyUsage=serverAuth,clientAuth"; echo "subjectAltName=$san"; else echo "extendedKeyUsage=clientAuth"; fi
  } >"$ext"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/$name.key" -subj "$subject" -out "$PKI_DIR/$name.csr" 2>/dev/null &&
    openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" -CAcreateserial \
      -days 3650 -extfile "$ext" -out "$PKI_DIR/$name.crt" 2>/dev/null ||
    die "openssl could not issue the $name certificate" "apt-get install -y openssl; or remove $PKI_DIR to start afresh"
  rm -f "$PKI_DIR/$name.csr" "$ext"
}

write_kubeconfig() {  # write_kubeconfig FILE CERT-NAME
  cat >"$1" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: kubricks-testenv
  cluster: {server: "https://127.0.0.1:$APISERVER_PORT", certificate-authority: "$PKI_DIR/ca.crt"}
users:
- name: $2
  user: {client-certificate: "$PKI_DIR/$2.crt", client-key: "$PKI_DIR/$2.key"}
contexts:
- name: kubricks-testenv
  context: {cluster: kubricks-testenv, user: $2}
current-context: kubricks-testenv
YAML
}

pki_up() {
  need_command openssl openssl
  mkdir -p "$PKI_DIR"
  (
    umask 077
    if [ ! -s "$PKI_DIR/ca.crt" ]; then
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kubricks-testenv-ca" \
        -keyout "$PKI_DIR/ca.key" -out "$PKI_DIR/ca.crt" 2>/dev/null || die "openssl could not make the CA" "apt-get install -y openssl"
    fi
    [ -s "$PKI_DIR/service-account.key" ] || {
      openssl genrsa -out "$PKI_DIR/service-account.key" 2048 2>/dev/null &&
        openssl rsa -in "$PKI_DIR/service-account.key" -pubout -out "$PKI_DIR/service-account.pub" 2>/dev/null
    }
    issue_certificate apiserver "/CN=kube-apiserver" \
      "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    issue_certificate admin "/O=system:masters/CN=kubernetes-admin"
    issue_certificate controller-manager "/CN=system:kube-controller-manager"
    issue_certificate scheduler "/CN=system:kube-scheduler"
    issue_certificate kwok "/O=system:masters/CN=kwok"
  )
  write_kubeconfig "$ADMIN_KUBECONFIG" admin
  for component in controller-manager scheduler kwok; do
    write_kubeconfig "$KUBRICKS_STATE_DIR/$component.kubeconfig" "$component"
  done
}

etcd_answers() { curl -fsS "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
apiserver_answers() { curl -fsS --cacert "$PKI_DIR/ca.crt" "https://127.0.0.1:$APISERVER_PORT/readyz" | grep -q ok; }
component_answers() { curl -fsSk "https://127.0.0.1:$1/healthz" | grep -q ok; }

# start_component NAME PORT CHECK-FUNCTION CHECK-ARG... -- BINARY ARGS...
start_component() {
  local name=$1 port=$2 check=()
  shift 2
  while [ "$1" != -- ]; do check+=("$1"); shift; done
  shift
  process_running "$name" || {
    ensure_port_free "$name" "$port"
    log "starting $name"
    start_process "$name" "$@"
  }
  wait_for 90 "$name" "${check[@]}" || die "$name did not become healthy" "see its log: $LOG_DIR/$name.log" "$LOG_DIR/$name.log"
}

controlplane_up() {
  local k8s etcd
  k8s=$(tool_dir kubernetes "$KUBERNETES_VERSION")
  etcd=$(tool_dir etcd "$ETCD_VERSION")
  pki_up
  start_component etcd "$ETCD_PORT" etcd_answers -- "$etcd/etcd" \
    --name testenv --data-dir "$KUBRICKS_STATE_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "testenv=http://127.0.0.1:$ETCD_PEER_PORT" \
    --quota-backend-bytes 4294967296 --unsafe-no-fsync
  start_component kube-apiserver "$APISERVER_PORT" apiserver_answers -- "$k8s/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
    --tls-cert-file "$PKI_DIR/apiserver.crt" --tls-private-key-file "$PKI_DIR/apiserver.key" \
    --client-ca-file "$PKI_DIR/ca.crt" --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI_DIR/service-account.pub" \
    --service-account-signing-key-file "$PKI_DIR/service-account.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" --allow-privileged=true
  start_component kube-controller-manager "$CONTROLLER_MANAGER_PORT" component_answers "$CONTROLLER_MANAGER_PORT" -- \
    "$k8s/kube-controller-manager" \
    --kubeconfig "$KUBRICKS_STATE_DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$KUBRICKS_STATE_DIR/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$KUBRICKS_STATE_DIR/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$CONTROLLER_MANAGER_PORT" --leader-elect=false \
    --service-account-private-key-file "$PKI_DIR/service-account.key" --root-ca-file "$PKI_DIR/ca.crt" \
    --use-service-account-credentials \
    --cluster-signing-cert-file "$PKI_DIR/ca.crt" --cluster-signing-key-file "$PKI_DIR/ca.key"
  start_component kube-scheduler "$SCHEDULER_PORT" component_answers "$SCHEDULER_PORT" -- "$k8s/kube-scheduler" \
    --kubeconfig "$KUBRICKS_STATE_DIR/scheduler.kubeconfig" \
    --authentication-kubeconfig "$KUBRICKS_STATE_DIR/scheduler.kubeconfig" \
    --authorization-kubeconfig "$KUBRICKS_STATE_DIR/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" --leader-elect=false
}

controlplane_down() {
  for component in kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_process "$component"; done
}

controlplane_status() {
  etcd_answers 2>/dev/null && echo "etcd        up    127.0.0.1:$ETCD_PORT ($ETCD_VERSION)" || echo "etcd        down"
  apiserver_answers 2>/dev/null && echo "apiserver   up    https://127.0.0.1:$APISERVER_PORT ($KUBERNETES_VERSION)" || echo "apiserver   down"
  component_answers "$CONTROLLER_MANAGER_PORT" 2>/dev/null && echo "controllers up" || echo "controllers down"
  component_answers "$SCHEDULER_PORT" 2>/dev/null && echo "scheduler   up" || echo "scheduler   down"
}
