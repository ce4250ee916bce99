#!/usr/bin/env bash
# The base image (debian:bookworm-slim unless BASE says otherwise) is here afterwards.
#
# Kept when already present (the daemon's images survive between builds).
# Otherwise pulled from a registry; where none is reachable, made from Debian's
# own packages: `mmdebstrap --variant=minbase` (installed when missing, as
# root) piped into `docker import`, with the same suites as the registry's
# image (security updates included) and, as there, no documentation or
# translations. Exits 1, saying why, when neither works.
set -euo pipefail

BASE=${BASE:-debian:bookworm-slim}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

if docker image inspect "$BASE" >/dev/null 2>&1; then
    echo "base: $BASE is already here"
    exit 0
fi
if timeout 120 docker pull --quiet "$BASE" >/dev/null 2>&1; then
    echo "base: pulled $BASE"
    exit 0
fi
if [ "$BASE" != "debian:$SUITE-slim" ]; then
    echo "base: cannot pull $BASE, and only debian:$SUITE-slim can be made here" >&2
    exit 1
fi
echo "base: no registry answers; making $BASE from Debian's packages (mmdebstrap)"
if ! command -v mmdebstrap >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "base: mmdebstrap is missing and only root may install it" >&2
        exit 1
    fi
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends mmdebstrap; } >/dev/null \
        || { echo "base: cannot install mmdebstrap" >&2; exit 1; }
fi
# The dpkg options stay in the image (/etc/dpkg/dpkg.cfg.d), so the Dockerfile's
# own apt-get installs leave out documentation and translations too.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! mmdebstrap --variant=minbase --quiet \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-include=/usr/share/locale/locale.alias' \
        --aptopt='APT::Install-Recommends "false"' \
        "$SUITE" - \
        "deb $MIRROR $SUITE main" \
        "deb $MIRROR $SUITE-updates main" \
        "deb $SECURITY $SUITE-security main" 2>"$log" \
    | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' \
        - "$BASE" >/dev/null; then
    echo "base: mmdebstrap | docker import failed; the end of its log:" >&2
    tail -n 5 "$log" >&2
    docker image rm "$BASE" >/dev/null 2>&1 || true
    exit 1
fi
echo "base: made $BASE ($(docker image inspect --format '{{.Size}}' "$BASE" | awk '{printf "%.0f MB", $1/1e6}'))"
