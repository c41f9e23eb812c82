#!/usr/bin/env bash
# bench/dashboard.sh — the dashboard's analytics and exports over
# BENCH_DASH_ORDERS (1,000,000) orders spread over the last 365 days, each
# figure beside its peer or ceiling measured in the same run.
#
# Purpose: one JSON line per figure on stdout:
#   {"bench":"…","metric":"…","value":V,"unit":"…","peer":"…","peer_value":P}
#
#  dashboard_summary p50_ms / p99_ms — GET /api/analytics/summary of the
#    last 30 days over real HTTP (keep-alive, BENCH_DASH_SUMMARY_N = 50
#    requests; read from the rollups), beside the ceiling a rollup must
#    beat: the same numbers computed by ONE SQL query over the raw tables
#    (bench/dashboard/raw_summary.sql, BENCH_DASH_RAW_N = 5 runs over
#    libpq). Goal: p99 ≤ 200 ms.
#  dashboard_xlsx rows_per_s / peak_rss_mb — GET /api/export/orders.xlsx of
#    all the orders (libxlsxwriter, constant memory, rows streamed with
#    COPY … TO STDOUT); peak RSS is plus7d's whole VmHWM during the export (reset
#    just before it, so the 64 MiB of the sign-in's argon2id do not count).
#    Peer: exceljs's streaming WorkbookWriter (npm, bench/dashboard/
#    package-lock.json) writing the same rows read from our CSV export (no
#    database on its side), its process's max RSS. Goals: rows/s ≥ exceljs,
#    RSS ≤ 1/4 of exceljs'.
#  dashboard_csv rows_per_s — GET /api/export/orders.csv of all the orders,
#    beside psql receiving the very COPY statement our export runs
#    (web/web_dash_export.c) in CSV format and writing it out — the
#    database's ceiling, without our formatting. Goal: within 1.5× of COPY.
# Progress and diagnostics go to stderr. docs/benchmarks.md, "Dashboard".
#
# Env: PLUS7_DB (key=value conninfo of the ./dev cluster; the script
# creates and finally drops its own database plus7_bench_dash there), BUILD
# (meson build dir, default build), BENCH_DASH_ORDERS, BENCH_DASH_SUMMARY_N,
# BENCH_DASH_RAW_N, BENCH_KEEP (non-empty: keep the temporary directory).
# Run by `./dev bench dashboard`. Exit status 0 when every figure was
# measured. Processes: every process it starts is stopped by its pid.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
NORDERS=${BENCH_DASH_ORDERS:-1000000}
SUMMARY_N=${BENCH_DASH_SUMMARY_N:-50}
RAW_N=${BENCH_DASH_RAW_N:-5}
DBNAME=plus7_bench_dash
HERE=$ROOT/bench/dashboard

log() { printf 'dashboard.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

TMP=$(mktemp -d /tmp/plus7-bench-dash.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [[ -n ${DB:-} ]] && psql "$PLUS7_DB" -qc "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null 2>&1
    if [[ -n ${BENCH_KEEP:-} ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for c in psql cc curl node npm python3 pkg-config; do command -v $c >/dev/null || die "$c is missing"; done
[[ -n ${PLUS7_DB:-} ]] || die "PLUS7_DB is not set (a libpq conninfo; ./dev bench sets it)"
[[ $PLUS7_DB != postgres*://* ]] || die "PLUS7_DB must be a key=value conninfo (got a URI)"
if [[ ! -x $BUILD/plus7d ]]; then
    [[ -f $BUILD/build.ninja ]] || meson setup "$BUILD" "$ROOT" --buildtype=release >&2
    ninja -C "$BUILD" plus7d >&2 || die "building plus7d failed"
fi
PLUS7D=$BUILD/plus7d

json() {   # bench metric value unit peer peer_value
    printf '{"bench":"%s","metric":"%s","value":%s,"unit":"%s","peer":"%s","peer_value":%s}\n' "$@"
}
now() { date +%s.%N; }
secs_since() { python3 -c "import sys; print(round((float(sys.argv[2]) - float(sys.argv[1])), 3))" "$1" "$(now)"; }
calc() { python3 -c "print(round($1, 2))"; }

# ---------------------------------------------------------------- data set
psql "$PLUS7_DB" -qc "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" -c "CREATE DATABASE $DBNAME" >&2
DB="$PLUS7_DB dbname=$DBNAME"
PLUS7_DB=$DB "$PLUS7D" migrate >&2
PLUS7_DB=$DB "$PLUS7D" seed >&2
log "loading $NORDERS orders (set-based, then dash_rebuild)"
t0=$(now)
psql "$DB" -q -v n="$NORDERS" -f "$HERE/load.sql" >/dev/null
log "loaded in $(secs_since "$t0") s"

# ------------------------------------------------------------------ plus7d
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
PLUS7_DB=$DB PLUS7_LISTEN=127.0.0.1:$PORT PLUS7_LOG_LEVEL=warn PLUS7_OZON_IMPORT_INTERVAL_S=0 \
    "$PLUS7D" serve >"$TMP/plus7d.log" 2>&1 </dev/null &
P7=$!
PIDS+=("$P7")
for _ in $(seq 1 100); do curl -s -o /dev/null --max-time 1 "$BASE/healthz" && break; sleep 0.2; done
curl -sf -o /dev/null "$BASE/healthz" || die "plus7d did not start (see $TMP/plus7d.log)"
PW=bench-password-$RANDOM$RANDOM
printf '%s\n' "$PW" | PLUS7_DB=$DB "$PLUS7D" user add bench manager >&2
TOKEN=$(curl -s -D - -o /dev/null -X POST "$BASE/api/session" -d "{\"login\":\"bench\",\"password\":\"$PW\"}" |
        sed -n 's/^Set-Cookie: plus7_session=\([0-9a-f]\{64\}\).*/\1/p')
[[ ${#TOKEN} == 64 ]] || die "sign-in failed"

cc -O2 -o "$TMP/dash_timer" "$HERE/dash_timer.c" $(pkg-config --cflags --libs libcurl libpq) >&2
TODAY=$(psql "$DB" -tAc "SELECT (now() AT TIME ZONE 'Europe/Moscow')::date")
FROM30=$(psql "$DB" -tAc "SELECT (now() AT TIME ZONE 'Europe/Moscow')::date - 29")
FROM365=$(psql "$DB" -tAc "SELECT (now() AT TIME ZONE 'Europe/Moscow')::date - 364")

# ------------------------------------------------------------------ summary
log "summary of $FROM30..$TODAY: $SUMMARY_N requests; raw SQL: $RAW_N runs"
"$TMP/dash_timer" http "$BASE/api/analytics/summary?from=$FROM30&to=$TODAY" "$TOKEN" "$SUMMARY_N" >"$TMP/ours.txt"
TONEXT=$(psql "$DB" -tAc "SELECT ('$TODAY'::date + 1)")
PLUS7_DB=$DB "$TMP/dash_timer" sql "$HERE/raw_summary.sql" "$FROM30 00:00:00+03" "$TONEXT 00:00:00+03" "$RAW_N" \
    >"$TMP/raw.txt"
for m in p50 p99; do
    json dashboard_summary "${m}_ms" "$(awk -v m=$m '$1 == m {print $2}' "$TMP/ours.txt")" ms \
        "one SQL query over the raw tables" "$(awk -v m=$m '$1 == m {print $2}' "$TMP/raw.txt")"
done

# ---------------------------------------------------------------------- CSV
log "CSV export of $FROM365..$TODAY"
t0=$(now)
curl -sf -b "plus7_session=$TOKEN" -o "$TMP/orders.csv" "$BASE/api/export/orders.csv?from=$FROM365&to=$TODAY"
csv_s=$(secs_since "$t0")
ROWS=$(($(wc -l <"$TMP/orders.csv") - 1))
COPY_SQL=$(python3 - "$ROOT/web/web_dash_export.c" <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
m = re.search(r'static const char exp_rows_sql\[\] =\s*((?:"[^"\n]*"\s*)+);', src)
print(''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))).replace('\\"', '"'))
EOF
)
TONEXT365=$(psql "$DB" -tAc "SELECT ('$TODAY'::date + 1)")
t0=$(now)
psql "$DB" -q >"$TMP/copy.csv" <<EOF
BEGIN;
SELECT set_config('plus7.export_from', '$FROM365', true), set_config('plus7.export_to', '$TONEXT365', true),
       set_config('plus7.export_zone', '', true) \g /dev/null
$COPY_SQL WITH (FORMAT csv, HEADER);
COMMIT;
EOF
copy_s=$(secs_since "$t0")
COPY_ROWS=$(($(wc -l <"$TMP/copy.csv") - 1))
((ROWS == COPY_ROWS)) || log "warning: CSV has $ROWS rows, COPY $COPY_ROWS"
json dashboard_csv rows_per_s "$(calc "$ROWS / $csv_s")" rows/s "COPY ... TO STDOUT via psql (ceiling)" \
    "$(calc "$COPY_ROWS / $copy_s")"

# --------------------------------------------------------------------- XLSX
log "XLSX export of $ROWS rows"
# the peak from here on: sign-in's argon2id alone takes 64 MiB (reset VmHWM; Linux >= 4.0)
echo 5 >"/proc/$P7/clear_refs" 2>/dev/null || log "cannot reset VmHWM: the figure includes the sign-in's argon2id"
t0=$(now)
curl -sf -b "plus7_session=$TOKEN" -o "$TMP/orders.xlsx" "$BASE/api/export/orders.xlsx?from=$FROM365&to=$TODAY"
xlsx_s=$(secs_since "$t0")
hwm_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$P7/status")
log "exceljs peer (npm ci in bench/dashboard)"
(cd "$HERE" && npm ci --ignore-scripts --no-audit --no-fund >&2)
node "$HERE/exceljs_peer.js" "$TMP/orders.csv" "$TMP/peer.xlsx" >"$TMP/peer.json"
peer_rows=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rows"])' "$TMP/peer.json")
peer_s=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seconds"])' "$TMP/peer.json")
peer_kb=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["max_rss_kb"])' "$TMP/peer.json")
json dashboard_xlsx rows_per_s "$(calc "$ROWS / $xlsx_s")" rows/s "exceljs streaming WorkbookWriter (same rows)" \
    "$(calc "$peer_rows / $peer_s")"
json dashboard_xlsx peak_rss_mb "$(calc "$hwm_kb / 1024")" MB "exceljs streaming WorkbookWriter (same rows)" \
    "$(calc "$peer_kb / 1024")"
log "files: ours $(stat -c %s "$TMP/orders.xlsx") bytes, exceljs $(stat -c %s "$TMP/peer.xlsx") bytes"
