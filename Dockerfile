# Authgate's image: `docker compose up` with compose.yaml beside this file, or
# `docker build -t authgate .` on its own. docs/deployment.md walks through it.

# Build: the locked dependencies and Authgate into /opt/authgate, with uv.
FROM python:3.12-slim AS build
# uv pinned, no older than the uv that wrote uv.lock (an older one may not read it).
COPY --from=ghcr.io/astral-sh/uv:0.13.10 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/authgate
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
RUN uv sync --frozen --no-dev --all-extras --no-editable

# Run: the same Python, the environment, and nothing else; not as root.
FROM python:3.12-slim
RUN useradd --system --uid 10001 --user-group --create-home \
        --home-dir /var/lib/authgate authgate
COPY --from=build /opt/authgate /opt/authgate
# On all interfaces inside the container; the published port and the proxy in
# front decide who reaches it. AUTHGATE_PUBLIC_URL and AUTHGATE_TRUSTED_PROXIES
# come from the deployment (compose.yaml), as do the secrets (*_FILE).
ENV PATH=/opt/authgate/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    AUTHGATE_HOST=0.0.0.0 \
    AUTHGATE_PORT=8000 \
    AUTHGATE_DATA_DIR=/var/lib/authgate
USER authgate
WORKDIR /var/lib/authgate
VOLUME /var/lib/authgate
EXPOSE 8000
# /healthz through loopback, naming the public host: Authgate answers only
# requests whose Host is its own (421 otherwise).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; from urllib.parse import urlsplit; port = os.environ['AUTHGATE_PORT']; host = urlsplit(os.environ.get('AUTHGATE_PUBLIC_URL') or f'http://0.0.0.0:{port}').netloc; r.urlopen(r.Request(f'http://127.0.0.1:{port}/healthz', headers={'Host': host}), timeout=4)"]
CMD ["authgate", "serve"]
