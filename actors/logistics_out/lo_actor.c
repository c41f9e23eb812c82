/* lo_actor.c — the outbound logistics events sender.
 *
 * Purpose: what the company's logistics system must learn from the bot
 * (bookings, cancellations, moves, storage extensions, return requests)
 * is written to logistics_outbox in the same transaction as the change
 * (sql/014_logistics_out.sql). This actor (kind "logistics_out", key
 * "main", registered only when PLUS7_LOGISTICS_OUT_URL is set) sends the
 * rows: it claims the oldest unsent row of each posting (FOR UPDATE SKIP
 * LOCKED, leased for 30 s through next_at, so another instance or a
 * restarted one takes it over only after the lease), POSTs them as one
 * {"events":[…]} body signed like the inbound webhook (X-Plus7-Signature:
 * sha256=<hex HMAC-SHA256 of the body with PLUS7_LOGISTICS_SECRET>), and
 * on a 2xx marks them sent and claims again. Anything else — no answer, a
 * 5xx, a 4xx — leaves them unsent with next_at backed off per row (1 s
 * doubling, at most 5 minutes); the actor wakes at the earliest next_at.
 * Only the head of a posting is ever in flight, so a posting's events
 * arrive in order; a row is sent at least once and the receiver drops
 * repeats by "id" (a crash between its 2xx and our mark repeats a batch).
 *
 * Woken by lo_kick (after a conversation commits an event; at start) and
 * every LO_SWEEP_MS; never passivates.
 *
 * Exports: logistics_out_kind.
 * Threads: the actor's home worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lo_sign.h"
#include "lo_stats.h"
#include "msg_types.h"
#include "plus7_actors.h"
#include "rt_http.h"
#include "rt_log.h"
#include "rt_pg.h"

#define LO_BATCH 50
#define LO_SWEEP_MS 30000
#define LO_MIN_WAKE_MS 20
#define LO_HTTP_TIMEOUT_MS 15000

enum { LO_CORR_CLAIM = 1, LO_CORR_SENT, LO_CORR_FAILED, LO_CORR_NEXT, LO_CORR_HTTP };

typedef struct lo_state {
    bool busy;              /* a claim, a send or its mark is in flight */
    bool again;             /* a kick arrived meanwhile */
    char ids[LO_BATCH * 21 + 3];   /* the batch in flight as a SQL array "{1,2,…}" */
    int n;
    uint32_t sweep_timer, wake_timer;
} lo_state_t;

static const char lo_sql_claim[] =
    "WITH c AS (SELECT o.id FROM logistics_outbox o"
    "            WHERE o.sent_at IS NULL AND o.next_at <= now()"
    "              AND NOT EXISTS (SELECT 1 FROM logistics_outbox e WHERE e.posting_number = o.posting_number"
    "                                 AND e.sent_at IS NULL AND e.id < o.id)"
    "            ORDER BY o.id LIMIT 50 FOR UPDATE OF o SKIP LOCKED),"
    "     u AS (UPDATE logistics_outbox l SET next_at = now() + interval '30 seconds', attempts = l.attempts + 1"
    "             FROM c WHERE l.id = c.id RETURNING l.id, l.payload)"
    " SELECT id, payload::text FROM u ORDER BY id";
static const char lo_sql_sent[] =
    "UPDATE logistics_outbox SET sent_at = now(), last_error = NULL WHERE id = ANY($1::bigint[])";
static const char lo_sql_failed[] =
    "UPDATE logistics_outbox SET last_error = left($2, 300),"
    "       next_at = now() + least(interval '1 second' * power(2, least(attempts, 20) - 1), interval '5 minutes')"
    " WHERE id = ANY($1::bigint[]) AND sent_at IS NULL";
static const char lo_sql_next[] =   /* NULL when nothing waits */
    "SELECT (extract(epoch FROM min(next_at) - now()) * 1000)::bigint FROM logistics_outbox WHERE sent_at IS NULL";

static void lo_claim(rt_actor_t *self, lo_state_t *st)
{
    if (st->busy) { st->again = true; return; }
    st->busy = true;
    st->again = false;
    if (rt_pg_query(self, LO_CORR_CLAIM, lo_sql_claim, 0, NULL) != RT_OK) st->busy = false;
}

static void lo_wake_after(rt_actor_t *self, lo_state_t *st, int64_t ms)
{
    if (st->wake_timer) rt_timer_cancel(self, st->wake_timer);
    if (ms < LO_MIN_WAKE_MS) ms = LO_MIN_WAKE_MS;
    if (ms > LO_SWEEP_MS) ms = LO_SWEEP_MS;
    st->wake_timer = rt_timer_after(self, (uint32_t)ms);
}

/* Nothing claimable now: sleep until the earliest backed-off row is due. */
static void lo_idle(rt_actor_t *self, lo_state_t *st)
{
    st->busy = true;
    if (rt_pg_query(self, LO_CORR_NEXT, lo_sql_next, 0, NULL) != RT_OK) st->busy = false;
}

static void lo_send(rt_actor_t *self, lo_state_t *st, const rt_pg_result_t *r)
{
    const plus7_actors_cfg_t *cfg = plus7_actors_cfg();
    size_t cap = 32;
    for (int i = 0; i < r->nrows; i++) cap += strlen(rt_pg_value(r, i, 1)) + 1;
    char *body = malloc(cap);
    if (!body) { st->busy = false; lo_wake_after(self, st, 1000); return; }
    size_t len = (size_t)snprintf(body, cap, "{\"events\":[");
    size_t il = (size_t)snprintf(st->ids, sizeof st->ids, "{");
    for (int i = 0; i < r->nrows; i++) {
        len += (size_t)snprintf(body + len, cap - len, "%s%s", i ? "," : "", rt_pg_value(r, i, 1));
        il += (size_t)snprintf(st->ids + il, sizeof st->ids - il, "%s%s", i ? "," : "", rt_pg_value(r, i, 0));
    }
    len += (size_t)snprintf(body + len, cap - len, "]}");
    snprintf(st->ids + il, sizeof st->ids - il, "}");
    st->n = r->nrows;
    char sig[LO_SIGNATURE_MAX], hdr[LO_SIGNATURE_MAX + 32];
    lo_sign(cfg->logistics_secret, body, len, sig);
    snprintf(hdr, sizeof hdr, "X-Plus7-Signature: %s", sig);
    const char *headers[] = {hdr};
    rt_http_req_t req = {.method = "POST", .url = cfg->logistics_out_url, .headers = headers, .nheaders = 1,
                         .content_type = "application/json", .body = body, .body_len = len,
                         .timeout_ms = LO_HTTP_TIMEOUT_MS};
    int rc = rt_http_request(self, LO_CORR_HTTP, &req);
    free(body);
    if (rc != RT_OK) {
        const char *params[] = {st->ids, "request not started"};
        if (rt_pg_query(self, LO_CORR_FAILED, lo_sql_failed, 2, params) != RT_OK) st->busy = false;
    }
}

static void lo_on_http(rt_actor_t *self, lo_state_t *st, const rt_http_result_t *h)
{
    if (h && h->rc == RT_OK && h->status >= 200 && h->status < 300) {
        LOG_INFO("logistics_out_sent", "events=%d status=%ld", st->n, h->status);
        lo_stats_sent(st->n);
        const char *params[] = {st->ids};
        if (rt_pg_query(self, LO_CORR_SENT, lo_sql_sent, 1, params) != RT_OK) st->busy = false;
        return;
    }
    char why[160];
    if (h && h->rc == RT_OK) snprintf(why, sizeof why, "HTTP %ld", h->status);
    else snprintf(why, sizeof why, "%s", h ? h->error : "no result");
    LOG_WARN("logistics_out_failed", "events=%d error=\"%s\"", st->n, why);
    lo_stats_failed();
    const char *params[] = {st->ids, why};
    if (rt_pg_query(self, LO_CORR_FAILED, lo_sql_failed, 2, params) != RT_OK) st->busy = false;
}

static void lo_on_pg(rt_actor_t *self, lo_state_t *st, uint32_t corr, const rt_pg_result_t *r)
{
    if (!r || r->status != RT_OK) {
        LOG_WARN("logistics_out_db_retry", "corr=%u error=\"%s\"", corr, r && r->error ? r->error : "");
        st->busy = false;
        lo_wake_after(self, st, 1000);
        return;
    }
    switch (corr) {
    case LO_CORR_CLAIM:
        if (r->nrows == 0) { lo_idle(self, st); return; }
        lo_send(self, st, r);
        return;
    case LO_CORR_SENT:
        st->busy = false;
        lo_claim(self, st);     /* more may be waiting (the next event of each posting) */
        return;
    case LO_CORR_FAILED:
        st->busy = false;
        lo_idle(self, st);
        return;
    case LO_CORR_NEXT: {
        st->busy = false;
        if (st->again) { lo_claim(self, st); return; }
        int64_t ms = 0;
        if (r->nrows == 1 && !rt_pg_is_null(r, 0, 0) && rt_pg_get_i64(r, 0, 0, &ms) == RT_OK)
            lo_wake_after(self, st, ms + 5);
        return;
    }
    default:
        return;
    }
}

static int lo_on_activate(rt_actor_t *self, const rt_msg_t *m)
{
    (void)m;
    lo_state_t *st = rt_self_state(self);
    st->sweep_timer = rt_timer_after(self, LO_SWEEP_MS);
    return RT_OK;
}

static int lo_handle(rt_actor_t *self, const rt_msg_t *m)
{
    lo_state_t *st = rt_self_state(self);
    switch (m->type) {
    case MSG_lo_kick:
        lo_claim(self, st);
        return RT_OK;
    case RT_MSG_TIMER:
        if (m->corr == st->sweep_timer) {
            st->sweep_timer = rt_timer_after(self, LO_SWEEP_MS);
            lo_claim(self, st);
        } else if (m->corr == st->wake_timer) {
            st->wake_timer = 0;
            lo_claim(self, st);
        }
        return RT_OK;
    case RT_MSG_HTTP_RESULT:
        if (m->corr == LO_CORR_HTTP) lo_on_http(self, st, m->ptr);
        return RT_OK;
    case RT_MSG_PG_RESULT:
        lo_on_pg(self, st, m->corr, rt_pg_msg_result(m));
        return RT_OK;
    default:
        return RT_OK;
    }
}

const rt_kind_t logistics_out_kind = {
    .name = PLUS7_KIND_LOGISTICS_OUT,
    .state_size = sizeof(lo_state_t),
    .idle_age_ms = 0,
    .on_activate = lo_on_activate,
    .handle = lo_handle,
};
