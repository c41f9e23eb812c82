/* pq_query.c — peer: a plain synchronous libpq query, p50/p99 latency.
 *
 * Purpose: the peer of bench "activation". One connection; for each of
 * BENCH_N keys (default 10,000; the same keys and the same statement as
 * bench/rt_activation.c) one PQexecParams round trip of
 * "SELECT v FROM bench_kv WHERE k = $1", timed from the call to the
 * returned result. A warm-up of BENCH_WARMUP queries (default 100) is not
 * counted. Prints "p50 <µs>" and "p99 <µs>". Exits 1 when a row is
 * missing.
 *
 * Env: PLUS7_DB (libpq conninfo, required), BENCH_N, BENCH_WARMUP.
 *
 * Exports: main. Threads: main only.
 */
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "../bench_pg.h"
#include "../bench_util.h"

int main(void)
{
    const char *db = getenv("PLUS7_DB");
    long n = bench_env_long("BENCH_N", 10000);
    long warm = bench_env_long("BENCH_WARMUP", 100);
    if (!db || !*db) {
        fprintf(stderr, "pq_query: PLUS7_DB is not set\n");
        return 2;
    }
    if (n < 1 || warm < 0 || bench_pg_setup(db, n + warm) != 0)
        return 1;
    PGconn *c = PQconnectdb(db);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pq_query: connect: %s", PQerrorMessage(c));
        return 1;
    }
    uint64_t *lat = malloc((size_t)n * sizeof *lat);
    if (!lat)
        return 1;
    for (long i = 0; i < n + warm; i++) {
        char key[32];
        const char *params[1] = {key};
        bench_pg_key(key, sizeof key, i);
        uint64_t t0 = bench_now_ns();
        PGresult *r = PQexecParams(c, BENCH_PG_SELECT, 1, NULL, params, NULL, NULL, 0);
        uint64_t t1 = bench_now_ns();
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
            fprintf(stderr, "pq_query: %s: %s", key, PQresultErrorMessage(r));
            return 1;
        }
        PQclear(r);
        if (i >= warm)
            lat[i - warm] = t1 - t0;
    }
    bench_sort_u64(lat, (size_t)n);
    printf("p50 %.1f\np99 %.1f\n", bench_pct_u64(lat, (size_t)n, 50) / 1e3,
           bench_pct_u64(lat, (size_t)n, 99) / 1e3);
    free(lat);
    PQfinish(c);
    return 0;
}
