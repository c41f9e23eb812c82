#!/usr/bin/env bash
# lint_blocking.sh — no blocking I/O calls in code that runs on runtime workers.
#
# Purpose: enforce the rule "no actor ever blocks on I/O" (docs/conventions.md)
# by searching the C sources of the worker-side folders for calls that block
# the calling thread. Prints TAP (one line per rule, then self-tests that
# prove each rule can fail). Usage: lint_blocking.sh SOURCE_ROOT
#
# Scanned folders (every *.c and *.h, comments stripped first, so prose in
# comments does not count; string literals such as SQL text do count, which
# is why the patterns need a call's opening parenthesis):
#   runtime/core  runtime/pg  runtime/http  actors
#
# Banned calls:
#   PQexec*          (PQexec, PQexecParams, PQexecPrepared: wait for the result)
#   PQconnectdb*     (PQconnectdb, PQconnectdbParams: connect synchronously)
#   curl_easy_perform
#   sleep( usleep( nanosleep(
#   PQgetResult      (blocks unless PQisBusy() said the result is complete)
#
# Allowed exceptions (each one reviewed; keep this list short):
#   - A line carrying the marker  lint:allow-blocking <reason>  (in a comment
#     on that same line) is exempt. Use it only for code that provably never
#     runs on a worker thread, e.g. rt_runtime_stop() waiting on the main
#     thread for workers to finish. Every marked line is printed as a TAP
#     comment on each run so that reviewers see the list.
#   - PQgetResult in runtime/pg/rt_pg_conn.c: exactly one call site, in
#     conn_drain(), inside a loop whose condition tests !PQisBusy(), i.e. the
#     non-blocking protocol of libpq's "Asynchronous Command Processing".
#     The lint checks that the call count is 1 and that the guard is the
#     enclosing loop condition (within the 6 lines above the call).
#   Synchronous helpers for non-worker threads (rt_http_perform, the web
#   layer's database pool, migrations) live outside these folders or use an
#   event loop of their own, and call rt_assert_not_worker().
#
# Threads: n/a (a test script run by meson).

set -u
ROOT=${1:?usage: lint_blocking.sh SOURCE_ROOT}
DIRS=(runtime/core runtime/pg runtime/http actors)
PQGETRESULT_ALLOWED=runtime/pg/rt_pg_conn.c

BANNED='PQexec[A-Za-z]*|PQconnectdb[A-Za-z]*|curl_easy_perform|sleep|usleep|nanosleep|PQgetResult'

# Comment-free text of a C file with the same line numbering (comments
# become blanks, newlines inside block comments are kept; string and
# character literals are left alone). perl is part of every Debian system.
# On lines marked lint:allow-blocking the banned names are renamed first, so
# they no longer match any rule.
strip_comments() {
    sed -E "/lint:allow-blocking/ s/(^|[^A-Za-z0-9_])($BANNED)([[:space:]]*\\()/\\1lint_allowed_\\2\\3/g" "$1" |
        perl -0777 -pe 's{/\*.*?\*/|//[^\n]*|("(?:\\.|[^"\\\n])*"|'"'"'(?:\\.|[^'"'"'\\\n])*'"'"')}{defined $1 ? $1 : ("\n" x ($& =~ tr/\n//)) . " "}gse'
}

# Print every marked line under ROOT's scanned folders as a TAP comment.
list_markers() {
    local root=$1 d
    for d in "${DIRS[@]}"; do
        [[ -d $root/$d ]] || continue
        grep -rnE 'lint:allow-blocking' --include='*.c' --include='*.h' "$root/$d" 2>/dev/null |
            sed "s|^$root/|# allowed: |"
    done
}

# scan ROOT PATTERN [EXCEPT_FILE] -> prints "file:line: code" for each hit
scan() {
    local root=$1 pat=$2 except=${3:-} d f rel
    for d in "${DIRS[@]}"; do
        [[ -d $root/$d ]] || continue
        while IFS= read -r -d '' f; do
            rel=${f#"$root"/}
            [[ -n $except && $rel == "$except" ]] && continue
            strip_comments "$f" | grep -nE "$pat" | sed -E "s|^([0-9]+):[[:space:]]*|$rel:\1: |"
        done < <(find "$root/$d" -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)
    done
}

# The one allowed PQgetResult: count 1, guarded by !PQisBusy in the loop
# condition just above. Prints a reason when violated.
check_pqgetresult_guard() {
    local root=$1
    local f=$root/$PQGETRESULT_ALLOWED
    [[ -f $f ]] || return 0
    local text n
    text=$(strip_comments "$f")
    n=$(grep -cE '\bPQgetResult[[:space:]]*\(' <<<"$text")
    if [[ $n -ne 1 ]]; then
        echo "$PQGETRESULT_ALLOWED: $n PQgetResult calls (exactly 1 is reviewed)"
        return
    fi
    grep -B6 -E '\bPQgetResult[[:space:]]*\(' <<<"$text" | grep -qE 'while[[:space:]]*\(.*!PQisBusy[[:space:]]*\(' ||
        echo "$PQGETRESULT_ALLOWED: PQgetResult is not inside a 'while (... !PQisBusy(...))' loop"
}

RULES=(
    'PQexec|\bPQexec[A-Za-z]*[[:space:]]*\('
    'PQconnectdb|\bPQconnectdb[A-Za-z]*[[:space:]]*\('
    'curl_easy_perform|\bcurl_easy_perform[[:space:]]*\('
    'sleep|(^|[^A-Za-z0-9_])(sleep|usleep|nanosleep)[[:space:]]*\('
    'PQgetResult|\bPQgetResult[[:space:]]*\('
)

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

# run_rules ROOT: one TAP line per rule
run_rules() {
    local root=$1 r name pat hits except
    for r in "${RULES[@]}"; do
        name=${r%%|*}
        pat=${r#*|}
        except=""
        [[ $name == PQgetResult ]] && except=$PQGETRESULT_ALLOWED
        hits=$(scan "$root" "$pat" "$except")
        [[ $name == PQgetResult ]] && hits+=$(check_pqgetresult_guard "$root")
        if [[ -z $hits ]]; then
            ok "no blocking $name on worker code"
        else
            notok "no blocking $name on worker code"
            sed 's/^/# /' <<<"$hits"
        fi
    done
}

# self_test NAME FILE CONTENT: a planted violation must be found.
self_test() {
    local name=$1 rel=$2 content=$3 tmp hits=""
    tmp=$(mktemp -d)
    mkdir -p "$tmp/$(dirname "$rel")"
    printf '%s\n' "$content" >"$tmp/$rel"
    local r pat except
    for r in "${RULES[@]}"; do
        pat=${r#*|}
        except=""
        [[ ${r%%|*} == PQgetResult ]] && except=$PQGETRESULT_ALLOWED
        hits+=$(scan "$tmp" "$pat" "$except")
        [[ ${r%%|*} == PQgetResult ]] && hits+=$(check_pqgetresult_guard "$tmp")
    done
    rm -rf "$tmp"
    if [[ -n $hits ]]; then ok "self-test: $name is caught"; else notok "self-test: $name is caught"; fi
}

# self_test_clean NAME FILE CONTENT: allowed code must pass.
self_test_clean() {
    local name=$1 rel=$2 content=$3 tmp hits=""
    tmp=$(mktemp -d)
    mkdir -p "$tmp/$(dirname "$rel")"
    printf '%s\n' "$content" >"$tmp/$rel"
    local r pat except
    for r in "${RULES[@]}"; do
        pat=${r#*|}
        except=""
        [[ ${r%%|*} == PQgetResult ]] && except=$PQGETRESULT_ALLOWED
        hits+=$(scan "$tmp" "$pat" "$except")
        [[ ${r%%|*} == PQgetResult ]] && hits+=$(check_pqgetresult_guard "$tmp")
    done
    rm -rf "$tmp"
    if [[ -z $hits ]]; then ok "self-test: $name passes"; else notok "self-test: $name passes"; echo "# $hits"; fi
}

echo "1..13"
command -v perl >/dev/null || { echo "Bail out! perl is needed to strip comments"; exit 1; }
list_markers "$ROOT"
run_rules "$ROOT"
self_test "PQexec in actors" actors/x.c 'void f(PGconn *c) { PQclear(PQexec(c, "SELECT 1")); }'
self_test "PQexecParams in runtime/core" runtime/core/x.c 'void f(void) { PQexecParams(c, q, 0, 0, 0, 0, 0, 0); }'
self_test "usleep in runtime/http" runtime/http/x.c 'void f(void) { usleep(1000); }'
self_test "PQgetResult outside rt_pg_conn.c" runtime/pg/other.c 'void f(PGconn *c) { PQgetResult(c); }'
self_test "an unguarded PQgetResult in rt_pg_conn.c" runtime/pg/rt_pg_conn.c \
    'void f(PGconn *c) {
    for (;;) {
        PGresult *r = PQgetResult(c);
    }
}'
self_test "curl_easy_perform in actors" actors/y.h 'static inline void f(void *e) { curl_easy_perform(e); }'
CLEAN_SRC=$(cat <<'SRC'
/* never sleep(1) or PQexec() here,
 * nor usleep(2) - that's the rule */
static const char q[] = "SELECT pg_sleep(1)", quote = '"'; // PQconnectdb( in a comment
void f(PGconn *c) {
    while (c && !PQisBusy(c)) {
        PGresult *r = PQgetResult(c);
    }
}
SRC
)
self_test_clean "comments, pg_sleep in SQL and the guarded call" runtime/pg/rt_pg_conn.c "$CLEAN_SRC"
self_test_clean "a line marked lint:allow-blocking" runtime/core/z.c \
    'void stop_on_main_thread(void) { usleep(100); /* lint:allow-blocking main thread only */ }'
[[ $n -eq 13 ]] || { echo "not ok $((n + 1)) - plan mismatch ($n cases ran)"; failed=$((failed + 1)); }
exit $((failed > 0))
