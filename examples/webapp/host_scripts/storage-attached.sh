#!/bin/sh
# www-storage-attached (before install, for the storage Juju attaches at deploy): the
# page and its backups live on the unit's Juju storage, mounted into the container.
set -eu

location="$(lucky storage get location)"
lucky container volume add "$location" /www
