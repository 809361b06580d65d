# The app's image: one image for web (the default command), the Celery worker and beat.
#   docker build -t evetrade .                       (docker-compose.yml builds it too)
#   docker run -e SECRET_KEY=... -p 8000:8000 evetrade
# Runs as the unprivileged `app` user and works with a read-only root filesystem: the only
# places it writes are /data (VAR_DIR: SQLite files, the SDE, caches; a volume) and the
# metrics folder /run/metrics (PROMETHEUS_MULTIPROC_DIR), both made for `app` here, plus /tmp.
# PYTHON_IMAGE lets a machine that cannot pull the official image build from a stand-in
# (bin/container-base-images, docs/deploy.md).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: compilers and pip, used only to fill a virtual environment ---------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements.txt /build/requirements.txt
RUN /opt/venv/bin/pip install -r /build/requirements.txt

# --- runtime: the interpreter, the environment and the code; no compilers -----------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    VAR_DIR=/data SDE_PATH=/data/sde.sqlite GUNICORN_BIND=0.0.0.0:8000 \
    PROMETHEUS_MULTIPROC_DIR=/run/metrics MALLOC_ARENA_MAX=2
# The user and the two folders it writes to, made before anything else runs: a folder made
# later by a build step would belong to root, and the app could not write there.
RUN groupadd --gid 10001 app \
    && useradd --uid 10001 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app \
    && mkdir -p /data /run/metrics \
    && chown app:app /data /run/metrics
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The code belongs to root: the app user can read it, not change it.
COPY . .
# collectstatic needs a SECRET_KEY at build time only (the real one comes at run time); its
# metrics and var folders are throwaway ones, so nothing it writes is left in the image.
# Bytecode is compiled here, as the root filesystem may be read-only at run time.
RUN SECRET_KEY=build-only VAR_DIR=/tmp/build-var PROMETHEUS_MULTIPROC_DIR=/tmp/build-metrics \
       python manage.py collectstatic --noinput --verbosity 0 \
    && python -m compileall -q -j 0 -x '/(\.venv|tests|var)/' /app \
    && rm -rf /tmp/build-var /tmp/build-metrics \
    && chmod 0755 deploy/entrypoint deploy/healthcheck
USER app
VOLUME ["/data"]
EXPOSE 8000
# web: /health/ready (database, store and SDE answer); a worker: it answers a ping; beat:
# it keeps waking and holds its broker connection (deploy/healthcheck).
HEALTHCHECK --interval=30s --timeout=20s --start-period=60s --retries=3 \
    CMD ["/app/deploy/healthcheck"]
# Empties the metrics folder, then `web` migrates, installs the bundled SDE when none is
# installed and serves with gunicorn; `setup` does only the first two; anything else
# (celery worker, celery beat, python manage.py ...) runs as given (deploy/entrypoint).
ENTRYPOINT ["/app/deploy/entrypoint"]
CMD ["web"]
