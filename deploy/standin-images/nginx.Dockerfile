# Stand-in for nginx:1.27-alpine from Debian bookworm's nginx (1.22), used when the official
# image cannot be pulled (bin/container-base-images). As the official image: configuration
# from /etc/nginx/conf.d/*.conf, logs to the container's output, in the foreground; wget for
# health checks, as the official alpine image has busybox's.
ARG BASE=evetrade-standin/debian:bookworm
FROM ${BASE}
RUN printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx wget \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
