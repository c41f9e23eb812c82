#!/usr/bin/env bash
# bench/couriers.sh — couriers: live points to the dashboard's map, and
# automatic assignment with routes; each figure beside its ceiling or
# baseline measured in the same run.
#
# Purpose: one JSON line per figure on stdout:
#   {"bench":"…","metric":"…","value":V,"unit":"…","peer":"…","peer_value":P}
#
#  couriers_live — BENCH_COURIERS_N (2,000) couriers on shift (set up in SQL:
#    users, role_grants, couriers with a running shift and live_message_id)
#    each send a live-location move every BENCH_COURIERS_PERIOD_MS (5,000)
#    for BENCH_COURIERS_SECONDS (60): edited_message updates (same
#    message_id, ~55 m further each time, so none is thinned) POSTed to
#    plus7d's /telegram/webhook in webhook mode (tgsim stands in for the Bot
#    API), while BENCH_COURIERS_CLIENTS (20) dashboards hold the websocket
#    /api/live open with a manager's session cookie (sessions inserted as
#    token hashes). Path: webhook → tg_inbox → conversation actor →
#    courier_point() → pg_notify('plus7_live') → LISTEN thread → 20 frames.
#    points_per_s: POSTs answered 200 per second; stored_points:
#    courier_points rows written; latency_p50/p99_ms: POST begun → the
#    frame carrying that courier's id and coordinates at a client (all
#    clients' frames); cpu_us_per_point: utime+stime of plus7d plus every
#    process of the PostgreSQL cluster (/proc) over the run, per point.
#    Ceiling (same run, same load program, same clients): bench/couriers/
#    live_ceiling.c, a bare civetweb server that parses the same POST, runs
#    one INSERT + pg_notify statement per point over plain libpq and
#    broadcasts the LISTENed payloads to the same 20 websocket clients.
#    Goals: p99 ≤ 1 s; CPU per point ≤ 2× the ceiling.
#  couriers_assign — BENCH_COURIERS_DELIVERIES (10,000) deliveries for today
#    across the seed's 5 demo zones × 3 windows and BENCH_COURIERS_ON_SHIFT
#    (500) couriers on shift with positions (bench/couriers/load_assign.sql):
#    wall time of courier_auto_assign(BENCH_COURIERS_CAPACITY = 8,
#    BENCH_COURIERS_BATCH = 200) called as the dispatcher calls it (batches
#    of 200 until a call assigns nothing). Peer: the same deliveries assigned
#    in ONE call with limit = all of them, state reset between.
#  couriers_route — every courier's day as route_plan() orders it (nearest
#    neighbour + 2-opt, window by window, from the courier's position), total
#    km, against plain nearest neighbour (the baseline), and the ratio.
# What the figures mean: docs/benchmarks.md, section "Couriers". Progress
# and diagnostics go to stderr.
#
# Env: PLUS7_DB (key=value conninfo of the ./dev cluster; the script creates
# and finally drops its own database plus7_bench_couriers there), BUILD
# (meson build dir, default build), BENCH_COURIERS_N, _PERIOD_MS, _SECONDS,
# _CLIENTS, _DELIVERIES, _ON_SHIFT, _CAPACITY, _BATCH, BENCH_ONLY (subset
# of: live assign), BENCH_KEEP (non-empty: keep the temporary directory).
# Run by `./dev bench couriers`. Exit status 0 when every figure was
# measured. Processes: every process it starts is stopped by its pid.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
NCOUR=${BENCH_COURIERS_N:-2000}
PERIOD_MS=${BENCH_COURIERS_PERIOD_MS:-5000}
SECS=${BENCH_COURIERS_SECONDS:-60}
NCLIENTS=${BENCH_COURIERS_CLIENTS:-20}
NDEL=${BENCH_COURIERS_DELIVERIES:-10000}
NSHIFT=${BENCH_COURIERS_ON_SHIFT:-500}
CAP=${BENCH_COURIERS_CAPACITY:-8}
BATCH=${BENCH_COURIERS_BATCH:-200}
ONLY=${BENCH_ONLY:-live assign}
DBNAME=plus7_bench_couriers
TOKEN=5000000003:bench-couriers
SECRET=bench-couriers-secret-$RANDOM$RANDOM-0123456789abcdef
TG0=700000001
HERE=$ROOT/bench/couriers
HZ=$(getconf CLK_TCK)

log() { printf 'couriers.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

TMP=$(mktemp -d /tmp/plus7-bench-couriers.XXXXXX)
declare -A RUNNING=()           # pid → name, for every process started and not yet halted
# halt PID — SIGTERM, then SIGKILL after 15 s; the pid leaves RUNNING.
halt() {
    local pid=$1 n=0
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && ((n++ < 150)); do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        log "${RUNNING[$pid]} (pid $pid) ignored SIGTERM: SIGKILL"
        kill -9 "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    unset "RUNNING[$pid]"
}
finish() {
    local pid
    for pid in "${!RUNNING[@]}"; do halt "$pid"; done
    [[ -z ${DB:-} ]] || psql_admin -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null 2>&1 || true
    if [[ -n ${BENCH_KEEP:-} ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for c in psql curl python3 openssl; do command -v $c >/dev/null || die "$c is missing"; done
[[ -n ${PLUS7_DB:-} ]] || die "PLUS7_DB is not set (a libpq conninfo; ./dev bench sets it)"
[[ $PLUS7_DB != postgres*://* ]] || die "PLUS7_DB must be a key=value conninfo (got a URI)"
[[ -f $BUILD/build.ninja ]] || meson setup "$BUILD" "$ROOT" --buildtype=release >&2
ninja -C "$BUILD" plus7d tools/tgsim/tgsim bench/couriers_live_load bench/couriers_live_ceiling \
    bench/couriers_assign_route >&2 || die "building the benchmark's programs failed"
PLUS7D=$BUILD/plus7d
TGSIM=$BUILD/tools/tgsim/tgsim

psql_admin() { PGOPTIONS='-c client_min_messages=warning' psql "$PLUS7_DB" -X -q -v ON_ERROR_STOP=1 "$@"; }
DB="$PLUS7_DB dbname=$DBNAME"      # a later keyword wins in a conninfo
sql() { PGOPTIONS='-c client_min_messages=warning' psql "$DB" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
psql_admin -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" -c "CREATE DATABASE $DBNAME" >/dev/null
PLUS7_DB=$DB "$PLUS7D" migrate >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log" >&2; die "migrate failed"; }
PLUS7_DB=$DB "$PLUS7D" seed >&2

json() {   # bench metric value unit peer peer_value
    printf '{"bench":"%s","metric":"%s","value":%s,"unit":"%s","peer":"%s","peer_value":%s}\n' "$@"
}
calc() { python3 -c "print(round($1, 3))"; }
val() { awk -v k="$2" '$1 == k {print $2}' "$1"; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ticks — utime+stime (clock ticks) of the pids given plus every process of
# the PostgreSQL cluster (the postmaster and all its children, read now).
PGMASTER=$(head -1 "$(sql -c "SHOW data_directory")/postmaster.pid")
own_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
ticks() {
    local p t sum=0
    for p in "$@" "$PGMASTER" $(pgrep -P "$PGMASTER"); do
        t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
        sum=$((sum + ${t:-0}))
    done
    echo "$sum"
}

# ------------------------------------------------------------- live points
live_run() {   # NAME PORT SERVER_PID UPDATE_ID0 — one load run; OUT in $TMP/NAME.txt
    local name=$1 port=$2 pid=$3 t0 t1 s0 s1 before after
    before=$(sql -c "SELECT count(*) FROM courier_points")
    s0=$(own_ticks "$pid")
    t0=$(ticks "$pid")
    "$BUILD/bench/couriers_live_load" 127.0.0.1 "$port" "$SECRET" "$TMP/tokens" "$NCOUR" "$PERIOD_MS" "$SECS" \
        "$TG0" 1 "$4" 5000 >"$TMP/$name.txt" 2>"$TMP/$name.err" || { cat "$TMP/$name.err" >&2; die "$name load failed"; }
    t1=$(ticks "$pid")
    s1=$(own_ticks "$pid")
    after=$(sql -c "SELECT count(*) FROM courier_points")
    echo "stored $((after - before))" >>"$TMP/$name.txt"
    echo "cpu_ticks $((t1 - t0))" >>"$TMP/$name.txt"
    echo "server_ticks $((s1 - s0))" >>"$TMP/$name.txt"
    log "$name: $(tr '\n' ' ' <"$TMP/$name.txt")load $(cut -d' ' -f1-3 /proc/loadavg)"
}

if want live; then
    log "live: $NCOUR couriers, a point each every $PERIOD_MS ms for $SECS s, $NCLIENTS dashboards"
    sql -v n="$NCOUR" -v tg0="$TG0" -f "$HERE/load_live.sql" >&2
    : >"$TMP/tokens"
    for ((i = 0; i < NCLIENTS; i++)); do
        t=$(openssl rand -hex 32)
        echo "$t" >>"$TMP/tokens"
        sql -c "INSERT INTO staff_sessions (token_hash, user_id, csrf, via)
                SELECT encode(sha256(convert_to('$t', 'UTF8')), 'hex'), id, md5(random()::text), 'password'
                  FROM staff_users WHERE login = 'bench-manager'"
    done

    # plus7d in webhook mode; tgsim answers setWebhook and whatever is sent
    "$TGSIM" --listen 127.0.0.1:0 >"$TMP/tgsim.out" 2>"$TMP/tgsim.err" </dev/null &
    TGSIM_PID=$!
    RUNNING[$TGSIM_PID]=tgsim
    for _ in $(seq 1 100); do
        TGSIM_URL=$(sed -n 's/^tgsim listening on \(http:[^ ]*\)$/\1/p' "$TMP/tgsim.out" 2>/dev/null || true)
        [[ -n $TGSIM_URL ]] && break
        sleep 0.1
    done
    [[ -n ${TGSIM_URL:-} ]] || die "tgsim did not start"
    PORT=$(free_port)
    env PLUS7_DB="$DB" PLUS7_LISTEN="127.0.0.1:$PORT" PLUS7_TG_TOKEN="$TOKEN" PLUS7_TG_API="$TGSIM_URL" \
        PLUS7_TG_MODE=webhook PLUS7_TG_SECRET="$SECRET" \
        PLUS7_TG_WEBHOOK_URL="http://127.0.0.1:$PORT/telegram/webhook" PLUS7_WEB_THREADS=96 \
        PLUS7_COURIER_AUTO=0 PLUS7_LOG_LEVEL=warn PLUS7_OZON_IMPORT_INTERVAL_S=0 \
        "$PLUS7D" serve >"$TMP/plus7d.out" 2>"$TMP/plus7d.err" </dev/null &
    P7=$!
    RUNNING[$P7]=plus7d
    for _ in $(seq 1 150); do
        [[ $(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz") == 200 &&
           $(curl -s --max-time 2 "$TGSIM_URL/bot$TOKEN/getWebhookInfo") == *"127.0.0.1:$PORT/telegram/webhook"* ]] &&
            break
        kill -0 "$P7" 2>/dev/null || break
        sleep 0.1
    done
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" || { tail "$TMP/plus7d.err" >&2; die "plus7d did not start"; }

    live_run plus7d "$PORT" "$P7" 1000000
    left=$(sql -c "SELECT count(*) FROM tg_inbox WHERE processed_at IS NULL")
    ((left == 0)) || log "warning: $left updates still unprocessed after the run"
    kept=$(sql -c "SELECT count(*) FROM courier_points")
    log "tg_inbox: $(sql -c "SELECT count(*) FROM tg_inbox") stored; courier_points $kept"
    halt "$P7"
    halt "$TGSIM_PID"

    CPORT=$(free_port)
    "$BUILD/bench/couriers_live_ceiling" "$CPORT" 96 plus7_bench_ceiling "$DB" >"$TMP/ceiling.out" \
        2>"$TMP/ceiling.err" </dev/null &
    CP=$!
    RUNNING[$CP]=live_ceiling
    for _ in $(seq 1 100); do grep -q ready "$TMP/ceiling.out" && break; sleep 0.1; done
    grep -q ready "$TMP/ceiling.out" || { cat "$TMP/ceiling.err" >&2; die "live_ceiling did not start"; }
    live_run ceiling "$CPORT" "$CP" 2000000
    halt "$CP"

    P=$TMP/plus7d.txt C=$TMP/ceiling.txt
    json couriers_live points_per_s "$(calc "$(val "$P" ok) / $(val "$P" seconds)")" points/s \
        "ceiling: bare civetweb + libpq INSERT/pg_notify" "$(calc "$(val "$C" ok) / $(val "$C" seconds)")"
    json couriers_live stored_points "$(val "$P" stored)" rows "ceiling: bare civetweb + libpq INSERT/pg_notify" \
        "$(val "$C" stored)"
    json couriers_live latency_p50_ms "$(val "$P" lat_p50_ms)" ms "ceiling: bare civetweb + libpq INSERT/pg_notify" \
        "$(val "$C" lat_p50_ms)"
    json couriers_live latency_p99_ms "$(val "$P" lat_p99_ms)" ms "ceiling: bare civetweb + libpq INSERT/pg_notify" \
        "$(val "$C" lat_p99_ms)"
    json couriers_live frames_matched "$(val "$P" matched)" frames "ceiling: bare civetweb + libpq INSERT/pg_notify" \
        "$(val "$C" matched)"
    cpu() { calc "$(val "$1" cpu_ticks) / $HZ * 1e6 / max(1, $(val "$1" stored))"; }
    json couriers_live cpu_us_per_point "$(cpu "$P")" us "ceiling: bare civetweb + libpq INSERT/pg_notify" "$(cpu "$C")"
fi

# ---------------------------------------------------------- assignment, routes
if want assign; then
    log "assign: $NDEL deliveries today, $NSHIFT couriers on shift, capacity $CAP, batches of $BATCH"
    sql -v ndel="$NDEL" -v ncour="$NSHIFT" -f "$HERE/load_assign.sql" >&2
    "$BUILD/bench/couriers_assign_route" "$DB" "$CAP" "$BATCH" >"$TMP/assign.txt" 2>"$TMP/assign.err" ||
        { cat "$TMP/assign.err" >&2; die "assign_route failed"; }
    log "batches: $(tr '\n' ' ' <"$TMP/assign.txt")"
    # the peer: the same state again, one call with limit = every delivery
    sql -c "UPDATE deliveries SET courier_id = NULL, stage = 'new', card_pending = false, card_gen = 0,
                                  assigned_at = NULL, pin = NULL"
    sql -c "VACUUM ANALYZE deliveries"
    "$BUILD/bench/couriers_assign_route" "$DB" "$CAP" "$NDEL" >"$TMP/assign1.txt" 2>"$TMP/assign1.err" ||
        { cat "$TMP/assign1.err" >&2; die "assign_route (one call) failed"; }
    log "one call: $(tr '\n' ' ' <"$TMP/assign1.txt")"
    A=$TMP/assign.txt
    json couriers_assign assign_s "$(val "$A" assign_s)" s "one call with limit $NDEL" "$(val "$TMP/assign1.txt" assign_s)"
    json couriers_assign assigned "$(val "$A" assigned)" deliveries "one call with limit $NDEL" \
        "$(val "$TMP/assign1.txt" assigned)"
    json couriers_route total_km "$(val "$A" route_km)" km "nearest neighbour (baseline)" "$(val "$A" nn_km)"
    json couriers_route ratio_to_nn "$(calc "$(val "$A" route_km) / $(val "$A" nn_km)")" ratio \
        "nearest neighbour (baseline)" 1.0
fi
