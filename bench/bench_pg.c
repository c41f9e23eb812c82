/* bench_pg.c — creates the benchmark table (see bench_pg.h).
 *
 * Purpose, exports and threads: see bench_pg.h (main thread only).
 */
#include "bench_pg.h"

#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

void bench_pg_key(char *buf, size_t cap, long i)
{
    snprintf(buf, cap, "key%06ld", i);
}

/* Run one command; 0 or -1 (error printed). */
static int bench_pg_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "bench_pg: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

int bench_pg_setup(const char *conninfo, long n)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench_pg: connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    int rc = bench_pg_exec(c, "SET client_min_messages = warning");
    if (rc == 0)
        rc = bench_pg_exec(c, "CREATE TABLE IF NOT EXISTS bench_kv (k text PRIMARY KEY, v text NOT NULL)");
    long have = -1;
    if (rc == 0) {
        PGresult *r = PQexec(c, "SELECT count(*) FROM bench_kv");
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            have = atol(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    if (rc == 0 && have != n) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT INTO bench_kv (k, v) SELECT 'key' || lpad(i::text, 6, '0'), "
                 "'value of ' || i FROM generate_series(0, %ld) AS i", n - 1);
        rc = bench_pg_exec(c, "BEGIN");
        if (rc == 0)
            rc = bench_pg_exec(c, "TRUNCATE bench_kv");
        if (rc == 0)
            rc = bench_pg_exec(c, sql);
        if (rc == 0)
            rc = bench_pg_exec(c, "COMMIT");
        if (rc == 0)
            rc = bench_pg_exec(c, "ANALYZE bench_kv");
    }
    PQfinish(c);
    return rc;
}
