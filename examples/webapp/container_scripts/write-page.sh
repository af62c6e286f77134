#!/bin/sh
# Runs inside the container (busybox only): write the configured page into the volume.
set -eu

text="$(lucky get-config page-text)"
{
    printf '<!DOCTYPE html>\n<html><head><title>webapp</title></head>\n<body><h1>'
    # The text is config: escape what HTML would read as markup.
    printf '%s' "$text" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'
    printf '</h1></body></html>\n'
} > /www/index.html.new
mv /www/index.html.new /www/index.html
