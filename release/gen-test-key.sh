#!/usr/bin/env bash
# Make a throwaway ed25519 key pair for test releases: <dir>/release.key (private, PEM) and
# <dir>/release.pub (public, PEM, what install.sh's LUCKY_RELEASE_PUBKEY points at).
# Never use such a key for a real release.
set -euo pipefail
dir="${1:?usage: release/gen-test-key.sh DIR}"
mkdir -p "$dir"
umask 077
openssl genpkey -algorithm ed25519 -out "$dir/release.key"
openssl pkey -in "$dir/release.key" -pubout -out "$dir/release.pub"
echo "$dir/release.key" "$dir/release.pub"
