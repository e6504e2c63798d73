# Builds the platform's Go tools from the Go module proxy and caches them by version.
# shellcheck shell=bash

tool_dir() { echo "$KUBRICKS_CACHE_DIR/tools/$1-$2"; }

# go_build_cached NAME VERSION LDFLAGS REPLACES PACKAGE...: build PACKAGEs at VERSION into the cache
# unless that version of exactly those packages, linked with exactly those flags, is already there.
# REPLACES is a go.mod fragment.
go_build_cached() {
  local name=$1 version=$2 ldflags=$3 replaces=$4
  shift 4
  local dest work logfile build_key
  dest=$(tool_dir "$name" "$version")
  build_key=$(printf 'ldflags: %s\npackages: %s' "$ldflags" "$*")
  [ "$(cat "$dest/.complete" 2>/dev/null)" = "$build_key" ] && return 0
  need_command go golang-go
  log "building $name $version from the Go module proxy (first run only; cached in $dest)"
  mkdir -p "$KUBRICKS_CACHE_DIR/logs"
  logfile="$KUBRICKS_CACHE_DIR/logs/$name-$version.log"
  work=$(mktemp -d)
  local started=$SECONDS
  run_logged "$logfile" "building $name $version failed" \
    "check that the Go module proxy is reachable ('go env GOPROXY') and that $(go version | cut -d' ' -f3) can build $name $version; full log: $logfile" \
    go_build_in "$work" "$dest" "$ldflags" "$replaces" "$version" "$@"
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
  echo "$build_key" >"$dest/.complete"
  log "built $name $version in $((SECONDS - started))s"
}

# go_build_in WORKDIR DEST LDFLAGS REPLACES VERSION PACKAGE...: a throw-away module that requires PACKAGEs at
# VERSION (with REPLACES) and builds them into DEST.partial.
go_build_in() {
  local work=$1 dest=$2 ldflags=$3 replaces=$4 version=$5
  shift 5
  # shellcheck disable=SC2064 # the trap runs after this function returned: expand now
  trap "rm -rf '$work'" EXIT
  cd "$work" || return 1
  go mod init kubricks.dev/hack/build-"$(basename "$dest")"
  printf '%s\n' "$replaces" >>go.mod
  go get "${@/%/@$version}"
  rm -rf "$dest.partial"
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$dest.partial/" "$@"
}

# module_gomod MODULE@VERSION: the path of that module's go.mod, downloaded through the Go module proxy.
module_gomod() {
  need_command go golang-go
  (cd "$(mktemp -d)" && go mod download -json "$1" | jq -r .GoMod) ||
    die "cannot download $1" "check that the Go module proxy is reachable ('go env GOPROXY')"
}

# Kubernetes' go.mod points every k8s.io/* staging module at ./staging; a dependent module must
# point them at the published v0.x.y of the same release instead.
kubernetes_staging_replaces() {
  local gomod minor=${KUBERNETES_VERSION#v1.}
  gomod=$(module_gomod "k8s.io/kubernetes@$KUBERNETES_VERSION")
  sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$gomod" |
    while read -r module; do echo "replace $module => $module v0.$minor"; done
}

# The Kubernetes binaries of the kind node image (kubelet, kubeadm, the control-plane components) and
# kubectl for the host.
build_kubernetes() {
  local version_pkg=k8s.io/component-base/version major=1 minor
  minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
  local ldflags="-s -w -X $version_pkg.gitVersion=$KUBERNETES_VERSION -X $version_pkg.gitMajor=$major -X $version_pkg.gitMinor=$minor -X $version_pkg.gitTreeState=clean"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/client-go/pkg/version.gitMajor=$major -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  go_build_cached kubernetes "$KUBERNETES_VERSION" "$ldflags" "$(kubernetes_staging_replaces)" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubeadm k8s.io/kubernetes/cmd/kubectl
}

build_etcd() {
  go_build_cached etcd "$ETCD_VERSION" "-s -w" "" go.etcd.io/etcd/server/v3
  local dir
  dir=$(tool_dir etcd "$ETCD_VERSION")
  [ -x "$dir/etcd" ] || mv "$dir/server" "$dir/etcd"  # the main package is the module root "server/"
}

build_kind() {
  go_build_cached kind "$KIND_VERSION" "-s -w" "" sigs.k8s.io/kind
}

build_coredns() {
  go_build_cached coredns "$COREDNS_VERSION" "-s -w" "" github.com/coredns/coredns
}

build_local_path_provisioner() {
  go_build_cached local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION" "-s -w" "" github.com/rancher/local-path-provisioner
}

build_kwok() {
  go_build_cached kwok "$KWOK_VERSION" "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" "" sigs.k8s.io/kwok/cmd/kwok
}

# helm's own build links in the Kubernetes version of its client-go (major 0 -> 1): without it, offline
# rendering (`helm template`) assumes Kubernetes v1.20 and refuses charts that require anything newer.
build_helm() {
  local client_go major minor ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  client_go=$(helm_client_go_version)
  major=$((${client_go%%.*} + 1))
  minor=$(echo "$client_go" | cut -d. -f2)
  for package in pkg/lint/rules pkg/chartutil; do
    ldflags+=" -X helm.sh/helm/v3/$package.k8sVersionMajor=$major -X helm.sh/helm/v3/$package.k8sVersionMinor=$minor"
  done
  go_build_cached helm "$HELM_VERSION" "$ldflags" "" helm.sh/helm/v3/cmd/helm
}

# The k8s.io/client-go version (without the v) that helm $HELM_VERSION requires.
helm_client_go_version() {
  local gomod
  gomod=$(module_gomod "helm.sh/helm/v3@$HELM_VERSION")
  sed -n 's#^[[:space:]]*k8s.io/client-go v\([0-9.]*\)$#\1#p' "$gomod"
}

build_tools() {
  build_kind
  build_helm
  build_kwok
  build_kubernetes
  build_etcd
  build_coredns
  build_local_path_provisioner
}

# The directories to put first on PATH, one per tool.
tools_path() {
  local dirs=""
  for tool in "kind $KIND_VERSION" "kubernetes $KUBERNETES_VERSION" "kwok $KWOK_VERSION" "helm $HELM_VERSION"; do
    # shellcheck disable=SC2086
    dirs+="$(tool_dir $tool):"
  done
  echo "${dirs%:}"
}
