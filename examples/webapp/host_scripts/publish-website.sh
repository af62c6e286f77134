#!/bin/sh
# website-relation-joined: tell the remote unit where the page is served.
set -eu

lucky relation set hostname="$(lucky private-address)" port="$(lucky get-config port)"
