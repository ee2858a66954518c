#!/bin/sh
# The container's entrypoint: one image, and the command picks the process.
#
#   api <service> [uvicorn options]   the service's HTTP API on $PORT (default 8001/8002/8003)
#   worker <service>                  the service's arq worker, which also runs its outbox relay
#   relay <service>                   the same as worker (see below)
#   migrate                           `conduct migrate`: the three schemas to the latest revision
#   conduct <arguments>               any operator command: `conduct dead-letters list -s review`
#   probe http <paths> | heartbeat    the health checks compose and Kubernetes run
#
# <service> is intake, review or registry. Everything is configured through the environment
# described in the top-level README (DATABASE_URL, REDIS_URL, PSEUDONYM_KEY...).
#
# relay: the outbox relay runs inside each service's worker (shared/worker.py starts it in the
# worker's on_startup) and nothing yet starts it on its own, so `relay` runs the whole worker.
# Several relays of one service are safe (rows are claimed with SKIP LOCKED).
set -eu

usage() {
    sed -n '2,10s/^# \{0,1\}//p' "$0" >&2
}

fail() {
    echo "conduct-entrypoint: $1" >&2
    usage
    exit 64
}

service_port() {
    case "$1" in
        intake) echo 8001 ;;
        review) echo 8002 ;;
        registry) echo 8003 ;;
    esac
}

check_service() {
    case "$1" in
        intake | review | registry) ;;
        "") fail "name a service: intake, review or registry" ;;
        *) fail "unknown service '$1': intake, review or registry" ;;
    esac
}

role="${1:-}"
[ "$#" -gt 0 ] && shift

case "$role" in
    api)
        service="${1:-}"
        check_service "$service"
        shift
        port="${PORT:-$(service_port "$service")}"
        # Behind a proxy, uvicorn takes the client's address from X-Forwarded-For only when the
        # peer is in $FORWARDED_ALLOW_IPS (uvicorn reads it itself; default: localhost only).
        exec uvicorn "services.${service}.app:create_app" --factory \
            --host "${HOST:-0.0.0.0}" --port "$port" \
            --timeout-graceful-shutdown "${GRACEFUL_SHUTDOWN_SECONDS:-20}" "$@"
        ;;
    worker | relay)
        service="${1:-}"
        check_service "$service"
        shift
        [ "$#" -eq 0 ] || fail "$role takes no options after the service"
        exec python -m deploy.worker "$service"
        ;;
    migrate)
        exec conduct migrate "$@"
        ;;
    conduct)
        exec conduct "$@"
        ;;
    probe)
        exec python -m deploy.probe "$@"
        ;;
    help | -h | --help)
        usage
        exit 0
        ;;
    "")
        fail "name a role: api, worker, relay, migrate, conduct or probe"
        ;;
    *)
        fail "unknown role '$role'"
        ;;
esac
