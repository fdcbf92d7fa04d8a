# syntax=docker/dockerfile:1
# One image for every Mailmoat service. Its command is `mailmoat ...`:
#   run <service>   one service, production style (what the Helm chart's Deployments run)
#   migrate|topics  the chart's hook Jobs
#   dev             the whole gateway on the embedded broker and SQLite under /data (a first try)
# Build: docker build -t mailmoat .  (or buildah bud; BASE_IMAGE and UV_IMAGE may name mirrors).
# Run it with a read-only root filesystem: the only writable paths are what is mounted
# (/data for `dev`, /tmp for everything).
ARG BASE_IMAGE=docker.io/library/python:3.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

# Build stage: uv installs the locked dependencies, then the project, into /opt/mailmoat.
FROM ${BASE_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_FROZEN=1 \
    UV_NO_DEV=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=python3 \
    UV_PROJECT_ENVIRONMENT=/opt/mailmoat
WORKDIR /src
# The dependencies first, from the lockfile alone: a change to the code keeps this layer.
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY services/dispatch/pyproject.toml services/dispatch/
COPY services/gateway/pyproject.toml services/gateway/
COPY services/ingest/pyproject.toml services/ingest/
COPY services/policy/pyproject.toml services/policy/
COPY services/reputation/pyproject.toml services/reputation/
COPY services/scanner/pyproject.toml services/scanner/
COPY sdk/python/pyproject.toml sdk/python/
# Behind a TLS-inspecting proxy, pass its CA bundle as a build secret (never stored in a layer):
#   --secret id=ca-bundle,src=/etc/ssl/certs/ca-certificates.crt
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=secret,id=ca-bundle \
    if [ -s /run/secrets/ca-bundle ]; then export SSL_CERT_FILE=/run/secrets/ca-bundle; fi \
    && uv sync --no-install-workspace
# Then the project itself, as wheels (not editable): the trained detector model travels inside
# the scanner's package.
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=secret,id=ca-bundle \
    if [ -s /run/secrets/ca-bundle ]; then export SSL_CERT_FILE=/run/secrets/ca-bundle; fi \
    && uv sync --no-editable \
    && /opt/mailmoat/bin/python -c "import mailmoat.scanner.models as m, importlib.resources as r; \
assert r.files(m).joinpath('primary-v1.npz').is_file(), 'detector model missing'"

# Final stage: the base image, a user, the environment; no uv, no compiler, no sources.
FROM ${BASE_IMAGE}
ARG UID=10001
RUN groupadd --system --gid ${UID} mailmoat \
    && useradd --system --uid ${UID} --gid ${UID} --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin mailmoat \
    && mkdir -p /data && chown ${UID}:${UID} /data && chmod 0700 /data
COPY --from=build /opt/mailmoat /opt/mailmoat
ENV PATH=/opt/mailmoat/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
LABEL org.opencontainers.image.title="mailmoat" \
      org.opencontainers.image.description="Secure email gateway for AI agents" \
      org.opencontainers.image.source="https://github.com/mailmoat/mailmoat"
WORKDIR /data
USER ${UID}:${UID}
EXPOSE 2525 8080 9101
ENTRYPOINT ["mailmoat"]
CMD ["dev", "--data-dir", "/data"]
