# Folio's service image: `folio serve` and the fleet of servers, from the locked uv workspace.
# Build: docker build -t folio:0.1.0 .   (compose.yaml builds it too)

# --- build: resolve and install the locked workspace into /app/.venv --------------------------
FROM python:3.11.11-slim-bookworm AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# the dependencies first (a layer that changes only with the lock), then the workspace itself
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/pyproject.toml
COPY orchestrator/pyproject.toml orchestrator/pyproject.toml
COPY servers/profile/pyproject.toml servers/profile/pyproject.toml
COPY servers/memory/pyproject.toml servers/memory/pyproject.toml
COPY servers/projects/pyproject.toml servers/projects/pyproject.toml
COPY servers/query/pyproject.toml servers/query/pyproject.toml
RUN uv sync --locked --no-dev --all-packages --no-install-workspace
COPY shared shared
COPY orchestrator orchestrator
COPY servers servers
# --no-editable: the packages (and the bundled embedding model in folio_core) live in the venv
RUN uv sync --locked --no-dev --all-packages --no-editable

# --- final: the venv, the fleet file and the sample portfolio, run as a non-root user ---------
FROM python:3.11.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 folio
COPY --from=build /app/.venv /app/.venv
COPY configs /app/configs
WORKDIR /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    FOLIO_DATA_DIR=/home/folio/.folio \
    FOLIO_PORTFOLIO_DIR=/app/configs/portfolio \
    FOLIO_LOG_FORMAT=json
USER folio
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
CMD ["folio", "serve", "--host", "0.0.0.0", "--port", "8000"]
