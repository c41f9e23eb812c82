/* pg_test_util.h — shared helpers of the tests/pg executables.
 *
 * Purpose: the database connection string from PLUS7_DB (a DB test fails,
 * never skips, when it is unset), a private schema per test process so that
 * parallel test executables never see each other's rows, blocking set-up
 * statements on the test's main thread (allowed: tests are not runtime
 * workers), and an event-loop driver with a deadline.
 *
 * Exports (static inline): pgt_conninfo, pgt_conninfo_schema, pgt_exec,
 * pgt_exec_file, pgt_scalar, pgt_loop_until, pgt_wait, pgt_now_unix_ms,
 * pgt_restart_cmd; slot_t, slot_done, slot_filled (a completion slot for
 * rt_pg_conn callbacks).
 * Threads: the test's main thread.
 */
#ifndef PLUS7_PG_TEST_UTIL_H
#define PLUS7_PG_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "rt_clock.h"
#include "rt_pg.h"
#include "t.h"

/* A completion slot: the rt_pg_conn callback stores the result here. */
typedef struct slot {
    rt_pg_result_t *res;
    int calls;
} slot_t;

static inline void slot_done(rt_pg_result_t *res, void *arg)
{
    slot_t *s = arg;
    s->calls++;
    if (s->res) rt_pg_result_free(s->res);
    s->res = res;
}

static inline bool slot_filled(void *arg) { return ((slot_t *)arg)->calls > 0; }

/* PLUS7_DB, or fail the current case with a clear message. */
#define PGT_DB() pgt_conninfo_or_fail(__FILE__, __LINE__)
static inline const char *pgt_conninfo_or_fail(const char *file, int line)
{
    const char *db = getenv("PLUS7_DB");
    if (!db || !*db)
        t_fail_at(file, line, "PLUS7_DB is not set: export the libpq conninfo of a test "
                              "database (./dev test sets it)");
    return db;
}

/* PLUS7_DB with search_path set to `schema` (keyword or URI form). The
 * result is malloc'd. */
static inline char *pgt_conninfo_schema(const char *db, const char *schema)
{
    size_t n = strlen(db) + strlen(schema) + 64;
    char *s = malloc(n);
    if (!s) abort();
    if (strncmp(db, "postgres://", 11) == 0 || strncmp(db, "postgresql://", 13) == 0)
        snprintf(s, n, "%s%soptions=-csearch_path%%3D%s", db, strchr(db, '?') ? "&" : "?", schema);
    else
        snprintf(s, n, "%s options='-csearch_path=%s'", db, schema);
    return s;
}

/* Run `sql` (may hold several statements) on a fresh blocking connection;
 * returns 1 on success, else prints the error as a TAP comment. */
static inline int pgt_exec(const char *conninfo, const char *sql)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        printf("# connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return 0;
    }
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok) printf("# exec: %s", PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
    return ok;
}

/* Run the SQL file at `path` like pgt_exec. */
static inline int pgt_exec_file(const char *conninfo, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) { printf("# cannot open %s\n", path); return 0; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { fclose(f); free(buf); return 0; }
    buf[n] = '\0';
    fclose(f);
    int ok = pgt_exec(conninfo, buf);
    free(buf);
    return ok;
}

/* First column of the first row of `sql` as a long long (-1 if none). */
static inline long long pgt_scalar(const char *conninfo, const char *sql)
{
    PGconn *c = PQconnectdb(conninfo);
    long long v = -1;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
            v = atoll(PQgetvalue(r, 0, 0));
        else if (PQresultStatus(r) != PGRES_TUPLES_OK)
            printf("# scalar: %s", PQresultErrorMessage(r));
        PQclear(r);
    }
    PQfinish(c);
    return v;
}

typedef struct pgt_loop {
    struct event_base *base;
    bool (*cond)(void *);
    void *arg;
    struct timespec deadline;
    bool met;
} pgt_loop_t;

static inline void pgt_loop_tick(evutil_socket_t fd, short what, void *arg)
{
    pgt_loop_t *l = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (l->cond(l->arg)) { l->met = true; event_base_loopbreak(l->base); return; }
    if (now.tv_sec > l->deadline.tv_sec ||
        (now.tv_sec == l->deadline.tv_sec && now.tv_nsec >= l->deadline.tv_nsec))
        event_base_loopbreak(l->base);
}

/* Run `base` until cond(arg) holds (true) or timeout_ms passed (false). */
static inline bool pgt_loop_until(struct event_base *base, bool (*cond)(void *), void *arg,
                                  int timeout_ms)
{
    pgt_loop_t l = {.base = base, .cond = cond, .arg = arg,
                    .deadline = rt_clock_deadline(CLOCK_MONOTONIC, (uint64_t)timeout_ms)};
    if (cond(arg)) return true;
    struct event *tick = event_new(base, -1, EV_PERSIST, pgt_loop_tick, &l);
    struct timeval tv = {0, 2000};
    event_add(tick, &tv);
    event_base_dispatch(base);
    event_free(tick);
    return l.met || cond(arg);
}

/* Poll cond(arg) from a plain thread every 5 ms until it holds or timeout. */
static inline bool pgt_wait(bool (*cond)(void *), void *arg, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 5) {
        if (cond(arg)) return true;
        usleep(5000);
    }
    return cond(arg);
}

static inline int64_t pgt_now_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The shell command that restarts the test cluster, or fail the case. */
#define PGT_RESTART_CMD() pgt_restart_or_fail(__FILE__, __LINE__)
static inline const char *pgt_restart_or_fail(const char *file, int line)
{
    const char *c = getenv("PLUS7_TEST_PG_RESTART");
    if (!c || !*c)
        t_fail_at(file, line, "PLUS7_TEST_PG_RESTART is not set: export the shell command "
                              "that restarts the test cluster (./dev test sets it)");
    return c;
}

#endif
