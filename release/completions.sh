#!/usr/bin/env bash
# Renders lucky's shell completions and man pages with lucky-doc (the same clap
# definitions as docs/commands.md and `lucky --help`) and packs them into one archive, the
# same bytes for the same lucky-doc and SOURCE_DATE_EPOCH:
#
#   lucky-<version>-completions.tar.gz
#     lucky-<version>-completions/completions/lucky.bash   bash (/usr/share/bash-completion/completions/lucky)
#     lucky-<version>-completions/completions/_lucky       zsh (a folder of $fpath)
#     lucky-<version>-completions/completions/lucky.fish   fish (~/.config/fish/completions/)
#     lucky-<version>-completions/man/man1/lucky.1         lucky(1), and one lucky-<command>.1
#                                                          per command (/usr/share/man/man1/)
#
# Usage: release/completions.sh LUCKY_DOC VERSION OUT_FILE
#   LUCKY_DOC  a lucky-doc binary that runs on this machine (release/build.sh builds one)
#   VERSION    the release's version (the folder name inside the archive)
#   OUT_FILE   the archive to write (replaced atomically)
# SOURCE_DATE_EPOCH (default 0) is the time of every file in the archive.
set -euo pipefail

die() {
    printf '[ERROR] %s\n' "$*" >&2
    exit 1
}

[ $# -eq 3 ] || die "usage: release/completions.sh LUCKY_DOC VERSION OUT_FILE"
doc="$1"
version="$2"
out="$3"
[ -x "$doc" ] || die "lucky-doc not found or not executable: $doc"
[[ "$version" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || die "bad version: '$version'"
epoch="${SOURCE_DATE_EPOCH:-0}"
[[ "$epoch" =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH is not a number of seconds: '$epoch'"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
top="lucky-$version-completions"
mkdir -p "$work/$top/completions" "$work/$top/man/man1"
"$doc" completions bash >"$work/$top/completions/lucky.bash" || die "$doc completions bash failed"
"$doc" completions zsh >"$work/$top/completions/_lucky" || die "$doc completions zsh failed"
"$doc" completions fish >"$work/$top/completions/lucky.fish" || die "$doc completions fish failed"
"$doc" man --dir "$work/$top/man/man1" || die "$doc man --dir failed"
[ -s "$work/$top/man/man1/lucky.1" ] || die "$doc man --dir wrote no lucky.1"
# Same bytes from the same inputs: sorted names, fixed times, owners and modes, no gzip
# timestamp or name.
chmod -R u=rwX,go=rX "$work/$top"
mkdir -p "$(dirname "$out")"
(cd "$work" && LC_ALL=C tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
    --format=gnu -cf - "$top") | gzip -9 -n >"$out.tmp"
mv -f "$out.tmp" "$out"
printf '[INFO] %s: %s man pages and bash, zsh and fish completions\n' \
    "$(basename "$out")" "$(find "$work/$top/man/man1" -name '*.1' | wc -l)" >&2
