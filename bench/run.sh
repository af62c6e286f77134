#!/usr/bin/env bash
# Builds the static release binary, a static no-op binary and the round-trip floor
# (bench/floor.c) with its server (bench/server.c), then prints the per-unit cost figures
# (bench/cli.rs) side by side.
# Container figures: bench/containers.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v musl-gcc >/dev/null 2>&1 || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >/dev/null
}
rustup target list --installed | grep -qx x86_64-unknown-linux-musl \
  || rustup target add x86_64-unknown-linux-musl

# The flags release/build.sh uses for this target (not a static PIE: see there).
RUSTFLAGS="-C relocation-model=static -C force-unwind-tables=no -C link-arg=-Wl,-T,$PWD/release/discard-unwind.ld -C link-arg=-Wl,-T,$PWD/release/hot-layout.ld" cargo build --release --target x86_64-unknown-linux-musl --bin lucky
mkdir -p target/bench
printf 'int main(void) { return 0; }\n' > target/bench/noop.c
musl-gcc -static -O2 -o target/bench/noop target/bench/noop.c
musl-gcc -static -O2 -o target/bench/floor bench/floor.c
musl-gcc -static -O2 -o target/bench/server bench/server.c

cargo bench --bench cli
