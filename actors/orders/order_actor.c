/* order_actor.c — the order actor: one per Ozon posting.
 *
 * Purpose: the single writer of a posting's status. It applies, in order,
 *   - logistics events (stored in logistics_inbox by the webhook; applied
 *     in `at` order, a batch per transaction, each marked processed in the
 *     same transaction — a late or repeated event is recorded in the
 *     history as not applied and changes nothing),
 *   - Ozon's data (order_ozon from the Ozon gateway: fields refreshed, the
 *     mapped status applied if it moves forward),
 * and for every applied change, in the same transaction, queues the
 * notifications (notify_outbox rows, unique per posting, status, person
 * and channel, so nothing is notified twice). After the commit it kicks the
 * notifier, sets or cancels the pickup reminders (durable, rt_reminder) and,
 * for postings the company delivers itself, reports the change to Ozon when
 * the posting's available_actions allow it.
 * It also answers order_ensure from conversations: the posting exists, or
 * is fetched from Ozon first.
 *
 * Exports: order_kind.
 * Threads: the actor's home worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "msg_types.h"
#include "order_status.h"
#include "ozon_posting.h"
#include "plus7_actors.h"
#include "rt_log.h"
#include "rt_pg.h"
#include "rt_reminder.h"
#include "timefmt.h"

enum { ORD_CORR_PENDING = 1, ORD_CORR_APPLY, ORD_CORR_OZON, ORD_CORR_REMIND };

#define ORD_BATCH 10          /* events per transaction (5 statements each) */
#define ORD_WAITERS 16
#define ORD_DAY_MS (24LL * 3600 * 1000)

typedef struct order_state {
    bool exists;
    order_status_t status;
    int64_t status_at_ms;
    char tpl[32];
    char actions[256];
    /* order_ensure */
    bool fetching;
    int64_t waiters[ORD_WAITERS];
    int nwaiters;
    /* logistics batch in flight */
    bool busy, again;
    int batch_rows;
    order_status_t next_status;     /* RAM state once the transaction commits */
    int64_t next_status_at_ms;
    bool next_exists, changed;
    uint32_t retry_timer, backoff_ms;
    /* a reminder being answered */
    msg_rt_reminder_t remind;
    rt_msg_t *remind_msg;
} order_state_t;

static void order_state_free(void *p)
{
    order_state_t *st = p;
    rt_msg_free(st->remind_msg);
}

/* ---- statements shared by every status change ------------------------------------ */

typedef struct ord_tx {
    rt_pg_stmt_t stmts[RT_PG_TX_MAX];
    const char *params[RT_PG_TX_MAX][12];
    char *owned[RT_PG_TX_MAX * 2];
    int n, nowned;
} ord_tx_t;

static const char **ord_add(ord_tx_t *tx, const char *sql, int nparams)
{
    if (tx->n >= RT_PG_TX_MAX) return NULL;
    tx->stmts[tx->n] = (rt_pg_stmt_t){sql, nparams, tx->params[tx->n]};
    return (const char **)tx->params[tx->n++];
}

static const char *ord_keep(ord_tx_t *tx, char *s)
{
    if (tx->nowned < (int)(sizeof tx->owned / sizeof tx->owned[0])) tx->owned[tx->nowned++] = s;
    return s;
}

static const char *ord_fmt_i64(ord_tx_t *tx, int64_t v)
{
    char *s = malloc(24);
    if (s) snprintf(s, 24, "%lld", (long long)v);
    return ord_keep(tx, s);
}

static void ord_tx_free(ord_tx_t *tx)
{
    for (int i = 0; i < tx->nowned; i++) free(tx->owned[i]);
    tx->nowned = 0;
}

/* Template variables of a status notification, as JSON. */
static char *ord_vars(const char *posting, order_status_t st, int64_t at_ms, const char *pickup)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "posting", posting);
    cJSON_AddStringToObject(v, "status", order_status_name_ru(st));
    if (pickup && *pickup) cJSON_AddStringToObject(v, "pickup_point", pickup);
    if (st == ORDER_AT_PICKUP_POINT) {
        char when[32];
        timefmt_msk(at_ms + plus7_actors_cfg()->storage_days * ORD_DAY_MS, when, sizeof when);
        cJSON_AddStringToObject(v, "storage_deadline", when);
    }
    char *s = cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    return s;
}

/* Queue notifications of `event` to everyone concerned: Telegram for every
 * chat that tracks the posting or belongs to its owner, SMS for an Ozon
 * customer phone that has no Telegram registration. */
static void ord_add_notify(ord_tx_t *tx, const char *posting, const char *event, const char *vars)
{
    const char **p = ord_add(tx,
        "INSERT INTO notify_outbox (dedupe_key, posting_number, event, tg_user_id, chat_id, phone, channel, vars)"
        " SELECT $1 || ':' || $2 || ':c' || r.chat_id || ':telegram', $1, $2, r.tg_user_id, r.chat_id, r.phone,"
        "        'telegram', $3"
        "   FROM (SELECT DISTINCT ON (x.chat_id) x.chat_id, x.tg_user_id, x.phone FROM ("
        "           SELECT s.chat_id, u.tg_user_id, u.phone FROM order_subscribers s"
        "             LEFT JOIN users u ON u.chat_id = s.chat_id WHERE s.posting_number = $1"
        "           UNION ALL"
        "           SELECT u.chat_id, u.tg_user_id, u.phone FROM users u JOIN orders o ON o.posting_number = $1"
        "            WHERE u.phone IN (o.customer_phone, o.addressee_phone) OR u.tg_user_id = o.ordered_by"
        "         ) x ORDER BY x.chat_id, x.tg_user_id NULLS LAST) r"
        " ON CONFLICT (dedupe_key) DO NOTHING", 3);
    if (!p) return;
    p[0] = posting;
    p[1] = event;
    p[2] = vars;
    p = ord_add(tx,
        "INSERT INTO notify_outbox (dedupe_key, posting_number, event, phone, channel, vars)"
        " SELECT $1 || ':' || $2 || ':p' || o.customer_phone || ':sms', $1, $2, o.customer_phone, 'sms', $3"
        "   FROM orders o WHERE o.posting_number = $1 AND o.customer_phone IS NOT NULL"
        "    AND NOT EXISTS (SELECT 1 FROM users u WHERE u.phone = o.customer_phone)"
        " ON CONFLICT (dedupe_key) DO NOTHING", 3);
    if (!p) return;
    p[0] = posting;
    p[1] = event;
    p[2] = vars;
}

static void ord_add_history(ord_tx_t *tx, const char *posting, const char *status, const char *source,
                            const char *at_ms, const char *event_id, const char *comment, bool applied)
{
    const char **p = ord_add(tx, "INSERT INTO order_history (posting_number, status, source, at, event_id, comment, applied)"
                                 " VALUES ($1, $2, $3, to_timestamp($4::bigint / 1000.0), $5, $6, $7)", 7);
    if (!p) return;
    p[0] = posting;
    p[1] = status;
    p[2] = source;
    p[3] = at_ms;
    p[4] = event_id;
    p[5] = comment;
    p[6] = applied ? "true" : "false";
}

static bool ord_has_action(const order_state_t *st, const char *action)
{
    size_t n = strlen(action);
    for (const char *p = st->actions; (p = strstr(p, action)); p += n)
        if ((p == st->actions || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return true;
    return false;
}

/* The Ozon method reporting a transition to `to` of a posting the company
 * delivers itself, when Ozon's stored available_actions allow it; else NULL. */
static const char *ord_push_action(const order_state_t *st, order_status_t to)
{
    if (strcmp(st->tpl, "non_integrated") != 0) return NULL;
    if (to == ORDER_IN_TRANSIT && ord_has_action(st, "non_int_delivering")) return "delivering";
    if (to == ORDER_OUT_FOR_DELIVERY && ord_has_action(st, "non_int_last_mile")) return "last-mile";
    if (to == ORDER_DELIVERED && ord_has_action(st, "non_int_delivered")) return "delivered";
    return NULL;
}

/* A status change: the orders row (created when new), history, notifications. */
static void ord_add_change(ord_tx_t *tx, order_state_t *st, const char *posting, order_status_t to,
                           int64_t at, const char *source, const char *pickup, const char *event_id,
                           const char *comment)
{
    const char *at_s = ord_fmt_i64(tx, at);
    const char *storage = to == ORDER_AT_PICKUP_POINT ? ord_fmt_i64(tx, at + plus7_actors_cfg()->storage_days * ORD_DAY_MS)
                                                      : NULL;
    const char **p = ord_add(tx,
        "INSERT INTO orders (posting_number, status, status_at, status_source, pickup_point, pickup_arrived_at, storage_until)"
        " VALUES ($1, $2, to_timestamp($3::bigint / 1000.0), $4, $5,"
        "         CASE WHEN $2 = 'at_pickup_point' THEN to_timestamp($3::bigint / 1000.0) END,"
        "         to_timestamp($6::bigint / 1000.0))"
        " ON CONFLICT (posting_number) DO UPDATE SET status = EXCLUDED.status, status_at = EXCLUDED.status_at,"
        "   status_source = EXCLUDED.status_source, pickup_point = coalesce(EXCLUDED.pickup_point, orders.pickup_point),"
        "   pickup_arrived_at = coalesce(EXCLUDED.pickup_arrived_at, orders.pickup_arrived_at),"
        "   storage_until = CASE WHEN orders.storage_extended THEN orders.storage_until"
        "                        ELSE coalesce(EXCLUDED.storage_until, orders.storage_until) END,"
        "   updated_at = now()", 6);
    if (!p) return;
    p[0] = posting;
    p[1] = order_status_code(to);
    p[2] = at_s;
    p[3] = source;
    p[4] = pickup;
    p[5] = storage;
    ord_add_history(tx, posting, order_status_code(to), source, at_s, event_id, comment, true);
    ord_add_notify(tx, posting, order_status_code(to), ord_keep(tx, ord_vars(posting, to, at, pickup)));
    /* a self-delivered posting's transition goes back to Ozon from a durable outbox */
    const char *push = ord_push_action(st, to);
    const char *ozon = plus7_actors_cfg()->ozon_client_id;
    if (push && ozon && *ozon) {
        p = ord_add(tx, "INSERT INTO ozon_push_outbox (posting_number, action) VALUES ($1, $2)"
                        " ON CONFLICT (posting_number, action) DO NOTHING", 2);
        if (p) {
            p[0] = posting;
            p[1] = push;
        }
    }
    st->next_exists = true;
    st->next_status = to;
    st->next_status_at_ms = at;
    st->changed = true;
}

/* ---- after a commit ------------------------------------------------------------- */

static void ord_kick_notifier(rt_actor_t *self)
{
    const rt_kind_t *k = rt_kind_find(rt_self_runtime(self), PLUS7_KIND_NOTIFIER);
    msg_notify_kick_t v = {.id = 0, .tg_failed = false};
    if (k) rt_send_key(rt_self_runtime(self), k, "main", msg_notify_kick_new(&v));
}

/* Effects of a committed status change. */
static void ord_after_change(rt_actor_t *self, order_state_t *st, order_status_t from)
{
    const plus7_actors_cfg_t *cfg = plus7_actors_cfg();
    order_status_t to = st->status;
    ord_kick_notifier(self);
    if (to == ORDER_AT_PICKUP_POINT && from != ORDER_AT_PICKUP_POINT) {
        for (int i = 0; i < 4 && cfg->pickup_remind_days[i] > 0; i++) {
            char name[32], data[16];
            snprintf(name, sizeof name, "pickup_%d", i);
            snprintf(data, sizeof data, "%d", cfg->pickup_remind_days[i]);
            rt_reminder_set(self, name, st->status_at_ms + cfg->pickup_remind_days[i] * ORD_DAY_MS, data);
        }
    } else if (from == ORDER_AT_PICKUP_POINT) {
        for (int i = 0; i < 4 && cfg->pickup_remind_days[i] > 0; i++) {
            char name[32];
            snprintf(name, sizeof name, "pickup_%d", i);
            rt_reminder_cancel(self, name);
        }
    }
    /* Postings the company delivers itself: the push to Ozon was queued in
     * the transaction (ozon_push_outbox); wake the gateway. */
    const char *action = ord_push_action(st, to);
    const rt_kind_t *oz = action ? rt_kind_find(rt_self_runtime(self), PLUS7_KIND_OZON) : NULL;
    if (oz) {
        msg_ozon_push_t v = {.posting = RT_STR(rt_self_key(self)), .action = RT_STR(action)};
        rt_send_key(rt_self_runtime(self), oz, "main", msg_ozon_push_new(&v));
    }
}

static void ord_commit_done(rt_actor_t *self, order_state_t *st)
{
    order_status_t from = st->status;
    st->exists = st->next_exists;
    if (st->changed) {
        st->status = st->next_status;
        st->status_at_ms = st->next_status_at_ms;
        ord_after_change(self, st, from);
    }
    st->changed = false;
}

static void ord_retry_later(rt_actor_t *self, order_state_t *st, const rt_pg_result_t *r)
{
    LOG_WARN("order_db_retry", "posting=%s error=\"%s\"", rt_self_key(self), r && r->error ? r->error : "");
    st->busy = false;
    st->changed = false;
    st->backoff_ms = st->backoff_ms ? st->backoff_ms * 2 : 200;
    if (st->backoff_ms > 10000) st->backoff_ms = 10000;
    st->retry_timer = rt_timer_after(self, st->backoff_ms);
}

/* ---- logistics events --------------------------------------------------------------- */

static void ord_fetch_events(rt_actor_t *self, order_state_t *st)
{
    if (st->busy) { st->again = true; return; }
    st->busy = true;
    st->again = false;
    const char *params[] = {rt_self_key(self)};
    if (rt_pg_query(self, ORD_CORR_PENDING,
                    "SELECT event_id, status, (extract(epoch FROM at) * 1000)::bigint, pickup_point, comment"
                    "  FROM logistics_inbox WHERE posting_number = $1 AND processed_at IS NULL"
                    " ORDER BY at, event_id LIMIT 10", 1, params) != RT_OK)
        ord_retry_later(self, st, NULL);
}

static void ord_on_events(rt_actor_t *self, order_state_t *st, const rt_pg_result_t *r)
{
    if (r->status != RT_OK) { ord_retry_later(self, st, r); return; }
    if (r->nrows == 0) {
        st->busy = false;
        st->backoff_ms = 0;
        if (st->again) ord_fetch_events(self, st);
        return;
    }
    ord_tx_t tx;
    tx.n = tx.nowned = 0;
    const char *posting = rt_self_key(self);
    st->next_exists = st->exists;
    st->next_status = st->status;
    st->next_status_at_ms = st->status_at_ms;
    st->changed = false;
    for (int i = 0; i < r->nrows; i++) {
        const char *eid = rt_pg_value(r, i, 0), *code = rt_pg_value(r, i, 1);
        const char *pickup = rt_pg_value(r, i, 3), *comment = rt_pg_value(r, i, 4);
        int64_t at = 0;
        rt_pg_get_i64(r, i, 2, &at);
        order_status_t to = ORDER_NONE;
        order_status_parse(code, &to);
        const char *result;
        if (!st->next_exists) {
            ord_add_change(&tx, st, posting, to, at, "logistics", pickup, eid, comment);
            result = "created";
        } else if (order_status_advances(st->next_status, to)) {
            ord_add_change(&tx, st, posting, to, at, "logistics", pickup, eid, comment);
            result = "applied";
        } else {
            ord_add_history(&tx, posting, code, "logistics", ord_fmt_i64(&tx, at), eid, comment, false);
            result = to == st->next_status ? "repeated" : "stale";
        }
        const char **p = ord_add(&tx, "UPDATE logistics_inbox SET processed_at = now(), result = $2 WHERE event_id = $1", 2);
        if (p) {
            p[0] = eid;
            p[1] = result;
        }
    }
    st->batch_rows = r->nrows;
    int rc = rt_pg_tx(self, ORD_CORR_APPLY, tx.n, tx.stmts);
    ord_tx_free(&tx);
    if (rc != RT_OK) ord_retry_later(self, st, NULL);
}

static void ord_on_applied(rt_actor_t *self, order_state_t *st, const rt_pg_result_t *r)
{
    if (r->status != RT_OK) { ord_retry_later(self, st, r); return; }
    ord_commit_done(self, st);
    st->busy = false;
    st->backoff_ms = 0;
    if (st->batch_rows == ORD_BATCH || st->again) ord_fetch_events(self, st);
}

/* ---- Ozon ------------------------------------------------------------------------------ */

static void ord_answer_waiters(rt_actor_t *self, order_state_t *st, int status)
{
    for (int i = 0; i < st->nwaiters; i++) {
        char chat[24];
        snprintf(chat, sizeof chat, "%lld", (long long)st->waiters[i]);
        msg_conv_order_ready_t v = {.posting = RT_STR(rt_self_key(self)), .status = status};
        rt_send_key(rt_self_runtime(self), &conv_kind, chat, msg_conv_order_ready_new(&v));
    }
    st->nwaiters = 0;
    st->fetching = false;
}

static void ord_on_ensure(rt_actor_t *self, order_state_t *st, const rt_msg_t *m)
{
    msg_order_ensure_t v;
    if (msg_order_ensure_decode(m, &v) != RT_OK) return;
    if (st->exists) {
        st->waiters[0] = v.reply_chat;
        st->nwaiters = 1;
        bool fetching = st->fetching;
        ord_answer_waiters(self, st, RT_OK);
        st->fetching = fetching;
        return;
    }
    if (st->nwaiters < ORD_WAITERS) st->waiters[st->nwaiters++] = v.reply_chat;
    if (st->fetching) return;
    const rt_kind_t *oz = rt_kind_find(rt_self_runtime(self), PLUS7_KIND_OZON);
    msg_ozon_fetch_t f = {.posting = RT_STR(rt_self_key(self))};
    if (!oz || rt_send_key(rt_self_runtime(self), oz, "main", msg_ozon_fetch_new(&f)) != RT_OK) {
        ord_answer_waiters(self, st, oz ? RT_EIO : RT_ENOTFOUND);
        return;
    }
    st->fetching = true;
}

static void ord_on_ozon(rt_actor_t *self, order_state_t *st, const rt_msg_t *m)
{
    msg_order_ozon_t v;
    ozon_posting_t op;
    if (msg_order_ozon_decode(m, &v) != RT_OK) return;
    if (v.status != RT_OK) {
        ord_answer_waiters(self, st, (int)v.status);
        return;
    }
    if (ozon_posting_parse(v.json.p, v.json.n, &op) != RT_OK || strcmp(op.posting_number, rt_self_key(self)) != 0) {
        LOG_WARN("ozon_posting_unreadable", "posting=%s", rt_self_key(self));
        ord_answer_waiters(self, st, RT_EIO);
        return;
    }
    ord_tx_t tx;
    tx.n = tx.nowned = 0;
    const char *posting = rt_self_key(self);
    order_status_t mapped = order_status_from_ozon(op.status);
    st->next_exists = st->exists;
    st->next_status = st->status;
    st->next_status_at_ms = st->status_at_ms;
    st->changed = false;
    if (!st->exists) {
        if (mapped == ORDER_NONE) mapped = ORDER_CREATED;
        ord_add_change(&tx, st, posting, mapped, (int64_t)time(NULL) * 1000, "ozon", NULL, NULL, NULL);
    } else if (order_status_advances(st->status, mapped)) {
        ord_add_change(&tx, st, posting, mapped, (int64_t)time(NULL) * 1000, "ozon", NULL, NULL, NULL);
    }
    const char **p = ord_add(&tx,
        "UPDATE orders SET ozon_status = $2, ozon_synced_at = now(), tpl_integration_type = $3,"
        " available_actions = $4, customer_name = $5, customer_phone = $6, addressee_name = $7,"
        " addressee_phone = $8, ozon_address = $9, items = $10, weight_g = $11, updated_at = now()"
        " WHERE posting_number = $1", 11);
    if (p) {
        p[0] = posting;
        p[1] = op.status;
        p[2] = op.tpl_integration_type;
        p[3] = op.available_actions;
        p[4] = op.customer_name;
        p[5] = op.customer_phone[0] ? op.customer_phone : NULL;
        p[6] = op.addressee_name;
        p[7] = op.addressee_phone[0] ? op.addressee_phone : NULL;
        p[8] = op.address;
        p[9] = op.items;
        p[10] = op.weight_g ? ord_fmt_i64(&tx, op.weight_g) : NULL;
    }
    snprintf(st->tpl, sizeof st->tpl, "%s", op.tpl_integration_type);
    snprintf(st->actions, sizeof st->actions, "%s", op.available_actions);
    int rc = rt_pg_tx(self, ORD_CORR_OZON, tx.n, tx.stmts);
    ord_tx_free(&tx);
    ozon_posting_free(&op);
    if (rc != RT_OK) ord_answer_waiters(self, st, RT_EIO);
}

static void ord_on_ozon_committed(rt_actor_t *self, order_state_t *st, const rt_pg_result_t *r)
{
    if (r->status != RT_OK) {
        LOG_WARN("order_ozon_store_failed", "posting=%s error=\"%s\"", rt_self_key(self), r->error ? r->error : "");
        st->changed = false;
        ord_answer_waiters(self, st, RT_EIO);
        return;
    }
    ord_commit_done(self, st);
    ord_answer_waiters(self, st, RT_OK);
}

/* ---- pickup reminders ----------------------------------------------------------------------- */

static void ord_on_reminder(rt_actor_t *self, order_state_t *st, const rt_msg_t *m)
{
    msg_rt_reminder_t v;
    if (msg_rt_reminder_decode(m, &v) != RT_OK) return;
    if (st->status != ORDER_AT_PICKUP_POINT || st->remind_msg) {
        rt_reminder_ack(self, m);   /* collected meanwhile, or one in progress: nothing to say */
        return;
    }
    /* Keep a copy to acknowledge after the notification is committed. */
    st->remind = v;
    st->remind_msg = msg_rt_reminder_new(&v);
    if (!st->remind_msg) return;
    msg_rt_reminder_decode(st->remind_msg, &st->remind);
    char event[48], days[8];
    snprintf(days, sizeof days, "%.*s", (int)(v.data.n < 7 ? v.data.n : 7), v.data.p ? v.data.p : "");
    snprintf(event, sizeof event, "pickup_reminder_%s", days);
    ord_tx_t tx;
    tx.n = tx.nowned = 0;
    const char *posting = rt_self_key(self);
    ord_add_notify(&tx, posting, event, ord_keep(&tx, ord_vars(posting, st->status, st->status_at_ms, NULL)));
    int rc = rt_pg_tx(self, ORD_CORR_REMIND, tx.n, tx.stmts);
    ord_tx_free(&tx);
    if (rc != RT_OK) {
        rt_msg_free(st->remind_msg);
        st->remind_msg = NULL;
    }
}

static void ord_on_remind_committed(rt_actor_t *self, order_state_t *st, const rt_pg_result_t *r)
{
    if (r->status == RT_OK) {
        ord_kick_notifier(self);
        if (st->remind_msg) rt_reminder_ack(self, st->remind_msg);
    }
    /* on failure the reminder is not acknowledged: it comes back after its lease */
    rt_msg_free(st->remind_msg);
    st->remind_msg = NULL;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static int ord_load(rt_actor_t *self)
{
    const char *params[] = {rt_self_key(self)};
    int rc = rt_pg_query(self, RT_CORR_ACTIVATE,
                         "SELECT status, (extract(epoch FROM status_at) * 1000)::bigint,"
                         "       coalesce(tpl_integration_type, ''), available_actions"
                         "  FROM orders WHERE posting_number = $1", 1, params);
    return rc == RT_OK ? RT_PENDING : rc;
}

static int ord_on_activate(rt_actor_t *self, const rt_msg_t *m)
{
    order_state_t *st = rt_self_state(self);
    const rt_pg_result_t *r = rt_pg_msg_result(m);
    if (!r || r->status != RT_OK) return RT_EIO;   /* supervision reloads it on the next message */
    if (r->nrows == 1) {
        st->exists = true;
        order_status_parse(rt_pg_value(r, 0, 0), &st->status);
        rt_pg_get_i64(r, 0, 1, &st->status_at_ms);
        snprintf(st->tpl, sizeof st->tpl, "%s", rt_pg_value(r, 0, 2));
        snprintf(st->actions, sizeof st->actions, "%s", rt_pg_value(r, 0, 3));
    }
    return RT_OK;
}

static int ord_handle(rt_actor_t *self, const rt_msg_t *m)
{
    order_state_t *st = rt_self_state(self);
    switch (m->type) {
    case MSG_order_poke:
        ord_fetch_events(self, st);
        return RT_OK;
    case MSG_order_ensure:
        ord_on_ensure(self, st, m);
        return RT_OK;
    case MSG_order_ozon:
        ord_on_ozon(self, st, m);
        return RT_OK;
    case RT_MSG_REMINDER:
        ord_on_reminder(self, st, m);
        return RT_OK;
    case RT_MSG_TIMER:
        if (m->corr == st->retry_timer) ord_fetch_events(self, st);
        return RT_OK;
    case RT_MSG_PG_RESULT: {
        const rt_pg_result_t *r = rt_pg_msg_result(m);
        if (!r) return RT_OK;
        if (m->corr == ORD_CORR_PENDING) ord_on_events(self, st, r);
        else if (m->corr == ORD_CORR_APPLY) ord_on_applied(self, st, r);
        else if (m->corr == ORD_CORR_OZON) ord_on_ozon_committed(self, st, r);
        else if (m->corr == ORD_CORR_REMIND) ord_on_remind_committed(self, st, r);
        return RT_OK;
    }
    default:
        return RT_OK;
    }
}

const rt_kind_t order_kind = {
    .name = "order",
    .state_size = sizeof(order_state_t),
    .idle_age_ms = 10 * 60 * 1000,
    .load = ord_load,
    .on_activate = ord_on_activate,
    .handle = ord_handle,
    .state_free = order_state_free,
};
