#!/usr/bin/env bash
# Build static `lucky` release binaries for the four Juju architectures without `cross`,
# smoke-test each under qemu-user-static, and lay out a signed release directory:
#
#   <out>/<version>/lucky-<version>-<target>
#   <out>/<version>/lucky-<version>-<target>.cdx.json   (CycloneDX SBOM of that binary)
#   <out>/<version>/lucky-<version>-completions.tar.gz  (bash, zsh and fish completions and
#                                       the man pages, rendered by release/completions.sh
#                                       with a lucky-doc built for this machine)
#   <out>/<version>/SHA256SUMS          (sha256sum -c compatible: every binary, SBOM and the
#                                       completions archive)
#   <out>/<version>/SHA256SUMS.sig      (raw ed25519 signature over SHA256SUMS)
#   <out>/latest                        (the version just built)
#
# Usage: release/build.sh --key KEY.pem [--release-url URL] [--out DIR] [--version V]
#                         [--target TRIPLE]... [--no-deps]
#   --key      ed25519 private key (PEM) that signs SHA256SUMS; release/gen-test-key.sh
#              makes a throwaway one for tests. Its public half is built into the binaries.
#   --release-url  where this release is published (https://github.com/<owner>/<repo>/releases
#              or a static mirror's base URL), built into the binaries: `lucky self-update`
#              looks there, and `lucky charm build` writes it (with the key and this
#              release's signed SHA256SUMS) into every charm it builds
#   --out      release directory (default: <repo>/dist)
#   --version  defaults to the package version in Cargo.toml
#   --target   build only these (repeatable); default: all four
#   --no-deps  do not apt-get/rustup anything (fail if something is missing)
#
# How each target builds on Debian 12 x86_64 (see release/README.md for the why):
#   x86_64-unknown-linux-musl       stable, musl-tools (musl-gcc) for ring's C code
#   aarch64-unknown-linux-musl      stable + rustup target, rust-lld links, gcc-aarch64-linux-gnu
#                                   compiles C
#   powerpc64le-unknown-linux-musl  nightly -Z build-std (no downloadable std), Debian
#                                   musl-dev:ppc64el's gcc wrapper links, libunwind built here
#                                   from rust-src's LLVM sources
#   s390x-unknown-linux-musl        as ppc64le, plus -C relocation-model=static (Debian's musl
#                                   specs cannot link a static PIE)
set -euo pipefail

ALL_TARGETS=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl
    powerpc64le-unknown-linux-musl s390x-unknown-linux-musl)

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

info() { printf '[INFO] %s\n' "$*" >&2; }
die() {
    printf '[ERROR] %s\n' "$*" >&2
    exit 1
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

KEY=""
RELEASE_URL=""
OUT="$REPO/dist"
VERSION=""
TARGETS=()
DEPS=1

parse_args() {
    while [ $# -gt 0 ]; do
        case "$1" in
            --key) KEY="${2:?--key needs a file}"; shift 2 ;;
            --release-url) RELEASE_URL="${2:?--release-url needs a URL}"; shift 2 ;;
            --out) OUT="${2:?--out needs a directory}"; shift 2 ;;
            --version) VERSION="${2:?--version needs a value}"; shift 2 ;;
            --target) TARGETS+=("${2:?--target needs a triple}"); shift 2 ;;
            --no-deps) DEPS=0; shift ;;
            -h | --help) usage; exit 0 ;;
            *) die "unknown argument: $1 (see --help)" ;;
        esac
    done
    [ -n "$KEY" ] || die "--key KEY.pem is required (release/gen-test-key.sh makes a test key)"
    [ -f "$KEY" ] || die "signing key not found: $KEY"
    KEY="$(cd "$(dirname "$KEY")" && pwd)/$(basename "$KEY")"
    # The public half is baked into the binaries: `lucky self-update` verifies with it.
    RELEASE_PUBKEY="$(openssl pkey -in "$KEY" -pubout)" ||
        die "cannot derive the public key from $KEY (needs an ed25519 key and OpenSSL 3)"
    case "$RELEASE_URL" in
        "" | https://?* | http://127.0.0.1[:/]* | http://localhost[:/]*) ;;
        *) die "--release-url must be https:// (plain http only on loopback, for tests): $RELEASE_URL" ;;
    esac
    if [ ${#TARGETS[@]} -eq 0 ]; then
        TARGETS=("${ALL_TARGETS[@]}")
    fi
    local t
    for t in "${TARGETS[@]}"; do
        case " ${ALL_TARGETS[*]} " in
            *" $t "*) ;;
            *) die "unsupported target: $t (supported: ${ALL_TARGETS[*]})" ;;
        esac
    done
    if [ -z "$VERSION" ]; then
        # The first `version =` in Cargo.toml is [package]'s.
        VERSION="$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$REPO/Cargo.toml" | head -n 1)"
    fi
    [[ "$VERSION" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || die "bad version: '$VERSION'"
    mkdir -p "$OUT"
    OUT="$(cd "$OUT" && pwd)"
}

# Debian packages each target needs (":arch" ones come from a foreign architecture).
apt_packages_for() {
    case "$1" in
        # x86_64 binaries run natively: no qemu.
        x86_64-*) echo "musl-tools" ;;
        aarch64-*) echo "gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static" ;;
        powerpc64le-*) echo "musl-dev:ppc64el gcc-powerpc64le-linux-gnu g++-powerpc64le-linux-gnu qemu-user-static" ;;
        s390x-*) echo "musl-dev:s390x gcc-s390x-linux-gnu g++-s390x-linux-gnu qemu-user-static" ;;
    esac
}

uses_build_std() {
    case "$1" in powerpc64le-* | s390x-*) return 0 ;; *) return 1 ;; esac
}

install_deps() {
    local t pkg missing=() foreign=() arch
    for t in "${TARGETS[@]}"; do
        for pkg in $(apt_packages_for "$t"); do
            if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed'; then
                missing+=("$pkg")
                case "$pkg" in *:*) foreign+=("${pkg#*:}") ;; esac
            fi
        done
    done
    for arch in $(printf '%s\n' "${foreign[@]+"${foreign[@]}"}" | sort -u); do
        if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
            info "adding Debian architecture $arch (for musl-dev:$arch)"
            dpkg --add-architecture "$arch"
        fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        info "installing: ${missing[*]}"
        # A mirror mid-sync can fail one index; the install below says if it mattered.
        apt-get update -q || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${missing[@]}" >&2
    fi
    for t in "${TARGETS[@]}"; do
        if uses_build_std "$t"; then
            rustup component add rust-src --toolchain nightly >&2
        else
            rustup target add "$t" >&2
        fi
    done
}

check_tools() {
    local t pkg
    for t in "${TARGETS[@]}"; do
        for pkg in $(apt_packages_for "$t"); do
            dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' ||
                die "missing Debian package $pkg for $t (run without --no-deps)"
        done
    done
    command -v openssl >/dev/null || die "need openssl (3.x) to sign SHA256SUMS"
    command -v readelf >/dev/null || die "need readelf (binutils) to check the binaries are static"
    command -v objcopy >/dev/null || die "need objcopy (binutils) to check the embedded dependency list"
    command -v python3 >/dev/null || die "need python3 for release/deps.py (dependency list, SBOM)"
}

NIGHTLY_SRC=""

# Builds LLVM's libunwind for a build-std target from the nightly rust-src copy of
# llvm-project (the same sources and flags Rust's bootstrap uses for its musl targets),
# because Debian has no musl libunwind.a for ppc64el/s390x. Prints the folder holding it.
build_libunwind() {
    local t="$1" cc="$2" cxx_real="$3" dir src f
    dir="$TARGET_DIR/libunwind/$t"
    src="$NIGHTLY_SRC/src/llvm-project/libunwind"
    [ -d "$src" ] || die "no libunwind sources in $src (rustup component add rust-src --toolchain nightly)"
    if [ -f "$dir/libunwind.a" ]; then
        echo "$dir"
        return
    fi
    mkdir -p "$dir/obj"
    local common=(-O2 -fPIC -fstrict-aliasing -funwind-tables -fvisibility=hidden
        -D_LIBUNWIND_DISABLE_VISIBILITY_ANNOTATIONS -DNDEBUG -I "$src/include"
        "-ffile-prefix-map=$NIGHTLY_SRC=/rustc-src")
    for f in UnwindLevel1.c UnwindLevel1-gcc-ext.c UnwindRegistersRestore.S UnwindRegistersSave.S; do
        "$cc" "${common[@]}" -std=c99 -c "$src/src/$f" -o "$dir/obj/${f%.*}.o" >&2
    done
    # The C++ part needs no C++ library: compile it with g++ under the musl specs.
    REALGCC="$cxx_real" "$cc" "${common[@]}" -std=c++17 -nostdinc++ -fno-exceptions -fno-rtti \
        -c "$src/src/libunwind.cpp" -o "$dir/obj/libunwind.o" >&2
    rm -f "$dir/libunwind.a"
    # -D: deterministic archive (no timestamps/uids).
    ar rcsD "$dir/libunwind.a" "$dir"/obj/*.o
    echo "$dir"
}

# build_target <triple>: runs cargo with the target's toolchain settings.
build_target() {
    local t="$1" tu cargo=(cargo) rustflags cflags
    tu="$(echo "$t" | tr 'a-z-' 'A-Z_')"
    local cargo_home="${CARGO_HOME:-$HOME/.cargo}"
    # Paths that would otherwise end up in panic messages and differ between machines.
    rustflags="--remap-path-prefix=$REPO=/build/lucky --remap-path-prefix=$cargo_home=/cargo"
    cflags="-ffile-prefix-map=$REPO=/build/lucky -ffile-prefix-map=$cargo_home=/cargo"
    local envs=()
    case "$t" in
        x86_64-*)
            # rustc links with the host cc and its own self-contained musl crt/libc.
            rustflags+=" -C link-arg=-Wl,--build-id=none"
            # Not a static PIE: a PIE relocates itself at every start, touching pages that
            # a script call (a fresh exec each time) then pays for (bench/run.sh). No unwind
            # tables: panic = "abort", so nothing reads them, and they cost ~150 KB.
            rustflags+=" -C relocation-model=static -C force-unwind-tables=no"
            # The prebuilt std's unwind tables too (release/discard-unwind.ld: ~700 KB).
            rustflags+=" -C link-arg=-Wl,-T,$REPO/release/discard-unwind.ld"
            # The code (and jump tables) of a script call, a hook and the daemon serving them
            # in one place, so each fresh exec faults in fewer pages (release/hot-layout.ld, bench/hot-order.sh).
            rustflags+=" -C link-arg=-Wl,-T,$REPO/release/hot-layout.ld"
            envs+=("CC_x86_64_unknown_linux_musl=musl-gcc")
            ;;
        aarch64-*)
            rustflags+=" -C link-arg=--build-id=none -C relocation-model=static -C force-unwind-tables=no"
            rustflags+=" -C link-arg=-T$REPO/release/discard-unwind.ld"
            envs+=("CARGO_TARGET_${tu}_LINKER=rust-lld"
                "CC_aarch64_unknown_linux_musl=aarch64-linux-gnu-gcc"
                "AR_aarch64_unknown_linux_musl=aarch64-linux-gnu-ar")
            ;;
        powerpc64le-* | s390x-*)
            local march cc gxx unwind_dir
            march="${t%%-*}"
            cc="$march-linux-musl-gcc"
            gxx="$march-linux-gnu-g++"
            [ -n "$NIGHTLY_SRC" ] || NIGHTLY_SRC="$(rustc +nightly --print sysroot)/lib/rustlib/src/rust"
            unwind_dir="$(build_libunwind "$t" "$cc" "$gxx")"
            cargo=(cargo +nightly)
            # No std for these targets is downloadable: build it (and link with Debian's musl).
            rustflags+=" --remap-path-prefix=$NIGHTLY_SRC=/rustc-src"
            rustflags+=" -C link-self-contained=no -L native=$unwind_dir -C link-arg=-Wl,--build-id=none"
            # s390x-unknown-linux-musl (tier 3) defaults to dynamic linking: ask for static.
            rustflags+=" -C target-feature=+crt-static"
            # No unwind tables, as on x86_64 and aarch64 (std is built here, with these flags;
            # the linker script drops the C parts' and libunwind's): ~370 KB.
            rustflags+=" -C force-unwind-tables=no -C link-arg=-Wl,-T,$REPO/release/discard-unwind.ld"
            if [ "$march" = s390x ]; then
                rustflags+=" -C relocation-model=static"
            fi
            envs+=("CARGO_TARGET_${tu}_LINKER=$cc" "CC_${tu,,}=$cc" "AR_${tu,,}=$march-linux-gnu-ar")
            cargo+=(-Z "build-std=std,panic_abort")
            ;;
    esac
    envs+=("CFLAGS_${tu,,}=$cflags")
    # What the binary is made of: cargo's resolved graph for this target, as the
    # cargo-auditable list build.rs embeds and, after the build, the SBOM.
    mkdir -p "$TARGET_DIR/deps"
    (cd "$REPO" && cargo metadata --format-version 1 --locked --filter-platform "$t") \
        >"$TARGET_DIR/deps/$t.metadata.json" || die "cargo metadata failed for $t"
    python3 "$REPO/release/deps.py" audit "$TARGET_DIR/deps/$t.dep-v0" \
        <"$TARGET_DIR/deps/$t.metadata.json" || die "release/deps.py audit failed for $t"
    envs+=("LUCKY_AUDIT_DATA=$TARGET_DIR/deps/$t.dep-v0")
    info "building $t"
    (
        cd "$REPO"
        env "${envs[@]}" "${RELEASE_ENV[@]}" \
            CARGO_TARGET_DIR="$TARGET_DIR" \
            RUSTFLAGS="$rustflags" \
            "${cargo[@]}" build --locked --release --bin lucky --target "$t" >&2
    )
}

# lucky-doc for this machine, with this release's version built in (it renders the
# completions and man pages; it is never shipped, so `lucky` stays within its size), in its
# own target folder so that no other build is invalidated. A debug build without debug
# info: it runs twice per release. Prints its path.
build_lucky_doc() {
    local dir="$TARGET_DIR/lucky-doc"
    info "building lucky-doc for this machine (completions and man pages)"
    (
        cd "$REPO"
        env "${RELEASE_ENV[@]}" \
            CARGO_TARGET_DIR="$dir" \
            CARGO_PROFILE_DEV_DEBUG=0 \
            cargo build --locked --bin lucky-doc >&2
    ) || die "building lucky-doc failed"
    [ -x "$dir/debug/lucky-doc" ] || die "cargo finished but $dir/debug/lucky-doc is missing"
    echo "$dir/debug/lucky-doc"
}

qemu_for() {
    case "$1" in
        x86_64-*) echo "" ;;
        aarch64-*) echo qemu-aarch64-static ;;
        powerpc64le-*) echo qemu-ppc64le-static ;;
        s390x-*) echo qemu-s390x-static ;;
    esac
}

# Refuses a binary that is dynamic or does not start under (qemu) `--version`.
smoke_test() {
    local t="$1" bin="$2" qemu out
    if readelf -lW "$bin" | grep -q 'Requesting program interpreter'; then
        die "$bin is not static (it has a program interpreter)"
    fi
    if readelf -dW "$bin" 2>/dev/null | grep -q '(NEEDED)'; then
        die "$bin is not static (it needs shared libraries)"
    fi
    # The dependency list is where scanners look, and is the one made for this build.
    # The host's objcopy reads only x86 ELF: a foreign binary needs its own binutils
    # (installed with the target's cross gcc).
    local section objcopy=objcopy err
    case "$t" in x86_64-*) ;; *) objcopy="${t%%-*}-linux-gnu-objcopy" ;; esac
    command -v "$objcopy" >/dev/null || die "need $objcopy (binutils for ${t%%-*}) to read $bin's sections"
    section="$(mktemp)"
    if ! err="$("$objcopy" -O binary --only-section=.dep-v0 "$bin" "$section" 2>&1)"; then
        rm -f "$section"
        die "cannot read $bin's sections with $objcopy: $err"
    fi
    if ! cmp -s "$section" "$TARGET_DIR/deps/$t.dep-v0"; then
        rm -f "$section"
        die "$bin has no .dep-v0 section holding the dependency list release/deps.py made"
    fi
    python3 -c 'import json, sys, zlib; d = json.loads(zlib.decompress(open(sys.argv[1], "rb").read())); assert any(p.get("root") and p["name"] == "lucky" for p in d["packages"])' "$section" ||
        { rm -f "$section"; die "$bin: the .dep-v0 section is not a cargo-auditable dependency list"; }
    info "$t: dependency list embedded (.dep-v0, $(stat -c %s "$section") bytes)"
    rm -f "$section"
    qemu="$(qemu_for "$t")"
    if ! out="$(${qemu:+"$qemu"} "$bin" --version 2>&1)"; then
        die "$bin --version failed${qemu:+ under $qemu}: $out"
    fi
    if [ -z "$out" ]; then
        info "$t: --version ran${qemu:+ under $qemu} and exited 0 (printed nothing: the crate is still a stub?)"
    else
        case "$out" in
            *"$VERSION"*) info "$t: --version${qemu:+ under $qemu}: $out" ;;
            *) die "$bin --version printed '$out', which does not name version $VERSION" ;;
        esac
    fi
    # One real command: lay out a charm from the embedded template and build it, bundling
    # the binary itself (YAML parsing, validation, SHA-256 and file writes on the target's
    # own byte order; a default build would fetch this release's SHA256SUMS, not out yet,
    # and the bundle is unsigned, hence --dev: the smoke charm is never deployed).
    local work
    work="$(mktemp -d)"
    mkdir "$work/bin"
    cp "$bin" "$work/bin/lucky-$VERSION-$t"
    if ! out="$( { ${qemu:+"$qemu"} "$bin" charm create "$work/smoke" --use-defaults --name smoke \
        && ${qemu:+"$qemu"} "$bin" charm build "$work/smoke" --build-dir "$work/build" \
            --bundle-lucky "$t" --lucky-binaries "$work/bin" --dev; } 2>&1)"; then
        rm -rf "$work"
        die "$bin charm create/build failed${qemu:+ under $qemu}: $out"
    fi
    [ -x "$work/build/dispatch" ] || { rm -rf "$work"; die "$bin charm build left no dispatch in $work/build"; }
    rm -rf "$work"
    info "$t: charm create + charm build ran${qemu:+ under $qemu}"
}

# Refuses a binary that carries a path of this build machine: the checkout, the target
# dir, $CARGO_HOME, rustup's toolchains, $HOME. Any of them makes the bytes depend on where
# and by whom the build ran (an `env!("CARGO_MANIFEST_DIR")` did, and --remap-path-prefix
# cannot rewrite an environment variable's value).
path_guard() {
    CARGO_TARGET_DIR="$TARGET_DIR" "$REPO/release/path-guard.sh" "$1" ||
        die "$1 holds a build-machine path (see above): the release would not be reproducible"
}

main() {
    parse_args "$@"
    if [ "$DEPS" = 1 ]; then
        install_deps
    fi
    check_tools
    TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
    # Reproducible timestamps: the last commit's time, unless the caller set one.
    SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || echo 0)}"
    # The commit `--version` names, from the caller when the checkout is a copy without .git.
    COMMIT="${LUCKY_BUILD_COMMIT:-$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}"
    # What every build of this release is given: its identity (key, version, commit, URL,
    # time), and what keeps the bytes the same wherever it is built.
    RELEASE_ENV=(CARGO_INCREMENTAL=0
        "LUCKY_RELEASE_PUBKEY=$RELEASE_PUBKEY"
        "LUCKY_VERSION_OVERRIDE=$VERSION"
        "LUCKY_BUILD_COMMIT=$COMMIT"
        "LUCKY_DEFAULT_RELEASE_URL=$RELEASE_URL"
        "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"
        TZ=UTC LC_ALL=C)
    local rel="$OUT/$VERSION" t start secs bin asset summary=()
    mkdir -p "$rel"
    for t in "${TARGETS[@]}"; do
        start=$SECONDS
        build_target "$t"
        secs=$((SECONDS - start))
        bin="$TARGET_DIR/$t/release/lucky"
        [ -f "$bin" ] || die "cargo finished but $bin is missing"
        path_guard "$bin"
        smoke_test "$t" "$bin"
        asset="lucky-$VERSION-$t"
        cp "$bin" "$rel/$asset.tmp"
        chmod 0755 "$rel/$asset.tmp"
        mv -f "$rel/$asset.tmp" "$rel/$asset"
        python3 "$REPO/release/deps.py" sbom "$rel/$asset.cdx.json.tmp" "$rel/$asset" "$t" \
            "$SOURCE_DATE_EPOCH" <"$TARGET_DIR/deps/$t.metadata.json" ||
            die "release/deps.py sbom failed for $t"
        mv -f "$rel/$asset.cdx.json.tmp" "$rel/$asset.cdx.json"
        summary+=("$(printf '%-32s %5ss %10s bytes  %s' "$t" "$secs" "$(stat -c %s "$rel/$asset")" \
            "$(sha256sum "$rel/$asset" | cut -c1-16)")")
    done
    local doc
    doc="$(build_lucky_doc)"
    SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" "$REPO/release/completions.sh" "$doc" "$VERSION" \
        "$rel/lucky-$VERSION-completions.tar.gz" || die "release/completions.sh failed"
    summary+=("$(printf '%-32s %6s %10s bytes  %s' "completions and man pages" "" \
        "$(stat -c %s "$rel/lucky-$VERSION-completions.tar.gz")" \
        "$(sha256sum "$rel/lucky-$VERSION-completions.tar.gz" | cut -c1-16)")")
    # SHA256SUMS lists every binary, SBOM and the completions archive of this version in
    # the folder, also ones built earlier: the signature covers them all.
    (cd "$rel" && LC_ALL=C sha256sum -- lucky-"$VERSION"-* >SHA256SUMS.tmp && mv -f SHA256SUMS.tmp SHA256SUMS)
    openssl pkeyutl -sign -inkey "$KEY" -rawin -in "$rel/SHA256SUMS" -out "$rel/SHA256SUMS.sig.tmp" ||
        die "signing SHA256SUMS with $KEY failed (needs an ed25519 key and OpenSSL 3)"
    mv -f "$rel/SHA256SUMS.sig.tmp" "$rel/SHA256SUMS.sig"
    printf '%s\n' "$VERSION" >"$OUT/latest.tmp"
    mv -f "$OUT/latest.tmp" "$OUT/latest"
    info "release $VERSION in $rel:"
    printf '  %s\n' "${summary[@]}" >&2
}

main "$@"
