/* rt_pg_internal.h — glue between rt_pg.c and rt_reminder.c (not public).
 *
 * Purpose: lets the reminder module issue requests on the calling worker's
 * connection with its own completion callback, and lets rt_pg_init register
 * the reminder poller's kind.
 *
 * Exports: rt_pg_call, rt_reminder_register_kind.
 * Threads: rt_pg_call on a worker thread (handler context);
 * rt_reminder_register_kind on the main thread before rt_runtime_start.
 */
#ifndef PLUS7_RT_PG_INTERNAL_H
#define PLUS7_RT_PG_INTERNAL_H

#include <stdbool.h>

#include "rt_pg_conn.h"

/* Issue `n` statements (a transaction when is_tx) on the connection of the
 * calling worker that serves `self`. When `done` is NULL the result is
 * posted to self as RT_MSG_PG_RESULT with `corr` (as rt_pg_query does);
 * otherwise `done(res, arg)` runs on this worker and owns `res`. Counts as
 * in-flight worker work until completion. Returns RT_OK or an error (then
 * nothing is delivered): RT_EINVAL, RT_ENOMEM, RT_EFULL. */
int rt_pg_call(rt_actor_t *self, uint32_t corr, int n, const rt_pg_stmt_t *stmts,
               bool is_tx, unsigned flags, uint32_t timeout_ms,
               rt_pg_conn_done_fn done, void *arg);

/* Register the reminder poller's kind on `rt` (rt_reminder.c). */
int rt_reminder_register_kind(rt_runtime_t *rt);

#endif
