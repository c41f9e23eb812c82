/* pay_sweeper.c — the payments' alarm clock (kind "pay_sweeper", key
 * "main").
 *
 * Purpose: a payment actor keeps its next check in its row
 * (pay_attempts.next_check_at) and a volatile timer; after a restart, or
 * when a notification was stored while the process died before poking,
 * only the database knows. Every sweep_ms the sweeper asks for attempts
 * that are due (a YooKassa payment to create or re-read, an operator's
 * confirmation, an unpaid invoice past its window), open refunds and
 * notifications left unprocessed for two seconds, and pokes their actors.
 * Claim-free: a poke is idempotent (the actor loads the row and does what
 * is due), so several instances may sweep the same rows.
 *
 * Exports: pay_sweeper_kind.
 * Threads: the actor's home worker.
 */
#include <stdio.h>
#include <string.h>

#include "msg_types.h"
#include "pay.h"
#include "rt_log.h"
#include "rt_pg.h"

typedef struct ps_state {
    bool busy;
    uint32_t timer;
} ps_state_t;

static const char ps_sql_due[] =
    "SELECT id FROM pay_attempts"
    " WHERE status IN ('created', 'pending') AND next_check_at <= now()"
    "   AND (method = 'sbp' OR confirmed_by IS NOT NULL"
    "        OR (method = 'telegram' AND expires_at < now() - interval '10 minutes'))"
    " UNION SELECT attempt_id FROM pay_refunds WHERE status = 'created' AND next_try_at <= now()"
    " UNION SELECT a.id FROM pay_notifications n JOIN pay_attempts a ON a.provider_id = n.provider_id"
    "        WHERE n.processed_at IS NULL AND n.received_at < now() - interval '2 seconds'"
    " LIMIT 500";

static int ps_handle(rt_actor_t *self, const rt_msg_t *m)
{
    ps_state_t *st = rt_self_state(self);
    if (m->type == MSG_pay_poke || (m->type == RT_MSG_TIMER && m->corr == st->timer)) {
        if (m->type == RT_MSG_TIMER) st->timer = 0;
        if (!st->busy && rt_pg_query(self, 1, ps_sql_due, 0, NULL) == RT_OK) st->busy = true;
        else if (!st->busy && !st->timer) st->timer = rt_timer_after(self, (uint32_t)pay_config()->sweep_ms);
        return RT_OK;
    }
    if (m->type == RT_MSG_PG_RESULT) {
        const rt_pg_result_t *r = rt_pg_msg_result(m);
        st->busy = false;
        if (r && r->status == RT_OK) {
            for (int i = 0; i < r->nrows; i++) pay_poke(rt_self_runtime(self), rt_pg_value(r, i, 0));
            if (r->nrows) LOG_DEBUG("pay_sweep", "poked=%d", r->nrows);
        } else if (r) {
            LOG_WARN("pay_sweep_failed", "error=\"%s\"", r->error ? r->error : "");
        }
        if (!st->timer) st->timer = rt_timer_after(self, (uint32_t)pay_config()->sweep_ms);
    }
    return RT_OK;
}

const rt_kind_t pay_sweeper_kind = {
    .name = "pay_sweeper",
    .state_size = sizeof(ps_state_t),
    .idle_age_ms = 0,
    .handle = ps_handle,
};
