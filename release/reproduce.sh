#!/usr/bin/env bash
# Checks that a release binary is reproducible: builds the same source again from a copy of
# the checkout at another path (longer, so a leaked path shifts every later address), with a
# fresh target dir, and compares the bytes with the binary already built (and its SBOM, and
# the release's completions archive).
#
# Usage: release/reproduce.sh --key KEY.pem --dist DIR [--target TRIPLE] [--version V]
#                             [--release-url URL]
#   --dist    the release directory release/build.sh wrote (<dist>/<version>/lucky-*)
#   --target  default x86_64-unknown-linux-musl
#   --key, --release-url   as given to release/build.sh for the first build
#
# The copy holds the tracked files as they are in the work tree (uncommitted edits
# included) and no .git, so the commit and SOURCE_DATE_EPOCH of this checkout are passed on.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KEY=""
DIST=""
TARGET=x86_64-unknown-linux-musl
VERSION=""
URL_ARGS=()

die() {
    printf '[ERROR] %s\n' "$*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
        --key) KEY="${2:?--key needs a file}"; shift 2 ;;
        --dist) DIST="${2:?--dist needs a directory}"; shift 2 ;;
        --target) TARGET="${2:?--target needs a triple}"; shift 2 ;;
        --version) VERSION="${2:?--version needs a value}"; shift 2 ;;
        --release-url) URL_ARGS=(--release-url "${2:?--release-url needs a URL}"); shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
if [ -z "$KEY" ] || [ ! -f "$KEY" ]; then
    die "--key KEY.pem is required (the key the first build used)"
fi
if [ -z "$DIST" ] || [ ! -d "$DIST" ]; then
    die "--dist DIR is required (where release/build.sh wrote the release)"
fi
KEY="$(cd "$(dirname "$KEY")" && pwd)/$(basename "$KEY")"
DIST="$(cd "$DIST" && pwd)"
if [ -z "$VERSION" ]; then
    VERSION="$(head -n 1 "$DIST/latest")"
fi
first="$DIST/$VERSION/lucky-$VERSION-$TARGET"
[ -f "$first" ] || die "no $first: run release/build.sh --target $TARGET first"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
copy="$work/a/second/checkout/at/a/longer/path/lucky"
mkdir -p "$copy"
(cd "$REPO" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$copy"

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct)}"
export LUCKY_BUILD_COMMIT="${LUCKY_BUILD_COMMIT:-$(git -C "$REPO" rev-parse --short=12 HEAD)}"
CARGO_TARGET_DIR="$copy/target" "$copy/release/build.sh" --no-deps --key "$KEY" \
    --version "$VERSION" --target "$TARGET" --out "$work/dist" "${URL_ARGS[@]+"${URL_ARGS[@]}"}"
second="$work/dist/$VERSION/lucky-$VERSION-$TARGET"
a="$(sha256sum <"$first" | cut -d' ' -f1)"
b="$(sha256sum <"$second" | cut -d' ' -f1)"
printf '[INFO] %s from %s: %s\n' "$TARGET" "$REPO" "$a" >&2
printf '[INFO] %s from %s: %s\n' "$TARGET" "$copy" "$b" >&2
if [ "$a" != "$b" ]; then
    die "not reproducible: $TARGET differs between the two checkouts ($(cmp -l "$first" "$second" | wc -l) bytes differ, sizes $(stat -c %s "$first") and $(stat -c %s "$second"))"
fi
if ! cmp -s "$first.cdx.json" "$second.cdx.json"; then
    die "not reproducible: the SBOM of $TARGET differs between the two checkouts"
fi
completions="lucky-$VERSION-completions.tar.gz"
[ -f "$DIST/$VERSION/$completions" ] || die "no $DIST/$VERSION/$completions (release/build.sh makes it)"
if ! cmp -s "$DIST/$VERSION/$completions" "$work/dist/$VERSION/$completions"; then
    die "not reproducible: $completions differs between the two checkouts"
fi
printf '[INFO] %s is reproducible: identical binary and SBOM from both checkouts\n' "$TARGET" >&2
printf '[INFO] %s: identical from both checkouts\n' "$completions" >&2
