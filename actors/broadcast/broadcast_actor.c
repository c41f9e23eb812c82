/* broadcast_actor.c — the broadcast actor: one per running mass message
 * (kind "broadcast", key = broadcasts.id).
 *
 * Purpose: feed a broadcast's recipients into tg_outbox and report progress
 * in the operator's chat, surviving restarts without duplicates.
 *
 * Start and resume: the operator's confirmation inserts, in its own
 * transaction, a durable reminder (runtime_reminders: kind 'broadcast',
 * key id, name 'run', due now); the reminder poller activates this actor
 * within a poll period. While running the actor keeps re-setting that
 * reminder BC_WATCHDOG_DUE_MS ahead, so after a crash or restart the poller
 * wakes it again; when the broadcast is done it cancels it.
 *
 * The loop (one database request in flight at a time):
 *   sync   — one transaction: recipients 'queued' whose outbox row reached
 *            a final status become 'sent' / 'failed'; the counts by state
 *            (also copied into broadcasts.total/sent/failed); the progress
 *            message's outbox row (tg_message_id once sent) and the last
 *            edit's status.
 *   chunk  — while recipients are 'pending' and fewer than the window
 *            (BC_WINDOW_S seconds of PLUS7_TG_RATE, within BC_WINDOW_MIN..MAX)
 *            are queued and not final: read up to BC_CHUNK of them, render each
 *            message (bc_render.c), and in one transaction insert the
 *            outbox rows (prio 1 = bulk, dedupe key b<id>:<tg_user_id>,
 *            ON CONFLICT DO NOTHING) and mark them 'queued'. Insert and mark
 *            commit together, so a restart re-reads exactly the ones still
 *            pending; the dedupe key would stop a second row anyway.
 *   write  — the progress message: sent once (dedupe b<id>:p, prio 0);
 *            when Telegram's message_id is known, edited at most every
 *            BC_EDIT_EVERY_MS when its text changed and the previous edit
 *            is no longer pending (dedupe b<id>:e<n>, n = progress_seq,
 *            kept in broadcasts so a restart continues the numbering).
 *   finish — every recipient final: the final text (edit, or a new message
 *            if the progress message could not be sent; dedupe b<id>:final)
 *            and status 'done' in one transaction; the reminder is
 *            cancelled and the actor stops.
 * After each write the Telegram gateway is kicked; it sends at
 * PLUS7_TG_RATE, interactive replies first. The gateway's pacing, not this
 * actor, sets the rate: the window only bounds how far ahead rows are queued.
 *
 * Exports: broadcast_kind.
 * Threads: the actor's home worker.
 * Design note: actors/broadcast/DESIGN.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "bc_render.h"
#include "msg_types.h"
#include "plus7_actors.h"
#include "rt_log.h"
#include "rt_pg.h"
#include "rt_reminder.h"

#define BC_CHUNK 100                /* recipients rendered and queued per transaction */
#define BC_WINDOW_S 5               /* queued and not yet final: about this many seconds of sending, */
#define BC_WINDOW_MIN 50            /* ...but at least */
#define BC_WINDOW_MAX 1000          /* ...and at most this many */
#define BC_TICK_MS 1000             /* sync period while waiting for the gateway */
#define BC_RETRY_MS 2000            /* after a database error */
#define BC_EDIT_EVERY_MS 3000       /* progress edits at most this often */
#define BC_WATCHDOG_EVERY_MS 3000   /* re-set the 'run' reminder this often... */
#define BC_WATCHDOG_DUE_MS 10000    /* ...this far ahead */
#define BC_STALL_MS 60000           /* queued rows and no outcome for this long: warn */

enum { BC_CORR_SYNC = 1, BC_CORR_CHUNK, BC_CORR_WRITE, BC_CORR_FINISH };

typedef struct bc_state {
    bool done;              /* not running (finished, unknown): stop */
    bool busy;              /* a database request is in flight */
    int64_t id;
    int64_t chat_id;        /* the operator's chat */
    char *body;
    int64_t progress_mid;   /* Telegram message_id of the progress message, 0 = unknown */
    int64_t progress_seq;   /* edits queued so far */
    bool mid_dirty;         /* progress_mid learnt, not yet stored */
    char last_text[256];    /* progress text last queued */
    uint64_t last_edit_ms, last_watchdog_ms;
    int64_t last_final;     /* sent + failed at the last change */
    uint64_t last_final_ms; /* when it last changed (or the last stall warning) */
    uint32_t timer;
    bc_counts_t counts;
    /* decided by the last sync, written with the next write */
    bool w_send, w_edit;
    char w_text[256];
} bc_state_t;

static const char bc_sql_load[] =
    "SELECT chat_id, body, status, coalesce(progress_message_id, 0), progress_seq"
    "  FROM broadcasts WHERE id = $1::bigint";

static const char bc_sql_settle[] =
    "UPDATE broadcast_recipients r SET state = CASE WHEN o.status = 'sent' THEN 'sent' ELSE 'failed' END"
    "  FROM tg_outbox o"
    " WHERE r.broadcast_id = $1::bigint AND r.state = 'queued'"
    "   AND o.dedupe_key = 'b' || $1::bigint::text || ':' || r.tg_user_id::text AND o.status <> 'pending'";

static const char bc_sql_counts[] =
    "UPDATE broadcasts b SET total = c.total, sent = c.sent, failed = c.failed"
    "  FROM (SELECT count(*) AS total, count(*) FILTER (WHERE state = 'pending') AS pending,"
    "               count(*) FILTER (WHERE state = 'queued') AS queued,"
    "               count(*) FILTER (WHERE state = 'sent') AS sent,"
    "               count(*) FILTER (WHERE state = 'failed') AS failed"
    "          FROM broadcast_recipients WHERE broadcast_id = $1::bigint) c"
    " WHERE b.id = $1::bigint"
    " RETURNING c.total, c.pending, c.queued, c.sent, c.failed, b.status";

static const char bc_sql_progress_rows[] =
    "SELECT (SELECT tg_message_id FROM tg_outbox WHERE dedupe_key = $1),"
    "       (SELECT status FROM tg_outbox WHERE dedupe_key = $1),"
    "       (SELECT status FROM tg_outbox WHERE dedupe_key = $2)";

static const char bc_sql_chunk[] =
    "SELECT r.tg_user_id, r.chat_id, coalesce(u.first_name, ''), o.posting_number, o.status, o.pickup_point,"
    "       (extract(epoch FROM o.storage_until) * 1000)::bigint, o.ozon_address"
    "  FROM broadcast_recipients r"
    "  LEFT JOIN users u ON u.tg_user_id = r.tg_user_id"
    "  LEFT JOIN orders o ON o.posting_number = r.posting_number"
    " WHERE r.broadcast_id = $1::bigint AND r.state = 'pending'"
    " ORDER BY r.tg_user_id LIMIT $2::int";

/* $2: [{"u": tg_user_id, "c": chat_id, "p": sendMessage params or null}] */
static const char bc_sql_queue[] =
    "INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key)"
    " SELECT (e->>'c')::bigint, 'sendMessage', e->>'p', 1, 'b' || $1::bigint::text || ':' || (e->>'u')"
    "   FROM json_array_elements($2::json) e WHERE e->>'p' IS NOT NULL"
    " ON CONFLICT (dedupe_key) DO NOTHING";

static const char bc_sql_mark[] =
    "UPDATE broadcast_recipients r SET state = CASE WHEN x.p IS NULL THEN 'failed' ELSE 'queued' END"
    "  FROM (SELECT (e->>'u')::bigint AS uid, e->>'p' AS p FROM json_array_elements($2::json) e) x"
    " WHERE r.broadcast_id = $1::bigint AND r.tg_user_id = x.uid AND r.state = 'pending'";

static const char bc_sql_progress_insert[] =
    "INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key) VALUES ($1::bigint, $2, $3, 0, $4)"
    " ON CONFLICT (dedupe_key) DO NOTHING";

static const char bc_sql_progress_state[] =
    "UPDATE broadcasts SET progress_seq = $2::int, progress_message_id = nullif($3::bigint, 0)"
    " WHERE id = $1::bigint";

static const char bc_sql_done[] =
    "UPDATE broadcasts SET status = 'done', finished_at = now(), progress_message_id = nullif($2::bigint, 0)"
    " WHERE id = $1::bigint AND status = 'running'";

static int64_t bc_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void bc_state_free(void *p)
{
    bc_state_t *st = p;
    free(st->body);
    st->body = NULL;
}

static void bc_tick(rt_actor_t *self, bc_state_t *st, uint32_t ms)
{
    if (!st->timer) st->timer = rt_timer_after(self, ms);
}

static void bc_kick_gateway(rt_actor_t *self)
{
    msg_tg_kick_t k = {.max_id = 0};
    rt_send_key(rt_self_runtime(self), &tg_gateway_kind, "main", msg_tg_kick_new(&k));
}

/* Keep the 'run' reminder ahead of now: it restarts us after a crash. */
static void bc_watchdog(rt_actor_t *self, bc_state_t *st, bool force)
{
    uint64_t now = rt_now_ms();
    if (!force && now - st->last_watchdog_ms < BC_WATCHDOG_EVERY_MS) return;
    st->last_watchdog_ms = now;
    rt_reminder_set(self, "run", bc_wall_ms() + BC_WATCHDOG_DUE_MS, NULL);
}

static void bc_fail(rt_actor_t *self, bc_state_t *st, const char *what, const rt_pg_result_t *r, int rc)
{
    LOG_WARN("broadcast_db_retry", "id=%lld step=%s status=%s error=\"%.200s\"", (long long)st->id, what,
             rt_strerror(r ? r->status : rc), r && r->error ? r->error : "");
    st->busy = false;
    bc_tick(self, st, BC_RETRY_MS);
}

/* ---- sync ----------------------------------------------------------------------- */

static void bc_sync(rt_actor_t *self, bc_state_t *st)
{
    char id[24], pkey[40], ekey[48];
    snprintf(id, sizeof id, "%lld", (long long)st->id);
    snprintf(pkey, sizeof pkey, "b%lld:p", (long long)st->id);
    snprintf(ekey, sizeof ekey, "b%lld:e%lld", (long long)st->id, (long long)st->progress_seq);
    const char *p1[] = {id}, *p2[] = {pkey, ekey};
    rt_pg_stmt_t stmts[] = {
        {bc_sql_settle, 1, p1},
        {bc_sql_counts, 1, p1},
        {bc_sql_progress_rows, 2, p2},
    };
    st->busy = true;
    int rc = rt_pg_tx(self, BC_CORR_SYNC, 3, stmts);
    if (rc != RT_OK) bc_fail(self, st, "sync", NULL, rc);
}

static void bc_write(rt_actor_t *self, bc_state_t *st, const char *chunk);
static void bc_finish(rt_actor_t *self, bc_state_t *st, bool edit);

static void bc_fetch_chunk(rt_actor_t *self, bc_state_t *st, int64_t n)
{
    char id[24], lim[16];
    snprintf(id, sizeof id, "%lld", (long long)st->id);
    snprintf(lim, sizeof lim, "%lld", (long long)n);
    const char *p[] = {id, lim};
    st->busy = true;
    int rc = rt_pg_query(self, BC_CORR_CHUNK, bc_sql_chunk, 2, p);
    if (rc != RT_OK) bc_fail(self, st, "chunk", NULL, rc);
}

static bool bc_is(const char *v, const char *s) { return v && strcmp(v, s) == 0; }

/* How many recipients may wait in tg_outbox at once. */
static int64_t bc_window(void)
{
    int64_t w = (int64_t)plus7_actors_cfg()->tg_rate * BC_WINDOW_S;
    return w < BC_WINDOW_MIN ? BC_WINDOW_MIN : w > BC_WINDOW_MAX ? BC_WINDOW_MAX : w;
}

static void bc_on_sync(rt_actor_t *self, bc_state_t *st, const rt_pg_result_t *r)
{
    st->busy = false;
    if (r->status != RT_OK) { bc_fail(self, st, "sync", r, r->status); return; }
    const rt_pg_result_t *c = rt_pg_stmt(r, 1), *pr = rt_pg_stmt(r, 2);
    if (!c || !pr || c->nrows != 1 || pr->nrows != 1) {
        LOG_WARN("broadcast_gone", "id=%lld", (long long)st->id);
        st->done = true;
        return;
    }
    rt_pg_get_i64(c, 0, 0, &st->counts.total);
    rt_pg_get_i64(c, 0, 1, &st->counts.pending);
    rt_pg_get_i64(c, 0, 2, &st->counts.queued);
    rt_pg_get_i64(c, 0, 3, &st->counts.sent);
    rt_pg_get_i64(c, 0, 4, &st->counts.failed);
    if (!bc_is(rt_pg_value(c, 0, 5), "running")) { st->done = true; return; }
    int64_t mid = 0;
    rt_pg_get_i64(pr, 0, 0, &mid);
    const char *pstatus = rt_pg_value(pr, 0, 1), *estatus = rt_pg_value(pr, 0, 2);
    if (mid > 0 && mid != st->progress_mid) {
        st->progress_mid = mid;
        st->mid_dirty = true;
    }
    bc_watchdog(self, st, false);
    uint64_t now = rt_now_ms();
    if (st->counts.sent + st->counts.failed != st->last_final || st->counts.queued == 0 || !st->last_final_ms) {
        st->last_final = st->counts.sent + st->counts.failed;
        st->last_final_ms = now;
    } else if (now - st->last_final_ms >= BC_STALL_MS) {
        /* the gateway has not settled any of our rows for a minute (Telegram down,
         * bot token revoked, or rows the gateway never loaded) */
        LOG_WARN("broadcast_stalled", "id=%lld queued=%lld pending=%lld sent=%lld failed=%lld", (long long)st->id,
                 (long long)st->counts.queued, (long long)st->counts.pending, (long long)st->counts.sent,
                 (long long)st->counts.failed);
        st->last_final_ms = now;
    }

    if (bc_counts_final(&st->counts)) {
        if (st->progress_mid > 0) bc_finish(self, st, true);
        else if (!pstatus || bc_is(pstatus, "failed") || bc_is(pstatus, "blocked") || bc_is(pstatus, "sent"))
            bc_finish(self, st, false);
        else bc_tick(self, st, BC_TICK_MS);   /* the progress message is still on its way */
        return;
    }
    bc_progress_text(st->id, &st->counts, false, st->w_text, sizeof st->w_text);
    st->w_send = pstatus == NULL;
    st->w_edit = st->progress_mid > 0 && strcmp(st->w_text, st->last_text) != 0 &&
                 rt_now_ms() - st->last_edit_ms >= BC_EDIT_EVERY_MS && !bc_is(estatus, "pending");
    int64_t window = bc_window();
    if (st->counts.pending > 0 && st->counts.queued < window) {
        int64_t n = window - st->counts.queued;
        bc_fetch_chunk(self, st, n < BC_CHUNK ? n : BC_CHUNK);
    } else if (st->w_send || st->w_edit || st->mid_dirty) {
        bc_write(self, st, NULL);
    } else {
        bc_tick(self, st, BC_TICK_MS);
    }
}

/* ---- chunk ---------------------------------------------------------------------- */

static void bc_on_chunk(rt_actor_t *self, bc_state_t *st, const rt_pg_result_t *r)
{
    st->busy = false;
    if (r->status != RT_OK) { bc_fail(self, st, "chunk", r, r->status); return; }
    if (r->nrows == 0) { bc_tick(self, st, BC_TICK_MS); return; }
    cJSON *arr = cJSON_CreateArray();
    int rendered = 0;
    for (int i = 0; arr && i < r->nrows; i++) {
        bc_recipient_t rec = {
            .first_name = rt_pg_value(r, i, 2),
            .posting = rt_pg_value(r, i, 3),
            .status = rt_pg_value(r, i, 4),
            .pickup_point = rt_pg_value(r, i, 5),
            .storage_until_ms = rt_pg_value(r, i, 6),
            .address = rt_pg_value(r, i, 7),
        };
        rt_pg_get_i64(r, i, 1, &rec.chat_id);
        char *params = bc_render_message(st->body, &rec);
        cJSON *e = cJSON_CreateObject();
        if (!e) { free(params); break; }
        cJSON_AddStringToObject(e, "u", rt_pg_value(r, i, 0));
        cJSON_AddStringToObject(e, "c", rt_pg_value(r, i, 1));
        if (params) {
            cJSON_AddStringToObject(e, "p", params);
            rendered++;
        } else {
            cJSON_AddNullToObject(e, "p");
        }
        free(params);
        cJSON_AddItemToArray(arr, e);
    }
    char *json = arr ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(arr);
    if (!json) { bc_fail(self, st, "chunk", NULL, RT_ENOMEM); return; }
    if (rendered < r->nrows)
        LOG_WARN("broadcast_render_failed", "id=%lld count=%d", (long long)st->id, r->nrows - rendered);
    bc_write(self, st, json);
    free(json);
}

/* ---- write: a chunk and/or the progress message ------------------------------- */

static void bc_write(rt_actor_t *self, bc_state_t *st, const char *chunk)
{
    char id[24], chat[24], seq[24], mid[24], pkey[40], ekey[48];
    snprintf(id, sizeof id, "%lld", (long long)st->id);
    snprintf(chat, sizeof chat, "%lld", (long long)st->chat_id);
    snprintf(mid, sizeof mid, "%lld", (long long)st->progress_mid);
    snprintf(seq, sizeof seq, "%lld", (long long)(st->progress_seq + (st->w_edit ? 1 : 0)));
    snprintf(pkey, sizeof pkey, "b%lld:p", (long long)st->id);
    snprintf(ekey, sizeof ekey, "b%lld:e%s", (long long)st->id, seq);
    char *send = st->w_send ? bc_progress_params(st->chat_id, 0, st->w_text) : NULL;
    char *edit = st->w_edit ? bc_progress_params(st->chat_id, st->progress_mid, st->w_text) : NULL;
    const char *pc[] = {id, chunk};
    const char *ps[] = {chat, "sendMessage", send, pkey};
    const char *pe[] = {chat, "editMessageText", edit, ekey};
    const char *pp[] = {id, seq, mid};
    rt_pg_stmt_t stmts[5];
    int n = 0;
    if (chunk) {
        stmts[n++] = (rt_pg_stmt_t){bc_sql_queue, 2, pc};
        stmts[n++] = (rt_pg_stmt_t){bc_sql_mark, 2, pc};
    }
    if (send) stmts[n++] = (rt_pg_stmt_t){bc_sql_progress_insert, 4, ps};
    if (edit) stmts[n++] = (rt_pg_stmt_t){bc_sql_progress_insert, 4, pe};
    if (edit || st->mid_dirty) stmts[n++] = (rt_pg_stmt_t){bc_sql_progress_state, 3, pp};
    st->w_send = send != NULL;
    st->w_edit = edit != NULL;
    if (n == 0) {
        bc_tick(self, st, BC_TICK_MS);
    } else {
        st->busy = true;
        int rc = rt_pg_tx(self, BC_CORR_WRITE, n, stmts);
        if (rc != RT_OK) bc_fail(self, st, "write", NULL, rc);
    }
    free(send);
    free(edit);
}

static void bc_on_written(rt_actor_t *self, bc_state_t *st, const rt_pg_result_t *r)
{
    st->busy = false;
    if (r->status != RT_OK) { bc_fail(self, st, "write", r, r->status); return; }
    bc_kick_gateway(self);
    if (st->w_edit) {
        st->progress_seq++;
        st->last_edit_ms = rt_now_ms();
    }
    if (st->w_send || st->w_edit) snprintf(st->last_text, sizeof st->last_text, "%s", st->w_text);
    st->mid_dirty = false;
    st->w_send = st->w_edit = false;
    bc_sync(self, st);   /* more to queue? */
}

/* ---- finish ------------------------------------------------------------------------ */

static void bc_finish(rt_actor_t *self, bc_state_t *st, bool edit)
{
    char id[24], chat[24], mid[24], key[40], text[256];
    snprintf(id, sizeof id, "%lld", (long long)st->id);
    snprintf(chat, sizeof chat, "%lld", (long long)st->chat_id);
    snprintf(mid, sizeof mid, "%lld", (long long)st->progress_mid);
    snprintf(key, sizeof key, "b%lld:final", (long long)st->id);
    bc_progress_text(st->id, &st->counts, true, text, sizeof text);
    char *params = bc_progress_params(st->chat_id, edit ? st->progress_mid : 0, text);
    if (!params) { bc_fail(self, st, "finish", NULL, RT_ENOMEM); return; }
    const char *pi[] = {chat, edit ? "editMessageText" : "sendMessage", params, key};
    const char *pd[] = {id, mid};
    rt_pg_stmt_t stmts[] = {
        {bc_sql_progress_insert, 4, pi},
        {bc_sql_done, 2, pd},
    };
    st->busy = true;
    int rc = rt_pg_tx(self, BC_CORR_FINISH, 2, stmts);
    free(params);
    if (rc != RT_OK) bc_fail(self, st, "finish", NULL, rc);
}

static void bc_on_finished(rt_actor_t *self, bc_state_t *st, const rt_pg_result_t *r)
{
    st->busy = false;
    if (r->status != RT_OK) { bc_fail(self, st, "finish", r, r->status); return; }
    bc_kick_gateway(self);
    rt_reminder_cancel(self, "run");
    LOG_INFO("broadcast_done", "id=%lld total=%lld sent=%lld failed=%lld", (long long)st->id,
             (long long)st->counts.total, (long long)st->counts.sent, (long long)st->counts.failed);
    st->done = true;
}

/* ---- life cycle ------------------------------------------------------------------- */

static int bc_load(rt_actor_t *self)
{
    bc_state_t *st = rt_self_state(self);
    const char *key = rt_self_key(self);
    char *end = NULL;
    long long id = strtoll(key, &end, 10);
    if (!*key || *end || id <= 0) {
        st->done = true;   /* no such broadcast: answer whatever came, then stop */
        return RT_OK;
    }
    st->id = id;
    const char *p[] = {key};
    int rc = rt_pg_query(self, RT_CORR_ACTIVATE, bc_sql_load, 1, p);
    return rc == RT_OK ? RT_PENDING : rc;
}

static int bc_on_activate(rt_actor_t *self, const rt_msg_t *m)
{
    bc_state_t *st = rt_self_state(self);
    if (!m) return RT_OK;
    const rt_pg_result_t *r = rt_pg_msg_result(m);
    if (!r || r->status != RT_OK) {
        LOG_WARN("broadcast_load_failed", "id=%s error=\"%.200s\"", rt_self_key(self),
                 r && r->error ? r->error : "");
        return RT_EFAIL;   /* reloaded by the next message (the reminder comes back) */
    }
    if (r->nrows == 0 || !bc_is(rt_pg_value(r, 0, 2), "running")) {
        st->done = true;
        return RT_OK;
    }
    rt_pg_get_i64(r, 0, 0, &st->chat_id);
    st->body = strdup(rt_pg_value(r, 0, 1));
    if (!st->body) return RT_ENOMEM;
    rt_pg_get_i64(r, 0, 3, &st->progress_mid);
    rt_pg_get_i64(r, 0, 4, &st->progress_seq);
    LOG_INFO("broadcast_running", "id=%lld", (long long)st->id);
    return RT_OK;
}

static int bc_handle(rt_actor_t *self, const rt_msg_t *m)
{
    bc_state_t *st = rt_self_state(self);
    switch (m->type) {
    case RT_MSG_REMINDER:
        if (!st->done) bc_watchdog(self, st, true);   /* re-set first: the ack then keeps the new row */
        rt_reminder_ack(self, m);
        if (!st->done && !st->busy) bc_sync(self, st);
        break;
    case RT_MSG_TIMER:
        if (m->corr != st->timer) break;
        st->timer = 0;
        if (!st->done && !st->busy) bc_sync(self, st);
        break;
    case RT_MSG_PG_RESULT: {
        const rt_pg_result_t *r = rt_pg_msg_result(m);
        if (!r) break;
        if (m->corr == BC_CORR_SYNC) bc_on_sync(self, st, r);
        else if (m->corr == BC_CORR_CHUNK) bc_on_chunk(self, st, r);
        else if (m->corr == BC_CORR_WRITE) bc_on_written(self, st, r);
        else if (m->corr == BC_CORR_FINISH) bc_on_finished(self, st, r);
        break;
    }
    default:
        break;
    }
    return st->done && !st->busy ? RT_STOP : RT_OK;
}

const rt_kind_t broadcast_kind = {
    .name = "broadcast",
    .state_size = sizeof(bc_state_t),
    .idle_age_ms = 60 * 1000,
    .load = bc_load,
    .on_activate = bc_on_activate,
    .handle = bc_handle,
    .state_free = bc_state_free,
};
