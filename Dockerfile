# syntax=docker/dockerfile:1
# netlens: eBPF network observability, shaped like an OpenTelemetry Collector.
#
#   docker build -t netlens .
#   docker run --rm --network host --pid host \
#     --cap-drop ALL --cap-add BPF --cap-add PERFMON --cap-add NET_ADMIN --cap-add NET_RAW \
#     -v /sys/kernel/btf:/sys/kernel/btf:ro -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
#     -v /sys/kernel/tracing:/sys/kernel/tracing:ro \
#     netlens run
#   docker run --rm ... netlens doctor      # what will and will not work on this host
#
# Capabilities (measured on kernel 6.18, see src/system/requirements.ts), instead of --privileged:
#   BPF + PERFMON   load the flow programs (netflow: tp_btf, or classic tracepoints, which need tracefs mounted)
#                   and the capture socket filter (dns, http)
#   NET_ADMIN       attach netflow's UDP cgroup_skb and TCP sock_ops programs (or set receivers::netflow::udp: false
#                   and tcp_sockops: false)
#   NET_RAW         open the AF_PACKET capture socket (dns, http)
#   SYS_ADMIN       only for the http receiver's HTTPS uprobes (the kernel's uprobe PMU requires it)
# No SYS_RESOURCE (BPF memory is charged to the memory cgroup since 5.11) and no SYS_PTRACE are needed.
# A receiver whose capability is missing is disabled with a message naming it; the others run.
#
# The process runs as uid 0 inside the container, but holds only the capabilities above: a non-root user gets no
# effective capabilities from `--cap-add` (Docker and Kubernetes grant no ambient capabilities), and file
# capabilities on the node binary would make every command, `netlens doctor` included, fail to start wherever
# one of them is not granted. To run as another user, grant them as ambient capabilities, as
# test/lifecycle/capabilities.test.ts does with setpriv.

# ---- build: the same scripts a developer runs (README: scripts/setup.sh installs Debian packages, Node 24 from
# the npm registry, npm ci, then scripts/build.sh compiles the BPF objects and the native addon).
FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
# Debian's npm only bootstraps: setup.sh installs the pinned Node 24 into .tools/ with it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/ scripts/
COPY bpf/ bpf/
COPY native/ native/
# vmlinux.h is generated from the build host's /sys/kernel/btf/vmlinux; CO-RE relocates on the node's kernel.
RUN bash scripts/setup.sh
RUN bash -c 'source scripts/env.sh && npm prune --omit=dev --no-audit --no-fund'
COPY bin/ bin/
COPY config/ config/
COPY src/ src/

# ---- runtime: Debian slim, the Node 24 binary from the build stage, and the three libraries the addon links.
FROM debian:12-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libbpf1 libelf1 zlib1g \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/.tools/node_modules/node/bin/node /usr/local/bin/node
WORKDIR /opt/netlens
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules/ node_modules/
COPY --from=build /src/build/bpf/*.bpf.o build/bpf/
COPY --from=build /src/native/build/Release/netlens_native.node native/build/Release/
COPY --from=build /src/bin/ bin/
COPY --from=build /src/config/ config/
COPY --from=build /src/src/ src/
RUN ln -s /opt/netlens/bin/netlens /usr/local/bin/netlens
# The health endpoint (service::telemetry::health_check, default localhost:13133): 200 while every component runs.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://localhost:13133/').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["netlens"]
CMD ["run"]
