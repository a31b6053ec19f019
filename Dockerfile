# The image the Kubernetes example (docs/cluster/sweep-job.yaml) runs:
#
#   docker build -t your-registry/ccperf:0.1.0 .
#   docker push your-registry/ccperf:0.1.0
#
# Two stages: the build needs the Rust toolchain (rust-version in Cargo.toml), the image only
# the binary, at /usr/local/bin/ccperf, so `ccperf` is on the PATH of `sh -c` commands.
FROM rust:1.89-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin ccperf

FROM debian:bookworm-slim
COPY --from=build /src/target/release/ccperf /usr/local/bin/ccperf
# Sweeps write their results to a mounted volume; nothing runs as root.
RUN useradd --uid 10001 --create-home ccperf
USER 10001
WORKDIR /home/ccperf
ENTRYPOINT ["/usr/local/bin/ccperf"]
CMD ["--help"]
