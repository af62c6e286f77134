#!/bin/sh
# Cron job: check the workload answers; report the result under its own status name.
set -eu

port="$(lucky get-config port)"
if ! command -v curl >/dev/null 2>&1; then
    lucky set-status --name health active "curl not installed: health not checked"
elif curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:$port/"; then
    lucky set-status --name health active
else
    lucky set-status --name health blocked "No answer on port $port"
fi
