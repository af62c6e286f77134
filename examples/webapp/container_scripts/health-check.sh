#!/bin/sh
# update-status and cron, inside the container: does httpd answer with the page?
set -eu

status="$(printf 'GET / HTTP/1.0\r\n\r\n' | nc 127.0.0.1 80 2>/dev/null | head -n 1 || true)"
case "$status" in
    *" 200 "*) lucky set-status --name health active ;;
    *) lucky set-status --name health blocked "httpd does not serve the page (${status:-no answer})" ;;
esac
