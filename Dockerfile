# syntax=docker/dockerfile:1
#
# feedbackd container image.
#
#   docker build -t feedbackd:local .
#   docker run --rm feedbackd:local --help
#
# Stages: `chef` (Rust toolchain + cargo-chef), `planner` (dependency recipe), `builder`
# (dependencies cooked in their own cached layer, then the locked release build CI checks for),
# `runtime` (Debian slim, non-root, just the binary). The widget files, the vendored uaparser
# rules and the SQL migrations are compiled into the binary, so nothing else is copied.
# Configuration is only `FEEDBACKD_*` environment variables (and the usual AWS_* ones), see
# docs/OPERATIONS.md.

# The toolchain this project is built and tested with: the one rust-toolchain.toml pins, which
# Cargo.toml's rust-version asks for (edition 2024). rust-toolchain.toml itself stays out of the
# build context (.dockerignore): the image already is that toolchain, and rustup would otherwise
# download rustfmt and clippy, which a release build does not need.
ARG RUST_VERSION=1.95.0
ARG CARGO_CHEF_VERSION=0.1.77

FROM rust:${RUST_VERSION}-bookworm AS chef
ARG CARGO_CHEF_VERSION
RUN cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}"
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only: this layer is reused until Cargo.toml or Cargo.lock change.
RUN cargo chef cook --release --locked --recipe-path recipe.json --bin feedbackd
COPY . .
RUN cargo build --release --locked --bin feedbackd

# Runtime: debian:bookworm-slim rather than distroless/cc because
#  - the binary is built on bookworm, so glibc matches exactly;
#  - the HEALTHCHECK needs an HTTP client and feedbackd has no health subcommand: curl is here,
#    distroless has none (and no shell for `docker exec` when debugging);
#  - ca-certificates: TLS to S3 and PostgreSQL verifies against the system roots.
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 feedbackd \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/feedbackd --no-create-home \
      --shell /usr/sbin/nologin feedbackd \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/feedbackd
COPY --from=builder /src/target/release/feedbackd /usr/local/bin/feedbackd

LABEL org.opencontainers.image.title="feedbackd" \
      org.opencontainers.image.description="Collects WebApp feedback and keeps it private." \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"

# Container defaults; everything else comes from the environment at run time. The admin listener
# (/healthz, /readyz, /metrics) binds every interface so probes and Prometheus reach it: never
# publish port 9090 (compose) and restrict it with the NetworkPolicy (Kubernetes).
# FEEDBACKD_DATA_DIR is only used by the embedded SQLite/local-folder default; with PostgreSQL,
# S3 and both keys set nothing is written there.
ENV FEEDBACKD_LISTEN=0.0.0.0:8080 \
    FEEDBACKD_ADMIN_LISTEN=0.0.0.0:9090 \
    FEEDBACKD_DATA_DIR=/var/lib/feedbackd \
    FEEDBACKD_LOG_FORMAT=json

USER 10001:10001
WORKDIR /var/lib/feedbackd
EXPOSE 8080 9090

# Liveness on the admin port, whatever port FEEDBACKD_ADMIN_LISTEN names (it must listen on
# 0.0.0.0 or 127.0.0.1 for this to reach it). Kubernetes ignores this and uses its own probes.
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/bin/sh", "-c", "curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:${FEEDBACKD_ADMIN_LISTEN##*:}/healthz || exit 1"]

ENTRYPOINT ["feedbackd"]
CMD ["serve"]
