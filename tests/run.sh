#!/usr/bin/env bash
# The test suite, from a fresh machine: installs what the tests need, starts a private
# Docker engine for them, runs every check CI runs, and stops the engine again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_packages=()
command -v shellcheck >/dev/null 2>&1 || need_packages+=(shellcheck)
command -v dockerd >/dev/null 2>&1 || need_packages+=(docker.io)
[ -x /bin/busybox ] || need_packages+=(busybox-static)
# Inline container scripts run in bash where the image has it: the test image with bash
# gets Debian's static bash (tests/support/docker.rs).
[ -x /bin/bash-static ] || need_packages+=(bash-static)
command -v musl-gcc >/dev/null 2>&1 || need_packages+=(musl-tools)
command -v openssl >/dev/null 2>&1 || need_packages+=(openssl)
command -v curl >/dev/null 2>&1 || need_packages+=(curl)
command -v wget >/dev/null 2>&1 || need_packages+=(wget)
# tests/deploy.rs unpacks the built .charm (a zip) as Juju does.
command -v unzip >/dev/null 2>&1 || need_packages+=(unzip)
command -v python3 >/dev/null 2>&1 || need_packages+=(python3)
# Cron time zones are tested against the tz database's own TZif files.
[ -f /usr/share/zoneinfo/Europe/Paris ] || need_packages+=(tzdata)
# tests/completions.rs loads the completions in each shell and renders the man page.
command -v zsh >/dev/null 2>&1 || need_packages+=(zsh)
command -v fish >/dev/null 2>&1 || need_packages+=(fish)
command -v man >/dev/null 2>&1 || need_packages+=(man-db)
if [ "${#need_packages[@]}" -gt 0 ]; then
  echo "[tests] installing ${need_packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
fi
rustup target list --installed | grep -qx x86_64-unknown-linux-musl \
  || rustup target add x86_64-unknown-linux-musl

# The container tests need an engine: start a private one (a failure to start ends the run
# here, rather than skipping them).
bash tests/support/docker-engine.sh start
trap 'bash tests/support/docker-engine.sh stop' EXIT
export DOCKER_HOST=unix:///run/lucky-test-docker.sock

echo "[tests] cargo fmt --check"
cargo fmt --all -- --check
echo "[tests] cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings
echo "[tests] cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
echo "[tests] shellcheck"
git ls-files -z '*.sh' .ci/run | xargs -0 shellcheck
echo "[tests] cargo test"
cargo test

# Fuzzing, bounded (30 s a target), with the nightly toolchain the release build also uses
# (installed here when missing, as cargo-fuzz is). New inputs go to fuzz/target/, so the
# kept corpus (fuzz/corpus/) stays as committed; a crash fails the run and leaves its input
# in fuzz/artifacts/.
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
for target in frame lucky_yaml; do
  echo "[tests] cargo fuzz run $target (30 s)"
  mkdir -p "fuzz/target/corpus/$target"
  (cd fuzz && cargo +nightly fuzz run "$target" "target/corpus/$target" "corpus/$target" \
    -- -max_total_time=30 -rss_limit_mb=2048 -print_final_stats=1)
done
