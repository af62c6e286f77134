#!/bin/sh
# install: describe the web server container; Lucky starts it after this hook's scripts.
set -eu

lucky set-status maintenance "Installing"
# Built locally from a busybox root filesystem: never pulled from a registry.
lucky container image set lucky-example-httpd:latest --no-pull
# One named volume per unit keeps the page (and backups) across container re-creations.
unit="$(echo "$JUJU_UNIT_NAME" | tr / -)"
lucky container volume add "webapp-www-$unit" /www
lucky container set-command -- httpd -f -p 80 -h /www
lucky set-status --name db blocked "Needs a db relation"
lucky set-status --clear
