# Base images: no image can be pulled, so a Debian root file system is made with debootstrap,
# imported into Docker and pushed to the test registry. The root fs tarball is cached.
# shellcheck shell=bash

BASE_REPOSITORY=base/debian
BASE_IMAGE="$REGISTRY_ADDRESS/$BASE_REPOSITORY:$DEBIAN_SUITE"
GPU_BASE_REPOSITORY=base/cuda
GPU_BASE_TAG="${CUDA_RUNTIME_VERSION}-$DEBIAN_SUITE"
GPU_BASE_IMAGE="$REGISTRY_ADDRESS/$GPU_BASE_REPOSITORY:$GPU_BASE_TAG"

debian_rootfs() {  # prints the path of the cached root fs tarball, making it on first use
  local tarball="$KUBRICKS_CACHE_DIR/rootfs/debian-$DEBIAN_SUITE-minbase.tar"
  if [ ! -s "$tarball" ]; then
    need_command debootstrap debootstrap
    [ "$(id -u)" = 0 ] || die "debootstrap needs root to make the base image" "run 'hack/testenv up' as root (or with sudo)"
    log "making a Debian $DEBIAN_SUITE root file system with debootstrap (first run only)"
    local root logfile="$KUBRICKS_CACHE_DIR/logs/debootstrap-$DEBIAN_SUITE.log"
    mkdir -p "$(dirname "$tarball")" "$KUBRICKS_CACHE_DIR/logs"
    root=$(mktemp -d)
    debootstrap --variant=minbase --include=ca-certificates "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" >"$logfile" 2>&1 ||
      { rm -rf "$root"; die "debootstrap of Debian $DEBIAN_SUITE failed" "check that $DEBIAN_MIRROR is reachable" "$logfile"; }
    # Package lists and downloaded .debs only make the image bigger; builds run apt-get update anyway.
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
    tar -C "$root" -cf "$tarball.partial" . && mv "$tarball.partial" "$tarball"
    rm -rf "$root"
  fi
  echo "$tarball"
}

base_images_up() {
  cpu_base_image_up
  gpu_base_image_up
}

cpu_base_image_up() {
  registry_has "$BASE_REPOSITORY" "$DEBIAN_SUITE" && return 0
  local tarball
  tarball=$(debian_rootfs)
  log "importing $BASE_IMAGE and pushing it to the test registry"
  docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' "$tarball" "$BASE_IMAGE" >/dev/null ||
    die "docker import of the Debian root fs failed" "check 'docker info'; remove $tarball to make it afresh"
  docker push --quiet "$BASE_IMAGE" >/dev/null || die "pushing $BASE_IMAGE failed" "check the registry log" "$LOG_DIR/registry.log"
}

gpu_base_image_up() {
  registry_has "$GPU_BASE_REPOSITORY" "$GPU_BASE_TAG" && return 0
  log "building $GPU_BASE_IMAGE (CUDA runtime $CUDA_RUNTIME_VERSION from the package index)"
  local context logfile="$LOG_DIR/gpu-base-image.log"
  context=$(mktemp -d)
  cp "$HACK_DIR/images/cuda-base/Dockerfile" "$context/"
  cp "$HOST_CA_BUNDLE" "$context/host-ca.pem"
  if ! { docker build --build-arg "BASE=$BASE_IMAGE" --build-arg "CUDA_RUNTIME_VERSION=$CUDA_RUNTIME_VERSION" \
    -t "$GPU_BASE_IMAGE" "$context" >"$logfile" 2>&1 && docker push --quiet "$GPU_BASE_IMAGE" >>"$logfile" 2>&1; }; then
    rm -rf "$context"
    die "building the CUDA-like base image failed" "check that the package index is reachable" "$logfile"
  fi
  rm -rf "$context"
}

base_images_status() {
  registry_has "$BASE_REPOSITORY" "$DEBIAN_SUITE" 2>/dev/null && echo "base-image  up    $BASE_IMAGE" || echo "base-image  missing"
  registry_has "$GPU_BASE_REPOSITORY" "$GPU_BASE_TAG" 2>/dev/null && echo "gpu-base    up    $GPU_BASE_IMAGE" || echo "gpu-base    missing"
}
