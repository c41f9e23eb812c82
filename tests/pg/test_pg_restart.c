/* test_pg_restart.c — the rt_pg_conn layer survives a PostgreSQL restart.
 *
 * Runs PLUS7_TEST_PG_RESTART (a shell command that restarts the test
 * cluster) while requests are in flight and queued: the in-flight
 * non-idempotent one fails with RT_EIO, the idempotent one is re-sent and
 * succeeds, requests issued after the restart succeed, nothing hangs.
 * Registered with is_parallel: false (it restarts the shared cluster).
 *
 * Threads: main thread only (the restart command blocks the main thread
 * while the event loop is not running; socket events wait in the kernel).
 */
#include "rt_pg_conn.h"

#include "pg_test_util.h"

typedef struct three { slot_t *a, *b, *c; } three_t;
static bool three_filled(void *arg)
{
    three_t *t = arg;
    return t->a->calls && t->b->calls && t->c->calls;
}

T_CASE_TAGGED(conn_survives_postgres_restart, "db slow")
{
    const char *restart = PGT_RESTART_CMD();
    struct event_base *base = event_base_new();
    rt_pg_conn_t *c = rt_pg_conn_new(base, PGT_DB(), NULL);
    slot_t warm = {0}, inflight = {0}, idem = {0}, after = {0}, queued = {0};
    T_EQ_INT(rt_pg_conn_query(c, "SELECT 1", 0, NULL, 0, 10000, slot_done, &warm), RT_OK);
    T_CHECK(pgt_loop_until(base, slot_filled, &warm, 10000));
    T_EQ_INT(warm.res->status, RT_OK);

    T_EQ_INT(rt_pg_conn_query(c, "SELECT pg_sleep(30)", 0, NULL, 0, 60000, slot_done, &inflight), RT_OK);
    T_EQ_INT(rt_pg_conn_query(c, "SELECT 'idem'", 0, NULL, RT_PG_IDEMPOTENT, 60000,
                              slot_done, &idem), RT_OK);
    /* let them go out: both are now in flight behind the sleeping backend */
    struct timeval tv = {0, 200000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    T_EQ_INT(inflight.calls, 0);
    T_EQ_INT(rt_pg_conn_pending(c), 2);

    printf("# restarting PostgreSQL\n");
    int rc = system(restart);
    T_EQ_INT(rc, 0);
    /* issued after the restart, before the connection noticed */
    T_EQ_INT(rt_pg_conn_query(c, "SELECT 'after'", 0, NULL, 0, 60000, slot_done, &after), RT_OK);

    three_t t = {&inflight, &idem, &after};
    T_CHECK(pgt_loop_until(base, three_filled, &t, 60000));
    T_EQ_INT(inflight.res->status, RT_EIO);
    T_EQ_INT(idem.res->status, RT_OK);
    T_EQ_STR(rt_pg_value(idem.res, 0, 0), "idem");
    T_EQ_INT(after.res->status, RT_OK);
    T_EQ_STR(rt_pg_value(after.res, 0, 0), "after");
    T_CHECK(rt_pg_conn_connects(c) >= 2);
    T_EQ_INT(inflight.calls, 1);

    /* and the connection keeps working */
    T_EQ_INT(rt_pg_conn_query(c, "SELECT 42", 0, NULL, 0, 10000, slot_done, &queued), RT_OK);
    T_CHECK(pgt_loop_until(base, slot_filled, &queued, 10000));
    T_EQ_STR(rt_pg_value(queued.res, 0, 0), "42");

    rt_pg_result_free(warm.res);
    rt_pg_result_free(inflight.res);
    rt_pg_result_free(idem.res);
    rt_pg_result_free(after.res);
    rt_pg_result_free(queued.res);
    rt_pg_conn_free(c);
    event_base_free(base);
}

/* ---- queries issued all through a restart ----------------------------------------- */

#include <pthread.h>
#include <stdatomic.h>

enum { NMAX = 4000 };
typedef struct during {
    rt_pg_conn_t *c;
    struct event *tick;
    const char *cmd;
    atomic_int restarted;          /* seq_cst: set by the restart thread */
    int restart_rc;
    int n, done, ok, eio, other, after_n, after_ok, stop_after;
    slot_t s[NMAX];
    bool after[NMAX];
} during_t;

static void *restart_thread(void *arg)
{
    during_t *d = arg;
    d->restart_rc = system(d->cmd);
    atomic_store(&d->restarted, 1);
    return NULL;
}

static void during_tick(evutil_socket_t fd, short what, void *arg)
{
    during_t *d = arg;
    int restarted = atomic_load(&d->restarted);
    if (restarted && d->stop_after-- <= 0) { event_del(d->tick); return; }
    if (d->n >= NMAX) return;
    d->after[d->n] = restarted;
    if (rt_pg_conn_query(d->c, "SELECT 'q'", 0, NULL, 0, 60000, slot_done, &d->s[d->n]) == RT_OK)
        d->n++;
}

static bool during_finished(void *arg)
{
    during_t *d = arg;
    if (!atomic_load(&d->restarted) || d->stop_after > 0) return false;
    for (int i = 0; i < d->n; i++)
        if (!d->s[i].calls) return false;
    return true;
}

T_CASE_TAGGED(conn_queries_through_restart_all_complete, "db slow")
{
    static during_t d;
    memset(&d, 0, sizeof d);
    d.cmd = PGT_RESTART_CMD();
    d.stop_after = 20;             /* keep issuing for 20 ticks after the restart */
    struct event_base *base = event_base_new();
    rt_pg_conn_opts_t o = rt_pg_opts_default();
    o.backoff_max_ms = 400;
    d.c = rt_pg_conn_new(base, PGT_DB(), &o);
    d.tick = event_new(base, -1, EV_PERSIST, during_tick, &d);
    struct timeval tv = {0, 10000};
    event_add(d.tick, &tv);
    pthread_t th;
    T_EQ_INT(pthread_create(&th, NULL, restart_thread, &d), 0);
    bool finished = pgt_loop_until(base, during_finished, &d, 90000);
    pthread_join(th, NULL);
    T_EQ_INT(d.restart_rc, 0);
    T_CHECK(finished);                       /* nothing hangs */
    for (int i = 0; i < d.n; i++) {
        T_EQ_INT(d.s[i].calls, 1);
        int st = d.s[i].res->status;
        if (st == RT_OK) d.ok++;
        else if (st == RT_EIO) d.eio++;
        else d.other++;
        if (d.after[i]) { d.after_n++; d.after_ok += st == RT_OK; }
        rt_pg_result_free(d.s[i].res);
    }
    printf("# issued=%d ok=%d eio=%d other=%d after_restart=%d connects=%u\n",
           d.n, d.ok, d.eio, d.other, d.after_n, rt_pg_conn_connects(d.c));
    T_EQ_INT(d.other, 0);
    T_CHECK(d.after_n > 0);
    T_EQ_INT(d.after_ok, d.after_n);         /* issued after the restart: all succeed */
    T_CHECK(rt_pg_conn_connects(d.c) >= 2);
    event_free(d.tick);
    rt_pg_conn_free(d.c);
    event_base_free(base);
}

T_MAIN()
