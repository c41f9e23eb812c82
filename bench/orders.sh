#!/usr/bin/env bash
# bench/orders.sh — orders benchmarks of plus7d, each figure beside its
# peer or ceiling measured in the same run on the same machine.
#
# Purpose: one JSON line per figure on stdout:
#   {"bench":"…","metric":"…","value":V,"unit":"…","peer":"…","peer_value":P}
#
#  orders_intake — BENCH_ORDERS_EVENTS (10,000) logistics events over
#    EVENTS/5 postings (created → accepted → in_transit → at_pickup_point →
#    delivered), each posting with one Telegram subscriber, POSTed to
#    plus7d's /api/logistics/events in signed requests of
#    BENCH_ORDERS_BATCH (100) events from BENCH_ORDERS_CONC (4) concurrent
#    senders (bench/orders/logi_load.c; each sender owns a quarter of the
#    postings and sends their steps in order). events_per_s: events taken
#    (200) per second of wall time. Peer: the same rows, batches and
#    concurrency inserted by libpq with the webhook's own statement
#    (INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING RETURNING)
#    into a twin table — the database's ceiling for the intake.
#    applied_per_s: events from the first POST until the last one is
#    applied by the order actors (status, history, notification queued),
#    beside the same libpq ceiling. applied_per_s_<N>_users: the same for
#    BENCH_ORDERS_USERS_EVENTS (1,000) more events once BENCH_ORDERS_USERS
#    (100,000; 0 = skip) registered people (users rows) exist, beside
#    applied_per_s without them from the same run.
#  orders_notify_latency — p50/p99 of notify_outbox.created_at −
#    logistics_inbox.received_at (the time from the event being stored to
#    its notification being queued, both on the database's clock), beside
#    the ceiling: p50/p99 of the intake request itself (POST to 200).
#    burst_*: over the 10,000 events above (they arrive faster than they
#    are applied, so this is mostly time in the backlog); paced_*: over
#    BENCH_ORDERS_PACED_EVENTS (2,000) more events sent at
#    BENCH_ORDERS_PACED_RATE (500/s, below the apply rate) in requests of 10
#    from 2 senders — the latency of one event when nothing queues.
#  orders_delivery — Telegram messages per second the notifier delivers to
#    tgsim (flood limits ON: 30 in any 1-second window — tgsim --rate-global-strict — and 1/s per chat) over
#    BENCH_ORDERS_DELIVERY_SECONDS, as a ratio of PLUS7_TG_RATE (ceiling
#    1.0; goal ≥ 0.9), and the 429 answers tgsim gave (goal 0). Printed
#    with "value":null and a note when the build has no notifier.
#  orders_tracking_lookup — with BENCH_ORDERS_TRACK (1,000,000) orders and
#    3 history rows each in the database (one INSERT ... SELECT
#    generate_series each), p50/p99 of the dialog's order lookup as the
#    conversation runs it (the SQL of CONV_NEED_ORDER in
#    actors/conversation/conv_lookups.c, compiled into
#    bench/orders/track_lookup.c, prepared once per connection as rt_pg
#    does) for random postings, beside a plain indexed SELECT * FROM
#    orders WHERE posting_number = $1 of the same postings sent unnamed,
#    interleaved. (stderr also shows our query unnamed, planned on every
#    execution: what planning costs.)
# V and P are medians over BENCH_REPEAT runs (default 3). Progress and
# diagnostics go to stderr. What the figures mean: docs/benchmarks.md,
# section "Orders".
#
# Env: PLUS7_DB (key=value conninfo of the ./dev cluster; the script
# creates and finally drops its own database plus7_bench_orders there),
# BUILD (meson build dir, default build; plus7d and tgsim are built if
# missing), BENCH_REPEAT, BENCH_ORDERS_EVENTS, BENCH_ORDERS_BATCH,
# BENCH_ORDERS_CONC, BENCH_ORDERS_PACED_EVENTS, BENCH_ORDERS_PACED_RATE,
# BENCH_ORDERS_USERS, BENCH_ORDERS_USERS_EVENTS,
# BENCH_ORDERS_TG_RATE (PLUS7_TG_RATE, default 30),
# BENCH_ORDERS_DELIVERY_SECONDS (default 30), BENCH_ORDERS_TRACK,
# BENCH_ORDERS_LOOKUPS (pairs per run, default 20000), BENCH_ONLY (subset
# of: intake lookup), BENCH_KEEP (non-empty: keep the temporary directory).
#
# Run by `./dev bench orders`. Exit status 0 when every figure that can be
# measured was; 1 otherwise. Processes: every process it starts is stopped
# by its pid on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
REPEAT=${BENCH_REPEAT:-3}
NEVENTS=${BENCH_ORDERS_EVENTS:-10000}
BATCH=${BENCH_ORDERS_BATCH:-100}
CONC=${BENCH_ORDERS_CONC:-4}
RATE=${BENCH_ORDERS_TG_RATE:-30}
DELIVERY_SECS=${BENCH_ORDERS_DELIVERY_SECONDS:-30}
PACED_EVENTS=${BENCH_ORDERS_PACED_EVENTS:-2000}
PACED_RATE=${BENCH_ORDERS_PACED_RATE:-500}
PACED_BATCH=10
NUSERS=${BENCH_ORDERS_USERS:-100000}
USERS_EVENTS=${BENCH_ORDERS_USERS_EVENTS:-1000}
NORDERS=${BENCH_ORDERS_TRACK:-1000000}
LOOKUPS=${BENCH_ORDERS_LOOKUPS:-20000}
ONLY=${BENCH_ONLY:-intake lookup}
NEV=5                                   # events per posting
NPOST=$((NEVENTS / NEV))
DBNAME=plus7_bench_orders
TOKEN=5000000002:bench-orders
SECRET=bench-logistics-$(od -An -N16 -tx1 /dev/urandom | tr -d " \n")
CHAT0=610000000                         # subscriber chats: CHAT0 + run * 20000 (+ 10000 paced) + posting

log() { printf 'orders.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

TMP=$(mktemp -d /tmp/plus7-bench-orders.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [[ -n ${DB:-} ]] && psql_admin -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null 2>&1
    if [[ -n ${BENCH_KEEP:-} ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# stop PID — SIGTERM, SIGKILL after 15 s; forget the pid.
stop() {
    local pid=$1 i keep=() p
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "pid $pid ignored SIGTERM: SIGKILL"; kill -9 "$pid" 2>/dev/null || true; }
    wait "$pid" 2>/dev/null || true
    for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

# ------------------------------------------------------------------ checks
for c in psql cc curl python3 pkg-config; do command -v $c >/dev/null || die "$c is missing"; done
[[ -n ${PLUS7_DB:-} ]] || die "PLUS7_DB is not set (a libpq conninfo; ./dev bench sets it)"
[[ $PLUS7_DB != postgres*://* ]] || die "PLUS7_DB must be a key=value conninfo (got a URI)"
((NPOST >= CONC && NPOST <= 9999)) || die "BENCH_ORDERS_EVENTS must give 5 × (BENCH_ORDERS_CONC .. 9999) events"
((REPEAT >= 1 && REPEAT <= 9)) || die "BENCH_REPEAT must be 1..9"

if [[ ! -x $BUILD/plus7d || ! -x $BUILD/tools/tgsim/tgsim ]]; then
    if [[ ! -f $BUILD/build.ninja ]]; then
        log "configuring $BUILD (release)"
        meson setup "$BUILD" "$ROOT" --buildtype=release >&2
    fi
    ninja -C "$BUILD" plus7d tools/tgsim/tgsim >&2 || die "building plus7d and tgsim failed"
fi
PLUS7D=$BUILD/plus7d
TGSIM=$BUILD/tools/tgsim/tgsim
buildtype=$(python3 -c 'import json,sys
for o in json.load(open(sys.argv[1])):
    if o["name"] == "buildtype": print(o["value"])' "$BUILD/meson-info/intro-buildoptions.json" 2>/dev/null || echo unknown)
[[ $buildtype == release ]] || log "warning: $BUILD is a '$buildtype' build, not release"

log "compiling bench/orders/*.c into $TMP"
cc -O2 -std=gnu11 -Wall -Wextra -I "$ROOT/bench" -o "$TMP/logi_load" "$ROOT/bench/orders/logi_load.c" \
    $(pkg-config --cflags --libs libcurl libsodium libpq) -lpthread >&2 || die "compiling logi_load failed"
cc -O2 -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -I "$ROOT/bench" -I "$ROOT/actors/conversation" \
    -I "$ROOT/actors/common" -I "$ROOT/actors/texts" -I "$ROOT/actors/telegram" -I "$ROOT/runtime" \
    -o "$TMP/track_lookup" "$ROOT/bench/orders/track_lookup.c" "$ROOT/actors/conversation/conv_lookups.c" \
    $(pkg-config --cflags --libs libpq libcjson) >&2 || die "compiling track_lookup failed"

# ---------------------------------------------------------------- database
psql_admin() { PGOPTIONS='-c client_min_messages=warning' psql "$PLUS7_DB" -X -q -v ON_ERROR_STOP=1 "$@"; }
DB="$PLUS7_DB dbname=$DBNAME"      # a later keyword wins in a conninfo
sql() { PGOPTIONS='-c client_min_messages=warning' psql "$DB" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
psql_admin -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null
psql_admin -c "CREATE DATABASE $DBNAME" >/dev/null
PLUS7_DB=$DB "$PLUS7D" migrate >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log" >&2; die "plus7d migrate failed"; }
sql -c "CREATE TABLE logistics_inbox_peer (LIKE logistics_inbox INCLUDING ALL)"

# --------------------------------------------------------------- results
# rec NAME KEY VALUE — one figure of one run; med NAME KEY — the median.
rec() { echo "$2 $3" >>"$TMP/$1.res"; }
med() {
    local v
    v=$(awk -v k="$2" '$1 == k {print $2}' "$TMP/$1.res" 2>/dev/null | sort -g)
    [[ -n $v ]] || { echo null; return 0; }
    awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}' <<<"$v"
}
num() { if [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then printf "$2" "$1"; else printf null; fi; }
json_str() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]), end="")' "$1"; }
# jget FILE KEY — a number from the one-line JSON object in FILE.
jget() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
# emit BENCH METRIC VALUE UNIT PEER PEER_VALUE FORMAT [NOTE]
emit() {
    local note=""
    [[ -n ${8:-} ]] && note=",\"note\":$(json_str "$8")"
    printf '{"bench":"%s","metric":"%s","value":%s,"unit":"%s","peer":%s,"peer_value":%s%s}\n' \
        "$1" "$2" "$(num "$3" "$7")" "$4" "$(json_str "$5")" "$(num "$6" "$7")" "$note"
}
FAILED=0

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ------------------------------------------------------------------ intake
TGSIM_URL='' P7_URL=''
start_services() {
    "$TGSIM" --listen 127.0.0.1:0 --token "$TOKEN" --rate-global 30:30 --rate-global-strict >"$TMP/tgsim.out" 2>"$TMP/tgsim.err" </dev/null &
    TGSIM_PID=$!
    PIDS+=("$TGSIM_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        TGSIM_URL=$(sed -n 's/^tgsim listening on \(http:[^ ]*\)$/\1/p' "$TMP/tgsim.out" 2>/dev/null)
        [[ -n $TGSIM_URL ]] && break
        sleep 0.1
    done
    [[ -n $TGSIM_URL ]] || { cat "$TMP/tgsim.err" >&2; die "tgsim did not start"; }
    local port; port=$(free_port)
    P7_URL=http://127.0.0.1:$port
    env PLUS7_DB="$DB" PLUS7_LISTEN="127.0.0.1:$port" PLUS7_TG_TOKEN="$TOKEN" PLUS7_TG_API="$TGSIM_URL" \
        PLUS7_TG_MODE=polling PLUS7_TG_RATE="$RATE" PLUS7_LOGISTICS_SECRET="$SECRET" PLUS7_LOG_LEVEL=warn \
        "$PLUS7D" serve >"$TMP/plus7d.out" 2>"$TMP/plus7d.err" </dev/null &
    P7_PID=$!
    PIDS+=("$P7_PID")
    for ((i = 0; i < 150; i++)); do
        [[ $(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$P7_URL/healthz") == 200 ]] && return 0
        kill -0 "$P7_PID" 2>/dev/null || break
        sleep 0.1
    done
    tail -n 20 "$TMP/plus7d.err" >&2
    die "plus7d did not become ready"
}

# drain PREFIX TIMEOUT — waits until the run's events are all applied.
drain() {
    local deadline=$((SECONDS + $2)) left
    while :; do
        left=$(sql -c "SELECT count(*) FROM logistics_inbox WHERE posting_number LIKE '$1-%' AND processed_at IS NULL")
        ((left == 0)) && return 0
        ((SECONDS < deadline)) || { log "$left events of $1 still unapplied after $2 s"; return 1; }
        sleep 0.2
    done
}

have_notifier() { [[ $(sql -c "SELECT count(*) FROM schema_migrations WHERE name LIKE '%notify%'") != 0 ]]; }

# subscribe PREFIX NPOST CHAT_BASE — one subscriber chat per posting
# (tgsim users too when the notifier will deliver).
subscribe() {
    sql -c "INSERT INTO order_subscribers (posting_number, chat_id)
            SELECT '$1-' || lpad(k::text, 4, '0') || '-1', $3 + k FROM generate_series(1, $2) k"
    if ((NOTIFIER)); then "$TMP/logi_load" tgusers "$TGSIM_URL" $(($3 + 1)) "$2" >&2 || FAILED=1; fi
}

# latency PREFIX EXPECTED — "count p50 p99" (ms) of notify_outbox.created_at
# − logistics_inbox.received_at over the notifications of PREFIX.
latency() {
    local out cnt
    out=$(sql -F ' ' -c "SELECT count(*),
                         round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2),
                         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2)
                    FROM (SELECT extract(epoch FROM n.created_at - i.received_at) * 1000 AS ms
                            FROM notify_outbox n JOIN logistics_inbox i
                              ON i.posting_number = n.posting_number AND i.status = n.event
                           WHERE n.posting_number LIKE '$1-%') x")
    read -r cnt _ <<<"$out"
    ((cnt == $2)) || { log "$1: $cnt notifications queued, expected $2"; FAILED=1; }
    echo "$out"
}

# ticks PID... — utime+stime (clock ticks) summed over the live pids.
ticks() {
    local p t sum=0
    for p in "$@"; do
        t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
        sum=$((sum + ${t:-0}))
    done
    echo "$sum"
}
# pg_pids — PostgreSQL processes working for plus7d: our database's
# backends, the WAL writer, checkpointer and background writer.
pg_pids() {
    sql -c "SELECT pid FROM pg_stat_activity
             WHERE (datname = current_database() AND pid <> pg_backend_pid())
                OR backend_type IN ('walwriter', 'checkpointer', 'background writer')"
}

# http_run TAG PREFIX NPOST BATCH CONC RATE — webhook load, drained; the
# CPU of plus7d and of PostgreSQL from the first POST until every event is
# applied goes to stderr (µs per event).
http_run() {
    local pgp a0 b0 a1 b1 hz n
    hz=$(getconf CLK_TCK)
    mapfile -t pgp < <(pg_pids)
    a0=$(ticks "$P7_PID") b0=$(ticks "${pgp[@]}")
    "$TMP/logi_load" http "$P7_URL/api/logistics/events" "$SECRET" "$2" "$3" "$NEV" "$4" "$5" "$T0" "$6" \
        >"$TMP/$1.json" || { log "webhook load $1 failed"; FAILED=1; return 1; }
    cat "$TMP/$1.json" >&2
    drain "$2" 300 || FAILED=1
    a1=$(ticks "$P7_PID") b1=$(ticks "${pgp[@]}")
    n=$(($3 * NEV))
    log "$1: CPU per event until applied: plus7d $(((a1 - a0) * 1000000 / hz / n)) µs, PostgreSQL $(((b1 - b0) * 1000000 / hz / n)) µs"
}

NOTIFIER=0 T0=0
run_intake() {
    start_services
    have_notifier && NOTIFIER=1
    T0=$(($(date +%s) - 86400))
    local r wp pp qp m cnt p50 p99 v
    local npaced=$((PACED_EVENTS / NEV))
    for ((r = 1; r <= REPEAT; r++)); do
        wp=5100000$r pp=5200000$r qp=5300000$r
        subscribe "$wp" "$NPOST" $((CHAT0 + r * 20000))
        subscribe "$qp" "$npaced" $((CHAT0 + r * 20000 + 10000))
        local order=(http sql)
        ((r % 2 == 0)) && order=(sql http)
        for m in "${order[@]}"; do
            if [[ $m == http ]]; then
                log "run $r: $NEVENTS events to the webhook ($CONC senders, batches of $BATCH, as fast as they go)"
                http_run "burst.$r" "$wp" "$NPOST" "$BATCH" "$CONC" 0 || continue
                rec intake http_eps "$(jget "$TMP/burst.$r.json" events_per_s)"
                rec intake http_p50 "$(jget "$TMP/burst.$r.json" req_p50_ms)"
                rec intake http_p99 "$(jget "$TMP/burst.$r.json" req_p99_ms)"
                v=$(sql -c "SELECT round(count(*) / extract(epoch FROM max(processed_at) - min(received_at))::numeric, 1)
                              FROM logistics_inbox WHERE posting_number LIKE '$wp-%'")
                rec intake applied_eps "$v"
                read -r cnt p50 p99 <<<"$(latency "$wp" "$NEVENTS")"
                log "run $r: applied $v events/s; $cnt notifications queued, p50 $p50 ms, p99 $p99 ms after the event was stored"
                rec latency burst_p50 "$p50"
                rec latency burst_p99 "$p99"
            else
                log "run $r: the same $NEVENTS rows through libpq ($CONC connections, batches of $BATCH)"
                "$TMP/logi_load" sql "$DB" logistics_inbox_peer "$pp" "$NPOST" "$NEV" "$BATCH" "$CONC" "$T0" \
                    >"$TMP/sql.$r.json" || { log "libpq load failed"; FAILED=1; continue; }
                cat "$TMP/sql.$r.json" >&2
                rec intake sql_eps "$(jget "$TMP/sql.$r.json" events_per_s)"
            fi
        done
        log "run $r: $PACED_EVENTS events paced at $PACED_RATE/s (2 senders, batches of $PACED_BATCH)"
        if http_run "paced.$r" "$qp" "$npaced" "$PACED_BATCH" 2 "$PACED_RATE"; then
            rec latency paced_req_p50 "$(jget "$TMP/paced.$r.json" req_p50_ms)"
            rec latency paced_req_p99 "$(jget "$TMP/paced.$r.json" req_p99_ms)"
            read -r cnt p50 p99 <<<"$(latency "$qp" "$PACED_EVENTS")"
            log "run $r: paced: $cnt notifications queued, p50 $p50 ms, p99 $p99 ms after the event was stored"
            rec latency paced_p50 "$p50"
            rec latency paced_p99 "$p99"
        fi
    done
    # --- the same path with a realistic number of registered people
    if ((NUSERS > 0)); then
        local up=54000001 un=$((USERS_EVENTS / NEV))
        log "adding $NUSERS registered people (users rows); $USERS_EVENTS events to the webhook again"
        sql -c "INSERT INTO users (tg_user_id, chat_id, phone, first_name)
                SELECT 800000000 + i, 800000000 + i, '+7959' || lpad(i::text, 7, '0'), 'Клиент'
                  FROM generate_series(1, $NUSERS) i" -c "ANALYZE users"
        subscribe "$up" "$un" $((CHAT0 + 190000))
        if http_run "users" "$up" "$un" "$BATCH" "$CONC" 0; then
            v=$(sql -c "SELECT round(count(*) / extract(epoch FROM max(processed_at) - min(received_at))::numeric, 1)
                          FROM logistics_inbox WHERE posting_number LIKE '$up-%'")
            read -r cnt p50 p99 <<<"$(latency "$up" "$USERS_EVENTS")"
            log "with $NUSERS users: applied $v events/s; notifications p50 $p50 ms, p99 $p99 ms"
            rec users applied_eps "$v"
        fi
    fi

    emit orders_intake events_per_s "$(med intake http_eps)" "events/s" \
        "libpq INSERT ... unnest (the webhook's statement), same rows, batches and concurrency" \
        "$(med intake sql_eps)" %.0f
    emit orders_intake applied_per_s "$(med intake applied_eps)" "events/s" \
        "libpq INSERT ... unnest, same rows (ceiling)" "$(med intake sql_eps)" %.0f
    ((NUSERS > 0)) && emit orders_intake "applied_per_s_${NUSERS}_users" "$(med users applied_eps)" "events/s" \
        "applied_per_s of the runs above, with no users rows (same run)" "$(med intake applied_eps)" %.0f
    emit orders_notify_latency burst_p50 "$(med latency burst_p50)" ms "intake request POST to 200, p50 (ceiling)" \
        "$(med intake http_p50)" %.1f
    emit orders_notify_latency burst_p99 "$(med latency burst_p99)" ms "intake request POST to 200, p99 (ceiling)" \
        "$(med intake http_p99)" %.1f
    emit orders_notify_latency paced_p50 "$(med latency paced_p50)" ms \
        "intake request POST to 200 at $PACED_RATE events/s, p50 (ceiling)" "$(med latency paced_req_p50)" %.1f
    emit orders_notify_latency paced_p99 "$(med latency paced_p99)" ms \
        "intake request POST to 200 at $PACED_RATE events/s, p99 (ceiling)" "$(med latency paced_req_p99)" %.1f

    # --- delivery of the queued notifications, tgsim flood limits on
    if ((NOTIFIER == 0)); then
        local note="skipped: no notifier in this build (no 'notify' migration); the notifications stay queued in notify_outbox"
        emit orders_delivery rate_ratio null ratio "PLUS7_TG_RATE=$RATE (ceiling)" 1.0 %.3f "$note"
        emit orders_delivery tg_429 null count "goal" 0 %d "$note"
    else
        local b0 b1 q0 q1 s0 s1
        sleep 5
        b0=$(curl -s "$TGSIM_URL/control/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bot_messages"])')
        s0=$(date +%s.%N)
        sleep "$DELIVERY_SECS"
        b1=$(curl -s "$TGSIM_URL/control/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bot_messages"])')
        s1=$(date +%s.%N)
        q1=$(curl -s "$TGSIM_URL/control/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["too_many_requests"])')
        local sent rate ratio
        log "tgsim stats: $(curl -s "$TGSIM_URL/control/stats")"
        sent=$(sql -c "SELECT count(*) FROM notify_outbox WHERE status = 'sent'")
        rate=$(python3 -c "print(($b1 - $b0) / ($s1 - $s0))")
        ratio=$(python3 -c "print($rate / $RATE)")
        log "delivery: $((b1 - b0)) messages in $(python3 -c "print(round($s1 - $s0, 1))") s ($rate/s); $sent notifications sent so far; 429s: $q1"
        emit orders_delivery rate_ratio "$ratio" ratio "PLUS7_TG_RATE=$RATE (ceiling)" 1.0 %.3f
        emit orders_delivery tg_429 "$q1" count "goal" 0 %d
    fi
    stop "$P7_PID"
    stop "$TGSIM_PID"
}

# ------------------------------------------------------------------ lookup
run_lookup() {
    log "generating $NORDERS orders with 3 history rows each"
    local t=$SECONDS
    sql -c "INSERT INTO orders (posting_number, status, status_at, status_source, customer_phone, items,
                                pickup_point, storage_until, updated_at)
            SELECT (10000000 + i)::text || '-' || lpad((i % 10000)::text, 4, '0') || '-1',
                   (ARRAY['created','accepted','in_transit','at_pickup_point','out_for_delivery','delivered'])[1 + i % 6],
                   now() - (i % 100000) * interval '1 minute', 'logistics',
                   '+7949' || lpad((i % 10000000)::text, 7, '0'),
                   '[{\"name\":\"Товар ' || i || '\",\"quantity\":1}]', 'ПВЗ ' || (i % 500),
                   now() + interval '7 days', now()
              FROM generate_series(1, $NORDERS) i"
    sql -c "INSERT INTO order_history (posting_number, status, source, at, event_id, applied)
            SELECT (10000000 + i)::text || '-' || lpad((i % 10000)::text, 4, '0') || '-1',
                   (ARRAY['created','accepted','in_transit'])[s], 'logistics',
                   now() - (i % 100000) * interval '1 minute' - (4 - s) * interval '1 hour', 'g-' || i || '-' || s, true
              FROM generate_series(1, $NORDERS) i, generate_series(1, 3) s"
    sql -c "VACUUM ANALYZE orders" -c "VACUUM ANALYZE order_history"
    log "generated in $((SECONDS - t)) s; $LOOKUPS lookups per run"
    local r
    for ((r = 1; r <= REPEAT; r++)); do
        "$TMP/track_lookup" "$DB" "$NORDERS" "$LOOKUPS" >"$TMP/lookup.$r.json" || { log "track_lookup failed"; FAILED=1; continue; }
        cat "$TMP/lookup.$r.json" >&2
        local k
        for k in ours_p50_us ours_p99_us peer_p50_us peer_p99_us; do rec lookup "$k" "$(jget "$TMP/lookup.$r.json" "$k")"; done
    done
    emit orders_tracking_lookup p50 "$(med lookup ours_p50_us)" us \
        "indexed SELECT * FROM orders WHERE posting_number = \$1 ($NORDERS orders)" "$(med lookup peer_p50_us)" %.1f
    emit orders_tracking_lookup p99 "$(med lookup ours_p99_us)" us \
        "indexed SELECT * FROM orders WHERE posting_number = \$1 ($NORDERS orders)" "$(med lookup peer_p99_us)" %.1f
}

want intake && run_intake
want lookup && run_lookup
exit $FAILED
