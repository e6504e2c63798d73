# The cluster: kind (run by subprocess) with one real node. The node image is the official one where it
# can be pulled, else one built here: Debian's systemd/containerd/runc plus Kubernetes, etcd, CoreDNS,
# local-path-provisioner and pause built from source at the versions of versions.env.
# shellcheck shell=bash

KIND_CLUSTER=kubricks
KIND_NETWORK=kind
KIND_NETWORK_SUBNET=${KUBRICKS_TESTENV_KIND_SUBNET:-172.30.0.0/24}
KIND_NETWORK_GATEWAY=${KUBRICKS_TESTENV_KIND_GATEWAY:-${KIND_NETWORK_SUBNET%.*}.1}
KIND_DIR="$KUBRICKS_STATE_DIR/kind"
ADMIN_KUBECONFIG="$KUBRICKS_STATE_DIR/kubeconfig"
# KUBRICKS_KIND_NODE_IMAGE picks a node image (an official kindest/node); unset, one is built here when the
# official one for $KUBERNETES_VERSION cannot be pulled.
OFFICIAL_NODE_IMAGE="kindest/node:$KUBERNETES_VERSION"
NODE_IMAGE_REPOSITORY=kubricks.local/kind-node
K8S_IMAGE_REGISTRY=registry.k8s.io
LOCAL_PATH_PROVISIONER_IMAGE="kubricks.local/local-path-provisioner:$LOCAL_PATH_PROVISIONER_VERSION"
LOCAL_PATH_HELPER_IMAGE="kubricks.local/local-path-helper:$DEBIAN_SUITE"

kind_() { "$(tool_dir kind "$KIND_VERSION")/kind" "$@"; }
kubectl_() { kubectl --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

# Pre-created with a known subnet so the node reaches the host's registry through the gateway address.
kind_network_up() {
  docker network inspect "$KIND_NETWORK" >/dev/null 2>&1 && return 0
  docker network create --driver bridge --subnet "$KIND_NETWORK_SUBNET" --gateway "$KIND_NETWORK_GATEWAY" \
    "$KIND_NETWORK" >/dev/null ||
    die "cannot create the docker network $KIND_NETWORK ($KIND_NETWORK_SUBNET)" \
      "another network may use that subnet: export KUBRICKS_TESTENV_KIND_SUBNET=<a free /24>"
}

# The locally built node image is named after a hash of everything that goes into it.
node_image_inputs_hash() {
  local kind_files
  kind_files="$(go env GOMODCACHE)/sigs.k8s.io/kind@$KIND_VERSION/images/base/files"
  {
    cat "$HACK_DIR/versions.env"
    find "$HACK_DIR/images/kind-node" "$HACK_DIR/images/pause" "$HACK_DIR/kind" "$kind_files" -type f -print0 |
      sort -z | xargs -0 sha256sum | awk '{print $1}'
  } | sha256sum | cut -c1-12
}

local_node_image() { echo "$NODE_IMAGE_REPOSITORY:$KUBERNETES_VERSION-$(node_image_inputs_hash)"; }

# build_component_image TAG BINARY-PATH [DEBIAN-PACKAGES]
build_component_image() {
  local tag=$1 binary=$2 packages=${3:-} context
  context=$(mktemp -d)
  cp "$binary" "$context/"
  cp "$HACK_DIR/images/kind-node/component.Dockerfile" "$context/Dockerfile"
  docker build --quiet --build-arg "BASE=$BASE_IMAGE" --build-arg "BINARY=$(basename "$binary")" \
    --build-arg "PACKAGES=$packages" -t "$tag" "$context" >/dev/null
  rm -rf "$context"
}

# node_components PAUSE-DIR: one line per preloaded image, "TAG BINARY [DEBIAN-PACKAGES...]": what kubeadm
# asks for, under the names it asks for, built from source at those versions; then the storage provisioner.
node_components() {
  local k8s
  k8s=$(tool_dir kubernetes "$KUBERNETES_VERSION")
  for component in kube-apiserver kube-controller-manager kube-scheduler; do
    echo "$K8S_IMAGE_REGISTRY/$component:$KUBERNETES_VERSION $k8s/$component"
  done
  echo "$K8S_IMAGE_REGISTRY/kube-proxy:$KUBERNETES_VERSION $k8s/kube-proxy iptables nftables conntrack"
  echo "$K8S_IMAGE_REGISTRY/etcd:${ETCD_VERSION#v}-0 $(tool_dir etcd "$ETCD_VERSION")/etcd"
  echo "$K8S_IMAGE_REGISTRY/coredns/coredns:$COREDNS_VERSION $(tool_dir coredns "$COREDNS_VERSION")/coredns"
  echo "$K8S_IMAGE_REGISTRY/pause:$PAUSE_VERSION $1/pause"
  echo "$LOCAL_PATH_PROVISIONER_IMAGE $(tool_dir local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION")/local-path-provisioner"
}

# As kind's own node-image build does: a container of the base image gets the binaries and, through a
# containerd started inside it, the preloaded images; then it is committed.
build_local_node_image() {
  local image=$1 logfile="$LOG_DIR/kind-node-image.log"
  log "building the kind node image $image (first run only, a few minutes)"
  run_logged "$logfile" "building the kind node image failed" "see the log: $logfile" node_image_build_steps "$image"
  remove_stale_node_images "$image"
}

# (Run in run_logged's subshell: work and container stay global there, for the EXIT trap after the return.)
node_image_build_steps() {
  local image=$1 base
  work=$(mktemp -d)
  base="$NODE_IMAGE_REPOSITORY-base:$(node_image_inputs_hash)"
  trap 'rm -rf "$work"; [ -z "${container:-}" ] || docker rm -f "$container" >/dev/null 2>&1' EXIT
  go build -trimpath -ldflags "-s -w" -o "$work/pause" "$HACK_DIR/images/pause/pause.go"
  mkdir "$work/context"
  cp -r "$(go env GOMODCACHE)/sigs.k8s.io/kind@$KIND_VERSION/images/base/files" "$work/context/kind-files"
  chmod -R u+w "$work/context"
  cp "$HACK_DIR/images/kind-node/"{Dockerfile,containerd-config.toml,bridge.conflist} "$work/context/"
  docker build --build-arg "BASE=$BASE_IMAGE" --build-arg "PAUSE_IMAGE=$K8S_IMAGE_REGISTRY/pause:$PAUSE_VERSION" \
    -t "$base" "$work/context"
  local tags=("$LOCAL_PATH_HELPER_IMAGE") tag binary packages
  docker tag "$BASE_IMAGE" "$LOCAL_PATH_HELPER_IMAGE"
  while read -r tag binary packages; do
    build_component_image "$tag" "$binary" "$packages"
    tags+=("$tag")
  done < <(node_components "$work")
  docker save -o "$work/images.tar" "${tags[@]}"
  sed -e "s|@PROVISIONER_IMAGE@|$LOCAL_PATH_PROVISIONER_IMAGE|" -e "s|@HELPER_IMAGE@|$LOCAL_PATH_HELPER_IMAGE|" \
    "$HACK_DIR/kind/default-storage.yaml" >"$work/default-storage.yaml"
  echo "$KUBERNETES_VERSION" >"$work/version"
  container=$(docker run -d --entrypoint=sleep --security-opt seccomp=unconfined "$base" infinity)
  local k8s
  k8s=$(tool_dir kubernetes "$KUBERNETES_VERSION")
  for binary in kubelet kubeadm kubectl; do docker cp "$k8s/$binary" "$container:/usr/bin/$binary"; done
  docker cp "$work/version" "$container:/kind/version"
  docker cp "$work/default-storage.yaml" "$container:/kind/manifests/default-storage.yaml"
  docker cp "$HACK_DIR/kind/default-cni.yaml" "$container:/kind/manifests/default-cni.yaml"
  docker cp "$work/images.tar" "$container:/kind/images.tar"
  docker exec "$container" bash -c '
    set -e
    nohup containerd >/var/log/containerd-build.log 2>&1 &
    for _ in $(seq 30); do ctr version >/dev/null 2>&1 && break; sleep 0.5; done
    ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests /kind/images.tar
    rm /kind/images.tar
    missing=$(comm -23 <(kubeadm config images list --kubernetes-version "$(cat /kind/version)" | sort) \
      <(ctr --namespace=k8s.io images list -q | sort))
    [ -z "$missing" ] || { echo "kubeadm needs images the node image lacks: $missing (fix the versions in hack/versions.env)"; exit 1; }
    pkill containerd
    while pgrep containerd >/dev/null; do sleep 0.2; done'
  docker commit --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' "$container" "$image"
}

# Node images of other inputs, and the bases they were made from, only take disk space.
remove_stale_node_images() {
  docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^$NODE_IMAGE_REPOSITORY(-base)?:" | grep -vxF "$1" |
    xargs -r docker rmi >/dev/null 2>&1 || true
}

# Prints the node image to use, pulling or building it first.
node_image_up() {
  if [ -n "${KUBRICKS_KIND_NODE_IMAGE:-}" ]; then
    docker image inspect "$KUBRICKS_KIND_NODE_IMAGE" >/dev/null 2>&1 || docker pull --quiet "$KUBRICKS_KIND_NODE_IMAGE" >&2 ||
      die "cannot pull the node image $KUBRICKS_KIND_NODE_IMAGE" "unset KUBRICKS_KIND_NODE_IMAGE to build one locally"
    echo "$KUBRICKS_KIND_NODE_IMAGE"
    return
  fi
  local image
  image=$(local_node_image)
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    if timeout 60 docker pull --quiet "$OFFICIAL_NODE_IMAGE" >/dev/null 2>&1; then
      image=$OFFICIAL_NODE_IMAGE
    else
      log "$OFFICIAL_NODE_IMAGE cannot be pulled here: building a node image from source"
      build_local_node_image "$image"
    fi
  fi
  echo "$image"
}

# The kind configuration: the registry wired into containerd as kind's local-registry guide does it.
write_kind_config() {
  cat <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
containerdConfigPatches:
- |-
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "/etc/containerd/certs.d"
$(lacks_cap_sys_resource && printf '%s\n' \
  '- |-' \
  '  # This host withholds CAP_SYS_RESOURCE: containerd must not lower any oom_score_adj.' \
  '  [plugins."io.containerd.grpc.v1.cri"]' \
  '    restrict_oom_score_adj = true')
nodes:
- role: control-plane
  extraMounts:
  - {hostPath: "$KIND_DIR/certs.d", containerPath: /etc/containerd/certs.d, readOnly: true}
YAML
}

# Pods pull "$REGISTRY_ADDRESS/..." with their imagePullSecret; inside the node that address is the node's
# own loopback, so containerd is told that this registry's server is the host, through the network's gateway.
# (containerd 1.6 refuses a hosts.toml without a host table, hence the same address twice.)
write_registry_hosts() {
  local dir="$KIND_DIR/certs.d/$REGISTRY_ADDRESS" url="http://$KIND_NETWORK_GATEWAY:$REGISTRY_PORT"
  mkdir -p "$dir"
  printf 'server = "%s"\n\n[host."%s"]\n  capabilities = ["pull", "resolve"]\n' "$url" "$url" >"$dir/hosts.toml"
}

publish_local_registry_hosting() {
  kubectl_ apply --server-side --field-manager kubricks-testenv -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-registry-hosting
  namespace: kube-public
data:
  localRegistryHosting.v1: |
    host: "$REGISTRY_ADDRESS"
    hostFromContainerRuntime: "$KIND_NETWORK_GATEWAY:$REGISTRY_PORT"
    hostFromClusterNetwork: "$KIND_NETWORK_GATEWAY:$REGISTRY_PORT"
    help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
YAML
}

cluster_exists() { kind_ get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; }
apiserver_answers() { kubectl_ get --raw /readyz >/dev/null 2>&1; }
coredns_ready() {
  local ready wanted
  read -r wanted ready < <(kubectl_ -n kube-system get deploy coredns \
    -o jsonpath='{.spec.replicas} {.status.readyReplicas}{"\n"}' 2>/dev/null) || return 1
  [ -n "$wanted" ] && [ "$ready" = "$wanted" ]
}

kind_cluster_up() {
  kind_network_up
  write_registry_hosts
  if cluster_exists && ! apiserver_answers; then
    log "the kind cluster $KIND_CLUSTER does not answer: creating it afresh"
    kind_ delete cluster --name "$KIND_CLUSTER" --kubeconfig "$ADMIN_KUBECONFIG" >/dev/null 2>&1 || true
  fi
  if ! cluster_exists; then
    local node_image started=$SECONDS logfile="$LOG_DIR/kind-create.log"
    node_image=$(node_image_up)
    write_kind_config >"$KIND_DIR/cluster.yaml"
    log "creating the kind cluster $KIND_CLUSTER from $node_image"
    kind_ create cluster --name "$KIND_CLUSTER" --image "$node_image" \
      --config "$KIND_DIR/cluster.yaml" --kubeconfig "$ADMIN_KUBECONFIG" --wait 120s >"$logfile" 2>&1 ||
      die "kind could not create the cluster" "see the log; 'docker logs $KIND_CLUSTER-control-plane' shows the node's boot" "$logfile"
    log "kind cluster up in $((SECONDS - started))s"
  fi
  publish_local_registry_hosting
  wait_for 180 "CoreDNS to be ready" coredns_ready ||
    die "CoreDNS did not become ready" "kubectl -n kube-system describe pods -l k8s-app=kube-dns (KUBECONFIG=$ADMIN_KUBECONFIG)"
}

kind_cluster_down() {
  docker_answers || return 0
  if cluster_exists; then
    kind_ delete cluster --name "$KIND_CLUSTER" --kubeconfig "$ADMIN_KUBECONFIG" >/dev/null 2>&1
    log "deleted the kind cluster $KIND_CLUSTER"
  fi
  docker network rm "$KIND_NETWORK" >/dev/null 2>&1 || true
}

kind_status() {
  if cluster_exists && apiserver_answers; then
    echo "kind        up    $KIND_CLUSTER ($(kubectl_ get nodes --no-headers 2>/dev/null | awk '{printf "%s(%s) ", $1, $2}'))"
  else
    echo "kind        down"
  fi
}
