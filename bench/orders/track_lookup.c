/* track_lookup.c — the tracking lookup against its ceiling
 * (bench/orders.sh).
 *
 * Purpose: times the dialog's order lookup exactly as the conversation
 * runs it — the SQL text of conv_lookup_def(CONV_NEED_ORDER) from
 * actors/conversation/conv_lookups.c (compiled in), with one text
 * parameter, executed by name as a statement prepared once on the
 * connection (rt_pg prepares every statement once per connection and then
 * sends Bind/Execute only) — and the ceiling, a plain indexed
 * `SELECT * FROM orders WHERE posting_number = $1` sent as an unnamed
 * statement (PQexecParams, what a team writes first), for the same random
 * postings, interleaved one by one (the order of the pair alternates) on
 * one connection. A diagnostic third timing runs our query unnamed
 * (parsed and planned on every execution, as rt_pg did before it
 * prepared), to show what planning costs.
 *
 *   track_lookup CONNINFO NORDERS ITER
 *
 * Postings are "<10000000 + i>-<i mod 10000, 4 digits>-1" for i in
 * 1..NORDERS (bench/orders.sh generates them so). Every lookup must find
 * its row. Output (stdout): {"iter":N,"ours_p50_us":..,"ours_p99_us":..,
 * "ours_mean_us":..,"peer_p50_us":..,"peer_p99_us":..,"peer_mean_us":..,
 * "unnamed_p50_us":..,"unnamed_p99_us":..}.
 * Threads: main only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "bench_util.h"
#include "conv_dialog.h"
#include "conv_lookups.h"

static const char *const PEER_SQL = "SELECT * FROM orders WHERE posting_number = $1";

/* sql NULL: the prepared statement "ours" (as rt_pg runs it). */
static int timed(PGconn *c, const char *sql, const char *posting, uint64_t *ns)
{
    const char *params[1] = {posting};
    uint64_t t = bench_now_ns();
    PGresult *r = sql ? PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0)
                      : PQexecPrepared(c, "ours", 1, params, NULL, NULL, 0);
    *ns = bench_now_ns() - t;
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (!ok) fprintf(stderr, "track_lookup: %s: %s (%d rows)\n", posting, PQresultErrorMessage(r), PQntuples(r));
    PQclear(r);
    return ok ? 0 : -1;
}

static double mean(const uint64_t *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)v[i];
    return n ? s / n : 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: track_lookup CONNINFO NORDERS ITER\n");
        return 2;
    }
    long norders = atol(argv[2]);
    int iter = atoi(argv[3]);
    const conv_lookup_def_t *def = conv_lookup_def(CONV_NEED_ORDER);
    if (!def || norders < 1 || iter < 1) return 2;
    PGconn *c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "track_lookup: %s", PQerrorMessage(c));
        return 1;
    }
    PGresult *pr = PQprepare(c, "ours", def->sql, 1, NULL);
    if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
        fprintf(stderr, "track_lookup: prepare: %s", PQresultErrorMessage(pr));
        return 1;
    }
    PQclear(pr);
    uint64_t *ours = malloc((size_t)iter * sizeof *ours), *peer = malloc((size_t)iter * sizeof *peer);
    uint64_t *prep = malloc((size_t)iter * sizeof *prep);
    if (!ours || !peer || !prep) return 1;
    uint64_t seed = 0x9e3779b97f4a7c15u;
    int errors = 0;
    for (int i = 0; i < iter; i++) {
        seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;        /* xorshift64 */
        long k = 1 + (long)(seed % (uint64_t)norders);
        char posting[32];
        snprintf(posting, sizeof posting, "%ld-%04ld-1", 10000000 + k, k % 10000);
        if (i & 1) {
            errors += timed(c, NULL, posting, &ours[i]) != 0;
            errors += timed(c, PEER_SQL, posting, &peer[i]) != 0;
        } else {
            errors += timed(c, PEER_SQL, posting, &peer[i]) != 0;
            errors += timed(c, NULL, posting, &ours[i]) != 0;
        }
        /* the diagnostic on a posting of its own: the pair's pages are hot */
        seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
        k = 1 + (long)(seed % (uint64_t)norders);
        snprintf(posting, sizeof posting, "%ld-%04ld-1", 10000000 + k, k % 10000);
        errors += timed(c, def->sql, posting, &prep[i]) != 0;
        if (errors > 10) break;
    }
    PQfinish(c);
    if (errors) return 1;
    double om = mean(ours, iter), pm = mean(peer, iter);
    bench_sort_u64(ours, (size_t)iter);
    bench_sort_u64(peer, (size_t)iter);
    bench_sort_u64(prep, (size_t)iter);
    printf("{\"iter\":%d,\"ours_p50_us\":%.1f,\"ours_p99_us\":%.1f,\"ours_mean_us\":%.1f,"
           "\"peer_p50_us\":%.1f,\"peer_p99_us\":%.1f,\"peer_mean_us\":%.1f,"
           "\"unnamed_p50_us\":%.1f,\"unnamed_p99_us\":%.1f}\n",
           iter, bench_pct_u64(ours, (size_t)iter, 50) / 1e3, bench_pct_u64(ours, (size_t)iter, 99) / 1e3, om / 1e3,
           bench_pct_u64(peer, (size_t)iter, 50) / 1e3, bench_pct_u64(peer, (size_t)iter, 99) / 1e3, pm / 1e3,
           bench_pct_u64(prep, (size_t)iter, 50) / 1e3, bench_pct_u64(prep, (size_t)iter, 99) / 1e3);
    free(ours);
    free(peer);
    free(prep);
    return 0;
}
