#!/bin/sh
# install: describe the web server container; Lucky starts it after this hook's scripts.
set -eu

lucky set-status maintenance "Installing"
# Built locally from a busybox root filesystem: never pulled from a registry.
lucky container image set lucky-example-httpd:latest --no-pull
# The page (and backups) are on the unit's Juju storage, which www-storage-attached
# mounted on /www before this hook: they outlive the container.
lucky container set-command -- httpd -f -p 80 -h /www
lucky set-status --name db blocked "Needs a db relation"
lucky set-status --clear
