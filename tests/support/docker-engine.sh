#!/bin/sh
# Starts or stops the Docker engine the container tests run against.
#
#   tests/support/docker-engine.sh start   # install if missing, start, wait until it answers
#   tests/support/docker-engine.sh stop    # stop the engine this script started (by pid file)
#
# Idempotent: `start` with an engine already answering does nothing; `stop` with none
# running does nothing. Tests find the engine through
#   DOCKER_HOST=unix:///run/lucky-test-docker.sock
set -eu

SOCK=/run/lucky-test-docker.sock
PIDFILE=/run/lucky-test-dockerd.pid
DATA_ROOT=/var/lib/lucky-test-docker
LOG=/tmp/lucky-test-dockerd.log

info() { printf '[INFO] %s\n' "$*" >&2; }
fail() { printf '[ERROR] %s\n' "$*" >&2; exit 1; }

answers() {
    DOCKER_HOST="unix://$SOCK" docker info >/dev/null 2>&1
}

install_engine() {
    if command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 \
        && command -v busybox >/dev/null 2>&1 && command -v musl-gcc >/dev/null 2>&1; then
        return 0
    fi
    info "installing docker.io, busybox-static and musl-tools"
    apt-get update >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        docker.io busybox-static musl-tools >/dev/null
}

start() {
    install_engine
    if answers; then
        info "engine already answering on $SOCK"
        return 0
    fi
    # A pid file left by a dead engine would make dockerd refuse to start.
    if [ -f "$PIDFILE" ] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        rm -f "$PIDFILE"
    fi
    if [ ! -f "$PIDFILE" ]; then
        info "starting dockerd on $SOCK (log $LOG)"
        nohup dockerd --host "unix://$SOCK" --pidfile "$PIDFILE" \
            --data-root "$DATA_ROOT" >"$LOG" 2>&1 &
    fi
    tries=0
    until answers; do
        tries=$((tries + 1))
        [ "$tries" -le 120 ] || fail "dockerd did not answer on $SOCK within 30 s; see $LOG"
        sleep 0.25
    done
    info "engine ready: export DOCKER_HOST=unix://$SOCK"
}

stop() {
    if [ ! -f "$PIDFILE" ]; then
        info "no engine pid file ($PIDFILE): nothing to stop"
        return 0
    fi
    pid=$(cat "$PIDFILE")
    if kill -0 "$pid" 2>/dev/null; then
        info "stopping dockerd (pid $pid)"
        kill -TERM "$pid"
        tries=0
        while kill -0 "$pid" 2>/dev/null; do
            tries=$((tries + 1))
            [ "$tries" -le 120 ] || fail "dockerd (pid $pid) did not stop within 30 s"
            sleep 0.25
        done
    fi
    rm -f "$PIDFILE"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) fail "usage: $0 start|stop" ;;
esac
