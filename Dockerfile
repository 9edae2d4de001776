# mcp-gate's image: the gate in a venv on a slim Python, run as an unprivileged user under
# tini (which reaps the stdio servers' orphaned grandchildren), with Node.js (npx) and uv
# (uvx) for stdio MCP servers. Build tools stay in the build stages.
#
#   docker build -t mcp-gate .
#   docker build -t mcp-gate:slim --build-arg WITH_NODE=false --build-arg WITH_UV=false .
#   docker run -p 8080:8080 -v "$PWD/config.yaml:/etc/mcp-gate/config.yaml:ro" \
#     -e GOOGLE_CLIENT_SECRET mcp-gate
#
# Writable at run time: /tmp and /home/mcp-gate (HOME: npm and uv caches), so the root
# filesystem can be mounted read-only with those two as volumes.

ARG PYTHON_VERSION=3.11
ARG DEBIAN_RELEASE=bookworm
ARG NODE_VERSION=24
ARG UV_VERSION=0.13.8
# "false" leaves Node.js (node, npm, npx) out of the image.
ARG WITH_NODE=true
# "false" leaves uv (uv, uvx) out of the image.
ARG WITH_UV=true

# ---- the gate and its dependencies, in a venv without pip --------------------------------
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY . .
RUN python -m venv --without-pip /opt/mcp-gate \
    && pip --python /opt/mcp-gate/bin/python install --no-cache-dir .

# ---- uv and uvx, from PyPI --------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS uv
ARG UV_VERSION
RUN pip install --no-cache-dir --target /opt/uv "uv==${UV_VERSION}"

# ---- Node.js, from the official image of the same Debian release -------------------------
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS node

# ---- the runtime ------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-${DEBIAN_RELEASE} AS runtime
RUN apt-get update \
    && apt-get install --yes --no-install-recommends tini=0.19.* \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 mcp-gate \
    && useradd --uid 10001 --gid 10001 --home-dir /home/mcp-gate --create-home \
        --shell /usr/sbin/nologin mcp-gate
COPY --from=build /opt/mcp-gate /opt/mcp-gate

# WITH_NODE and WITH_UV each pick one of two stages; BuildKit skips the other. The
# `FROM node-${WITH_NODE}` lines name these local stages, not images, hence DL3006 off.
FROM runtime AS node-true
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && node --version

FROM runtime AS node-false

# hadolint ignore=DL3006
FROM node-${WITH_NODE} AS uv-true
COPY --from=uv /opt/uv/bin/uv /opt/uv/bin/uvx /usr/local/bin/

# hadolint ignore=DL3006
FROM node-${WITH_NODE} AS uv-false

# hadolint ignore=DL3006
FROM uv-${WITH_UV} AS final
LABEL org.opencontainers.image.title="mcp-gate" \
      org.opencontainers.image.description="Single sign-on gate for MCP servers" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/mcp-gate/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/home/mcp-gate \
    XDG_CACHE_HOME=/home/mcp-gate/.cache \
    npm_config_cache=/home/mcp-gate/.npm \
    npm_config_update_notifier=false \
    UV_CACHE_DIR=/home/mcp-gate/.cache/uv \
    MCP_GATE_HEALTH_URL=http://127.0.0.1:8080/health
USER 10001:10001
WORKDIR /home/mcp-gate
EXPOSE 8080
# The gate's liveness route; set MCP_GATE_HEALTH_URL when proxy.addr or baseURL's path differ.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['MCP_GATE_HEALTH_URL'], timeout=4)"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["mcp-gate", "serve", "--config", "/etc/mcp-gate/config.yaml"]
