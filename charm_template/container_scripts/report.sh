#!/bin/sh
# update-status, inside the container: report the workload's state from where it runs.
set -eu

if [ -n "${GREETING:-}" ]; then
    lucky set-status --name container active
else
    lucky set-status --name container waiting "GREETING is not set yet"
fi
