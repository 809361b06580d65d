# Multi-stage image: build wheels in one stage, run as a non-root user with gunicorn.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip wheel --wheel-dir /wheels -r requirements.txt

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    VAR_DIR=/data SDE_PATH=/data/sde.sqlite GUNICORN_BIND=0.0.0.0:8000 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus MALLOC_ARENA_MAX=2
RUN groupadd --system app && useradd --system --gid app --home /app app \
    && mkdir -p /data && chown app:app /data
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels /wheels/* && rm -rf /wheels
COPY --chown=app:app . .
# collectstatic needs some SECRET_KEY at build time only; the real one comes at run time.
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0
USER app
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4).status == 200 else 1)"
# Migrate and install the bundled SDE when none is present, then serve (metrics of every
# gunicorn worker in one folder, emptied at start: docs/observability.md).
CMD ["sh", "-c", "rm -rf \"$PROMETHEUS_MULTIPROC_DIR\" && mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && python manage.py migrate --noinput && python manage.py sde_install --bundled --if-missing && exec gunicorn -c config/gunicorn.py config.wsgi"]
