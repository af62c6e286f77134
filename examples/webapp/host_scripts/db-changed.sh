#!/bin/sh
# db-relation-changed / -broken: hand the database settings to the container.
set -eu

if [ "${1:-}" = broken ]; then
    lucky container env set DB_HOST= DB_PORT= DB_NAME=
    lucky set-status --name db blocked "Needs a db relation"
    exit 0
fi
host="$(lucky relation get host)"
port="$(lucky relation get port)"
database="$(lucky relation get database)"
if [ -z "$host" ]; then
    lucky set-status --name db waiting "Waiting for the database to send its address"
    exit 0
fi
lucky container env set "DB_HOST=$host" "DB_PORT=${port:-5432}" "DB_NAME=$database"
lucky set-status --name db active
