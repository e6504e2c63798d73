# One Kubernetes component of the kind node image: the local Debian base plus one statically linked binary,
# which is also the image's entrypoint (CoreDNS and pause are started without a command).
ARG BASE
FROM ${BASE}
ARG BINARY
ARG PACKAGES=""
RUN if [ -n "$PACKAGES" ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PACKAGES \
      && rm -rf /var/lib/apt/lists/*; fi
COPY ${BINARY} /usr/local/bin/${BINARY}
RUN ln -s /usr/local/bin/${BINARY} /component
ENTRYPOINT ["/component"]
