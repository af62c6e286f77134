#!/bin/sh
# Action backup, inside the container: copy the page into /www/backups.
set -eu

if [ ! -f /www/index.html ]; then
    lucky action fail "there is no page to back up yet"
    exit 0
fi
label="$(lucky action get label)"
mkdir -p /www/backups
file="/www/backups/index-$(date -u +%Y%m%dT%H%M%SZ)-${label:-manual}.html"
cp /www/index.html "$file"
lucky action log "backed up the page to $file"
lucky action set file="$file" bytes="$(wc -c < "$file" | tr -d ' ')"
