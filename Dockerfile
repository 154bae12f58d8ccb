# ssecast in a container: built on Debian 12 with the repository's own scripts, run on
# debian:bookworm-slim as an unprivileged user.
#   docker build -t ssecast .
#   docker run -p 8080:8080 ssecast
# Options by flag (docker run ssecast --history 5000), environment (-e SSECAST_HISTORY=5000) or a
# mounted file (-v ./my.toml:/etc/ssecast/ssecast.toml:ro). History that survives restarts: a volume
# on /var/lib/ssecast and -e SSECAST_DATA_DIR=/var/lib/ssecast. tests/packaging/docker_test.sh runs
# these same steps outside Docker.

FROM debian:bookworm AS build
WORKDIR /src
COPY . .
RUN ./scripts/install-deps.sh --build-only \
 && ./scripts/build.sh build-docker \
 && ./scripts/runtime-packages.sh build-docker/ssecast > runtime-packages.txt

FROM debian:bookworm-slim
COPY --from=build /src/scripts/install-runtime-deps.sh /src/runtime-packages.txt /tmp/ssecast/
RUN SSECAST_CLEAN_APT_LISTS=1 /tmp/ssecast/install-runtime-deps.sh /tmp/ssecast/runtime-packages.txt \
 && rm -rf /tmp/ssecast \
 && useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ssecast \
 && install -d -o ssecast -g ssecast -m 0700 /var/lib/ssecast
COPY --from=build /src/build-docker/ssecast /usr/bin/ssecast
COPY config/ssecast.toml /etc/ssecast/ssecast.toml
USER ssecast
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz >/dev/null || exit 1
ENTRYPOINT ["/usr/bin/ssecast", "--config", "/etc/ssecast/ssecast.toml"]
