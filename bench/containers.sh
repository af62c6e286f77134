#!/bin/sh
# Container apply benchmark against the real engine (tests/support/docker-engine.sh start).
#
#   bench/containers.sh [LUCKY_BINARY] [ROUNDS]
#
# Prints, measured side by side in one run:
#   - a no-op `lucky container apply-updates` vs `docker inspect` of the same container,
#   - an env-change apply (one recreate) vs `docker inspect` and vs `docker rm -f` +
#     `docker run` of the same image,
#   - the Docker API calls (and mutating ones) of a no-op apply.
# The lucky binary must be static (musl) when the test image has only busybox; the
# default is the one the container tests build.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LUCKY=${1:-$ROOT/target/container-tests/x86_64-unknown-linux-musl/debug/lucky}
ROUNDS=${2:-20}
export DOCKER_HOST="${DOCKER_HOST:-unix:///run/lucky-test-docker.sock}"

[ -x "$LUCKY" ] || { echo "no lucky binary at $LUCKY (run cargo test --test containers first, or pass one)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "no Docker engine answers at $DOCKER_HOST: run tests/support/docker-engine.sh start" >&2; exit 1; }
docker image inspect lucky-test-base:latest >/dev/null 2>&1 || { echo "image lucky-test-base:latest missing: run cargo test --test containers once" >&2; exit 1; }

WORK=$(mktemp -d)
UNIT="bench-$$/0"
RAW="lucky-bench-raw-$$"
export JUJU_UNIT_NAME="$UNIT" LUCKY_SOCKET="$WORK/lucky.sock" LUCKY_DATA_DIR="$WORK/data" JUJU_CHARM_DIR="$WORK/charm"
cleanup() {
    "$LUCKY" daemon stop >/dev/null 2>&1 || true
    docker ps -aq --filter "label=lucky.unit=$UNIT" | xargs -r docker rm -f >/dev/null 2>&1 || true
    docker rm -f "$RAW" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

mkdir -p "$JUJU_CHARM_DIR/container_scripts"
cat >"$JUJU_CHARM_DIR/lucky.yaml" <<'YAML'
hooks:
  install:
    - inline-host-script: |
        lucky container image set lucky-test-base:latest --no-pull
        lucky container set-command -- sleep 1000000
        lucky container env set V=0
      shell-command: ["/bin/sh", "-c"]
YAML
"$LUCKY" hook install >/dev/null
NAME=$(docker ps -q --filter "label=lucky.unit=$UNIT")

now() { date +%s%N; }
ms() { echo "$1 $2 $ROUNDS" | awk '{ printf "%.2f", ($2 - $1) / $3 / 1000000 }'; }

t0=$(now); i=0; while [ $i -lt "$ROUNDS" ]; do docker inspect "$NAME" >/dev/null; i=$((i + 1)); done; t1=$(now)
inspect_ms=$(ms "$t0" "$t1")

t0=$(now); i=0; while [ $i -lt "$ROUNDS" ]; do last=$("$LUCKY" container apply-updates); i=$((i + 1)); done; t1=$(now)
noop_ms=$(ms "$t0" "$t1")
noop_line=$last

t0=$(now); i=1; while [ $i -le "$ROUNDS" ]; do "$LUCKY" container env set "V=$i"; last=$("$LUCKY" container apply-updates); i=$((i + 1)); done; t1=$(now)
change_ms=$(ms "$t0" "$t1")
change_line=$last

# What an env change costs done by hand: remove the container, run it again.
t0=$(now); i=1; while [ $i -le "$ROUNDS" ]; do
    docker rm -f "$RAW" >/dev/null 2>&1 || true
    docker run -d --name "$RAW" -e "V=$i" lucky-test-base:latest sleep 1000000 >/dev/null
    i=$((i + 1))
done; t1=$(now)
rerun_ms=$(ms "$t0" "$t1")

ratio() { echo "$1 $2" | awk '{ printf "%.2f", $1 / $2 }'; }
echo "rounds: $ROUNDS"
echo "docker inspect:            ${inspect_ms} ms"
echo "no-op apply:               ${noop_ms} ms  (${noop_ms} / inspect = $(ratio "$noop_ms" "$inspect_ms")x)"
echo "docker rm -f + docker run: ${rerun_ms} ms"
echo "env-change apply:          ${change_ms} ms  ($(ratio "$change_ms" "$inspect_ms")x inspect, $(ratio "$change_ms" "$rerun_ms")x rm + run)"
echo "no-op apply report:        $noop_line"
echo "env-change apply report:   $change_line"
mutating=$(echo "$noop_line" | sed -n 's/.*(mutating \([0-9]*\)).*/\1/p')
echo "mutating docker api calls in a no-op apply: $mutating (target 0)"
[ "$mutating" = 0 ]
