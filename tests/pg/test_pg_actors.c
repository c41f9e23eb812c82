/* test_pg_actors.c — rt_pg through the actor runtime, against a real PostgreSQL.
 *
 * Cases: 200 actors x 50 queries each (every result delivered exactly once,
 * to the right actor, with the right corr, in issue order, urgent lane);
 * activation from SQL (load() -> RT_PENDING -> on_activate gets the result);
 * transaction helper commit and rollback; graceful stop waits for a query in
 * flight; connection counters; requests refused without rt_pg_init.
 *
 * Threads: the cases run on the main thread; kind callbacks run on the
 * runtime's workers and report through atomics (seq_cst, read after the
 * main thread waited for them).
 */
#include "rt_pg.h"

#include <stdatomic.h>

#include "pg_test_util.h"

enum { MSG_GO = RT_MSG_USER + 1, MSG_GO2 = RT_MSG_USER + 2 };

static rt_runtime_t *rt_up(int threads, const rt_kind_t *const *kinds, int nkinds, int conns,
                           bool with_pg)
{
    rt_config_t cfg = {.threads = threads, .mailbox_high_water = 1000000};
    rt_runtime_t *rt = rt_runtime_new(&cfg);
    T_CHECK(rt != NULL);
    for (int i = 0; i < nkinds; i++) T_EQ_INT(rt_kind_register(rt, kinds[i]), RT_OK);
    if (with_pg) T_EQ_INT(rt_pg_init(rt, PGT_DB(), conns), RT_OK);
    T_EQ_INT(rt_runtime_start(rt), RT_OK);
    return rt;
}

static void rt_down(rt_runtime_t *rt)
{
    T_EQ_INT(rt_runtime_stop(rt, 10000), RT_OK);
    rt_runtime_free(rt);
}

static int send_go(rt_runtime_t *rt, const rt_kind_t *k, const char *key, uint16_t type)
{
    rt_msg_t *m = rt_msg_new(type, 0);
    return rt_send_key(rt, k, key, m);
}

typedef struct counter_wait { atomic_int *v; int want; } counter_wait_t;
static bool counter_reached(void *arg)
{
    counter_wait_t *w = arg;
    return atomic_load(w->v) >= w->want;
}

/* ---- many actors, many queries -------------------------------------------------------- */

#define NACTORS 200
#define NQUERIES 50

typedef struct many_state {
    int got;
    unsigned char seen[NQUERIES + 1];
} many_state_t;

static atomic_int many_done, many_results, many_bad, many_probed;

#define MANY_PROBE_CORR 1000u   /* the positive control's query: issued after all the others */

static int many_handle(rt_actor_t *self, const rt_msg_t *m)
{
    many_state_t *st = rt_self_state(self);
    const char *key = rt_self_key(self);
    if (m->type == MSG_GO2) {
        if (rt_pg_query(self, MANY_PROBE_CORR, "SELECT 1", 0, NULL) != RT_OK) atomic_fetch_add(&many_bad, 1);
        return RT_OK;
    }
    if (m->type == RT_MSG_PG_RESULT && m->corr == MANY_PROBE_CORR) {
        atomic_fetch_add(&many_probed, 1);
        return RT_OK;
    }
    if (m->type == MSG_GO) {
        for (int j = 0; j < NQUERIES; j++) {
            char v[16];
            snprintf(v, sizeof v, "%d", j);
            const char *p[2] = {v, key};
            if (rt_pg_query(self, (uint32_t)j + 1, "SELECT $1::int, $2::text", 2, p) != RT_OK)
                atomic_fetch_add(&many_bad, 1);
        }
        return RT_OK;
    }
    if (m->type != RT_MSG_PG_RESULT) return RT_OK;
    atomic_fetch_add(&many_results, 1);
    const rt_pg_result_t *r = rt_pg_msg_result(m);
    char want[16];
    snprintf(want, sizeof want, "%u", m->corr - 1);
    if (!r || r->status != RT_OK || m->corr < 1 || m->corr > NQUERIES || st->seen[m->corr] ||
        m->corr != (uint32_t)st->got + 1 || !(m->flags & RT_MSG_F_URGENT) ||
        !rt_pg_value(r, 0, 0) || strcmp(rt_pg_value(r, 0, 0), want) != 0 ||
        !rt_pg_value(r, 0, 1) || strcmp(rt_pg_value(r, 0, 1), key) != 0) {
        atomic_fetch_add(&many_bad, 1);
        return RT_OK;
    }
    st->seen[m->corr] = 1;
    if (++st->got == NQUERIES) atomic_fetch_add(&many_done, 1);
    return RT_OK;
}

static const rt_kind_t many_kind = {
    .name = "pgt_many", .state_size = sizeof(many_state_t), .handle = many_handle,
};

/* Send `type` to each of the NACTORS actors a0..a199. */
static void many_send_all(rt_runtime_t *rt, uint16_t type)
{
    for (int i = 0; i < NACTORS; i++) {
        char key[32];
        snprintf(key, sizeof key, "a%d", i);
        T_EQ_INT(send_go(rt, &many_kind, key, type), RT_OK);
    }
}

T_CASE_TAGGED(actors_200x50_queries_exactly_once, "db")
{
    const rt_kind_t *kinds[] = {&many_kind};
    rt_runtime_t *rt = rt_up(2, kinds, 1, 2, true);
    atomic_store(&many_done, 0);
    atomic_store(&many_results, 0);
    atomic_store(&many_bad, 0);
    uint64_t q0 = rt_pg_stats_queries();
    many_send_all(rt, MSG_GO);
    counter_wait_t w = {&many_done, NACTORS};
    T_CHECK(pgt_wait(counter_reached, &w, 120000));
    /* positive control: one more query per actor, issued now; results come
     * in issue order, so once every actor has its answer any duplicate of
     * the earlier ones would have shown up before it */
    atomic_store(&many_probed, 0);
    many_send_all(rt, MSG_GO2);
    counter_wait_t pw = {&many_probed, NACTORS};
    T_CHECK(pgt_wait(counter_reached, &pw, 120000));
    T_EQ_INT(atomic_load(&many_bad), 0);
    T_EQ_INT(atomic_load(&many_done), NACTORS);
    T_EQ_INT(atomic_load(&many_results), NACTORS * NQUERIES);
    T_CHECK(rt_pg_stats_queries() - q0 >= NACTORS * NQUERIES);
    T_EQ_INT(rt_pg_stats_inflight(), 0);
    T_EQ_INT(rt_pg_stats_connected(), 4);   /* 2 workers x 2 connections */
    rt_down(rt);
    T_EQ_INT(rt_pg_stats_connected(), 0);
}

/* ---- activation from SQL ------------------------------------------------------------- */

typedef struct loaded_state { char value[64]; int activations; } loaded_state_t;
static atomic_int loaded_ok, loaded_bad;

static int loaded_load(rt_actor_t *self)
{
    const char *p[1] = {rt_self_key(self)};
    int rc = rt_pg_query(self, RT_CORR_ACTIVATE, "SELECT $1::text || '-loaded' AS v", 1, p);
    return rc == RT_OK ? RT_PENDING : rc;
}

static int loaded_on_activate(rt_actor_t *self, const rt_msg_t *m)
{
    loaded_state_t *st = rt_self_state(self);
    const rt_pg_result_t *r = rt_pg_msg_result(m);
    if (!r || m->corr != RT_CORR_ACTIVATE || r->status != RT_OK || r->nrows != 1) return RT_EFAIL;
    snprintf(st->value, sizeof st->value, "%s", rt_pg_value(r, 0, rt_pg_col(r, "v")));
    st->activations++;
    return RT_OK;
}

static int loaded_handle(rt_actor_t *self, const rt_msg_t *m)
{
    loaded_state_t *st = rt_self_state(self);
    char want[80];
    snprintf(want, sizeof want, "%s-loaded", rt_self_key(self));
    if (m->type == MSG_GO && strcmp(st->value, want) == 0 && st->activations == 1)
        atomic_fetch_add(&loaded_ok, 1);
    else
        atomic_fetch_add(&loaded_bad, 1);
    return RT_OK;
}

static const rt_kind_t loaded_kind = {
    .name = "pgt_loaded", .state_size = sizeof(loaded_state_t), .load = loaded_load,
    .on_activate = loaded_on_activate, .handle = loaded_handle,
};

T_CASE_TAGGED(actors_activate_from_sql, "db")
{
    const rt_kind_t *kinds[] = {&loaded_kind};
    rt_runtime_t *rt = rt_up(2, kinds, 1, 1, true);
    atomic_store(&loaded_ok, 0);
    atomic_store(&loaded_bad, 0);
    for (int i = 0; i < 20; i++) {
        char key[32];
        snprintf(key, sizeof key, "k%d", i);
        /* three messages each: all held until the activation result arrived */
        for (int j = 0; j < 3; j++) T_EQ_INT(send_go(rt, &loaded_kind, key, MSG_GO), RT_OK);
    }
    counter_wait_t w = {&loaded_ok, 60};
    T_CHECK(pgt_wait(counter_reached, &w, 30000));
    T_EQ_INT(atomic_load(&loaded_bad), 0);
    rt_down(rt);
}

/* ---- transaction helper --------------------------------------------------------------- */

static char tx_table[64];
static char tx_sql_ins[160], tx_sql_count[160];
static atomic_int tx_commit_ok, tx_rollback_ok, tx_bad;

static int tx_handle(rt_actor_t *self, const rt_msg_t *m)
{
    const char *key = rt_self_key(self);
    if (m->type == MSG_GO) {           /* commit: two inserts and a count */
        const char *p1[2] = {key, "1"}, *p2[2] = {key, "2"}, *p3[1] = {key};
        rt_pg_stmt_t s[3] = {{tx_sql_ins, 2, p1}, {tx_sql_ins, 2, p2}, {tx_sql_count, 1, p3}};
        if (rt_pg_tx(self, 1, 3, s) != RT_OK) atomic_fetch_add(&tx_bad, 1);
        return RT_OK;
    }
    if (m->type == MSG_GO2) {          /* rollback: the second insert collides */
        const char *p1[2] = {key, "3"}, *p2[2] = {key, "1"}, *p3[1] = {key};
        rt_pg_stmt_t s[3] = {{tx_sql_ins, 2, p1}, {tx_sql_ins, 2, p2}, {tx_sql_count, 1, p3}};
        if (rt_pg_tx(self, 2, 3, s) != RT_OK) atomic_fetch_add(&tx_bad, 1);
        return RT_OK;
    }
    const rt_pg_result_t *r = rt_pg_msg_result(m);
    if (!r) return RT_OK;
    if (m->corr == 1) {
        bool ok = r->status == RT_OK && r->nstmts == 3 && r->failed_stmt == -1 &&
                  rt_pg_value(rt_pg_stmt(r, 2), 0, 0) &&
                  strcmp(rt_pg_value(rt_pg_stmt(r, 2), 0, 0), "2") == 0;
        atomic_fetch_add(ok ? &tx_commit_ok : &tx_bad, 1);
    } else if (m->corr == 2) {
        bool ok = r->status == RT_EINVAL && strcmp(r->sqlstate, "23505") == 0 &&
                  r->failed_stmt == 1 && rt_pg_stmt(r, 0)->status == RT_OK &&
                  rt_pg_stmt(r, 2)->status != RT_OK;
        atomic_fetch_add(ok ? &tx_rollback_ok : &tx_bad, 1);
    }
    return RT_OK;
}

static const rt_kind_t tx_kind = {.name = "pgt_tx", .state_size = 8, .handle = tx_handle};

T_CASE_TAGGED(actors_tx_commit_and_rollback, "db")
{
    const char *db = PGT_DB();
    snprintf(tx_table, sizeof tx_table, "pgt_tx_%d", (int)getpid());
    snprintf(tx_sql_ins, sizeof tx_sql_ins, "INSERT INTO %s (k, n) VALUES ($1, $2::int)", tx_table);
    snprintf(tx_sql_count, sizeof tx_sql_count, "SELECT count(*) FROM %s WHERE k = $1", tx_table);
    char ddl[256];
    snprintf(ddl, sizeof ddl, "DROP TABLE IF EXISTS %s; CREATE TABLE %s (k text, n int, "
             "PRIMARY KEY (k, n))", tx_table, tx_table);
    T_CHECK(pgt_exec(db, ddl));
    const rt_kind_t *kinds[] = {&tx_kind};
    rt_runtime_t *rt = rt_up(2, kinds, 1, 1, true);
    atomic_store(&tx_commit_ok, 0);
    atomic_store(&tx_rollback_ok, 0);
    atomic_store(&tx_bad, 0);
    for (int i = 0; i < 10; i++) {
        char key[16];
        snprintf(key, sizeof key, "t%d", i);
        T_EQ_INT(send_go(rt, &tx_kind, key, MSG_GO), RT_OK);
    }
    counter_wait_t w = {&tx_commit_ok, 10};
    T_CHECK(pgt_wait(counter_reached, &w, 30000));
    for (int i = 0; i < 10; i++) {
        char key[16];
        snprintf(key, sizeof key, "t%d", i);
        T_EQ_INT(send_go(rt, &tx_kind, key, MSG_GO2), RT_OK);
    }
    counter_wait_t w2 = {&tx_rollback_ok, 10};
    T_CHECK(pgt_wait(counter_reached, &w2, 30000));
    T_EQ_INT(atomic_load(&tx_bad), 0);
    rt_down(rt);
    char q[160];
    snprintf(q, sizeof q, "SELECT count(*) FROM %s", tx_table);
    T_EQ_INT(pgt_scalar(db, q), 20);       /* 10 x 2 committed, nothing of the rollbacks */
    snprintf(q, sizeof q, "SELECT count(*) FROM %s WHERE n = 3", tx_table);
    T_EQ_INT(pgt_scalar(db, q), 0);
    snprintf(ddl, sizeof ddl, "DROP TABLE %s", tx_table);
    T_CHECK(pgt_exec(db, ddl));
}

/* ---- graceful stop waits for a query in flight -------------------------------------- */

static atomic_int slow_status = -100;

static int slow_handle(rt_actor_t *self, const rt_msg_t *m)
{
    if (m->type == MSG_GO) {
        if (rt_pg_query(self, 7, "SELECT pg_sleep(0.3), 'slow'", 0, NULL) != RT_OK)
            atomic_store(&slow_status, -99);
        return RT_OK;
    }
    const rt_pg_result_t *r = rt_pg_msg_result(m);
    if (r && m->corr == 7) atomic_store(&slow_status, r->status);
    return RT_OK;
}

static const rt_kind_t slow_kind = {.name = "pgt_slow", .state_size = 8, .handle = slow_handle};

static bool inflight_positive(void *arg) { return rt_pg_stats_inflight() > 0; }

T_CASE_TAGGED(actors_stop_waits_for_inflight_query, "db")
{
    const rt_kind_t *kinds[] = {&slow_kind};
    rt_runtime_t *rt = rt_up(1, kinds, 1, 1, true);
    atomic_store(&slow_status, -100);
    T_EQ_INT(send_go(rt, &slow_kind, "s", MSG_GO), RT_OK);
    T_CHECK(pgt_wait(inflight_positive, NULL, 10000));
    rt_down(rt);                           /* drains for up to 10 s */
    T_EQ_INT(atomic_load(&slow_status), RT_OK);
    T_EQ_INT(rt_pg_stats_inflight(), 0);
}

/* ---- refused without rt_pg_init ------------------------------------------------------------ */

static atomic_int noinit_rc = 1;

static int noinit_handle(rt_actor_t *self, const rt_msg_t *m)
{
    if (m->type == MSG_GO) atomic_store(&noinit_rc, rt_pg_query(self, 1, "SELECT 1", 0, NULL));
    return RT_OK;
}

static const rt_kind_t noinit_kind = {.name = "pgt_noinit", .state_size = 8, .handle = noinit_handle};

static bool noinit_set(void *arg) { return atomic_load(&noinit_rc) != 1; }

T_CASE(actors_query_without_init_is_refused)
{
    const rt_kind_t *kinds[] = {&noinit_kind};
    rt_runtime_t *rt = rt_up(1, kinds, 1, 1, false);
    T_EQ_INT(send_go(rt, &noinit_kind, "x", MSG_GO), RT_OK);
    T_CHECK(pgt_wait(noinit_set, NULL, 10000));
    T_EQ_INT(atomic_load(&noinit_rc), RT_EINVAL);
    T_EQ_INT(rt_pg_query(NULL, 1, "SELECT 1", 0, NULL), RT_EINVAL);
    rt_down(rt);
}

/* A conninfo libpq cannot parse: no worker can have a connection, so the
 * runtime refuses to start (instead of running workers without a database
 * while health checks say all is well). */
T_CASE(actors_start_fails_when_pg_init_fails_on_a_worker)
{
    rt_config_t cfg = {.threads = 2};
    rt_runtime_t *rt = rt_runtime_new(&cfg);
    T_CHECK(rt != NULL);
    T_EQ_INT(rt_pg_init(rt, "dbname='unterminated", 1), RT_OK);   /* checked per worker */
    T_EQ_INT(rt_runtime_start(rt), RT_EIO);
    rt_runtime_free(rt);
}

T_MAIN()
