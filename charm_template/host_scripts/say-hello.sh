#!/bin/sh
# Action say-hello: read a parameter, return a result.
set -eu

name="$(lucky action get name)"
lucky action log "greeting $name"
lucky action set greeting="$(lucky get-config greeting), $name!"
