#!/bin/sh
# Creates Podium's application role when the postgres container initialises an empty data
# directory (the official image runs /docker-entrypoint-initdb.d/*.sh once, as the superuser).
# The password comes from PODIUM_DB_APP_PASSWORD and must match the one in DATABASE_URL.
# To change it later, run roles.sql again by hand (its header shows how).
set -e

if [ -z "${PODIUM_DB_APP_PASSWORD:-}" ]; then
    echo "init-roles.sh: PODIUM_DB_APP_PASSWORD is empty; set it in .env" >&2
    exit 1
fi

# roles.sql expects a quoted SQL literal: double every single quote.
quoted_password="'$(printf '%s' "$PODIUM_DB_APP_PASSWORD" | sed "s/'/''/g")'"

psql --no-psqlrc -v ON_ERROR_STOP=1 \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v app_password="$quoted_password" \
    --file "${PODIUM_ROLES_SQL:-/podium/roles.sql}"
