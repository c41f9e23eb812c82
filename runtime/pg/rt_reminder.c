/* rt_reminder.c — durable reminders: the table operations and the poller.
 *
 * Purpose: rt_reminder_set / cancel / ack issue asynchronous statements on
 * the calling actor's connection (all idempotent, so they survive
 * reconnects); the poller is an anonymous service actor of kind
 * "rt_reminders" that claims due rows and sends them to their actors. The
 * delivery contract (at least once, lease, ack) is in rt_reminder.h; the
 * table is sql/002_runtime_reminders.sql.
 *
 * Exports: rt_reminder_set(_ex), rt_reminder_cancel(_ex), rt_reminder_ack,
 * rt_reminders_start(_ex), rt_reminder_stats_fired, msg_rt_reminder_new,
 * msg_rt_reminder_decode (rt_reminder.h); rt_reminder_register_kind
 * (rt_pg_internal.h).
 *
 * Threads: set/cancel/ack and the poller's handler on worker threads;
 * rt_reminders_start and rt_reminder_register_kind on the main thread.
 */
#include "rt_reminder.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_log.h"
#include "rt_pg_internal.h"

RT_PACK_DEFINE(rt_reminder, RT_MSG_REMINDER, "a durable reminder fired")

/* relaxed: a statistic; nothing is published through it */
static _Atomic uint64_t g_fired;

uint64_t rt_reminder_stats_fired(void)
{
    return atomic_load_explicit(&g_fired, memory_order_relaxed); /* statistic */
}

#define REM_TIMEOUT_MS 30000u

static const char SQL_SET[] =
    "INSERT INTO runtime_reminders (kind, key, name, due_at, data) "
    "VALUES ($1, $2, $3, 'epoch'::timestamptz + $4::bigint * interval '1 millisecond', $5) "
    "ON CONFLICT (kind, key, name) DO UPDATE SET due_at = EXCLUDED.due_at, "
    "data = EXCLUDED.data, fired_at = NULL, attempts = 0, "
    "gen = runtime_reminders.gen + 1";

static const char SQL_CANCEL[] =
    "DELETE FROM runtime_reminders WHERE kind = $1 AND key = $2 AND name = $3";

static const char SQL_ACK[] =
    "DELETE FROM runtime_reminders WHERE id = $1::bigint AND gen = $2::bigint";

/* Claim up to $1 due rows that are not leased (never fired, or fired more
 * than $2 ms ago without an ack), stamp them and return them. */
static const char SQL_CLAIM[] =
    "UPDATE runtime_reminders r SET fired_at = now(), attempts = r.attempts + 1 "
    "FROM (SELECT id FROM runtime_reminders "
    "      WHERE due_at <= now() AND (fired_at IS NULL OR "
    "            fired_at <= now() - $2::bigint * interval '1 millisecond') "
    "      ORDER BY due_at LIMIT $1::int FOR UPDATE SKIP LOCKED) d "
    "WHERE r.id = d.id "
    "RETURNING r.id, r.gen, r.kind, r.key, r.name, r.data, "
    "(extract(epoch FROM r.due_at) * 1000)::bigint AS due_ms, r.attempts";

/* Completion of a fire-and-forget statement: log failures. */
static void rem_ff_done(rt_pg_result_t *res, void *arg)
{
    if (res->status != RT_OK)
        LOG_WARN("reminder_op_failed", "op=%s status=%d sqlstate=%s error=\"%.200s\"",
                 (const char *)arg, res->status, res->sqlstate,
                 res->error ? res->error : "");
    rt_pg_result_free(res);
}

static int rem_issue(rt_actor_t *self, uint32_t corr, bool reply, const char *op,
                     const char *sql, int nparams, const char *const *params)
{
    rt_pg_stmt_t s = {.sql = sql, .nparams = nparams, .params = params};
    return rt_pg_call(self, corr, 1, &s, false, RT_PG_IDEMPOTENT, REM_TIMEOUT_MS,
                      reply ? NULL : rem_ff_done, reply ? NULL : (void *)op);
}

static int rem_set(rt_actor_t *self, uint32_t corr, bool reply, const char *name,
                   int64_t due_ms, const char *data)
{
    if (!self || !name || !*name) return RT_EINVAL;
    const char *key = rt_self_key(self);
    const rt_kind_t *kind = rt_self_kind(self);
    if (!key || !*key || !kind || !kind->name) return RT_EINVAL;
    char due[24];
    snprintf(due, sizeof due, "%" PRId64, due_ms);
    const char *p[5] = {kind->name, key, name, due, data ? data : ""};
    return rem_issue(self, corr, reply, "set", SQL_SET, 5, p);
}

int rt_reminder_set(rt_actor_t *self, const char *name, int64_t due_at_unix_ms,
                    const char *data)
{
    return rem_set(self, 0, false, name, due_at_unix_ms, data);
}

int rt_reminder_set_ex(rt_actor_t *self, uint32_t corr, const char *name,
                       int64_t due_at_unix_ms, const char *data)
{
    return rem_set(self, corr, true, name, due_at_unix_ms, data);
}

static int rem_cancel(rt_actor_t *self, uint32_t corr, bool reply, const char *name)
{
    if (!self || !name || !*name) return RT_EINVAL;
    const char *key = rt_self_key(self);
    const rt_kind_t *kind = rt_self_kind(self);
    if (!key || !*key || !kind || !kind->name) return RT_EINVAL;
    const char *p[3] = {kind->name, key, name};
    return rem_issue(self, corr, reply, "cancel", SQL_CANCEL, 3, p);
}

int rt_reminder_cancel(rt_actor_t *self, const char *name)
{
    return rem_cancel(self, 0, false, name);
}

int rt_reminder_cancel_ex(rt_actor_t *self, uint32_t corr, const char *name)
{
    return rem_cancel(self, corr, true, name);
}

/* Delete the row (id, gen) without a reply. */
static int rem_delete(rt_actor_t *self, const char *op, int64_t id, int64_t gen)
{
    char ids[24], gens[24];
    snprintf(ids, sizeof ids, "%" PRId64, id);
    snprintf(gens, sizeof gens, "%" PRId64, gen);
    const char *p[2] = {ids, gens};
    return rem_issue(self, 0, false, op, SQL_ACK, 2, p);
}

int rt_reminder_ack(rt_actor_t *self, const rt_msg_t *m)
{
    msg_rt_reminder_t r;
    if (!self || !m || msg_rt_reminder_decode(m, &r) != RT_OK || r.id <= 0) return RT_EINVAL;
    return rem_delete(self, "ack", r.id, r.gen);
}

/* ---- the poller ------------------------------------------------------------------ */

enum { CORR_CLAIM = 1 };

/* The poller's start message: the poller is keyless, so it is never the
 * target of a real reminder, and RT_MSG_REMINDER with this corr carries its
 * options instead (a timer message cannot be used: the core drops
 * RT_MSG_TIMER messages whose corr is not a live timer id). */
#define REM_MSG_START RT_MSG_REMINDER
#define REM_CORR_START 0x5354u

typedef struct poller {
    rt_reminders_opts_t o;
    uint32_t timer;         /* pending poll timer id, 0 if none */
    uint32_t fail_streak;   /* consecutive failed polls (for quiet logging) */
    bool started;
    bool polling;           /* a claim is in flight */
} poller_t;

static void poller_schedule(rt_actor_t *self, poller_t *p, uint32_t ms)
{
    if (p->timer) rt_timer_cancel(self, p->timer);
    p->timer = rt_timer_after(self, ms ? ms : 1);
    if (!p->timer) LOG_ERROR("reminder_poller_timer_failed", "ms=%u", ms);
}

static void poller_poll(rt_actor_t *self, poller_t *p)
{
    if (p->polling) return;
    char batch[16], lease[16];
    snprintf(batch, sizeof batch, "%u", p->o.batch);
    snprintf(lease, sizeof lease, "%u", p->o.lease_ms);
    const char *params[2] = {batch, lease};
    int rc = rt_pg_query_ex(self, CORR_CLAIM, SQL_CLAIM, 2, params, 0, REM_TIMEOUT_MS);
    if (rc != RT_OK) {
        LOG_WARN("reminder_poll_failed", "rc=%d", rc);
        poller_schedule(self, p, p->o.poll_ms);
        return;
    }
    p->polling = true;
}

/* Send every claimed row; returns the number of rows. */
static int poller_fire(rt_actor_t *self, poller_t *p, const rt_pg_result_t *r)
{
    rt_runtime_t *rt = rt_self_runtime(self);
    for (int i = 0; i < r->nrows; i++) {
        int64_t id = 0, gen = 0, due = 0, attempt = 0;
        if (rt_pg_get_i64(r, i, 0, &id) != RT_OK || rt_pg_get_i64(r, i, 1, &gen) != RT_OK) continue;
        rt_pg_get_i64(r, i, 6, &due);
        rt_pg_get_i64(r, i, 7, &attempt);
        const char *kind_name = rt_pg_value(r, i, 2), *key = rt_pg_value(r, i, 3);
        const char *name = rt_pg_value(r, i, 4), *data = rt_pg_value(r, i, 5);
        if (!kind_name || !key || !name) continue;
        if (p->o.max_attempts && attempt > (int64_t)p->o.max_attempts) {
            LOG_ERROR("reminder_dropped", "id=%" PRId64 " kind=%s name=%s attempts=%" PRId64,
                      id, kind_name, name, attempt - 1);
            rem_delete(self, "drop", id, gen);
            continue;
        }
        const rt_kind_t *kind = rt_kind_find(rt, kind_name);
        if (!kind) {
            LOG_WARN("reminder_unknown_kind", "id=%" PRId64 " kind=%s", id, kind_name);
            continue;   /* retried after the lease */
        }
        if (attempt > 1)
            LOG_WARN("reminder_redelivered", "id=%" PRId64 " kind=%s name=%s attempt=%" PRId64,
                     id, kind_name, name, attempt);
        msg_rt_reminder_t v = {.name = RT_STR(name), .data = RT_STR(data ? data : ""),
                               .id = id, .gen = gen, .due_at_ms = due, .attempt = attempt};
        rt_msg_t *m = msg_rt_reminder_new(&v);
        if (!m) { LOG_ERROR("reminder_send_failed", "id=%" PRId64 " rc=enomem", id); continue; }
        int rc = rt_send_key(rt, kind, key, m);
        if (rc < 0) {
            LOG_WARN("reminder_send_failed", "id=%" PRId64 " kind=%s rc=%d", id, kind_name, rc);
            continue;   /* retried after the lease */
        }
        atomic_fetch_add_explicit(&g_fired, 1, memory_order_relaxed); /* statistic */
    }
    return r->nrows;
}

static int poller_start(rt_actor_t *self, poller_t *p, const rt_msg_t *m)
{
    rt_pack_reader_t rd;
    int64_t v[4] = {0, 0, 0, 0};
    if (rt_pack_reader_open(&rd, m, 4) != RT_OK) return RT_OK;   /* not a start message */
    for (int i = 0; i < 4; i++) rt_pack_get_i64(&rd, &v[i]);
    if (rd.bad) return RT_OK;
    p->o = (rt_reminders_opts_t){.poll_ms = (uint32_t)v[0], .batch = (uint32_t)v[1],
                                 .lease_ms = (uint32_t)v[2], .max_attempts = (uint32_t)v[3]};
    p->started = true;
    LOG_INFO("reminder_poller_started", "poll_ms=%u batch=%u lease_ms=%u",
             p->o.poll_ms, p->o.batch, p->o.lease_ms);
    poller_poll(self, p);
    return RT_OK;
}

static int poller_handle(rt_actor_t *self, const rt_msg_t *m)
{
    poller_t *p = rt_self_state(self);
    if (m->type == REM_MSG_START && m->corr == REM_CORR_START)
        return p->started ? RT_OK : poller_start(self, p, m);
    if (m->type == RT_MSG_TIMER) {
        if (m->corr != p->timer) return RT_OK;     /* a stale timer */
        p->timer = 0;
        poller_poll(self, p);
        return RT_OK;
    }
    if (m->type == RT_MSG_PG_RESULT && m->corr == CORR_CLAIM) {
        const rt_pg_result_t *r = rt_pg_msg_result(m);
        p->polling = false;
        if (!r || r->status != RT_OK) {
            if (p->fail_streak++ % 60 == 0)
                LOG_WARN("reminder_poll_failed", "status=%d sqlstate=%s error=\"%.200s\"",
                         r ? r->status : RT_ENOMEM, r ? r->sqlstate : "",
                         r && r->error ? r->error : "");
            poller_schedule(self, p, p->o.poll_ms);
            return RT_OK;
        }
        p->fail_streak = 0;
        int n = poller_fire(self, p, r);
        /* A full batch means more may be due: poll again at once. */
        poller_schedule(self, p, n >= (int)p->o.batch ? 1 : p->o.poll_ms);
    }
    return RT_OK;
}

static const rt_kind_t g_poller_kind = {
    .name = "rt_reminders",
    .state_size = sizeof(poller_t),
    .idle_age_ms = 0,
    .handle = poller_handle,
};

int rt_reminder_register_kind(rt_runtime_t *rt)
{
    if (rt_kind_find(rt, g_poller_kind.name)) return RT_OK;
    return rt_kind_register(rt, &g_poller_kind);
}

int rt_reminders_start_ex(rt_runtime_t *rt, const rt_reminders_opts_t *opts)
{
    rt_reminders_opts_t o = opts ? *opts : (rt_reminders_opts_t){0};
    if (!o.poll_ms) o.poll_ms = 1000;
    if (!o.batch) o.batch = 100;
    if (!o.lease_ms) o.lease_ms = 60000;
    if (!o.max_attempts) o.max_attempts = 10;
    const rt_kind_t *kind = rt_kind_find(rt, g_poller_kind.name);
    if (!kind) return RT_EINVAL;
    rt_ref_t ref;
    int rc = rt_spawn(rt, kind, &ref);
    if (rc != RT_OK) return rc;
    rt_pack_writer_t w;
    rt_pack_writer_init(&w, REM_MSG_START, 48);
    rt_pack_put_array(&w, 4);
    rt_pack_put_i64(&w, o.poll_ms);
    rt_pack_put_i64(&w, o.batch);
    rt_pack_put_i64(&w, o.lease_ms);
    rt_pack_put_i64(&w, o.max_attempts);
    rt_msg_t *m = rt_pack_writer_finish(&w);
    if (!m) return RT_ENOMEM;
    m->corr = REM_CORR_START;
    return rt_send(rt, ref, m);
}

int rt_reminders_start(rt_runtime_t *rt, uint32_t poll_ms)
{
    rt_reminders_opts_t o = {.poll_ms = poll_ms};
    return rt_reminders_start_ex(rt, &o);
}
