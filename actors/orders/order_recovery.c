/* order_recovery.c — replay of accepted logistics events after a restart.
 *
 * Purpose: the logistics webhook stores events (logistics_inbox) before it
 * answers 200 and then pokes the order actors; a crash between the two
 * leaves stored but unapplied events. At start this actor (key "main")
 * pokes the order actor of every posting with unprocessed events, then
 * stops. The order actors apply them in order as usual.
 *
 * Exports: order_recovery_kind.
 * Threads: the actor's home worker.
 */
#include "msg_types.h"
#include "plus7_actors.h"
#include "rt_log.h"
#include "rt_pg.h"

enum { REC_CORR_PENDING = 1 };

static int rec_handle(rt_actor_t *self, const rt_msg_t *m)
{
    if (m->type == MSG_order_poke) {
        if (rt_pg_query_ex(self, REC_CORR_PENDING,
                           "SELECT DISTINCT posting_number FROM logistics_inbox WHERE processed_at IS NULL",
                           0, NULL, RT_PG_IDEMPOTENT, 60000) != RT_OK)
            return RT_EIO;   /* supervision: the next start message retries */
        return RT_OK;
    }
    const rt_pg_result_t *r = rt_pg_msg_result(m);
    if (!r || m->corr != REC_CORR_PENDING) return RT_OK;
    if (r->status != RT_OK) {
        LOG_WARN("order_recovery_failed", "error=\"%s\"", r->error ? r->error : rt_strerror(r->status));
        return RT_STOP;
    }
    for (int i = 0; i < r->nrows; i++) {
        msg_order_poke_t v = {0};
        rt_send_key(rt_self_runtime(self), &order_kind, rt_pg_value(r, i, 0), msg_order_poke_new(&v));
    }
    LOG_INFO("order_recovery", "postings=%d", r->nrows);
    return RT_STOP;
}

const rt_kind_t order_recovery_kind = {
    .name = "order_recovery",
    .state_size = 0,
    .idle_age_ms = 0,
    .handle = rec_handle,
};
