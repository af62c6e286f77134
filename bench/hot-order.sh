#!/usr/bin/env bash
# Regenerates release/hot-layout.ld: the functions a script call, a hook and the daemon
# serving them run, placed together at the start of the binary's code; their tables and
# the constants a script call reads behind the ELF headers; the writable data it touches
# in one page.
#
# Why: every script call is a fresh exec of a 4-5 MiB static binary, and each page of code
# it touches for the first time is a page fault (the kernel maps up to 16 pages around
# each). Scattered, the hot path touches ~50 such places; together, a handful. The idle
# daemon likewise keeps resident only what it touched, and its hot code sits in the same
# few pages. No behaviour changes: only where the linker places functions.
#
# How: an unstripped release build runs the hot paths under callgrind (instruction counts,
# no timing), every function that ran is collected, and each becomes a linker-script
# pattern without its hash (`_ZN5lucky6client4call17h<hash>E` → `_ZN5lucky6client4call17h*`)
# so the list survives unrelated changes. Constants and data have no such names: a
# valgrind trace of a script call's memory reads finds them by address in the linker map.
# A name missing from the list only costs locality, never correctness: rerun this after
# changes to the hot paths (and before a release: the constants' numbers change with
# any edit).
#
#   bench/hot-order.sh [LUCKY]  # needs valgrind and python3; ~5 min
#
# LUCKY: an unstripped release build to profile instead of building one, with its linker
# map at LUCKY.map (`-C link-arg=-Wl,-Map,LUCKY.map`).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

command -v valgrind >/dev/null || { echo "hot-order.sh: valgrind is needed" >&2; exit 1; }
target=x86_64-unknown-linux-musl
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="$work/target"

if [ $# -gt 0 ]; then
    lucky="$(realpath "$1")"
    map="$lucky.map"
else
    # Built as release/build.sh builds it, with symbols.
    # The release profile as shipped (so the same names), its symbols kept, and the map
    # of where the linker put each input section.
    map="$work/lucky.map"
    CARGO_TARGET_DIR="$out" \
        RUSTFLAGS="-C relocation-model=static -C force-unwind-tables=no -C link-arg=-Wl,-T,$repo/release/discard-unwind.ld -C strip=none -C link-arg=-Wl,-Map,$map" \
        cargo build --release --target "$target" --bin lucky
    lucky="$out/$target/release/lucky"
fi
[ -f "$map" ] || { echo "hot-order.sh: no linker map at $map" >&2; exit 1; }

unit="$work/unit"
mkdir -p "$unit/charm/host_scripts" "$unit/data" "$work/cg"
for s in a b c; do
    printf '#!/bin/sh\n:\n' >"$unit/charm/host_scripts/$s.sh"
    chmod +x "$unit/charm/host_scripts/$s.sh"
done
printf 'hooks:\n  install:\n    - host-script: a.sh\n    - host-script: b.sh\n    - host-script: c.sh\n' \
    >"$unit/charm/lucky.yaml"
export JUJU_UNIT_NAME=hot/0 LUCKY_SOCKET="$unit/lucky.sock" LUCKY_DATA_DIR="$unit/data" \
    JUJU_CHARM_DIR="$unit/charm"

cg() { # cg NAME ARGS...: one run under callgrind, its profile in $work/cg/NAME
    local name="$1"
    shift
    valgrind -q --tool=callgrind --demangle=no --compress-strings=no --dump-instr=no \
        --callgrind-out-file="$work/cg/$name" "$@"
}

cg daemon "$lucky" daemon start --foreground >/dev/null 2>&1 &
daemon=$!
for _ in $(seq 200); do [ -S "$LUCKY_SOCKET" ] && break; sleep 0.1; done
[ -S "$LUCKY_SOCKET" ] || { echo "hot-order.sh: the daemon did not start" >&2; exit 1; }
# The commands scripts call most, and a hook, as the client runs them.
cg kv-set "$lucky" kv set k=v >/dev/null
cg kv-get "$lucky" kv get k >/dev/null
# The constants a script call reads: string literals and vtables have no symbol of their
# own (`.rodata..Lanon.<hash>.<n>`), so they are found by address, in the linker map.
for call in "kv get k" "kv set k=v"; do
    # shellcheck disable=SC2086 # the call's words
    valgrind -q --tool=lackey --trace-mem=yes --log-file="$work/reads.$RANDOM" "$lucky" $call >/dev/null
done
cat "$work"/reads.* >"$work/reads"
cg kv-all "$lucky" kv get >/dev/null
cg hook "$lucky" hook install >/dev/null
cg daemon-status "$lucky" daemon status >/dev/null
# The daemon's profile in three parts (callgrind writes daemon.1, daemon.2, then daemon at
# exit): serving the calls above; an idle spell (3 s without a client, daemon/idle.rs),
# whose code after the daemon gives its pages back is all it keeps resident while idle, so
# it is placed as one group; and the stop.
daemon_vg="$(pgrep -f "callgrind-out-file=$work/cg/daemon ")"
sleep 1
callgrind_control -d "$daemon_vg" >/dev/null 2>&1
sleep 8
callgrind_control -d "$daemon_vg" >/dev/null 2>&1
"$lucky" daemon stop >/dev/null
wait "$daemon" || true
if [ ! -f "$work/cg/daemon.1" ] || [ ! -f "$work/cg/daemon.2" ]; then
    echo "hot-order.sh: callgrind did not dump the daemon's profile in parts" >&2
    exit 1
fi

# Every function each profile ran, in the order below, and the constants and data the
# lackey trace read.
nm -n --defined-only "$lucky" >"$work/nm"
python3 - "$work/cg" "$work/nm" "$map" "$work/reads" >"$repo/release/hot-layout.ld" <<'EOF'
import bisect, collections, os, re, sys
d, nm, linker_map, reads = sys.argv[1:5]
# Every name a function goes by: callgrind reports one of its aliases (libc's `mmap` is
# `__mmap`, whose section is .text.__mmap), or only an address.
at = collections.defaultdict(list)
for line in open(nm):
    parts = line.split()
    if len(parts) == 3 and parts[1] in "tTwWiI":
        at[int(parts[0], 16)].append(parts[2])
starts = sorted(at)
address = {n: a for a, ns in at.items() for n in ns}
def aliases(name):
    if name == "(below main)":
        name = "__libc_start_main"
    if name.startswith("0x"):
        i = bisect.bisect_right(starts, int(name, 16)) - 1
        return at[starts[i]] if i >= 0 else []
    return at.get(address.get(name), [name])
# The calls first (each is a fresh exec: their code should fault in as few pages as it
# can), then the idle daemon's, then the rest of what the daemon ran.
order = ["kv-get", "kv-set", "kv-all", "daemon-status", "hook", "daemon.2", "daemon.1", "daemon"]
seen, names = set(), []
for prof in order:
    for line in open(os.path.join(d, prof), errors="replace"):
        if not line.startswith(("fn=", "cfn=")):
            continue
        for name in aliases(line.split("=", 1)[1].strip()):
            # LTO numbers the local copies it makes (`push.2963`), differently in each
            # build: the pattern takes the name with and without a number.
            name = re.sub(r"\.(llvm\.)?[0-9]+$", "", name)
            # Legacy Rust names end in a hash that changes with unrelated edits.
            name = re.sub(r"17h[0-9a-f]{16}E$", "17h*", name)
            # Only names a linker-script pattern can carry: Rust's, and libc's own (its
            # start-up code runs first in every call).
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.$*]*", name):
                continue
            if name not in seen:
                seen.add(name)
                names.append(name)
print("/* Generated by bench/hot-order.sh: the code a script call, a hook and the daemon")
print(" * serving them run, and the tables that code reads, placed first so that they")
print(" * touch few pages. Only placement: a stale or missing name costs locality, never")
print(" * correctness. LLVM puts a #[cold] function in .text.unlikely.NAME, a function's")
print(" * jump tables in .rodata.NAME, and a copy LTO makes in .text.NAME.<number>. */")
# The anonymous constants the client read, by input section (the map gives each one's
# address and size). Their names hold a hash of the build, which the pattern leaves out,
# and a number, the constant's place in the crate: a later edit renumbers them, which
# costs locality until this script runs again.
# Likewise the writable data it touches (the allocator's state, libc's globals …),
# gathered in as few pages as they fill: each is a fault too.
placed, pending = [], None
for line in open(linker_map):
    m = re.match(r"^ (\.(?:rodata\.\.Lanon|data|bss)\.\S+)\s*$", line)
    if m:
        pending = m.group(1)
        continue
    m = re.match(r"^ (\.(?:rodata\.\.Lanon|data|bss)\.\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s", line)
    name = (m.group(1) or pending) if m else None
    pending = None
    if name and int(m.group(2), 16):
        placed.append((int(m.group(2), 16), int(m.group(3), 16), name))
placed.sort()
placed_starts = [a for a, _, _ in placed]
read_anon, hot_data, hot_bss = [], [], []
for line in open(reads):
    m = re.match(r"^ [LSM] ([0-9a-f]+),", line)
    if not m:
        continue
    a = int(m.group(1), 16)
    i = bisect.bisect_right(placed_starts, a) - 1
    if i < 0 or a >= placed[i][0] + placed[i][1]:
        continue
    name = placed[i][2]
    if name.startswith(".rodata..Lanon."):
        kind, pattern = read_anon, re.sub(r"^(\.rodata\.\.Lanon\.)[0-9a-f]+(\.[0-9]+)$", r"\1*\2", name)
    else:
        kind = hot_bss if name.startswith(".bss.") else hot_data
        pattern = re.sub(r"17h[0-9a-f]{16}E(\.[0-9]+)?$", "17h*", re.sub(r"\.[0-9]+$", "", name))
        if not pattern.endswith("*"):
            pattern += " " + pattern + ".*"
    if pattern not in kind:
        kind.append(pattern)
print("SECTIONS {")
print("  .text.hot : {")
# _fini (crti.o's and crtn.o's .fini, in link order) runs at every exit.
print("    KEEP (*(SORT_NONE(.fini)))")
# crt1.o's _start is the first code every exec runs, and libc's assembly functions
# (memcpy, memset …) are all called on every path; none has a section of its own.
print("    *crt1.o(.text)")
print("    *libc.a:*(.text)")
# Every exec ends in _Exit, which callgrind never sees return.
print("    *(.text._Exit)")
def sections(kind, n):
    both = [n] if n.endswith("*") else [n, n + ".*"]
    return " ".join(f"{kind}.{p}{m}" for p in ("", "unlikely.") for m in both)
for n in names:
    print(f"    *({sections('.text', n)})")
print("  }")
print("} INSERT BEFORE .text;")
print("SECTIONS {")
print("  .rodata.hot : {")
# Numeric constants the compiler pools for the whole program (a few KiB).
print("    *(.rodata.cst4 .rodata.cst8 .rodata.cst16 .rodata.cst32)")
# libc's tables: a few KiB, read by its start-up and sysconf on every exec.
print("    *libc.a:*(.rodata .rodata.*)")
for p in read_anon:
    print(f"    *({p})")
for n in names:
    print(f"    *({sections('.rodata', n)})")
print("  }")
# In the first segment, right behind the ELF headers, which every exec reads (libc's start
# looks for the TLS header): the kernel maps up to 16 pages around that first fault, so
# the hot tables come in with it instead of costing a fault of their own.
print("} INSERT AFTER .rela.plt;")
# The hot writable data at the end of .data, the hot zeroed data (and libc's few common
# symbols) at the start of .bss: together, in the page where the two meet.
print("SECTIONS {")
print("  .data.hot : {")
for p in hot_data:
    print(f"    *({p})")
print("  }")
print("} INSERT AFTER .data;")
print("SECTIONS {")
print("  .bss.hot (NOLOAD) : {")
for p in hot_bss:
    print(f"    *({p})")
print("    *(COMMON)")
print("  }")
print("} INSERT BEFORE .bss;")
print(f"{len(names)} functions", file=sys.stderr)
EOF
echo "wrote release/hot-layout.ld" >&2
