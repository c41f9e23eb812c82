#!/usr/bin/env bash
# bench/telegram.sh — Telegram benchmarks of plus7d, side by side with peers.
#
# Purpose: two benchmarks, one JSON line per figure on stdout:
#   {"bench":"…","metric":"…","value":V,"unit":"…","peer":"…","peer_value":P}
#
#  tg_webhook_c64, tg_webhook_c100 — webhook intake. wrk (one thread, 64 or
#    100 connections, BENCH_TG_SECONDS each) POSTs distinct ~600-byte
#    private-chat text updates (bench/telegram/post.lua) to plus7d in webhook
#    mode, which stores each update in tg_inbox before its 200 and then
#    processes it (conversation actor, one transaction per update, a reply
#    queued in tg_outbox and sent at PLUS7_TG_RATE to tgsim). The peer is a
#    grammY webhook echo bot (bench/telegram/grammy_echo.js, webhook-reply
#    mode) under the same load, in the same run, runs alternating. V and P are
#    medians over BENCH_REPEAT runs. CPU is read from /proc/PID/stat of the
#    plus7d (or node) process only, before and after the wrk run, divided by
#    the requests wrk completed; extra lines add the CPU until every update
#    is processed, and the PostgreSQL backends serving plus7d.
#    processed_per_s: updates fully processed per second (from the start of
#    the measured wrk run until the last update is processed) beside the
#    peer a team would pick for a bot with state: the same grammY bot with
#    its PostgreSQL session storage (@grammyjs/storage-psql, the session
#    read and written on every update, mode session-psql of
#    bench/telegram/grammy_echo.js), counted the same way (its
#    /processed counter, the session written); with the PostgreSQL
#    backends' CPU per update beside it.
#  tg_broadcast — BENCH_TG_BROADCAST bulk messages (tg_outbox rows, prio 1)
#    to as many started tgsim users, tgsim's flood limits ON (30 in any
#    1-second window: --rate-global-strict);
#    the ratio of the achieved rate to PLUS7_TG_RATE (peer: the ceiling,
#    1.0) and the number of 429 answers (goal 0).
#
# What each figure means and how to read it: docs/benchmarks.md, section
# "Telegram". Progress and diagnostics go to stderr.
#
# Env: PLUS7_DB (libpq key=value conninfo of the ./dev cluster; the script
# creates and finally drops its own database plus7_bench_telegram there),
# BUILD (meson build dir, default build; the targets plus7d and tgsim are
# built if missing), BENCH_REPEAT (default 3), BENCH_TG_SECONDS (default
# 10), BENCH_TG_WARMUP (seconds, default 2), BENCH_TG_CONNS (default
# "64 100"), BENCH_TG_CHATS (default 10000), BENCH_TG_BROADCAST (default
# 600), BENCH_TG_RATE (PLUS7_TG_RATE of the broadcast, default 30),
# BENCH_ONLY (subset of: webhook broadcast).
#
# Node.js: when `node` or `npm` is missing the script installs Debian's
# nodejs and npm (as root or through sudo); grammY, @grammyjs/storage-psql
# and pg come from the committed bench/telegram/package-lock.json (npm ci). Without Node the grammY figures
# are skipped with a JSON "note" and the script exits 1.
# BENCH_TG_NODE_INSTALL=0 forbids the installation.
#
# Run by `./dev bench telegram`. Exit status 0 when every figure was
# measured, 1 otherwise (what could run still prints its lines).
# Processes: every process it starts is stopped by its pid on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
REPEAT=${BENCH_REPEAT:-3}
SECS=${BENCH_TG_SECONDS:-10}
WARMUP=${BENCH_TG_WARMUP:-2}
CONNS=${BENCH_TG_CONNS:-64 100}
CHATS=${BENCH_TG_CHATS:-10000}
NBCAST=${BENCH_TG_BROADCAST:-600}
RATE=${BENCH_TG_RATE:-30}
ONLY=${BENCH_ONLY:-webhook broadcast}
DBNAME=plus7_bench_telegram
TOKEN=5000000001:bench-telegram
SECRET=bench-secret-$(od -An -N16 -tx1 /dev/urandom | tr -d " \n")
CHAT0=800000001         # intake chats CHAT0 .. CHAT0+CHATS-1
BCHAT0=900000001        # broadcast chats
DIR=$ROOT/bench/telegram
# civetweb holds a thread per keep-alive connection: keep well above wrk's.
# wrk connects from one address: the per-address limit follows the threads.
WEB_THREADS=128
for c in $CONNS; do ((c + 28 <= WEB_THREADS)) || WEB_THREADS=$((c + 28)); done
HZ=$(getconf CLK_TCK)

log() { printf 'telegram.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

TMP=$(mktemp -d /tmp/plus7-bench-tg.XXXXXX)
PIDS=()                 # every process we started and have not stopped yet
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [[ -n ${DB:-} ]] && psql_admin -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# stop PID — SIGTERM, then SIGKILL after 10 s; forget the pid.
stop() {
    local pid=$1 i
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "pid $pid ignored SIGTERM: SIGKILL"; kill -9 "$pid" 2>/dev/null || true; }
    wait "$pid" 2>/dev/null || true
    local keep=() p
    for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}
stop_all() { local p; for p in "${PIDS[@]}"; do stop "$p"; done; }

# ------------------------------------------------------------------ checks
command -v wrk >/dev/null || die "wrk is missing (apt-get install wrk)"
command -v psql >/dev/null || die "psql is missing (apt-get install postgresql-client)"
command -v python3 >/dev/null || die "python3 is missing"
command -v curl >/dev/null || die "curl is missing"
[[ -n ${PLUS7_DB:-} ]] || die "PLUS7_DB is not set (a libpq conninfo; ./dev bench sets it)"
[[ $PLUS7_DB != postgres*://* ]] || die "PLUS7_DB must be a key=value conninfo (got a URI)"

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

# ---------------------------------------------------------------- database
psql_admin() { PGOPTIONS='-c client_min_messages=warning' psql "$PLUS7_DB" -X -q -v ON_ERROR_STOP=1 "$@"; }
DB="$PLUS7_DB dbname=$DBNAME"      # a later keyword wins in a conninfo
sql() { PGOPTIONS='-c client_min_messages=warning' psql "$DB" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
psql_admin -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null
psql_admin -c "CREATE DATABASE $DBNAME" >/dev/null
PLUS7_DB=$DB "$PLUS7D" migrate >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log" >&2; die "plus7d migrate failed"; }

reset_tables() {
    sql -c "TRUNCATE tg_inbox, tg_outbox, conversations, users RESTART IDENTITY"
}

# ------------------------------------------------------------- measurement
# free_port [EXCEPT] — a free TCP port on 127.0.0.1 below the ephemeral
# range, so no outgoing connection (wrk's, libcurl's) can be holding it
# when a server binds it later.
free_port() {
    python3 - "${1:-0}" <<'PY'
import random, socket, sys
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(1000):
    p = random.randint(min(20000, lo - 1000), lo - 1)
    if p == int(sys.argv[1]):
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    sys.exit(0)
sys.exit("no free port below the ephemeral range")
PY
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

# kib PID FIELD — a /proc/PID/status field (VmHWM, VmRSS) in KiB.
kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

# pg_pids — the PostgreSQL processes that work for plus7d: the backends of
# our database and the WAL writer / checkpointer / background writer.
pg_pids() {
    sql -c "SELECT pid FROM pg_stat_activity
             WHERE (datname = current_database() AND pid <> pg_backend_pid())
                OR backend_type IN ('walwriter', 'checkpointer', 'background writer')"
}

# wrk_run OUT CONNS SECONDS URL BASE_UPDATE_ID — one wrk run, output in OUT.
wrk_run() {
    timeout $(($3 + 60)) wrk -t1 -c"$2" -d"$3s" --timeout 10s --latency -s "$DIR/post.lua" "$4" \
        -- "$SECRET" "$5" "$CHATS" "$CHAT0" >"$1" 2>&1 || { cat "$1" >&2; return 1; }
}

# wrk_parse FILE — "rps p50_ms p99_ms requests errors" from wrk's report.
wrk_parse() {
    awk '
    function ms(v) {
        if (v ~ /us$/) return v * 0.001
        if (v ~ /ms$/) return v + 0
        if (v ~ /m$/) return v * 60000
        if (v ~ /s$/) return v * 1000
        return v + 0
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    $1 == "Requests/sec:" { rps = $2 }
    $2 == "requests" && $3 == "in" { req = $1 }
    /Non-2xx or 3xx responses:/ { err += $NF }
    /Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
    END { printf "%s %s %s %s %d\n", rps, p50, p99, req, err }' "$1"
}

# rec NAME KEY VALUE — append one figure of one run.
rec() { echo "$2 $3" >>"$TMP/$1.out"; }

# med NAME KEY — median of KEY over the runs of NAME ("null" if none).
med() {
    local v
    v=$(awk -v k="$2" '$1 == k {print $2}' "$TMP/$1.out" 2>/dev/null | sort -g)
    [[ -n $v ]] || { echo null; return 0; }
    awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}' <<<"$v"
}
# sum NAME KEY — sum of KEY over the runs of NAME.
sum() { awk -v k="$2" '$1 == k {s += $2} END {print s + 0}' "$TMP/$1.out" 2>/dev/null || echo 0; }

num() {
    if [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then printf "$2" "$1"; else printf null; fi
}
# json_str S — S as a JSON string literal.
json_str() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]), end="")' "$1"; }

# emit BENCH METRIC VALUE UNIT PEER PEER_VALUE FORMAT [NOTE] — one JSON line.
emit() {
    local note=""
    [[ -n ${8:-} ]] && note=",\"note\":$(json_str "$8")"
    printf '{"bench":"%s","metric":"%s","value":%s,"unit":"%s","peer":%s,"peer_value":%s%s}\n' \
        "$1" "$2" "$(num "$3" "$7")" "$4" "$(json_str "$5")" "$(num "$6" "$7")" "$note"
}

# ------------------------------------------------------------------ tgsim
# tgsim_start NAME ARGS... — starts tgsim on a free port; sets TGSIM_PID
# and TGSIM_URL.
tgsim_start() {
    local name=$1 i; shift
    rm -f "$TMP/$name.out"
    "$TGSIM" --listen 127.0.0.1:0 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null &
    TGSIM_PID=$!
    PIDS+=("$TGSIM_PID")
    for ((i = 0; i < 100; i++)); do
        TGSIM_URL=$(sed -n 's/^tgsim listening on \(http:[^ ]*\)$/\1/p' "$TMP/$name.out" 2>/dev/null)
        [[ -n $TGSIM_URL ]] && return 0
        kill -0 "$TGSIM_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$TMP/$name.err" >&2
    log "tgsim did not start"
    return 1
}

# tgsim_users URL N FIRST_ID — creates N started private-chat users.
tgsim_users() {
    python3 - "$@" <<'EOF'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
n, first = int(sys.argv[2]), int(sys.argv[3])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
for i in range(n):
    body = json.dumps({"id": first + i, "first_name": "Клиент", "last_name": str(i),
                       "language_code": "ru", "started": True})
    c.request("POST", "/control/users", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("tgsim /control/users answered %d" % r.status)
EOF
}

# tgsim_stat URL KEY — one number from /control/stats.
tgsim_stat() {
    curl -s --max-time 10 "$1/control/stats" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# ----------------------------------------------------------------- plus7d
# p7_start NAME PORT TGSIM_URL [ENV...] — starts plus7d in webhook mode;
# sets P7_PID once it is serving and its webhook is registered.
p7_start() {
    local name=$1 port=$2 api=$3 i; shift 3
    env PLUS7_DB="$DB" PLUS7_LISTEN="127.0.0.1:$port" PLUS7_TG_TOKEN="$TOKEN" \
        PLUS7_TG_API="$api" PLUS7_TG_MODE=webhook PLUS7_TG_SECRET="$SECRET" \
        PLUS7_TG_WEBHOOK_URL="http://127.0.0.1:$port/telegram/webhook" \
        PLUS7_WEB_THREADS="$WEB_THREADS" PLUS7_WEB_CONNS_PER_ADDR="$WEB_THREADS" \
        PLUS7_LOG_LEVEL=warn "$@" "$PLUS7D" serve >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null &
    P7_PID=$!
    PIDS+=("$P7_PID")
    for ((i = 0; i < 150; i++)); do
        if [[ $(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz") == 200 &&
              $(curl -s --max-time 2 "$api/bot$TOKEN/getWebhookInfo") == *"127.0.0.1:$port/telegram/webhook"* ]]; then
            return 0
        fi
        kill -0 "$P7_PID" 2>/dev/null || break
        sleep 0.1
    done
    tail -n 20 "$TMP/$name.err" >&2
    log "plus7d did not become ready (webhook mode)"
    return 1
}

# p7_drain TIMEOUT_S — waits until every stored update is processed.
p7_drain() {
    local deadline=$((SECONDS + $1)) left
    while :; do
        left=$(sql -c "SELECT count(*) FROM tg_inbox WHERE processed_at IS NULL")
        ((left == 0)) && return 0
        ((SECONDS < deadline)) || { log "$left updates still unprocessed after $1 s"; return 1; }
        sleep 0.2
    done
}

# ------------------------------------------------------------------- node
NODE_OK=0 NODE_NOTE="" PEER_GRAMMY=grammy PEER_SESSION="grammy + @grammyjs/storage-psql"
node_setup() {
    if { ! command -v node >/dev/null || ! command -v npm >/dev/null; } && [[ ${BENCH_TG_NODE_INSTALL:-1} != 0 ]]; then
        log "node or npm is missing: installing Debian's nodejs and npm"
        local sudo=()
        [[ $(id -u) -eq 0 ]] || sudo=(sudo -n)
        if command -v apt-get >/dev/null; then
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                nodejs npm </dev/null >&2 ||
                { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
                  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
                      --no-install-recommends nodejs npm </dev/null >&2; } || true
        fi
    fi
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        if [[ ${BENCH_TG_NODE_INSTALL:-1} == 0 ]]; then
            NODE_NOTE="Node.js (node and npm) is missing and BENCH_TG_NODE_INSTALL=0: the grammY peer was not run"
        else
            NODE_NOTE="Node.js (node and npm) could not be installed: the grammY peer was not run"
        fi
        return 1
    fi
    log "npm ci in bench/telegram (grammY from the committed lockfile)"
    if ! (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error >&2); then
        if [[ -f $DIR/node_modules/grammy/package.json ]]; then
            log "npm ci failed: using the grammY already in bench/telegram/node_modules"
        else
            NODE_NOTE="npm ci of bench/telegram failed: the grammY peer was not run"
            return 1
        fi
    fi
    local gv nv
    gv=$(node -p 'require(process.argv[1]).version' "$DIR/node_modules/grammy/package.json") || {
        NODE_NOTE="grammY is not installed in bench/telegram/node_modules"; return 1; }
    nv=$(node --version)
    PEER_GRAMMY="grammy-$gv (node $nv, webhook reply)"
    local sv
    sv=$(node -p 'require(process.argv[1]).version' "$DIR/node_modules/@grammyjs/storage-psql/package.json") || {
        NODE_NOTE="@grammyjs/storage-psql is not installed in bench/telegram/node_modules"; return 1; }
    PEER_SESSION="grammy-$gv + @grammyjs/storage-psql-$sv (node $nv, session read and written per update)"
    NODE_OK=1
}

# pg_env — the PG* variables (node-postgres reads them) of the conninfo $DB.
pg_env() {
    python3 - "$DB" <<'PY'
import shlex, sys
names = {"host": "PGHOST", "port": "PGPORT", "dbname": "PGDATABASE", "user": "PGUSER",
         "password": "PGPASSWORD"}
kv = dict(t.partition("=")[::2] for t in shlex.split(sys.argv[1]))
print(" ".join(f"{names[k]}={v}" for k, v in kv.items() if k in names))
PY
}

# grammy_start PORT [MODE] — starts the echo bot (MODE webhook-reply by
# default, or session-psql); sets G_PID once it listens.
grammy_start() {
    local i mode=${2:-webhook-reply} penv=()
    [[ $mode == session-psql ]] && read -ra penv < <(pg_env)
    rm -f "$TMP/grammy.out"    # the previous run's "listening" line must not count
    env "${penv[@]}" node "$DIR/grammy_echo.js" "$1" "$TOKEN" "$SECRET" "$mode" >"$TMP/grammy.out" 2>"$TMP/grammy.err" </dev/null &
    G_PID=$!
    PIDS+=("$G_PID")
    for ((i = 0; i < 100; i++)); do
        grep -qs '^listening on' "$TMP/grammy.out" && return 0
        kill -0 "$G_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$TMP/grammy.err" >&2
    log "the grammY bot did not start"
    return 1
}

# ------------------------------------------------------------- webhook
NEXT_ID=1000000         # update ids never repeat within a run
# next_base — sets BASE to a fresh range of 10 million update ids (not in
# a subshell: the counter must advance).
next_base() { NEXT_ID=$((NEXT_ID + 10000000)); BASE=$NEXT_ID; }

# ours_run CONNS — one measured plus7d run: fresh tables, fresh process,
# warm-up, drain, measured wrk run, drain again, stop.
ours_run() {
    local c=$1 url="http://127.0.0.1:$P7_PORT/telegram/webhook" w n
    reset_tables
    p7_start p7 "$P7_PORT" "$TGSIM_URL" || return 1
    if ((WARMUP > 0)); then
        next_base; wrk_run "$TMP/warm.txt" "$c" "$WARMUP" "$url" "$BASE" || return 1
        p7_drain 60 || return 1
    fi
    local pg t0 t1 t2 g0 g1 g2 s0 s1 s2
    pg=$(pg_pids | tr '\n' ' ')
    n=$(sql -c "SELECT count(*) FROM tg_inbox")
    t0=$(ticks "$P7_PID"); g0=$(ticks $pg); s0=$(date +%s.%N)
    next_base; wrk_run "$TMP/wrk.txt" "$c" "$SECS" "$url" "$BASE" || return 1
    t1=$(ticks "$P7_PID"); g1=$(ticks $pg); s1=$(date +%s.%N)
    local hwm; hwm=$(kib "$P7_PID" VmHWM)
    p7_drain 120 || return 1
    t2=$(ticks "$P7_PID"); g2=$(ticks $pg); s2=$(date +%s.%N)
    local stored replies
    stored=$(sql -c "SELECT count(*) FROM tg_inbox")
    replies=$(sql -c "SELECT count(*) FROM tg_outbox")
    stop "$P7_PID"
    read -r rps p50 p99 req err < <(wrk_parse "$TMP/wrk.txt")
    [[ -n $req && $req -gt 0 ]] || { cat "$TMP/wrk.txt" >&2; log "wrk completed no request"; return 1; }
    ((stored - n >= req - err)) || log "warning: $((stored - n)) updates stored, wrk counted $req answers ($err errors)"
    ((replies == stored)) || log "note: $replies outbox rows for $stored updates"
    local k=ours_c$c
    rec "$k" rps "$rps"; rec "$k" p50 "$p50"; rec "$k" p99 "$p99"; rec "$k" err "$err"
    rec "$k" cpu "$(awk -v t=$((t1 - t0)) -v n="$req" -v hz="$HZ" 'BEGIN {print t / hz / n * 1e6}')"
    rec "$k" cpu_all "$(awk -v t=$((t2 - t0)) -v n="$req" -v hz="$HZ" 'BEGIN {print t / hz / n * 1e6}')"
    rec "$k" cpu_db "$(awk -v t=$((t2 - t0 + g2 - g0)) -v n="$req" -v hz="$HZ" 'BEGIN {print t / hz / n * 1e6}')"
    rec "$k" rss "$(awk -v k="$hwm" 'BEGIN {print k / 1024}')"
    rec "$k" done_rps "$(awk -v n=$((stored - n)) -v a="$s0" -v b="$s2" 'BEGIN {print n / (b - a)}')"
    log "plus7d c=$c: $rps req/s p50 ${p50}ms p99 ${p99}ms errors $err;" \
        "cpu $(( (t1 - t0) * 1000 / HZ )) ms in wrk, $(( (t2 - t0) * 1000 / HZ )) ms until processed" \
        "($(awk -v a="$s1" -v b="$s2" 'BEGIN {printf "%.1f", b - a}') s drain), postgres $(( (g2 - g0) * 1000 / HZ )) ms;" \
        "rss ${hwm} KiB; stored $((stored - n)), replies queued $replies"
}

# grammy_run CONNS — one measured grammY run.
grammy_run() {
    local c=$1 url="http://127.0.0.1:$G_PORT/telegram/webhook"
    grammy_start "$G_PORT" || return 1
    if ((WARMUP > 0)); then next_base; wrk_run "$TMP/warm.txt" "$c" "$WARMUP" "$url" "$BASE" || return 1; fi
    local t0 t1
    t0=$(ticks "$G_PID")
    next_base; wrk_run "$TMP/wrk.txt" "$c" "$SECS" "$url" "$BASE" || return 1
    t1=$(ticks "$G_PID")
    local hwm; hwm=$(kib "$G_PID" VmHWM)
    stop "$G_PID"
    read -r rps p50 p99 req err < <(wrk_parse "$TMP/wrk.txt")
    [[ -n $req && $req -gt 0 ]] || { cat "$TMP/wrk.txt" >&2; log "wrk completed no request"; return 1; }
    local k=grammy_c$c
    rec "$k" rps "$rps"; rec "$k" p50 "$p50"; rec "$k" p99 "$p99"; rec "$k" err "$err"
    rec "$k" cpu "$(awk -v t=$((t1 - t0)) -v n="$req" -v hz="$HZ" 'BEGIN {print t / hz / n * 1e6}')"
    rec "$k" rss "$(awk -v k="$hwm" 'BEGIN {print k / 1024}')"
    log "grammY c=$c: $rps req/s p50 ${p50}ms p99 ${p99}ms errors $err;" \
        "cpu $(( (t1 - t0) * 1000 / HZ )) ms; rss ${hwm} KiB"
}

# grammy_processed — updates the session-psql bot has fully processed.
grammy_processed() { curl -s --max-time 5 "http://127.0.0.1:$G_PORT/processed"; }

# grammy_wait_processed TARGET TIMEOUT_S — until the processed count reaches
# TARGET or stops growing for 2 s; prints the last count.
grammy_wait_processed() {
    local deadline=$((SECONDS + $2)) last=-1 same=0 n
    while :; do
        n=$(grammy_processed); n=${n:-0}
        ((n >= $1)) && break
        if ((n == last)); then ((++same >= 10)) && break; else same=0; fi
        last=$n
        ((SECONDS < deadline)) || break
        sleep 0.2
    done
    echo "$n"
}

# grammy_session_run CONNS — one measured run of the grammY bot with its
# PostgreSQL session (fresh session table).
grammy_session_run() {
    local c=$1 url="http://127.0.0.1:$G_PORT/telegram/webhook"
    sql -c "DROP TABLE IF EXISTS grammy_sessions"
    grammy_start "$G_PORT" session-psql || return 1
    if ((WARMUP > 0)); then
        next_base; wrk_run "$TMP/warm.txt" "$c" "$WARMUP" "$url" "$BASE" || return 1
        read -r _ _ _ wreq werr < <(wrk_parse "$TMP/warm.txt")
        grammy_wait_processed $((wreq - werr)) 60 >/dev/null
    fi
    local pg t0 t1 t2 g0 g2 s0 s2 p0 p2
    pg=$(pg_pids | tr '\n' ' ')
    p0=$(grammy_processed)
    t0=$(ticks "$G_PID"); g0=$(ticks $pg); s0=$(date +%s.%N)
    next_base; wrk_run "$TMP/wrk.txt" "$c" "$SECS" "$url" "$BASE" || return 1
    t1=$(ticks "$G_PID")
    read -r rps p50 p99 req err < <(wrk_parse "$TMP/wrk.txt")
    [[ -n $req && $req -gt 0 ]] || { cat "$TMP/wrk.txt" >&2; log "wrk completed no request"; return 1; }
    p2=$(grammy_wait_processed $((p0 + req - err)) 120)
    t2=$(ticks "$G_PID"); g2=$(ticks $pg); s2=$(date +%s.%N)
    local hwm; hwm=$(kib "$G_PID" VmHWM)
    stop "$G_PID"
    ((p2 - p0 >= req - err)) || log "note: grammY processed $((p2 - p0)) of $((req - err)) answered updates"
    local k=gsess_c$c
    rec "$k" rps "$rps"; rec "$k" err "$err"
    rec "$k" done_rps "$(awk -v n=$((p2 - p0)) -v a="$s0" -v b="$s2" 'BEGIN {print n / (b - a)}')"
    rec "$k" cpu_all "$(awk -v t=$((t2 - t0)) -v n=$((p2 - p0)) -v hz="$HZ" 'BEGIN {print t / hz / n * 1e6}')"
    rec "$k" cpu_db "$(awk -v t=$((t2 - t0 + g2 - g0)) -v n=$((p2 - p0)) -v hz="$HZ" 'BEGIN {print t / hz / n * 1e6}')"
    rec "$k" rss "$(awk -v k="$hwm" 'BEGIN {print k / 1024}')"
    log "grammY+session c=$c: $rps req/s answered, $((p2 - p0)) processed in" \
        "$(awk -v a="$s0" -v b="$s2" 'BEGIN {printf "%.1f", b - a}') s; cpu $(( (t2 - t0) * 1000 / HZ )) ms," \
        "postgres $(( (g2 - g0) * 1000 / HZ )) ms; rss ${hwm} KiB"
}

bench_webhook() {
    local i c ok=0
    node_setup || log "$NODE_NOTE"
    tgsim_start tgsim_intake --no-rate-limits || return 1
    log "registering $CHATS tgsim users"
    tgsim_users "$TGSIM_URL" "$CHATS" "$CHAT0" || return 1
    P7_PORT=$(free_port)
    G_PORT=$(free_port "$P7_PORT")
    for ((i = 1; i <= REPEAT; i++)); do
        for c in $CONNS; do
            log "webhook c=$c run $i/$REPEAT"
            # Alternate who goes first, so a drift of the machine hits both.
            if ((i % 2 == 1)); then
                ours_run "$c" || return 1
                if ((NODE_OK)); then grammy_run "$c" && grammy_session_run "$c" || return 1; fi
            else
                if ((NODE_OK)); then grammy_session_run "$c" && grammy_run "$c" || return 1; fi
                ours_run "$c" || return 1
            fi
        done
    done
    stop "$TGSIM_PID"
    local b peer speer note="" o g
    peer=$PEER_GRAMMY
    speer=$PEER_SESSION
    ((NODE_OK)) || note=$NODE_NOTE
    for c in $CONNS; do
        b=tg_webhook_c$c o=ours_c$c g=grammy_c$c
        emit "$b" throughput "$(med $o rps)" updates/s "$peer" "$(med $g rps)" %.0f "$note"
        emit "$b" throughput_until_processed "$(med $o done_rps)" updates/s "$peer" "$(med $g rps)" %.0f "$note"
        emit "$b" latency_p50 "$(med $o p50)" ms "$peer" "$(med $g p50)" %.2f "$note"
        emit "$b" latency_p99 "$(med $o p99)" ms "$peer" "$(med $g p99)" %.2f "$note"
        emit "$b" cpu_per_update "$(med $o cpu)" us "$peer" "$(med $g cpu)" %.1f "$note"
        emit "$b" cpu_per_update_until_processed "$(med $o cpu_all)" us "$peer" "$(med $g cpu)" %.1f "$note"
        emit "$b" cpu_per_update_with_postgres "$(med $o cpu_db)" us "$peer" "$(med $g cpu)" %.1f "$note"
        emit "$b" rss_peak "$(med $o rss)" MiB "$peer" "$(med $g rss)" %.1f "$note"
        emit "$b" errors "$(sum $o err)" count "$peer" "$( ((NODE_OK)) && sum $g err)" %d "$note"
        emit "$b" processed_per_s "$(med $o done_rps)" updates/s "$speer" "$(med gsess_c$c done_rps)" %.0f "$note"
        emit "$b" cpu_per_processed_with_postgres "$(med $o cpu_db)" us "$speer" "$(med gsess_c$c cpu_db)" %.1f "$note"
        emit "$b" rss_peak_session_peer "$(med $o rss)" MiB "$speer" "$(med gsess_c$c rss)" %.1f "$note"
    done
    ((NODE_OK)) || return 1
}

# ----------------------------------------------------------- broadcast
bench_broadcast() {
    local n=$NBCAST
    ((n >= 2)) || { log "BENCH_TG_BROADCAST must be at least 2"; return 1; }
    tgsim_start tgsim_bcast --rate-global 30:30 --rate-global-strict || return 1
    log "broadcast: $n users, tgsim flood limits on (30/s global, strict 1-second sliding window), PLUS7_TG_RATE=$RATE"
    tgsim_users "$TGSIM_URL" "$n" "$BCHAT0" || return 1
    reset_tables
    sql -c "INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)
            SELECT c, 'sendMessage',
                   json_build_object('chat_id', c, 'text',
                     'Уважаемый клиент! С 1 декабря пункт выдачи на ул. Артёма, 45 работает с 9:00 до 21:00 без выходных. Ваш +7Доставка.')::text,
                   1, 'bench-broadcast:' || c
              FROM generate_series($BCHAT0::bigint, $BCHAT0::bigint + $n - 1) AS c"
    [[ $P7_PORT ]] || P7_PORT=$(free_port)
    local t0=$SECONDS limit=$((n / RATE * 3 + 30)) sent=0 left
    p7_start p7_bcast "$P7_PORT" "$TGSIM_URL" PLUS7_TG_RATE="$RATE" || return 1
    while :; do
        read -r sent left < <(sql -F ' ' -c "SELECT count(*) FILTER (WHERE status <> 'pending'),
                                                  count(*) FILTER (WHERE status = 'pending') FROM tg_outbox")
        ((left == 0)) && break
        ((SECONDS - t0 < limit)) || { log "broadcast: $left of $n still pending after ${limit}s"; break; }
        sleep 0.5
    done
    local tmr elapsed ok notok
    tmr=$(tgsim_stat "$TGSIM_URL" too_many_requests)
    stop "$P7_PID"
    stop "$TGSIM_PID"
    read -r ok notok elapsed < <(sql -F ' ' -c "SELECT count(*) FILTER (WHERE status = 'sent'),
                                                count(*) FILTER (WHERE status <> 'sent'),
                                                extract(epoch FROM max(sent_at) - min(sent_at))
                                           FROM tg_outbox")
    log "broadcast: $ok sent, $notok not sent, first to last ${elapsed}s, $tmr answers 429"
    ((ok == n)) || { log "broadcast: only $ok of $n messages were sent"; return 1; }
    local rate ratio
    rate=$(awk -v n="$n" -v e="$elapsed" 'BEGIN {print (n - 1) / e}')
    ratio=$(awk -v r="$rate" -v c="$RATE" 'BEGIN {print r / c}')
    emit tg_broadcast rate_ratio "$ratio" ratio "ceiling PLUS7_TG_RATE=$RATE/s" 1 %.3f
    emit tg_broadcast throughput "$rate" msg/s "ceiling PLUS7_TG_RATE=$RATE/s" "$RATE" %.2f
    emit tg_broadcast too_many_requests "$tmr" count "goal (tgsim limit 30/s global in any 1-second window, 1/s per chat)" 0 %d
}

# ------------------------------------------------------------------- main
log "repeat=$REPEAT seconds=$SECS warmup=$WARMUP conns=($CONNS) chats=$CHATS build=$BUILD ($buildtype)"
FAILED=()
P7_PORT=""
for b in webhook broadcast; do
    want $b || continue
    if ! bench_$b; then
        FAILED+=("$b")
        log "bench $b failed or is incomplete"
    fi
    stop_all
done
if ((${#FAILED[@]})); then
    log "failed: ${FAILED[*]}"
    exit 1
fi
