#!/bin/sh
# config-changed: publish the container's port 80 on the configured host port.
set -eu

port="$(lucky get-config port)"
old_port="$(lucky kv get port)"
if [ "$port" != "$old_port" ]; then
    if [ -n "$old_port" ]; then
        lucky port close "$old_port"
    fi
    lucky container port remove --all
    lucky container port add "$port:80/tcp"
    lucky port open "$port/tcp"
    lucky kv set port="$port"
    # Tell every related website consumer about the new port.
    for id in $(lucky relation list-ids --relation-name website); do
        lucky relation set --relation-id "$id" port="$port"
    done
fi
lucky set-status active "Serving on port $port"
