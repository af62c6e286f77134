#!/bin/sh
# Lucky's main job on a fresh machine (Debian/Ubuntu, as root, with a Rust toolchain):
# installs what it needs, starts a private Docker engine, builds the static lucky, then
# runs the example charm through its whole life with `lucky charm run`, leaving its page
# served on http://127.0.0.1:8080/.
#
#   examples/run.sh                 # the example's life, its page left served
#   examples/run.sh --hook stop     # arguments go to `lucky charm run`: stop the workload
#
# With DOCKER_HOST set, that engine is used instead of the private one, which
# tests/support/docker-engine.sh runs on /run/lucky-test-docker.sock (stop it with
# `tests/support/docker-engine.sh stop`).
set -eu
cd "$(dirname "$0")/.."

say() { printf '[run] %s\n' "$*"; }
fail() { printf '[run] error: %s\n' "$*" >&2; exit 1; }

case "$(uname -m)" in
    x86_64 | amd64) target=x86_64-unknown-linux-musl ;;
    aarch64 | arm64) target=aarch64-unknown-linux-musl ;;
    ppc64le | ppc64el) target=powerpc64le-unknown-linux-musl ;;
    s390x) target=s390x-unknown-linux-musl ;;
    *) fail "Lucky has no static build for $(uname -m)" ;;
esac
command -v cargo >/dev/null 2>&1 || fail "cargo not found: install a Rust toolchain (https://rustup.rs)"

# What the job needs besides Rust: a C compiler for musl (ring), a Docker engine unless
# DOCKER_HOST names one, and a static busybox (the example's image is built from it).
packages=""
need() {
    case " $packages " in
        *" $1 "*) ;;
        *) packages="${packages:+$packages }$1" ;;
    esac
}
command -v musl-gcc >/dev/null 2>&1 || need musl-tools
if [ -z "${DOCKER_HOST:-}" ]; then
    command -v dockerd >/dev/null 2>&1 || need docker.io
    command -v docker >/dev/null 2>&1 || need docker.io
fi
# ldd succeeds only on a dynamic executable (Debian's plain `busybox` package is one).
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
    need busybox-static
fi
if [ -n "$packages" ]; then
    [ "$(id -u)" = 0 ] || fail "installing $packages needs root"
    say "installing $packages (apt-get)"
    apt-get update -qq
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null
fi

if command -v rustup >/dev/null 2>&1; then
    if ! rustup target list --installed | grep -qx "$target"; then
        say "adding the Rust target $target (rustup)"
        rustup target add "$target"
    fi
else
    say "no rustup: assuming the toolchain has the $target standard library"
fi

if [ -z "${DOCKER_HOST:-}" ]; then
    say "starting Lucky's private Docker engine (tests/support/docker-engine.sh start)"
    tests/support/docker-engine.sh start
    DOCKER_HOST=unix:///run/lucky-test-docker.sock
    export DOCKER_HOST
else
    say "using the Docker engine at DOCKER_HOST=$DOCKER_HOST"
fi

say "building the static lucky: cargo build --release --target $target"
cargo build --release --locked --quiet --bin lucky --target "$target"
lucky="${CARGO_TARGET_DIR:-target}/$target/release/lucky"

say "running: $lucky charm run${*:+ $*}"
"$lucky" charm run "$@"
if [ "$#" -eq 0 ]; then
    say "the example keeps serving http://127.0.0.1:8080/; stop it with: examples/run.sh --hook stop"
fi
