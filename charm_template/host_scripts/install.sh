#!/bin/sh
# install: choose the workload image; the container starts when the hook's scripts are done.
set -eu

lucky set-status maintenance "Installing"
lucky container image set "$(lucky get-config image)"
lucky kv set installed-at="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
# This script's "Installing" status is done with; config-changed reports from here on.
lucky set-status --clear
