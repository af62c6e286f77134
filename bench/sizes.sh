#!/usr/bin/env bash
# The size of each release binary in a dist folder (release/build.sh --out DIST), against
# the budget every unit pays for (docs: 5 MiB; goal 4.5 MiB). Fails when one is over the
# budget, so .ci/run refuses a release that grew past it.
#
#   bench/sizes.sh DIST
set -euo pipefail
dist="${1:?usage: bench/sizes.sh DIST (the --out folder of release/build.sh)}"
budget=$((5 * 1024 * 1024))
goal=$((4608 * 1024))
version="$(cat "$dist/latest" 2>/dev/null)" || { echo "sizes.sh: no $dist/latest: not a release folder" >&2; exit 1; }
over=0
found=0
for bin in "$dist/$version/lucky-$version-"*; do
    case "$bin" in *.cdx.json | *.tar.gz) continue ;; esac
    [ -f "$bin" ] || continue
    found=$((found + 1))
    bytes="$(stat -c %s "$bin")"
    verdict="within the goal"
    if [ "$bytes" -gt "$budget" ]; then
        verdict="OVER THE 5 MiB BUDGET"
        over=1
    elif [ "$bytes" -gt "$goal" ]; then
        verdict="within the budget, over the 4.5 MiB goal"
    fi
    awk -v n="${bin##*/}" -v b="$bytes" -v v="$verdict" \
        'BEGIN { printf "%-48s %9d bytes  %.2f MiB  %s\n", n, b, b / 1048576, v }'
done
[ "$found" -gt 0 ] || { echo "sizes.sh: no lucky binaries in $dist/$version" >&2; exit 1; }
exit "$over"
