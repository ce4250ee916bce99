# The service on Debian bookworm's own Python 3.11, run by tini as an unprivileged user.
#
# Build it with `make image`, not `docker build` alone: the wheels (the service's,
# with the design system's web assets inside, and every dependency's) are built
# on the host with the host's own package configuration and copied in, so the
# build needs no package index (`pip install --no-index`). Where no image
# registry is reachable, `make image` makes debian:bookworm-slim from Debian's
# packages first (docker/base.sh).
#
# Migrations are a one-off job, run once per release before the workers start
# (several replicas running `serve --upgrade` together would race):
#
#   docker run --rm --env-file tovholder.env tovholder:1.x tovholder db upgrade
#   docker run -d  --env-file tovholder.env -p 8080:8080 tovholder:1.x
#
# See docs/deploy.md ("The container image").
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS runtime
# tini: PID 1 that reaps zombies and passes SIGTERM on, so `serve` (and with
# --workers N, each worker) shuts down cleanly. DejaVu: Danish, Ukrainian and
# other scripts print as written in the journal PDFs. ca-certificates: HTTPS
# to the SMS gateways, the identity provider and the case system.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 tini fonts-dejavu-core ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb

FROM runtime AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv \
 && rm -rf /var/lib/apt/lists/*
COPY dist/wheels /wheels
# --no-index: only the wheels built on the host; nothing is fetched here.
RUN python3 -m venv /opt/tovholder \
 && /opt/tovholder/bin/pip install --no-index --no-cache-dir --find-links /wheels tovholder \
 && /opt/tovholder/bin/pip uninstall --yes --quiet pip setuptools

# The runtime stage again, with only the installed virtualenv from the build
# stage: no wheels, no pip, no python3-venv in the image.
FROM runtime
RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin tovholder
COPY --from=build /opt/tovholder /opt/tovholder
USER 10001:10001
WORKDIR /home/tovholder
ENV PATH=/opt/tovholder/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    TOVHOLDER_HOST=0.0.0.0 \
    TOVHOLDER_PORT=8080 \
    TOVHOLDER_JOURNAL_PDF_FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import os,urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('TOVHOLDER_PORT', '8080'), timeout=2).status != 200)"
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["tovholder", "serve"]
