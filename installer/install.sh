#!/bin/sh
# Lucky installer: fetch, verify, install and start the `lucky` binary on a Juju machine.
#
# Run by a charm's install hook (as root). POSIX sh; all work happens in functions and
# `main` is called on the last line, so a truncated download of this script runs nothing.
#
# Where the binary comes from (the first source that is present is used):
#   1. the charm:      $CHARM_DIR/lucky/lucky-<version>-<target>, checked against
#                      $CHARM_DIR/lucky/SHA256SUMS (+ SHA256SUMS.sig)
#   2. Juju resource:  `resource-get lucky-binary` (when the tool exists and gives a
#                      non-empty file), checked against the charm's SHA256SUMS or, when the
#                      charm has none, the release's
#   3. a release:      lucky-<version>-<target> with SHA256SUMS and SHA256SUMS.sig from
#                      the release URL ($LUCKY_RELEASE_URL, else the charm's
#                      lucky/release-url), laid out as GitHub Releases when the URL ends in
#                      /releases (<url>/download/v<version>/<asset>, the newest version from
#                      <url>/latest/download/latest), else as a static mirror
#                      (<url>/<version>/<asset>, <url>/latest)
# A source that is present but fails verification is a refusal, never a reason to try the
# next one: a tampered binary must stop the install, not be quietly worked around.
#
# Verification: the binary's SHA-256 must match its line in SHA256SUMS, and SHA256SUMS
# must carry a valid ed25519 signature (SHA256SUMS.sig) by the trusted public key, checked
# with `openssl pkeyutl -verify -rawin` (OpenSSL 3, Ubuntu 22.04 and later). When no public
# key is configured at all the installer refuses, unless LUCKY_INSECURE_SKIP_SIGNATURE=1
# says that checksums alone are acceptable (it then warns).
#
# Environment:
#   LUCKY_ARCH             machine name to use instead of `uname -m`
#   LUCKY_VERSION          version to install (default: $CHARM_DIR/lucky/version, else the
#                          release's `latest` file, which is unsigned and so never moves an
#                          installed lucky back to an older version)
#   LUCKY_RELEASE_URL      base URL of a release (default: $CHARM_DIR/lucky/release-url).
#                          https:// only; plain http:// is accepted for 127.0.0.1, localhost
#                          and [::1] alone, because loopback traffic never leaves the machine
#                          (and tests serve releases there). The same rule holds for every
#                          redirect, which the installer follows itself (at most 5)
#   LUCKY_RELEASE_PUBKEY   PEM ed25519 public key file that signs SHA256SUMS (default:
#                          $CHARM_DIR/lucky/release.pub, else release.pub beside this script)
#   LUCKY_INSECURE_SKIP_SIGNATURE=1  accept an unsigned SHA256SUMS when no key is configured
#   LUCKY_INSTALL_DIR      where `lucky` goes (default /usr/local/bin)
#   LUCKY_RETRIES          download attempts per file (default 3)
#   LUCKY_RETRY_DELAY      seconds before the first retry, doubled each time (default 1)
#   LUCKY_NO_SYSTEMD=1     start the daemon with `lucky daemon start` even under systemd
#   LUCKY_FORCE_SYSTEMD=1  use systemd even where /run/systemd/system is absent (tests, with
#                          a fake systemctl)
#   LUCKY_SYSTEMD_UNIT_DIR where the systemd unit is written (default /etc/systemd/system)
#   LUCKY_DATA_DIR, LUCKY_SOCKET   passed on to the daemon (and into its systemd unit)
#   LUCKY_LOG_LEVEL        the daemon's log level, passed on likewise (dispatch sets it from
#                          the charm's lucky/log-level, `lucky charm build -L`, when unset)
#   CHARM_DIR (or JUJU_CHARM_DIR), JUJU_UNIT_NAME   set by Juju
#   JUJU_CHARM_HTTP_PROXY, JUJU_CHARM_HTTPS_PROXY, JUJU_CHARM_NO_PROXY   set by Juju from the
#                          model's proxy settings: each one that is set becomes
#                          http_proxy, https_proxy, no_proxy (and their upper-case forms)
#                          for the downloads; one that is not set leaves the machine's own as it is
#
# `install.sh --remove` undoes it for the unit (run by the charm's remove hook).
#
# On failure it prints `[ERROR] <why>`, exits non-zero and, where `status-set` exists,
# leaves the unit blocked with "lucky install failed: <why>".

set -u

info() {
    printf '[INFO] %s\n' "$*" >&2
}

warn() {
    printf '[WARN] %s\n' "$*" >&2
}

err() {
    printf '[ERROR] %s\n' "$*" >&2
}

die() {
    err "$1"
    if command -v status-set >/dev/null 2>&1; then
        status-set blocked "lucky install failed: $1" >/dev/null 2>&1 || true
    fi
    exit 1
}

need_cmd() {
    if ! command -v "$1" >/dev/null 2>&1; then
        die "need '$1' (command not found)"
    fi
}

cleanup() {
    if [ -n "${STAGE:-}" ]; then
        rm -f "$STAGE"
    fi
    if [ -n "${TMP_DIR:-}" ]; then
        rm -rf "$TMP_DIR"
    fi
}

# Sets TARGET from LUCKY_ARCH or `uname -m`.
detect_target() {
    _arch="${LUCKY_ARCH:-}"
    if [ -z "$_arch" ]; then
        need_cmd uname
        _arch="$(uname -m)" || die "uname -m failed"
    fi
    case "$_arch" in
        x86_64 | amd64) TARGET=x86_64-unknown-linux-musl ;;
        aarch64 | arm64) TARGET=aarch64-unknown-linux-musl ;;
        ppc64le | ppc64el) TARGET=powerpc64le-unknown-linux-musl ;;
        s390x) TARGET=s390x-unknown-linux-musl ;;
        *) die "unsupported architecture: $_arch" ;;
    esac
}

# Sets SHA_CMD to a command that prints "<hex>  <file>" for a file.
detect_sha_tool() {
    if command -v sha256sum >/dev/null 2>&1; then
        SHA_CMD="sha256sum"
    elif command -v shasum >/dev/null 2>&1; then
        SHA_CMD="shasum -a 256"
    elif command -v openssl >/dev/null 2>&1; then
        SHA_CMD="openssl dgst -sha256 -r"
    else
        die "no tool to compute SHA-256 checksums (need sha256sum, shasum or openssl)"
    fi
}

# Prints the SHA-256 of a file (lowercase hex), or nothing if it cannot be read.
sha256_of() {
    [ -r "$1" ] || return 0
    # Read from stdin: sha256sum escapes odd file names in its output, stdin has none.
    # SHA_CMD is deliberately split into command and options.
    # shellcheck disable=SC2086
    $SHA_CMD <"$1" 2>/dev/null | awk '{ print tolower($1); exit }'
}

is_sha256() {
    case "$1" in
        *[!0-9a-f]* | "") return 1 ;;
    esac
    [ "${#1}" -eq 64 ]
}

# Prints the checksum listed for file name $2 in SHA256SUMS file $1 (sha256sum -c format,
# text or binary mode), or nothing.
sums_lookup() {
    awk -v name="$2" '{ f = $2; sub(/^\*/, "", f); if (f == name) { print tolower($1); exit } }' "$1"
}

valid_version() {
    case "$1" in
        "" | *[!A-Za-z0-9._+-]* | .*) return 1 ;;
    esac
    return 0
}

# Sets PUBKEY to the trusted key file, or "" when none is configured.
find_pubkey() {
    PUBKEY=""
    if [ -n "${LUCKY_RELEASE_PUBKEY:-}" ]; then
        [ -f "$LUCKY_RELEASE_PUBKEY" ] ||
            die "LUCKY_RELEASE_PUBKEY names a file that does not exist: $LUCKY_RELEASE_PUBKEY"
        PUBKEY="$LUCKY_RELEASE_PUBKEY"
    elif [ -n "$CHARM" ] && [ -f "$CHARM/lucky/release.pub" ]; then
        PUBKEY="$CHARM/lucky/release.pub"
    elif [ -f "$SCRIPT_DIR/release.pub" ]; then
        PUBKEY="$SCRIPT_DIR/release.pub"
    fi
    if [ -n "$PUBKEY" ]; then
        need_cmd openssl
    elif [ "${LUCKY_INSECURE_SKIP_SIGNATURE:-}" = 1 ]; then
        warn "no release public key configured: LUCKY_INSECURE_SKIP_SIGNATURE=1, trusting SHA256SUMS unsigned"
    elif [ -n "$CHARM" ] && [ -f "$CHARM/lucky/dev" ]; then
        die "no release public key configured: this charm was built with \`lucky charm build --dev\` (set LUCKY_RELEASE_PUBKEY, or LUCKY_INSECURE_SKIP_SIGNATURE=1, or build the charm without --dev)"
    else
        die "no release public key configured (set LUCKY_RELEASE_PUBKEY, ship lucky/release.pub in the charm, or LUCKY_INSECURE_SKIP_SIGNATURE=1)"
    fi
}

# verify_sums <SHA256SUMS> <SHA256SUMS.sig or ""> <where, for messages>
verify_sums() {
    [ -s "$1" ] || die "SHA256SUMS from $3 is empty"
    [ -n "$PUBKEY" ] || return 0
    if [ -z "$2" ] || [ ! -f "$2" ]; then
        die "SHA256SUMS.sig missing from $3 (a release public key is configured)"
    fi
    if ! openssl pkeyutl -verify -pubin -inkey "$PUBKEY" -rawin -in "$1" -sigfile "$2" >/dev/null 2>&1; then
        die "bad signature: SHA256SUMS.sig from $3 does not verify with $PUBKEY (needs OpenSSL 3)"
    fi
    info "SHA256SUMS signature verified with $PUBKEY"
}

# expect_sum <SHA256SUMS> <where>: sets EXPECTED for lucky-$VERSION-$TARGET.
expect_sum() {
    ASSET="lucky-$VERSION-$TARGET"
    EXPECTED="$(sums_lookup "$1" "$ASSET")"
    [ -n "$EXPECTED" ] || die "no checksum for $ASSET in SHA256SUMS from $2"
    is_sha256 "$EXPECTED" || die "malformed checksum for $ASSET in SHA256SUMS from $2"
}

already_installed() {
    [ -f "$DEST" ] && [ "$(sha256_of "$DEST")" = "$EXPECTED" ]
}

# check_binary <file> <where>: refuses unless the file's SHA-256 is $EXPECTED.
check_binary() {
    _got="$(sha256_of "$1")"
    if [ "$_got" != "$EXPECTED" ]; then
        die "checksum mismatch for $ASSET from $2: expected $EXPECTED, got ${_got:-nothing}"
    fi
}

# url_allowed <url>: https://, or http:// to loopback. The host is parsed out of the
# authority, and an authority with user info is refused: in http://127.0.0.1:x@evil/ the
# host is evil.
url_allowed() {
    case "$1" in
        https://*) _rest="${1#https://}" ;;
        http://*) _rest="${1#http://}" ;;
        *) return 1 ;;
    esac
    _auth="${_rest%%[/?#]*}"
    case "$_auth" in
        "" | *@* | *[!A-Za-z0-9.:\[\]-]*) return 1 ;;
    esac
    case "$1" in https://*) return 0 ;; esac
    case "$_auth" in
        \[*\]:*) _host="${_auth%%]:*}]"; _port="${_auth##*]:}" ;;
        \[*\]) _host="$_auth"; _port="" ;;
        *:*) _host="${_auth%%:*}"; _port="${_auth#*:}" ;;
        *) _host="$_auth"; _port="" ;;
    esac
    case "$_port" in *[!0-9]*) return 1 ;; esac
    case "$_host" in
        127.0.0.1 | localhost | \[::1\]) return 0 ;;
    esac
    return 1
}

check_url() {
    url_allowed "$1" ||
        die "refusing LUCKY_RELEASE_URL that is not https:// (or http:// on loopback): $1"
}

# Juju's proxy settings, in the variables curl and wget read. Only the ones the model sets:
# an unset one leaves whatever the machine has.
use_juju_proxy() {
    if [ -n "${JUJU_CHARM_HTTP_PROXY:-}" ]; then
        http_proxy="$JUJU_CHARM_HTTP_PROXY"
        HTTP_PROXY="$JUJU_CHARM_HTTP_PROXY"
        export http_proxy HTTP_PROXY
    fi
    if [ -n "${JUJU_CHARM_HTTPS_PROXY:-}" ]; then
        https_proxy="$JUJU_CHARM_HTTPS_PROXY"
        HTTPS_PROXY="$JUJU_CHARM_HTTPS_PROXY"
        export https_proxy HTTPS_PROXY
    fi
    if [ -n "${JUJU_CHARM_NO_PROXY:-}" ]; then
        no_proxy="$JUJU_CHARM_NO_PROXY"
        NO_PROXY="$JUJU_CHARM_NO_PROXY"
        export no_proxy NO_PROXY
    fi
}

# proxy_for <url>: prints the proxy a download of <url> goes through (as curl and wget
# choose it: by scheme, unless no_proxy names the host or a domain of it), or nothing.
proxy_for() {
    case "$1" in
        https://*) _p="${https_proxy:-${HTTPS_PROXY:-}}"; _rest="${1#https://}" ;;
        http://*) _p="${http_proxy:-}"; _rest="${1#http://}" ;;
        *) return 0 ;;
    esac
    [ -n "$_p" ] || return 0
    _h="${_rest%%[/?#]*}"
    case "$_h" in
        \[*) _h="${_h%%]*}]" ;;
        *) _h="${_h%%:*}" ;;
    esac
    _old_ifs="$IFS"
    IFS=,
    for _np in ${no_proxy:-${NO_PROXY:-}}; do
        _np="$(printf '%s' "$_np" | tr -d ' ')"
        _np="${_np#.}"
        [ -n "$_np" ] || continue
        case "$_h" in
            "$_np" | *."$_np") IFS="$_old_ifs"; return 0 ;;
        esac
        [ "$_np" = "*" ] && { IFS="$_old_ifs"; return 0; }
    done
    IFS="$_old_ifs"
    printf '%s' "$_p"
}

# download_failed <url> [why]: the one line for a download that failed every attempt,
# naming the proxy it went through and the last answer.
download_failed() {
    _via="$(proxy_for "$1")"
    die "could not download $1 after $RETRIES attempts${_via:+ through the proxy $_via}${DL_WHY:+: $DL_WHY}${2:+ $2}"
}

# Release file URLs: GitHub Releases when the base URL ends in /releases, else a mirror.
latest_url() {
    case "$BASE_URL" in
        */releases) printf '%s/latest/download/latest' "$BASE_URL" ;;
        *) printf '%s/latest' "$BASE_URL" ;;
    esac
}

# asset_url <name>: the URL of file <name> of release $VERSION.
asset_url() {
    case "$BASE_URL" in
        */releases) printf '%s/download/v%s/%s' "$BASE_URL" "$VERSION" "$1" ;;
        *) printf '%s/%s/%s' "$BASE_URL" "$VERSION" "$1" ;;
    esac
}

# get_once <url> <file> <limit>: one request, no redirect followed. The body goes through
# `head -c` so that no more than <limit>+1 bytes are ever written. Sets STATUS (the HTTP
# status), LOCATION and _rc (the tool's exit code). Returns non-zero when no response came.
get_once() {
    rm -f "$TMP_DIR/headers" "$TMP_DIR/rc"
    if [ "$DOWNLOADER" = curl ]; then
        # A transfer that stalls below 1 KiB/s for 30 s counts as failed (and is retried).
        # --disable (it must come first): no ~/.curlrc can change these limits, the
        # output or the proxy.
        { curl --disable --silent --show-error --max-redirs 0 --proto =https,http \
            --connect-timeout 10 --speed-limit 1024 --speed-time 30 \
            --dump-header "$TMP_DIR/headers" --output - "$1"; echo "$?" >"$TMP_DIR/rc"; } |
            head -c "$(($3 + 1))" >"$2"
    else
        # wget exits 8 on any HTTP error status, redirects included: the status is read
        # from the headers it prints (-S) instead.
        { wget --quiet --server-response --max-redirect=0 --timeout=30 --tries=1 \
            --output-document=- "$1" 2>"$TMP_DIR/headers"; echo "$?" >"$TMP_DIR/rc"; } |
            head -c "$(($3 + 1))" >"$2"
    fi
    _rc="$(head -n 1 "$TMP_DIR/rc" 2>/dev/null)"
    _status="$(awk '$1 ~ /^HTTP\// { s = $2 } END { print s }' "$TMP_DIR/headers" 2>/dev/null)"
    LOCATION="$(awk 'tolower($1) == "location:" { l = $2 } END { print l }' "$TMP_DIR/headers" 2>/dev/null | tr -d '\r')"
    STATUS="$_status"
    [ -n "$STATUS" ]
}

# download_once <url> <file> <limit>: GET following redirects itself, each one checked
# like the release URL (a redirect to plain http, or to another host's http, is refused,
# not retried). Returns non-zero for a failure worth retrying.
download_once() {
    [ -n "$DOWNLOADER" ] || die "need curl or wget to download $1"
    _url="$1"
    _hops=0
    while :; do
        if ! get_once "$_url" "$2" "$3"; then
            DL_WHY="no answer"
            return 1
        fi
        DL_WHY="HTTP $STATUS"
        case "$STATUS" in
            301 | 302 | 303 | 307 | 308)
                if [ -z "$LOCATION" ]; then
                    DL_WHY="HTTP $STATUS with no Location"
                    return 1
                fi
                case "$LOCATION" in
                    /*) LOCATION="$(printf '%s' "$_url" | awk -F/ '{ print $1 "//" $3 }')$LOCATION" ;;
                esac
                url_allowed "$LOCATION" ||
                    die "refusing redirect from $_url to $LOCATION: not https:// (or http:// on loopback)"
                _hops=$((_hops + 1))
                [ "$_hops" -le 5 ] || die "more than 5 redirects fetching $1"
                _url="$LOCATION"
                ;;
            2??)
                # At most limit+1 bytes were written: equal to its first <limit> is small enough.
                if ! head -c "$3" "$2" | cmp -s - "$2"; then
                    die "refusing $1: larger than $3 bytes, not a lucky release file"
                fi
                # curl's own verdict: a body cut short is a failure, even after a 200.
                if [ "$_rc" != 0 ]; then
                    DL_WHY="transfer cut short"
                    return 1
                fi
                DL_WHY=""
                return 0
                ;;
            *) return 1 ;;
        esac
    done
}

# download <url> <file> [limit]: tries LUCKY_RETRIES times with doubling delays; returns
# non-zero when every attempt failed (the caller says what that means). The limit defaults
# to the one for small files (latest, SHA256SUMS, its signature).
download() {
    _try=1
    _delay="$RETRY_DELAY"
    while :; do
        rm -f "$2"
        if download_once "$1" "$2" "${3:-$MAX_SMALL}"; then
            return 0
        fi
        if [ "$_try" -ge "$RETRIES" ]; then
            return 1
        fi
        info "download of $1 failed (attempt $_try of $RETRIES), retrying in ${_delay}s"
        sleep "$_delay"
        _try=$((_try + 1))
        _delay=$((_delay * 2))
    done
}

# Sets VERSION from LUCKY_VERSION or the charm's lucky/version, or "" if neither.
local_version() {
    VERSION="${LUCKY_VERSION:-}"
    if [ -z "$VERSION" ] && [ -n "$CHARM" ] && [ -f "$CHARM/lucky/version" ]; then
        VERSION="$(head -n 1 "$CHARM/lucky/version" | tr -d ' \t\r')"
        valid_version "$VERSION" || die "bad version in $CHARM/lucky/version: '$VERSION'"
    fi
    if [ -n "$VERSION" ]; then
        valid_version "$VERSION" || die "bad LUCKY_VERSION: '$VERSION'"
    fi
}

# Sets VERSION, asking the release's `latest` file when nothing local names one.
resolve_version() {
    local_version
    [ -n "$VERSION" ] && return 0
    _latest="$(latest_url)"
    download "$_latest" "$TMP_DIR/latest" || download_failed "$_latest"
    VERSION="$(head -n 1 "$TMP_DIR/latest" | tr -d ' \t\r')"
    valid_version "$VERSION" || die "bad version in $_latest: '$VERSION'"
    # `latest` is not signed: whoever serves it could name an older (signed, so otherwise
    # acceptable) release with known holes. It never moves an installed lucky back.
    _have="$(installed_version)"
    if [ -n "$_have" ] && [ "$_have" != "$VERSION" ] && older_than "$VERSION" "$_have"; then
        info "$_latest names $VERSION, older than the installed $_have: keeping $_have (set LUCKY_VERSION to choose a version)"
        VERSION="$_have"
    fi
}

# The version `$DEST --version` reports, or nothing.
installed_version() {
    [ -x "$DEST" ] || return 0
    _v="$("$DEST" --version 2>/dev/null | awk 'NR == 1 && $1 == "lucky" { print $2 }')"
    valid_version "$_v" && printf '%s' "$_v"
    return 0
}

# older_than <a> <b>: version a comes before b, comparing the dot-separated numbers of
# the release part (a pre-release suffix counts as its release: never "older").
older_than() {
    awk -v a="${1%%[-+]*}" -v b="${2%%[-+]*}" 'BEGIN {
        n = split(a, x, "."); m = split(b, y, ".")
        for (i = 1; i <= (n > m ? n : m); i++) {
            if (x[i] + 0 < y[i] + 0) exit 0
            if (x[i] + 0 > y[i] + 0) exit 1
        }
        exit 1
    }'
}

# Sets SUMS (and verifies it) from the charm when it ships one, else from the release.
load_sums() {
    if [ -n "$CHARM" ] && [ -f "$CHARM/lucky/SHA256SUMS" ]; then
        SUMS="$CHARM/lucky/SHA256SUMS"
        SUMS_FROM="the charm ($CHARM/lucky)"
        verify_sums "$SUMS" "$CHARM/lucky/SHA256SUMS.sig" "$SUMS_FROM"
    else
        [ -n "$BASE_URL" ] || die "no SHA256SUMS: none in the charm and LUCKY_RELEASE_URL is not set"
        fetch_release_sums
    fi
}

fetch_release_sums() {
    _sums_url="$(asset_url SHA256SUMS)"
    SUMS="$TMP_DIR/SHA256SUMS"
    SUMS_FROM="${_sums_url%/SHA256SUMS}"
    download "$_sums_url" "$SUMS" || download_failed "$_sums_url"
    _sig=""
    if [ -n "$PUBKEY" ]; then
        _sig="$TMP_DIR/SHA256SUMS.sig"
        download "$_sums_url.sig" "$_sig" ||
            download_failed "$_sums_url.sig" "(a release public key is configured)"
    fi
    verify_sums "$SUMS" "$_sig" "$SUMS_FROM"
}

# Each try_* sets SOURCE_FILE and SOURCE_NAME and returns 0 when its source is present
# (and verified), 1 when it is absent; it dies when present but not trustworthy.
try_charm() {
    [ -n "$CHARM" ] || return 1
    local_version
    [ -n "$VERSION" ] || return 1
    [ -f "$CHARM/lucky/lucky-$VERSION-$TARGET" ] || return 1
    [ -f "$CHARM/lucky/SHA256SUMS" ] ||
        die "missing SHA256SUMS in $CHARM/lucky beside lucky-$VERSION-$TARGET"
    load_sums
    expect_sum "$SUMS" "$SUMS_FROM"
    SOURCE_FILE="$CHARM/lucky/$ASSET"
    SOURCE_NAME="the charm"
    already_installed && return 0
    check_binary "$SOURCE_FILE" "$SOURCE_NAME"
}

try_resource() {
    command -v resource-get >/dev/null 2>&1 || return 1
    _res="$(resource-get lucky-binary 2>/dev/null)" || return 1
    # Juju hands out an empty placeholder when the resource was never uploaded.
    [ -n "$_res" ] && [ -s "$_res" ] || return 1
    info "using Juju resource lucky-binary ($_res)"
    if [ -n "$BASE_URL" ]; then
        resolve_version
    else
        local_version
        [ -n "$VERSION" ] || die "cannot check the lucky-binary resource: no version (set LUCKY_VERSION or ship lucky/version)"
    fi
    load_sums
    expect_sum "$SUMS" "$SUMS_FROM"
    SOURCE_FILE="$_res"
    SOURCE_NAME="the lucky-binary resource"
    already_installed && return 0
    check_binary "$SOURCE_FILE" "$SOURCE_NAME"
}

try_release() {
    [ -n "$BASE_URL" ] || return 1
    resolve_version
    fetch_release_sums
    expect_sum "$SUMS" "$SUMS_FROM"
    SOURCE_NAME="$(asset_url "$ASSET")"
    SOURCE_FILE="$TMP_DIR/$ASSET"
    # Only the small SHA256SUMS is fetched when the right binary is already in place.
    already_installed && return 0
    download "$SOURCE_NAME" "$SOURCE_FILE" "$MAX_BINARY" || download_failed "$SOURCE_NAME"
    check_binary "$SOURCE_FILE" "$SOURCE_NAME"
}

# Copies the verified binary beside $DEST, checks the copy, then renames it into place so
# that nothing ever runs a half-written lucky.
install_binary() {
    CHANGED=0
    if already_installed; then
        info "lucky $VERSION already installed at $DEST"
        return 0
    fi
    mkdir -p "$INSTALL_DIR" || die "cannot create $INSTALL_DIR"
    # mktemp creates the file itself (O_EXCL, a random name): nothing planted under a
    # predictable name can make cp and chmod write through a symlink.
    STAGE="$(mktemp "$INSTALL_DIR/.lucky.new.XXXXXXXX")" || die "cannot create a staging file in $INSTALL_DIR"
    cp "$SOURCE_FILE" "$STAGE" || die "cannot write $STAGE"
    chmod 0755 "$STAGE" || die "cannot chmod $STAGE"
    check_binary "$STAGE" "$SOURCE_NAME (copied to $STAGE)"
    mv -f "$STAGE" "$DEST" || die "cannot move $STAGE to $DEST"
    STAGE=""
    CHANGED=1
    info "installed lucky $VERSION ($TARGET) from $SOURCE_NAME to $DEST"
}

start_systemd() {
    need_cmd systemctl
    _unit="lucky-$(printf '%s' "$JUJU_UNIT_NAME" | tr '/' '-').service"
    _dir="${LUCKY_SYSTEMD_UNIT_DIR:-/etc/systemd/system}"
    _new="$TMP_DIR/$_unit"
    {
        printf '[Unit]\nDescription=Lucky daemon for Juju unit %s\n' "$JUJU_UNIT_NAME"
        printf 'After=network-online.target\nWants=network-online.target\n\n'
        printf '[Service]\nEnvironment=JUJU_UNIT_NAME=%s\n' "$JUJU_UNIT_NAME"
        [ -n "${LUCKY_DATA_DIR:-}" ] && printf 'Environment="LUCKY_DATA_DIR=%s"\n' "$LUCKY_DATA_DIR"
        [ -n "${LUCKY_SOCKET:-}" ] && printf 'Environment="LUCKY_SOCKET=%s"\n' "$LUCKY_SOCKET"
        # A level is one word (the daemon refuses any other); nothing else goes in the unit.
        case "${LUCKY_LOG_LEVEL:-}" in
            "" | *[!A-Za-z]*) ;;
            *) printf 'Environment=LUCKY_LOG_LEVEL=%s\n' "$LUCKY_LOG_LEVEL" ;;
        esac
        printf 'ExecStart=%s daemon start --foreground\n' "$DEST"
        printf 'Restart=on-failure\nRestartSec=2\n\n[Install]\nWantedBy=multi-user.target\n'
    } >"$_new"
    _restart="$CHANGED"
    if ! cmp -s "$_new" "$_dir/$_unit"; then
        mkdir -p "$_dir" || die "cannot create $_dir"
        cp "$_new" "$_dir/$_unit.tmp" || die "cannot write $_dir/$_unit.tmp"
        mv -f "$_dir/$_unit.tmp" "$_dir/$_unit" || die "cannot write $_dir/$_unit"
        systemctl daemon-reload || die "systemctl daemon-reload failed"
        _restart=1
    fi
    systemctl enable "$_unit" >/dev/null 2>&1 || die "systemctl enable $_unit failed"
    if [ "$_restart" = 1 ]; then
        systemctl restart "$_unit" || die "systemctl restart $_unit failed"
        info "started $_unit"
    else
        # `start` leaves a running unit alone: same binary, same unit, nothing to restart.
        systemctl start "$_unit" || die "systemctl start $_unit failed"
        info "$_unit already set up"
    fi
}

# Prints the pid of the unit's daemon when it runs a program other than $DEST: the binary
# a swap replaced, whose restart failed (a re-run must not take that daemon for the new
# one). Nothing when no daemon runs, or it runs $DEST's bytes. The pid is daemon.lock's;
# /proc/<pid>/exe opens the file the process runs, even one replaced since.
stale_daemon_pid() {
    _lock="${LUCKY_DATA_DIR:-/var/lib/lucky/$(printf '%s' "$JUJU_UNIT_NAME" | tr '/' '-')}/daemon.lock"
    [ -f "$_lock" ] || return 0
    _pid="$(head -n 1 "$_lock" 2>/dev/null | tr -d ' \t\r')"
    case "$_pid" in "" | *[!0-9]*) return 0 ;; esac
    [ -r "/proc/$_pid/exe" ] || return 0
    # A pid left in the lock by a daemon that is gone may name another process by now.
    case "$(tr '\000' ' ' <"/proc/$_pid/cmdline" 2>/dev/null)" in
        *" daemon start "*) ;;
        *) return 0 ;;
    esac
    cmp -s "/proc/$_pid/exe" "$DEST" && return 0
    printf '%s' "$_pid"
}

start_plain() {
    if [ "$CHANGED" = 1 ]; then
        # A daemon still running the old binary has to go; none running is fine.
        _stop="$("$DEST" daemon stop 2>&1)" || true
        _stale="$(stale_daemon_pid)"
        [ -z "$_stale" ] ||
            die "cannot stop the lucky daemon still running the replaced binary (pid $_stale): $(printf '%s' "$_stop" | tr '\n' ' ' | cut -c1-200)"
    fi
    if _out="$("$DEST" daemon start 2>&1)"; then
        info "lucky daemon started for $JUJU_UNIT_NAME"
        return 0
    fi
    case "$_out" in
        *"already running"*)
            if [ "$CHANGED" = 0 ]; then
                info "lucky daemon already running for $JUJU_UNIT_NAME"
                return 0
            fi
            ;;
    esac
    die "lucky daemon start failed: $(printf '%s' "$_out" | tr '\n' ' ' | cut -c1-300)"
}

start_daemon() {
    [ -n "${JUJU_UNIT_NAME:-}" ] || die "JUJU_UNIT_NAME is not set: cannot start the lucky daemon"
    case "$JUJU_UNIT_NAME" in
        */* ) ;;
        *) die "malformed JUJU_UNIT_NAME: '$JUJU_UNIT_NAME'" ;;
    esac
    case "$JUJU_UNIT_NAME" in
        *[!a-z0-9/-]*) die "malformed JUJU_UNIT_NAME: '$JUJU_UNIT_NAME'" ;;
    esac
    export JUJU_UNIT_NAME
    # An earlier run swapped the binary but its restart failed: the binary is in place (so
    # nothing changed this time), the daemon is the old one. Restart it now.
    _stale="$(stale_daemon_pid)"
    if [ "$CHANGED" = 0 ] && [ -n "$_stale" ]; then
        info "the lucky daemon (pid $_stale) still runs a replaced binary, not $DEST: restarting it"
        CHANGED=1
    fi
    if [ "${LUCKY_NO_SYSTEMD:-}" != 1 ] &&
        { [ -d /run/systemd/system ] || [ "${LUCKY_FORCE_SYSTEMD:-}" = 1 ]; }; then
        start_systemd
    else
        start_plain
    fi
}

# The unit name, checked as start_daemon checks it (it becomes file names).
check_unit_name() {
    case "${JUJU_UNIT_NAME:-}" in
        */*) ;;
        *) die "malformed or missing JUJU_UNIT_NAME: '${JUJU_UNIT_NAME:-}'" ;;
    esac
    case "$JUJU_UNIT_NAME" in
        *[!a-z0-9/-]*) die "malformed JUJU_UNIT_NAME: '$JUJU_UNIT_NAME'" ;;
    esac
}

# `install.sh --remove`, run by dispatch after the remove hook's scripts (the daemon has
# removed the unit's containers by then): the unit's daemon stopped and disabled, its
# systemd unit, socket and state deleted, so nothing of the unit runs or starts at boot
# and no later unit of the same name inherits its kv or container specs. The data of
# named volumes is moved aside, not deleted (docs/deploy.md says why). The lucky binary
# stays: other units on the machine may run it, and it runs nothing by itself.
remove_unit() {
    check_unit_name
    _safe="$(printf '%s' "$JUJU_UNIT_NAME" | tr '/' '-')"
    _unit="lucky-$_safe.service"
    _dir="${LUCKY_SYSTEMD_UNIT_DIR:-/etc/systemd/system}"
    if [ -f "$_dir/$_unit" ]; then
        need_cmd systemctl
        systemctl disable --now "$_unit" >/dev/null 2>&1 || die "systemctl disable --now $_unit failed"
        rm -f "$_dir/$_unit" || die "cannot remove $_dir/$_unit"
        systemctl daemon-reload || warn "systemctl daemon-reload failed"
        info "stopped, disabled and removed $_unit"
    fi
    # A detached daemon (no systemd); a no-op when systemd has stopped it.
    _lucky="${LUCKY_INSTALL_DIR:-/usr/local/bin}/lucky"
    [ -x "$_lucky" ] || _lucky="$(command -v lucky 2>/dev/null || true)"
    if [ -n "$_lucky" ]; then
        "$_lucky" daemon stop >/dev/null 2>&1 || die "lucky daemon stop failed for $JUJU_UNIT_NAME"
    fi
    rm -f "${LUCKY_SOCKET:-/run/lucky/$_safe.sock}"
    _data="${LUCKY_DATA_DIR:-/var/lib/lucky/$_safe}"
    if [ -f "$_data/daemon.lock" ]; then
        if [ -d "$_data/volumes" ] && [ -n "$(ls -A "$_data/volumes")" ]; then
            _kept="$_data.removed-$(date -u +%Y%m%dT%H%M%SZ)-$$"
            { mkdir -p "$_kept" && mv "$_data/volumes" "$_kept/volumes"; } ||
                die "cannot move the unit's volumes to $_kept"
            info "kept the data of the unit's named volumes in $_kept/volumes"
        fi
        rm -rf "$_data" || die "cannot remove $_data"
    elif [ -e "$_data" ]; then
        warn "$_data has no daemon.lock: not a lucky data folder, left alone"
    fi
    info "removed lucky's daemon, socket and state for $JUJU_UNIT_NAME"
}

main() {
    if [ "$#" -gt 0 ]; then
        case "$1" in
            -h | --help)
                sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
                return 0
                ;;
            --remove)
                remove_unit
                return 0
                ;;
            *) die "unexpected argument: $1 (configuration is by LUCKY_* environment variables)" ;;
        esac
    fi
    need_cmd awk
    need_cmd mktemp
    need_cmd cp
    need_cmd mv
    need_cmd chmod
    need_cmd head
    need_cmd tr

    STAGE=""
    TMP_DIR=""
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    TMP_DIR="$(mktemp -d 2>/dev/null || mktemp -d -t lucky-install.XXXXXX)" ||
        die "cannot create a temporary directory"

    SCRIPT_DIR="$(cd "$(dirname "$0")" 2>/dev/null && pwd)" || SCRIPT_DIR="."
    CHARM="${CHARM_DIR:-${JUJU_CHARM_DIR:-}}"
    INSTALL_DIR="${LUCKY_INSTALL_DIR:-/usr/local/bin}"
    DEST="$INSTALL_DIR/lucky"
    RETRIES="${LUCKY_RETRIES:-3}"
    RETRY_DELAY="${LUCKY_RETRY_DELAY:-1}"
    case "$RETRIES" in "" | *[!0-9]* | 0) die "LUCKY_RETRIES must be a positive integer, got '$RETRIES'" ;; esac
    case "$RETRY_DELAY" in "" | *[!0-9]*) die "LUCKY_RETRY_DELAY must be a whole number of seconds, got '$RETRY_DELAY'" ;; esac
    BASE_URL="${LUCKY_RELEASE_URL:-}"
    if [ -z "$BASE_URL" ] && [ -n "$CHARM" ] && [ -f "$CHARM/lucky/release-url" ]; then
        BASE_URL="$(head -n 1 "$CHARM/lucky/release-url" | tr -d ' \t\r')"
    fi
    BASE_URL="${BASE_URL%/}"
    # Size caps: a release binary is about 5 MiB (the cap leaves room for debug builds);
    # the other files are a few lines.
    MAX_BINARY=268435456
    MAX_SMALL=1048576

    detect_target
    detect_sha_tool
    find_pubkey
    if [ -n "$BASE_URL" ]; then
        check_url "$BASE_URL"
    fi
    use_juju_proxy
    DL_WHY=""
    DOWNLOADER=""
    if command -v curl >/dev/null 2>&1; then
        DOWNLOADER=curl
    elif command -v wget >/dev/null 2>&1; then
        DOWNLOADER=wget
    fi

    if try_charm; then
        :
    elif try_resource; then
        :
    else
        try_release ||
            die "no lucky binary for $TARGET: none in the charm, no lucky-binary resource, and no release URL (LUCKY_RELEASE_URL or lucky/release-url in the charm)"
    fi

    install_binary
    start_daemon
    info "lucky $VERSION ready"
}

main "$@"
