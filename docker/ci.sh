#!/usr/bin/env bash
# CI's image step: build the image and run its smoke test when Docker can run here.
#
# Lacking Docker is no failure: without a daemon (none running, and docker.io
# cannot be installed or started) or without a base image (no registry and no
# Debian mirror for mmdebstrap), this prints why and exits 0. A build or smoke
# test that fails once Docker runs fails CI. A dockerd started here is stopped
# at the end; the images stay, so the next run reuses the base and the layers.
set -uo pipefail
cd "$(dirname "$0")/.."

# Bounded: a hung build must not eat CI's 90 minutes (cold it takes a few minutes).
LIMIT=${TOVHOLDER_IMAGE_LIMIT:-1200}

skip() {
    echo "image smoke test SKIPPED: $1"
    exit 0
}

start=$SECONDS
trap 'docker/daemon.sh stop' EXIT
if ! reason=$(docker/daemon.sh start 2>&1 >/dev/null); then
    skip "no Docker here (${reason##*$'\n'})"
fi
if ! reason=$(timeout 600 docker/base.sh 2>&1); then
    skip "no base image (${reason##*$'\n'})"
fi
echo "$reason"
if ! timeout "$LIMIT" make image-smoke; then
    echo "image smoke test FAILED (or took over $LIMIT s)"
    exit 1
fi
echo "image build and smoke test: $((SECONDS - start)) s"
