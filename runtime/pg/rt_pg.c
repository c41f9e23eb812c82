/* rt_pg.c — asynchronous PostgreSQL for actors (the actor layer of rt_pg.h).
 *
 * Purpose: every worker owns `conns_per_worker` rt_pg_conn connections on
 * its own event_base, created in the worker by the slot-RT_PG_WORKER_SLOT
 * hook and closed when the worker stops. A request from an actor goes to
 * the connection chosen by the actor's reference (so one actor's requests
 * stay in order) and its decoded result comes back to the actor as an
 * urgent RT_MSG_PG_RESULT message.
 *
 * Exports: rt_pg_init, rt_pg_query, rt_pg_query_ex, rt_pg_tx, rt_pg_tx_ex
 * (rt_pg.h); rt_pg_call (rt_pg_internal.h).
 *
 * Threads: rt_pg_init on the main thread; the worker hooks on each worker;
 * requests and completions on the worker that serves the requesting actor.
 */
#include "rt_pg_internal.h"

#include <stdlib.h>
#include <string.h>

#include "rt_log.h"

#define PG_MAX_CONNS 8

/* Configuration of one rt_pg_init call. Kept reachable for the life of the
 * process (a runtime may be stopped and another started, as tests do). */
typedef struct pg_cfg {
    struct pg_cfg *next;
    char *conninfo;
    int nconns;
} pg_cfg_t;

static pg_cfg_t *g_cfgs;   /* main thread only (rt_pg_init) */

typedef struct pg_worker {
    int nconns;
    rt_pg_conn_t *conns[PG_MAX_CONNS];
} pg_worker_t;

static void *pg_worker_init(rt_runtime_t *rt, int worker, void *arg)
{
    pg_cfg_t *cfg = arg;
    struct event_base *base = rt_worker_base();
    pg_worker_t *w = calloc(1, sizeof *w);
    if (!w || !base) {
        free(w);
        rt_worker_init_failed("rt_pg: out of memory");
        return NULL;
    }
    for (int i = 0; i < cfg->nconns; i++) {
        w->conns[i] = rt_pg_conn_new(base, cfg->conninfo, NULL);
        if (!w->conns[i]) {
            /* a worker with fewer connections than configured would serve
             * its actors' queries slower than the rest, or not at all */
            rt_worker_init_failed("rt_pg: cannot create a connection (bad conninfo or out of memory)");
            break;
        }
        w->nconns++;
    }
    (void)worker;
    return w;
}

static void pg_worker_fini(void *slot_value, void *arg)
{
    pg_worker_t *w = slot_value;
    if (!w) return;
    for (int i = 0; i < w->nconns; i++) rt_pg_conn_free(w->conns[i]);
    free(w);
}

int rt_pg_init(rt_runtime_t *rt, const char *conninfo, int conns_per_worker)
{
    if (!rt || !conninfo || conns_per_worker < 1 || conns_per_worker > PG_MAX_CONNS)
        return RT_EINVAL;
    pg_cfg_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return RT_ENOMEM;
    cfg->conninfo = strdup(conninfo);
    if (!cfg->conninfo) { free(cfg); return RT_ENOMEM; }
    cfg->nconns = conns_per_worker;
    int rc = rt_worker_hook(rt, RT_PG_WORKER_SLOT, pg_worker_init, pg_worker_fini, cfg);
    if (rc != RT_OK) {
        free(cfg->conninfo);
        free(cfg);
        return rc < 0 ? rc : RT_EINVAL;
    }
    cfg->next = g_cfgs;
    g_cfgs = cfg;
    return rt_reminder_register_kind(rt);
}

/* ---- requests ---------------------------------------------------------------- */

typedef struct pg_call {
    rt_runtime_t *rt;
    rt_ref_t to;
    uint32_t corr;
    rt_pg_conn_done_fn done;
    void *arg;
} pg_call_t;

static void pg_call_done(rt_pg_result_t *res, void *arg)
{
    pg_call_t *k = arg;
    if (k->done) k->done(res, k->arg);
    else (void)rt_send_result(k->rt, k->to, RT_MSG_PG_RESULT, k->corr, res, rt_pg_result_free);
    rt_worker_inflight_add(-1);
    free(k);
}

int rt_pg_call(rt_actor_t *self, uint32_t corr, int n, const rt_pg_stmt_t *stmts,
               bool is_tx, unsigned flags, uint32_t timeout_ms,
               rt_pg_conn_done_fn done, void *arg)
{
    if (!self) return RT_EINVAL;
    pg_worker_t *w = rt_worker_slot(RT_PG_WORKER_SLOT);
    if (!w || w->nconns == 0) return RT_EINVAL;
    rt_ref_t ref = rt_self_ref(self);
    rt_pg_conn_t *c = w->conns[(ref.slot * 2654435761u) % (uint32_t)w->nconns];
    pg_call_t *k = malloc(sizeof *k);
    if (!k) return RT_ENOMEM;
    *k = (pg_call_t){.rt = rt_self_runtime(self), .to = ref, .corr = corr,
                     .done = done, .arg = arg};
    int rc = is_tx ? rt_pg_conn_tx(c, n, stmts, flags, timeout_ms, pg_call_done, k)
                   : (n == 1 ? rt_pg_conn_query(c, stmts[0].sql, stmts[0].nparams,
                                                stmts[0].params, flags, timeout_ms,
                                                pg_call_done, k)
                             : RT_EINVAL);
    if (rc != RT_OK) { free(k); return rc; }
    rt_worker_inflight_add(+1);
    return RT_OK;
}

int rt_pg_query_ex(rt_actor_t *self, uint32_t corr, const char *sql, int nparams,
                   const char *const *params, unsigned flags, uint32_t timeout_ms)
{
    rt_pg_stmt_t s = {.sql = sql, .nparams = nparams, .params = params};
    return rt_pg_call(self, corr, 1, &s, false, flags, timeout_ms, NULL, NULL);
}

int rt_pg_query(rt_actor_t *self, uint32_t corr, const char *sql, int nparams,
                const char *const *params)
{
    return rt_pg_query_ex(self, corr, sql, nparams, params, 0, RT_PG_DEFAULT_TIMEOUT_MS);
}

int rt_pg_tx_ex(rt_actor_t *self, uint32_t corr, int n, const rt_pg_stmt_t *stmts,
                unsigned flags, uint32_t timeout_ms)
{
    return rt_pg_call(self, corr, n, stmts, true, flags, timeout_ms, NULL, NULL);
}

int rt_pg_tx(rt_actor_t *self, uint32_t corr, int n, const rt_pg_stmt_t *stmts)
{
    return rt_pg_tx_ex(self, corr, n, stmts, 0, RT_PG_DEFAULT_TIMEOUT_MS);
}
