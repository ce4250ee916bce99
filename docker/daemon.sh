#!/usr/bin/env bash
# A Docker daemon for `make image` and the smoke test.
#
#   docker/daemon.sh start   a daemon answers afterwards, or this exits 1 saying why
#   docker/daemon.sh stop    stops the daemon, only if `start` started it
#
# `start` uses a running daemon as it is. Without one, and as root, it installs
# Debian's docker.io when `dockerd` is missing and starts `dockerd` in the
# background; its pid and log go to $TOVHOLDER_DOCKERD_STATE (default
# /tmp/tovholder-dockerd), so `stop` ends that daemon and no other. Images stay
# in /var/lib/docker: the next build reuses the base image and the cached layers.
set -euo pipefail

STATE=${TOVHOLDER_DOCKERD_STATE:-/tmp/tovholder-dockerd}
PIDFILE=$STATE/dockerd.pid
LOG=$STATE/dockerd.log

answers() { timeout 10 docker info >/dev/null 2>&1; }

start() {
    if command -v docker >/dev/null 2>&1 && answers; then
        return 0
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "no Docker daemon answers, and only root may install or start one" >&2
        return 1
    fi
    mkdir -p "$STATE"
    if ! command -v dockerd >/dev/null 2>&1; then
        echo "docker: installing Debian's docker.io" >&2
        if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -q --no-install-recommends docker.io; } >"$STATE/apt.log" 2>&1; then
            echo "cannot install docker.io (see $STATE/apt.log)" >&2
            return 1
        fi
    fi
    echo "docker: starting dockerd in the background (log: $LOG)" >&2
    nohup dockerd >"$LOG" 2>&1 &
    echo $! >"$PIDFILE"
    for _ in $(seq 60); do
        if answers; then
            return 0
        fi
        if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
            break
        fi
        sleep 1
    done
    echo "dockerd did not start; the end of its log:" >&2
    tail -n 5 "$LOG" >&2 || true
    stop
    return 1
}

stop() {
    [ -f "$PIDFILE" ] || return 0
    local pid
    pid=$(cat "$PIDFILE")
    rm -f "$PIDFILE"
    kill -0 "$pid" 2>/dev/null || return 0
    echo "docker: stopping the dockerd started for this build (pid $pid)" >&2
    kill -TERM "$pid"
    # dockerd stops its containers and containerd first; give it the time.
    for _ in $(seq 30); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
