#!/bin/sh
# website-relation-joined: tell the remote application where to reach this unit.
set -eu

lucky relation set hostname="$(lucky private-address)" port="$(lucky get-config port)"
