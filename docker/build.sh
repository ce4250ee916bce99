#!/usr/bin/env bash
# `make image`: the wheels on the host, the base image, then `docker build`.
#
# PYTHON is the host's Python 3.11 (the Makefile passes the project's
# virtualenv): its pip builds the service's wheel, with the web assets that
# `make web-assets` copied into bot/http/pages/static/vendor, and every
# dependency's, with the host's own package configuration (pip.conf, indexes,
# constraints). The image installs exactly these, with --no-index.
# IMAGE names the result (default tovholder:latest).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
IMAGE=${IMAGE:-tovholder:latest}
export BASE=${BASE:-debian:bookworm-slim}
WHEELS=dist/wheels
DKFDS_CSS=bot/http/pages/static/vendor/dkfds/css/dkfds.min.css

# Debian bookworm's python3 is 3.11: compiled wheels must be for the same version.
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "image: $PYTHON is not Python 3.11 (the image's); set PYTHON" >&2
    exit 1
fi
if [ ! -f "$DKFDS_CSS" ]; then
    echo "image: $DKFDS_CSS is missing; run make web-assets first" >&2
    exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS
# A fresh directory and setuptools build tree: no stale wheel or removed file comes along.
rm -rf "$WHEELS" build
if ! "$PYTHON" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$WHEELS" . >"$log" 2>&1; then
    cat "$log" >&2
    echo "image: pip wheel failed" >&2
    exit 1
fi
rm -rf build
wheel=$(ls "$WHEELS"/tovholder-*.whl)
if ! "$PYTHON" -m zipfile -l "$wheel" | grep "static/vendor/dkfds/css/dkfds.min.css" >/dev/null; then
    echo "image: $wheel holds no dkfds CSS; the pages would be unstyled" >&2
    exit 1
fi
echo "image: $(ls "$WHEELS" | wc -l) wheels in $WHEELS ($((SECONDS - start)) s)"

docker/daemon.sh start
docker/base.sh
start=$SECONDS
if ! docker build --build-arg BASE="$BASE" --tag "$IMAGE" . >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "image: docker build failed" >&2
    exit 1
fi
size=$(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')
echo "image: built $IMAGE, $size ($((SECONDS - start)) s)"
