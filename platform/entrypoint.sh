#!/usr/bin/env bash
# Podium's container entrypoint: one image, one process per container.
#
#   web          gunicorn with platform/gunicorn.conf.py (and copies static files for the proxy)
#   worker       celery worker on the "default" queue and each network's deliveries queue
#   beat         celery beat; its schedule file lives in a writable volume
#   migrate      database migrations as the owner role, then exit
#   healthcheck  exit 0 when the web process answers GET /healthz with 200
#   manage ...   any manage.py command, e.g. `manage createsuperuser`
#   anything else is executed as given (e.g. `bash`)
set -euo pipefail

APP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$APP_DIR"
export PYTHONPATH="$APP_DIR${PYTHONPATH:+:$PYTHONPATH}"
PYTHON="${PYTHON:-python}"

usage() {
    echo "usage: entrypoint.sh web|worker|beat|migrate|healthcheck|manage <command>|<program> [args]" >&2
}

# The image holds the static files collected at build time (STATIC_ROOT). The proxy serves them
# from a shared volume: copy this release's files there. Hashed names never clash, so files of
# the previous release stay readable while both are running.
export_static_files() {
    local target="${PODIUM_STATIC_EXPORT_DIR:-}"
    local source="${PODIUM_STATIC_ROOT:-$APP_DIR/staticfiles}"
    if [[ -z "$target" || ! -d "$source" ]]; then
        return 0
    fi
    mkdir -p "$target"
    cp -R "$source/." "$target/"
}

command="${1:-web}"
if [[ $# -gt 0 ]]; then
    shift
fi

case "$command" in
    web)
        export_static_files
        exec gunicorn --config "$APP_DIR/platform/gunicorn.conf.py" "$@"
        ;;
    worker)
        # The default queue and one queue per network (crossposting.queues): a network's backlog
        # or outage never stands in front of another network's deliveries.
        exec celery --app podium worker \
            --queues "${CELERY_WORKER_QUEUES:-default,deliveries.mastodon,deliveries.bluesky,deliveries.x,deliveries.linkedin,deliveries.threads}" \
            --loglevel "${CELERY_LOG_LEVEL:-INFO}" --concurrency "${CELERY_WORKER_CONCURRENCY:-2}" "$@"
        ;;
    beat)
        schedule_dir="${CELERY_BEAT_SCHEDULE_DIR:-/srv/beat}"
        mkdir -p "$schedule_dir"
        exec celery --app podium beat --loglevel "${CELERY_LOG_LEVEL:-INFO}" \
            --schedule "$schedule_dir/celerybeat-schedule" "$@"
        ;;
    migrate)
        # The application role owns nothing; tables belong to the owner, who migrates and then
        # grants the application role its privileges (accounts.database_roles).
        if [[ -n "${DATABASE_OWNER_URL:-}" ]]; then
            exec "$PYTHON" manage.py migrate --database owner --noinput "$@"
        fi
        exec "$PYTHON" manage.py migrate --noinput "$@"
        ;;
    healthcheck)
        exec "$PYTHON" - <<'PY'
"""GET /healthz the way the proxy would ask: an allowed Host and X-Forwarded-Proto https."""
import os
import sys
import urllib.request

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
port = bind.rsplit(":", 1)[-1]
hosts = [h.strip() for h in os.environ.get("PODIUM_ALLOWED_HOSTS", "").split(",") if h.strip()]
host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/healthz",
    headers={"Host": host, "X-Forwarded-Proto": "https"},
)
try:
    with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310
        sys.exit(0 if response.status == 200 else 1)
except Exception as error:  # noqa: BLE001
    print(f"healthcheck failed: {error}", file=sys.stderr)
    sys.exit(1)
PY
        ;;
    manage)
        exec "$PYTHON" manage.py "$@"
        ;;
    -h|--help|help)
        usage
        ;;
    *)
        exec "$command" "$@"
        ;;
esac
