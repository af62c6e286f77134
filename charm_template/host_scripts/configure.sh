#!/bin/sh
# config-changed, upgrade-charm: apply the charm config to the container and the firewall.
set -eu

lucky set-status maintenance "Configuring ($1)"

lucky container image set "$(lucky get-config image)"
lucky container env set "GREETING=$(lucky get-config greeting)"

# Publish the container's port 80 on the configured host port, replacing the old binding.
port="$(lucky get-config port)"
old_port="$(lucky kv get port)"
if [ -n "$old_port" ] && [ "$old_port" != "$port" ]; then
    lucky port close "$old_port"
fi
lucky container port remove --all
lucky container port add "$port:80"
lucky port open "$port"
lucky kv set port="$port"

lucky set-status active "Serving on port $port"
