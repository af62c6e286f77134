#!/usr/bin/env bash
# Refuses a binary that holds a path of the machine that built it: the checkout, the
# target dir, $CARGO_HOME, $RUSTUP_HOME, $HOME, or a folder named after the user. Such a
# path makes two builds of one commit differ and tells everyone who built it where.
#
# Usage: release/path-guard.sh BINARY...
#   CARGO_TARGET_DIR (default <checkout>/target), CARGO_HOME, RUSTUP_HOME and HOME are
#   read from the environment, as cargo reads them.
# Exit 0 when every binary is clean; 1 (one line per binary) otherwise; 2 on bad usage.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

[ $# -gt 0 ] || { echo "usage: release/path-guard.sh BINARY..." >&2; exit 2; }

guard() {
    local bin="$1" p name hits found=()
    [ -f "$bin" ] || { echo "[ERROR] no such file: $bin" >&2; return 1; }
    local user
    user="$(id -un 2>/dev/null || true)"
    local -A paths=(
        [checkout]="$REPO"
        [target-dir]="${CARGO_TARGET_DIR:-$REPO/target}"
        [CARGO_HOME]="${CARGO_HOME:-$HOME/.cargo}"
        [RUSTUP_HOME]="${RUSTUP_HOME:-$HOME/.rustup}"
        [HOME]="$HOME"
        [user]="${user:+/$user/}"
    )
    for name in "${!paths[@]}"; do
        p="${paths[$name]%/}"
        [ "${#p}" -gt 1 ] || continue
        # A short $HOME like /root, or a user name, is a word in ordinary text too: only
        # as a folder there.
        case "$name" in HOME | user) p="$p/" ;; esac
        # Printable runs of the binary (what `strings` shows) that hold the path.
        hits="$(LC_ALL=C grep -aoE '[[:print:]]{4,}' "$bin" | grep -F -- "$p" || true)"
        if [ -n "$hits" ]; then
            found+=("$name $p in $(printf '%s\n' "$hits" | wc -l) strings, e.g. '$(printf '%s\n' "$hits" | head -n 1 | cut -c1-120)';")
        fi
    done
    if [ ${#found[@]} -gt 0 ]; then
        echo "[ERROR] $bin contains build-machine paths (not reproducible): ${found[*]}" >&2
        return 1
    fi
    echo "[INFO] $(basename "$bin"): no checkout, target-dir, CARGO_HOME, RUSTUP_HOME, HOME or user path inside" >&2
}

status=0
for bin in "$@"; do
    guard "$bin" || status=1
done
exit "$status"
