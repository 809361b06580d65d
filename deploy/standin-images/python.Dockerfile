# Stand-in for python:3.11-slim-bookworm, built from Debian bookworm's own packages when the
# official image cannot be pulled (bin/container-base-images). Debian's Python 3.11 as a
# virtual environment at /usr/local, so `python` and `pip` are where the official image has
# them and `pip install` works as there (Debian's own Python refuses it: PEP 668). With
# dbm.gnu, as the official image has, so Celery beat's schedule file (a shelve) is the
# same kind of file there and here.
ARG BASE=evetrade-standin/debian:bookworm
FROM ${BASE}
# The certificate authorities this machine trusts besides Debian's (an egress proxy that
# inspects TLS); pip is told to use the system's list.
COPY ca/ /usr/local/share/ca-certificates/
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       python3 python3-venv python3-pip python3-gdbm \
    && rm -rf /var/lib/apt/lists/* \
    && update-ca-certificates >/dev/null \
    && python3 -m venv /usr/local \
    && printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > /etc/pip.conf
ENV LANG=C.UTF-8
CMD ["python3"]
