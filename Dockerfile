# Multi-stage: build a wheel with its dependencies, then run as a non-root user.
#
# Migrations are a one-off job, run once per release before the workers start
# (several replicas running `serve --upgrade` together would race):
#
#   docker run --rm --env-file tovholder.env tovholder:1.x tovholder db upgrade
#   docker run -d  --env-file tovholder.env -p 8080:8080 tovholder:1.x
#
# See docs/deploy.md ("The container image").
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY channels ./channels
COPY journal ./journal
COPY scheduler ./scheduler
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# tini: PID 1 that reaps zombies and passes SIGTERM on, so `serve` (and with
# --workers N, each worker) shuts down cleanly. DejaVu: Danish, Ukrainian and
# other scripts print as written in the journal PDFs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 tovholder
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER tovholder
WORKDIR /home/tovholder
ENV TOVHOLDER_HOST=0.0.0.0 \
    TOVHOLDER_PORT=8080 \
    TOVHOLDER_JOURNAL_PDF_FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf \
    PYTHONUNBUFFERED=1
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status != 200)"
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["tovholder", "serve"]
