#!/usr/bin/env bash
# bench/runtime.sh — side-by-side benchmarks of the actor runtime.
#
# Purpose: builds our benchmark programs (meson, in $BUILD) and the peers
# (CAF 0.17 with g++, Go with go build, Erlang with erlc, into a temporary
# directory), runs every benchmark BENCH_REPEAT times (default 5) with our
# program and its peers interleaved, and prints one JSON line per figure:
#   {"bench":"…","metric":"…","value":V,"unit":"…","peer":"…","peer_value":P}
# where V is our median and P the peer's median from this same run on this
# same machine. Progress and diagnostics go to stderr; stdout carries only
# the JSON lines. What each benchmark measures: docs/benchmarks.md.
#
# Env: PLUS7_DB (libpq conninfo of a database where table bench_kv may be
# created; required by "activation"), BUILD (meson build dir, default
# build; configured --buildtype=release when missing), BENCH_REPEAT,
# BENCH_THREADS (workers / schedulers for every runtime, default: the
# number of cores, at least 2), BENCH_ONLY (space-separated subset of:
# pingpong fanin skynet idle activation), BENCH_KEEP (non-empty: keep the
# temporary directory with the peers and raw per-run outputs).
#
# Run by `./dev bench runtime` (which exports PLUS7_DB and BUILD after a
# release build). BENCH_TIMEOUT (default 300) bounds each program run.
# Exit status: 0 when every figure was measured; 1 when a toolchain is
# missing or a program failed or hung (the other benchmarks still run and
# print their lines; the failed one prints none).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
REPEAT=${BENCH_REPEAT:-5}
THREADS=${BENCH_THREADS:-$(nproc)}
((THREADS >= 2)) || THREADS=2
ONLY=${BENCH_ONLY:-pingpong fanin skynet idle activation}

log() { printf 'runtime.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

TMP=$(mktemp -d /tmp/plus7-bench.XXXXXX)
if [[ -n ${BENCH_KEEP:-} ]]; then
    log "keeping $TMP (peer binaries and every run's raw output)"
else
    trap 'rm -rf "$TMP"' EXIT
fi

# ---------------------------------------------------------------- build ours
OURS=(rt_pingpong rt_fanin rt_skynet rt_idle rt_activation pq_query)
if [[ ! -f $BUILD/build.ninja ]]; then
    log "configuring $BUILD (release)"
    meson setup "$BUILD" "$ROOT" --buildtype=release >&2
fi
buildtype=$(python3 -c 'import json,sys
for o in json.load(open(sys.argv[1])):
    if o["name"] == "buildtype": print(o["value"])' "$BUILD/meson-info/intro-buildoptions.json" 2>/dev/null || echo unknown)
[[ $buildtype == release ]] || log "warning: $BUILD is a '$buildtype' build, not release"
ninja -C "$BUILD" "${OURS[@]/#/bench/}" >&2 || die "building our benchmark programs failed"
B=$BUILD/bench

# ---------------------------------------------------------------- build peers
P=$ROOT/bench/peers
command -v g++ >/dev/null || die "g++ is missing (apt-get install g++)"
[[ -f /usr/include/caf/all.hpp ]] || die "CAF headers are missing (apt-get install libcaf-dev)"
command -v go >/dev/null || die "go is missing (apt-get install golang-go)"
command -v erl >/dev/null && command -v erlc >/dev/null || die "erl/erlc are missing (apt-get install erlang-base)"

log "building peers in $TMP"
pids=()
for p in caf_pingpong caf_fanin caf_idle; do
    g++ -std=c++17 -O2 -o "$TMP/$p" "$P/$p.cpp" -lcaf_core -lpthread 2>"$TMP/$p.build.err" &
    pids+=($!)
done
(
    export GOPATH=$TMP/gopath GOCACHE=$TMP/gocache GOFLAGS=-mod=mod GO111MODULE=off GOPROXY=off
    for p in go_skynet go_idle; do go build -o "$TMP/$p" "$P/$p.go" || exit 1; done
) 2>"$TMP/go.build.err" &
pids+=($!)
erlc -o "$TMP" "$P/erl_pingpong.erl" "$P/erl_skynet.erl" "$P/erl_idle.erl" 2>"$TMP/erl.build.err" || {
    cat "$TMP/erl.build.err" >&2; die "erlc failed"; }
for pid in "${pids[@]}"; do
    wait "$pid" || { cat "$TMP"/*.build.err >&2; die "building a peer failed"; }
done

caf_v=$(awk '/define CAF_VERSION/ {v=$3; printf "%d.%d.%d", v/10000, (v/100)%100, v%100}' /usr/include/caf/config.hpp)
go_v=$(go env GOVERSION | sed 's/^go//')
erl_v=$(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().')
pq_v=$(pg_config --version 2>/dev/null | awk '{print $2}' || true)
PEER_CAF=caf-$caf_v PEER_GO=go-$go_v PEER_ERL=erlang-otp$erl_v PEER_PQ=libpq-sync${pq_v:+-$pq_v}

ERL=(erl -noshell +P 4000000 +S "$THREADS:$THREADS" -pa "$TMP")

# ---------------------------------------------------------------- running
TIMEOUT=${BENCH_TIMEOUT:-300}   # seconds per program run; a hang is a failure
FAILED=()

# run NAME CMD... — run CMD once (at most $TIMEOUT s), append its
# "key value" lines to $TMP/NAME.out. On failure print its stderr and
# return 1.
run() {
    local name=$1 rc=0; shift
    BENCH_THREADS=$THREADS GOMAXPROCS=$THREADS timeout "$TIMEOUT" "$@" \
        >"$TMP/run.out" 2>"$TMP/run.err" || rc=$?
    if ((rc != 0)); then
        tail -n 20 "$TMP/run.err" >&2
        if ((rc == 124)); then log "$name: timed out after ${TIMEOUT}s (hang?): $*"
        else log "$name: exit status $rc: $*"; fi
        return 1
    fi
    cat "$TMP/run.out" >>"$TMP/$name.out"
}

# med NAME KEY — median of KEY's values over the runs of NAME.
med() {
    local v
    v=$(awk -v k="$2" '$1 == k {print $2}' "$TMP/$1.out" 2>/dev/null | sort -g)
    [[ -n $v ]] || { log "$1 printed no $2"; echo null; return 1; }
    log "$1 $2 runs (sorted): $(tr '\n' ' ' <<<"$v")"
    awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}' <<<"$v"
}

# num VALUE FORMAT — VALUE printed with FORMAT, or null when not a number.
num() {
    if [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then printf "$2" "$1"; else printf null; fi
}

# emit BENCH METRIC VALUE UNIT PEER PEER_VALUE FORMAT — one JSON line.
emit() {
    printf '{"bench":"%s","metric":"%s","value":%s,"unit":"%s","peer":"%s","peer_value":%s}\n' \
        "$1" "$2" "$(num "$3" "$7")" "$4" "$5" "$(num "$6" "$7")"
}

bench_pingpong() {
    local i
    for ((i = 1; i <= REPEAT; i++)); do
        log "pingpong $i/$REPEAT"
        run pp_ours "$B/rt_pingpong" || return 1
        run pp_caf "$TMP/caf_pingpong" --scheduler.max-threads="$THREADS" || return 1
        run pp_erl "${ERL[@]}" -eval 'erl_pingpong:main(), init:stop().' || return 1
    done
    emit pingpong throughput "$(med pp_ours throughput)" msg/s "$PEER_CAF" "$(med pp_caf throughput)" %.0f
    emit pingpong throughput "$(med pp_ours throughput)" msg/s "$PEER_ERL" "$(med pp_erl throughput)" %.0f
}

bench_fanin() {
    local i
    for ((i = 1; i <= REPEAT; i++)); do
        log "fanin $i/$REPEAT"
        run fi_ours "$B/rt_fanin" || return 1
        run fi_caf "$TMP/caf_fanin" --scheduler.max-threads="$THREADS" || return 1
    done
    emit fanin throughput "$(med fi_ours throughput)" msg/s "$PEER_CAF" "$(med fi_caf throughput)" %.0f
}

bench_skynet() {
    local i s
    for ((i = 1; i <= REPEAT; i++)); do
        log "skynet $i/$REPEAT"
        run sk_ours "$B/rt_skynet" || return 1
        run sk_go "$TMP/go_skynet" || return 1
        run sk_erl "${ERL[@]}" -eval 'erl_skynet:main(), init:stop().' || return 1
    done
    for s in sk_ours sk_go sk_erl; do
        if [[ $(awk '$1 == "sum" {print $2}' "$TMP/$s.out" | sort -u) != 499999500000 ]]; then
            log "$s computed a wrong sum"
            return 1
        fi
    done
    emit skynet time "$(med sk_ours seconds)" s "$PEER_GO" "$(med sk_go seconds)" %.3f
    emit skynet time "$(med sk_ours seconds)" s "$PEER_ERL" "$(med sk_erl seconds)" %.3f
}

bench_idle() {
    local i ours keyed peer
    for ((i = 1; i <= REPEAT; i++)); do
        log "idle $i/$REPEAT"
        run id_ours "$B/rt_idle" anon || return 1
        run id_keyed "$B/rt_idle" keyed || return 1
        run id_caf "$TMP/caf_idle" --scheduler.max-threads="$THREADS" || return 1
        run id_go "$TMP/go_idle" || return 1
        run id_erl "${ERL[@]}" -eval 'erl_idle:main(), init:stop().' || return 1
    done
    ours=$(med id_ours bytes_per_actor) keyed=$(med id_keyed bytes_per_actor)
    for peer in "$PEER_CAF id_caf" "$PEER_ERL id_erl" "$PEER_GO id_go"; do
        set -- $peer
        emit idle_memory bytes_per_actor "$ours" B "$1" "$(med "$2" bytes_per_actor)" %.0f
    done
    for peer in "$PEER_CAF id_caf" "$PEER_ERL id_erl" "$PEER_GO id_go"; do
        set -- $peer
        emit idle_memory bytes_per_keyed_actor "$keyed" B "$1" "$(med "$2" bytes_per_actor)" %.0f
    done
}

bench_activation() {
    local i m
    if [[ -z ${PLUS7_DB:-} ]]; then
        log "PLUS7_DB is not set (a libpq conninfo; ./dev bench sets it)"
        return 1
    fi
    for ((i = 1; i <= REPEAT; i++)); do
        log "activation $i/$REPEAT"
        run ac_ours "$B/rt_activation" || return 1
        run ac_pq "$B/pq_query" || return 1
    done
    for m in cold_p50 cold_p99 warm_p50 warm_p99; do
        emit activation "$m" "$(med ac_ours "$m")" us "$PEER_PQ" "$(med ac_pq "${m#*_}")" %.1f
    done
}

log "threads=$THREADS repeat=$REPEAT build=$BUILD ($buildtype)"
for b in pingpong fanin skynet idle activation; do
    want $b || continue
    # A function called in an `if` runs without errexit; failures are
    # reported by each step's return status instead.
    if ! bench_$b; then
        FAILED+=("$b")
        log "bench $b failed: no figures printed for it"
    fi
done
if ((${#FAILED[@]})); then
    log "failed: ${FAILED[*]}"
    exit 1
fi
