#!/usr/bin/env bash
# bench/payments.sh — payments benchmarks of plus7d, each beside its peer.
#
# Purpose: one JSON line per figure on stdout:
#   {"bench":"…","metric":"…","value":V,"unit":"…","peer":"…","peer_value":P}
#
#  pay_callback — POST /payments/yookassa: wrk (1 thread, 64 connections,
#    BENCH_PAY_SECONDS) sends distinct notifications from 127.0.0.1 (inside
#    PLUS7_YOOKASSA_NOTIFY_FROM); each is parsed, stored and acknowledged.
#    The ceiling is bench/payments/pay_peer.c `ceiling`: a bare civetweb
#    handler doing the same parse and the same INSERT on its own libpq
#    connection per thread. Metrics: notifications/s and p99 (ms); medians
#    of BENCH_REPEAT alternating runs. Goal: within 1.5x of the ceiling.
#  pay_precheckout — 1,000 pre_checkout_query updates POSTed to the webhook
#    at once (1,000 client threads released together), each a live invoice
#    of its own chat; the latency is from the POST to the moment the Bot API
#    stand-in (pay_peer `botapi`) receives answerPreCheckoutQuery. The peer
#    is the same burst of 1,000 button presses answered with
#    answerCallbackQuery (the conversation's plain path, no lookup).
#    Metrics: p99 and p50 (ms). Goal: p99 <= 100 ms.
#
# Env: PLUS7_DB (key=value conninfo; the script creates and drops its own
# database plus7_bench_payments), BUILD (default build), BENCH_REPEAT
# (default 3), BENCH_PAY_SECONDS (default 10), BENCH_PAY_BURST (default 1000).
# Run by `./dev bench payments`. Exit 0 when every figure was measured.
# Processes: every process it starts is stopped by its pid on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
REPEAT=${BENCH_REPEAT:-3}
SECS=${BENCH_PAY_SECONDS:-10}
BURST=${BENCH_PAY_BURST:-1000}
DBNAME=plus7_bench_payments
TOKEN=5000000002:bench-payments
SECRET=bench-pay-$(od -An -N16 -tx1 /dev/urandom | tr -d " \n")

log() { printf 'payments.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

TMP=$(mktemp -d /tmp/plus7-bench-pay.XXXXXX)
PIDS=()
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

stop() {
    local pid=$1 i keep=() p
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

command -v wrk >/dev/null || die "wrk is missing (apt-get install wrk)"
[[ -n ${PLUS7_DB:-} ]] || die "PLUS7_DB is not set (./dev bench sets it)"
if [[ ! -x $BUILD/plus7d || ! -x $BUILD/bench/pay_peer ]]; then
    [[ -f $BUILD/build.ninja ]] || meson setup "$BUILD" "$ROOT" --buildtype=release >&2
fi
ninja -C "$BUILD" plus7d bench/pay_peer >&2 || die "building plus7d and pay_peer failed"
PLUS7D=$BUILD/plus7d
PEER=$BUILD/bench/pay_peer

psql_admin() { PGOPTIONS='-c client_min_messages=warning' psql "$PLUS7_DB" -X -q -v ON_ERROR_STOP=1 "$@"; }
DB="$PLUS7_DB dbname=$DBNAME"
sql() { PGOPTIONS='-c client_min_messages=warning' psql "$DB" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
psql_admin -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null
psql_admin -c "CREATE DATABASE $DBNAME" >/dev/null
PLUS7_DB=$DB "$PLUS7D" migrate >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log" >&2; die "migrate failed"; }
PLUS7_DB=$DB "$PLUS7D" seed >"$TMP/seed.log" 2>&1 || { cat "$TMP/seed.log" >&2; die "seed failed"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {
    local url=$1 i
    for ((i = 0; i < 300; i++)); do curl -s -o /dev/null --max-time 1 "$url" && return 0; sleep 0.1; done
    return 1
}
median() { python3 -c 'import sys,statistics; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
line() {
    printf '{"bench":"%s","metric":"%s","value":%s,"unit":"%s","peer":"%s","peer_value":%s}\n' "$@"
}

# ------------------------------------------------------------- pay_callback
run_wrk() {   # URL PREFIX -> "rps p99_ms" (stderr of wrk carries WRKJSON)
    wrk -t1 -c64 -d"${SECS}s" -s "$ROOT/bench/payments/notify.lua" "$1" -- "$2" >"$TMP/wrk.out" 2>"$TMP/wrk.err" || true
    python3 - "$TMP/wrk.err" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    if l.startswith("WRKJSON "):
        j = json.loads(l[8:])
        print(j["rps"], j["p99_us"] / 1000.0, j["errors"])
        break
else:
    print("0 0 1")
PY
}

ours_rps=() ours_p99=() peer_rps=() peer_p99=()
for ((r = 1; r <= REPEAT; r++)); do
    sql -c "TRUNCATE pay_notifications"
    port=$(free_port)
    PLUS7_DB=$DB PLUS7_LISTEN=127.0.0.1:$port PLUS7_WEB_THREADS=128 PLUS7_WEB_CONNS_PER_ADDR=128 PLUS7_WEB_DB_CONNS=16 \
        PLUS7_YOOKASSA_NOTIFY_FROM=127.0.0.1/32 PLUS7_LOG_LEVEL=warn \
        "$PLUS7D" serve >"$TMP/plus7d.log" 2>&1 &
    pid=$!; PIDS+=("$pid")
    wait_http "http://127.0.0.1:$port/healthz" || die "plus7d did not start (see $TMP/plus7d.log)"
    read -r rps p99 errs < <(run_wrk "http://127.0.0.1:$port/payments/yookassa" "o$r")
    stop "$pid"
    stored=$(sql -c "SELECT count(*) FROM pay_notifications")
    log "run $r: plus7d $rps/s p99 ${p99} ms, errors $errs, stored $stored"
    ours_rps+=("$rps"); ours_p99+=("$p99")

    sql -c "TRUNCATE pay_notifications"
    port=$(free_port)
    "$PEER" ceiling "127.0.0.1:$port" "$DB" 128 >"$TMP/ceiling.log" 2>&1 &
    pid=$!; PIDS+=("$pid")
    wait_http "http://127.0.0.1:$port/" || true
    read -r rps p99 errs < <(run_wrk "http://127.0.0.1:$port/payments/yookassa" "c$r")
    stop "$pid"
    log "run $r: ceiling $rps/s p99 ${p99} ms, errors $errs"
    peer_rps+=("$rps"); peer_p99+=("$p99")
done
line pay_callback notifications_per_s "$(median "${ours_rps[@]}")" "req/s" "bare civetweb handler + same INSERT" \
    "$(median "${peer_rps[@]}")"
line pay_callback p99 "$(median "${ours_p99[@]}")" "ms" "bare civetweb handler + same INSERT" "$(median "${peer_p99[@]}")"

# ---------------------------------------------------------- pay_precheckout
sql >/dev/null <<SQL
UPDATE delivery_slots SET capacity = 100000;
INSERT INTO users (tg_user_id, chat_id, phone, first_name)
SELECT 700000000 + i, 700000000 + i, '+7949' || lpad(i::text, 7, '0'), 'Bench' FROM generate_series(1, $BURST) i;
INSERT INTO orders (posting_number, status, status_source, ordered_by)
SELECT (70000000 + i)::text || '-0001-1', 'accepted', 'logistics', 700000000 + i FROM generate_series(1, $BURST) i;
SELECT count(delivery_book((70000000 + i)::text || '-0001-1', 700000000 + i, 'Донецк, ул. Артёма, 1', NULL, NULL,
       (SELECT min(id) FROM delivery_slots), (now() AT TIME ZONE 'Europe/Moscow')::date + 1, 35000))
  FROM generate_series(1, $BURST) i;
INSERT INTO pay_attempts (id, posting_number, chat_id, tg_user_id, method, amount_kop)
SELECT 'b' || i, (70000000 + i)::text || '-0001-1', 700000000 + i, 700000000 + i, 'telegram', 35000
  FROM generate_series(1, $BURST) i;
SQL
api_port=$(free_port)
"$PEER" botapi "127.0.0.1:$api_port" >"$TMP/botapi.out" 2>"$TMP/botapi.err" &
api_pid=$!; PIDS+=("$api_pid")
for ((i = 0; i < 100; i++)); do grep -q ready "$TMP/botapi.out" 2>/dev/null && break; sleep 0.1; done
port=$(free_port)
PLUS7_DB=$DB PLUS7_LISTEN=127.0.0.1:$port PLUS7_WEB_THREADS=1024 PLUS7_WEB_CONNS_PER_ADDR=1000 PLUS7_LOG_LEVEL=warn \
    PLUS7_TG_TOKEN=$TOKEN PLUS7_TG_API=http://127.0.0.1:$api_port PLUS7_TG_MODE=webhook \
    PLUS7_TG_WEBHOOK_URL=http://127.0.0.1:$port/telegram/webhook PLUS7_TG_SECRET=$SECRET PLUS7_TG_RATE=1000 \
    PLUS7_PAY_PROVIDER_TOKEN=381764678:TEST:1 "$PLUS7D" serve >"$TMP/plus7d2.log" 2>&1 &
pid=$!; PIDS+=("$pid")
wait_http "http://127.0.0.1:$port/healthz" || die "plus7d did not start (see $TMP/plus7d2.log)"

burst() {   # KIND (precheckout|callback) -> "p99_ms p50_ms answered"
    python3 - "$1" "$BURST" "http://127.0.0.1:$port/telegram/webhook" "$SECRET" "$TMP/botapi.out" <<'PY'
import json, sys, threading, time, urllib.request
kind, n, url, secret, answers = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
base = 5_000_000 if kind == "precheckout" else 6_000_000
sent = {}
gate = threading.Barrier(n)
def one(i):
    uid = 700000000 + i
    frm = {"id": uid, "is_bot": False, "first_name": "Bench"}
    if kind == "precheckout":
        qid = "pc%d" % i
        upd = {"update_id": base + i, "pre_checkout_query": {"id": qid, "from": frm, "currency": "RUB",
               "total_amount": 35000, "invoice_payload": "b%d" % i}}
    else:
        qid = "cb%d" % i
        upd = {"update_id": base + i, "callback_query": {"id": qid, "from": frm, "data": "zz:none",
               "message": {"message_id": 1, "date": 1700000000, "chat": {"id": uid, "type": "private"}}}}
    body = json.dumps(upd).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json",
                                             "X-Telegram-Bot-Api-Secret-Token": secret})
    gate.wait()
    sent[qid] = time.time()
    try:
        urllib.request.urlopen(req, timeout=30).read()
    except Exception:
        pass
ts = [threading.Thread(target=one, args=(i,)) for i in range(1, n + 1)]
for t in ts: t.start()
for t in ts: t.join()
method = "answerPreCheckoutQuery" if kind == "precheckout" else "answerCallbackQuery"
lat = {}
deadline = time.time() + 60
while time.time() < deadline and len(lat) < n:
    time.sleep(0.5)
    for l in open(answers):
        p = l.split()
        if len(p) == 3 and p[0] == method and p[1] in sent and p[1] not in lat:
            lat[p[1]] = (int(p[2]) / 1e6 - sent[p[1]]) * 1000.0
v = sorted(lat.values())
if not v:
    print("0 0 0"); sys.exit()
print("%.1f %.1f %d" % (v[min(len(v) - 1, int(len(v) * 0.99))], v[len(v) // 2], len(v)))
PY
}
# the stand-in's stdout is a file: make it line-visible by reading after each burst
read -r pc99 pc50 pcn < <(burst precheckout)
read -r cb99 cb50 cbn < <(burst callback)
log "pre-checkout: $pcn answered, p99 $pc99 ms p50 $pc50 ms; button answers: $cbn, p99 $cb99 ms"
stop "$pid"
line pay_precheckout p99 "$pc99" ms "answerCallbackQuery, same burst" "$cb99"
line pay_precheckout p50 "$pc50" ms "answerCallbackQuery, same burst" "$cb50"
[[ $pcn == "$BURST" && $cbn == "$BURST" ]] || die "not every query was answered ($pcn, $cbn of $BURST)"
