#!/bin/sh
# db-relation-changed / -broken: hand the database settings to the container.
set -eu

if [ "${1:-}" = broken ]; then
    lucky container env set DB_HOST= DB_PORT= DB_NAME= DB_PASSWORD=
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
# The password never travels in relation data: the database shares a Juju secret and
# sends its id.
secret="$(lucky relation get password-secret)"
if [ -z "$secret" ]; then
    lucky set-status --name db waiting "Waiting for the database to share its password"
    exit 0
fi
password="$(lucky secret get "$secret" password)"
lucky container env set "DB_HOST=$host" "DB_PORT=${port:-5432}" "DB_NAME=$database" \
    "DB_PASSWORD=$password"
lucky set-status --name db active
