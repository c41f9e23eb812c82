/* order_actor.c — the order actor: one per Ozon posting.
 *
 * Purpose: the single writer of a posting's status. It applies, in order,
 *   - logistics events (stored in logistics_inbox by the webhook; applied
 *     in `at` order, a batch per transaction, each marked processed in the
 *     same transaction — a late or repeated event is recorded in the
 *     history as not applied and changes nothing; the recipient an event
 *     names becomes the parcel's owner),
 *   - Ozon's data (order_ozon from the Ozon gateway: fields refreshed, the
 *     mapped status applied if it moves forward),
 *   - its pickup reminders (durable, rt_reminder),
 * ONE transaction at a time: work that arrives while a transaction is in
 * flight waits in the actor's queue (events wanted, the newest Ozon answer,
 * up to ORD_REMIND_Q reminders), so the two status sources never overwrite
 * each other's bookkeeping. Every change also passes a SQL guard (the
 * upsert only moves a status forward, order_tx.c), and after each commit
 * the actor takes the posting's status from the database's read-back.
 * For every applied change the same transaction queues the notifications
 * (order_tx.c: owners, watchers, SMS). After the commit it kicks the
 * notifier, sets or cancels the pickup reminders — due inside
 * PLUS7_NOTIFY_HOURS, none already overdue or after the deadline — and,
 * for postings the company delivers itself, reports the change to Ozon
 * when the posting's available_actions allow it.
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
#include "notify_policy.h"
#include "order_status.h"
#include "order_tx.h"
#include "ozon_posting.h"
#include "plus7_actors.h"
#include "rt_log.h"
#include "rt_pg.h"
#include "rt_reminder.h"

enum { ORD_CORR_PENDING = 1, ORD_CORR_APPLY, ORD_CORR_OZON, ORD_CORR_REMIND };

#define ORD_BATCH 8           /* events per transaction (up to 7 statements each) */
#define ORD_WAITERS 16
#define ORD_REMIND_Q 4

typedef enum { ORD_JOB_NONE = 0, ORD_JOB_EVENTS, ORD_JOB_OZON, ORD_JOB_REMIND } ord_job_t;

typedef struct order_state {
    bool exists;
    order_status_t status;
    int64_t status_at_ms;
    int64_t storage_until_ms;       /* 0 unknown */
    char tpl[32];
    char actions[256];
    /* order_ensure */
    bool fetching;
    int64_t waiters[ORD_WAITERS];
    int nwaiters;
    /* the queue: one job in flight, the rest waiting */
    ord_job_t job;
    bool events_wanted;
    rt_msg_t *ozon_next;            /* the newest Ozon answer not yet applied */
    rt_msg_t *remind_q[ORD_REMIND_Q];
    int nremind;
    rt_msg_t *remind_msg;           /* the reminder whose transaction is in flight */
    int batch_rows;
    uint32_t retry_timer, backoff_ms;
} order_state_t;

static void order_state_free(void *p)
{
    order_state_t *st = p;
    rt_msg_free(st->ozon_next);
    rt_msg_free(st->remind_msg);
    for (int i = 0; i < st->nremind; i++) rt_msg_free(st->remind_q[i]);
}

static void ord_next(rt_actor_t *self, order_state_t *st);


/* ---- after a commit ------------------------------------------------------------- */

static void ord_kick_notifier(rt_actor_t *self)
{
    const rt_kind_t *k = rt_kind_find(rt_self_runtime(self), PLUS7_KIND_NOTIFIER);
    msg_notify_kick_t v = {.id = 0, .tg_failed = false};
    if (k) rt_send_key(rt_self_runtime(self), k, "main", msg_notify_kick_new(&v));
}

static bool ord_has_action(const order_state_t *st, const char *action)
{
    size_t n = strlen(action);
    for (const char *p = st->actions; (p = strstr(p, action)); p += n)
        if ((p == st->actions || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return true;
    return false;
}

/* The Ozon method reporting our transition to `to` of a posting the company
 * delivers itself, when Ozon's stored available_actions allow it; else NULL. */
static const char *ord_push_action(const order_state_t *st, order_status_t to)
{
    if (strcmp(st->tpl, "non_integrated") != 0) return NULL;
    if (to == ORDER_IN_TRANSIT && ord_has_action(st, "non_int_delivering")) return "delivering";
    if (to == ORDER_OUT_FOR_DELIVERY && ord_has_action(st, "non_int_last_mile")) return "last-mile";
    if (to == ORDER_DELIVERED && ord_has_action(st, "non_int_delivered")) return "delivered";
    return NULL;
}

/* Queue that report in ozon_push_outbox (sql/014) in the change's
 * transaction — only when the guarded upsert did move the status there —
 * so it survives a crash; the Ozon gateway sends it. */
static void ord_tx_push(ord_tx_t *tx, const order_state_t *st, const char *posting, order_status_t to)
{
    const char *action = ord_push_action(st, to), *ozon = plus7_actors_cfg()->ozon_client_id;
    if (!action || !ozon || !*ozon) return;
    const char **p = ord_tx_add(tx,
        "INSERT INTO ozon_push_outbox (posting_number, action)"
        " SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM orders WHERE posting_number = $1 AND status = $3)"
        " ON CONFLICT (posting_number, action) DO NOTHING", 3);
    if (!p) return;
    p[0] = posting;
    p[1] = action;
    p[2] = order_status_code(to);
}

/* The pickup reminders of an arrival whose storage ends at storage_until:
 * each configured day counted from the storage's start, moved into the
 * notification hours; one already due or not before the deadline is left
 * out (an event that arrives late sends no burst of overdue reminders). */
static void ord_set_reminders(rt_actor_t *self, int64_t storage_until)
{
    const plus7_actors_cfg_t *cfg = plus7_actors_cfg();
    int64_t start = storage_until - cfg->storage_days * ORD_DAY_MS, now = notify_now_ms();
    for (int i = 0; i < 4 && cfg->pickup_remind_days[i] > 0; i++) {
        char name[32], data[16];
        snprintf(name, sizeof name, "pickup_%d", i);
        int64_t due = notify_window_next(start + cfg->pickup_remind_days[i] * ORD_DAY_MS);
        if (due <= now || due >= storage_until) {
            rt_reminder_cancel(self, name);
            continue;
        }
        snprintf(data, sizeof data, "%d", cfg->pickup_remind_days[i]);
        rt_reminder_set(self, name, due, data);
    }
}

/* Effects of a committed status change from `from` to st->status. */
static void ord_after_change(rt_actor_t *self, order_state_t *st, order_status_t from)
{
    const plus7_actors_cfg_t *cfg = plus7_actors_cfg();
    order_status_t to = st->status;
    ord_kick_notifier(self);
    if (to == ORDER_AT_PICKUP_POINT && from != ORDER_AT_PICKUP_POINT && st->storage_until_ms > 0) {
        ord_set_reminders(self, st->storage_until_ms);
    } else if (from == ORDER_AT_PICKUP_POINT) {
        for (int i = 0; i < 4 && cfg->pickup_remind_days[i] > 0; i++) {
            char name[32];
            snprintf(name, sizeof name, "pickup_%d", i);
            rt_reminder_cancel(self, name);
        }
    }
    /* Postings the company delivers itself: the report to Ozon was queued in
     * the transaction (ord_tx_push); wake the gateway. */
    const char *action = ord_push_action(st, to);
    const rt_kind_t *oz = action ? rt_kind_find(rt_self_runtime(self), PLUS7_KIND_OZON) : NULL;
    if (oz) {
        msg_ozon_push_t v = {.posting = RT_STR(rt_self_key(self)), .action = RT_STR(action)};
        rt_send_key(rt_self_runtime(self), oz, "main", msg_ozon_push_new(&v));
    }
}

/* A change transaction committed: take the order's row from its read-back
 * (the last statement) and act on a status that moved. */
static void ord_commit_done(rt_actor_t *self, order_state_t *st, const rt_pg_result_t *r, int nstmts)
{
    const rt_pg_result_t *rb = rt_pg_stmt(r, nstmts - 1);
    if (!rb || rb->nrows != 1) return;
    order_status_t from = st->exists ? st->status : ORDER_NONE, to = ORDER_NONE;
    order_status_parse(rt_pg_value(rb, 0, 0), &to);
    st->exists = true;
    st->status = to;
    rt_pg_get_i64(rb, 0, 1, &st->status_at_ms);
    st->storage_until_ms = 0;
    if (!rt_pg_is_null(rb, 0, 2)) rt_pg_get_i64(rb, 0, 2, &st->storage_until_ms);
    if (to != from) ord_after_change(self, st, from);
}

/* ---- logistics events --------------------------------------------------------------- */

static void ord_retry_events(rt_actor_t *self, order_state_t *st, const rt_pg_result_t *r)
{
    LOG_WARN("order_db_retry", "posting=%s error=\"%s\"", rt_self_key(self), r && r->error ? r->error : "");
    st->job = ORD_JOB_NONE;
    st->backoff_ms = st->backoff_ms ? st->backoff_ms * 2 : 200;
    if (st->backoff_ms > 10000) st->backoff_ms = 10000;
    st->retry_timer = rt_timer_after(self, st->backoff_ms);   /* events_wanted stays false until it fires */
    ord_next(self, st);
}

static void ord_fetch_events(rt_actor_t *self, order_state_t *st)
{
    st->job = ORD_JOB_EVENTS;
    st->events_wanted = false;
    const char *params[] = {rt_self_key(self)};
    if (rt_pg_query(self, ORD_CORR_PENDING,
                    "SELECT event_id, status, (extract(epoch FROM at) * 1000)::bigint, pickup_point, comment,"
                    "       recipient_phone, recipient_name, source"
                    "  FROM logistics_inbox WHERE posting_number = $1 AND processed_at IS NULL"
                    " ORDER BY at, event_id LIMIT 8", 1, params) != RT_OK)   /* LIMIT = ORD_BATCH */
        ord_retry_events(self, st, NULL);
}

static void ord_on_events(rt_actor_t *self, order_state_t *st, const rt_pg_result_t *r)
{
    if (r->status != RT_OK) { ord_retry_events(self, st, r); return; }
    if (r->nrows == 0) {
        st->job = ORD_JOB_NONE;
        st->backoff_ms = 0;
        ord_next(self, st);
        return;
    }
    ord_tx_t tx;
    ord_tx_init(&tx);
    ord_change_t changes[ORD_BATCH];
    const char *posting = rt_self_key(self);
    bool exists = st->exists;
    order_status_t cur = st->status;
    int64_t now = notify_now_ms();
    for (int i = 0; i < r->nrows && i < ORD_BATCH; i++) {
        const char *eid = rt_pg_value(r, i, 0), *code = rt_pg_value(r, i, 1);
        const char *pickup = rt_pg_value(r, i, 3), *comment = rt_pg_value(r, i, 4);   /* NULL = absent */
        const char *source = rt_pg_value(r, i, 7);   /* 'logistics' or 'courier' (sql/040) */
        int64_t at = 0;
        rt_pg_get_i64(r, i, 2, &at);
        order_status_t to = ORDER_NONE;
        order_status_parse(code, &to);
        const char *result;
        const char *rphone = rt_pg_value(r, i, 5), *rname = rt_pg_value(r, i, 6);
        if (!exists || order_status_advances(cur, to)) {
            ord_change_t *ch = &changes[i];
            *ch = (ord_change_t){.to = to, .at_ms = at, .source = source, .pickup = pickup, .event_id = eid,
                                 .comment = comment};
            ord_tx_change(&tx, ch, posting, now);
            ord_tx_recipient(&tx, posting, rphone, rname);   /* before the notifications: the owner hears */
            ord_tx_announce(&tx, ch, posting, true);
            ord_tx_push(&tx, st, posting, to);
            result = exists ? "applied" : "created";
            exists = true;
            cur = to;
        } else {
            ord_tx_history(&tx, posting, code, source, at, eid, comment);
            ord_tx_recipient(&tx, posting, rphone, rname);   /* still the recipient */
            result = to == cur ? "repeated" : "stale";
        }
        const char **p = ord_tx_add(&tx, "UPDATE logistics_inbox SET processed_at = now(), result = $2 WHERE event_id = $1", 2);
        if (p) {
            p[0] = eid;
            p[1] = result;
        }
    }
    ord_tx_readback(&tx, posting);
    st->batch_rows = r->nrows;
    int rc = tx.overflow ? RT_EFULL : rt_pg_tx(self, ORD_CORR_APPLY, tx.n, tx.stmts);
    ord_tx_free(&tx);
    if (rc != RT_OK) {
        LOG_WARN("order_events_not_applied", "posting=%s error=%s", rt_self_key(self), rt_strerror(rc));
        ord_retry_events(self, st, NULL);
    }
}

static void ord_on_applied(rt_actor_t *self, order_state_t *st, const rt_pg_result_t *r)
{
    if (r->status != RT_OK) { ord_retry_events(self, st, r); return; }
    ord_commit_done(self, st, r, r->nstmts);
    st->job = ORD_JOB_NONE;
    st->backoff_ms = 0;
    if (st->batch_rows == ORD_BATCH) st->events_wanted = true;
    ord_next(self, st);
}

/* ---- Ozon ------------------------------------------------------------------------------ */

static void ord_answer(rt_actor_t *self, int64_t chat_id, int status)
{
    char chat[24];
    snprintf(chat, sizeof chat, "%lld", (long long)chat_id);
    msg_conv_order_ready_t v = {.posting = RT_STR(rt_self_key(self)), .status = status};
    rt_send_key(rt_self_runtime(self), &conv_kind, chat, msg_conv_order_ready_new(&v));
}

static void ord_answer_waiters(rt_actor_t *self, order_state_t *st, int status)
{
    for (int i = 0; i < st->nwaiters; i++) ord_answer(self, st->waiters[i], status);
    st->nwaiters = 0;
    st->fetching = false;
}

static void ord_on_ensure(rt_actor_t *self, order_state_t *st, const rt_msg_t *m)
{
    msg_order_ensure_t v;
    if (msg_order_ensure_decode(m, &v) != RT_OK) return;
    if (st->exists) {
        ord_answer(self, v.reply_chat, RT_OK);
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

/* An Ozon answer: queued (the newest replaces an older one not yet
 * applied: Ozon's data is a snapshot), then applied in turn. */
static void ord_on_ozon(rt_actor_t *self, order_state_t *st, const rt_msg_t *m)
{
    msg_order_ozon_t v;
    if (msg_order_ozon_decode(m, &v) != RT_OK) return;
    if (v.status != RT_OK) {
        ord_answer_waiters(self, st, (int)v.status);
        return;
    }
    rt_msg_t *copy = msg_order_ozon_new(&v);
    if (!copy) {
        ord_answer_waiters(self, st, RT_ENOMEM);
        return;
    }
    rt_msg_free(st->ozon_next);
    st->ozon_next = copy;
    ord_next(self, st);
}

static void ord_apply_ozon(rt_actor_t *self, order_state_t *st)
{
    rt_msg_t *m = st->ozon_next;
    st->ozon_next = NULL;
    msg_order_ozon_t v;
    ozon_posting_t op;
    if (msg_order_ozon_decode(m, &v) != RT_OK ||
        ozon_posting_parse(v.json.p, v.json.n, &op) != RT_OK) {
        LOG_WARN("ozon_posting_unreadable", "posting=%s", rt_self_key(self));
        rt_msg_free(m);
        ord_answer_waiters(self, st, RT_EIO);
        return;
    }
    rt_msg_free(m);
    if (strcmp(op.posting_number, rt_self_key(self)) != 0) {
        LOG_WARN("ozon_posting_unreadable", "posting=%s", rt_self_key(self));
        ozon_posting_free(&op);
        ord_answer_waiters(self, st, RT_EIO);
        return;
    }
    ord_tx_t tx;
    ord_tx_init(&tx);
    const char *posting = rt_self_key(self);
    order_status_t mapped = order_status_from_ozon(op.status);
    int64_t now = notify_now_ms();
    if (!st->exists && mapped == ORDER_NONE) mapped = ORDER_CREATED;
    ord_change_t ch = {.to = mapped, .at_ms = now, .source = "ozon"};
    bool change = !st->exists || order_status_advances(st->status, mapped);
    if (change) ord_tx_change(&tx, &ch, posting, now);
    const char **p = ord_tx_add(&tx,
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
        p[10] = op.weight_g ? ord_tx_i64(&tx, op.weight_g) : NULL;
    }
    /* after the phones, so the owner hears; a posting Ozon tells us of for the
     * first time (someone tracks it, the import finds it) is where it starts,
     * not news: recorded, not announced */
    if (change) ord_tx_announce(&tx, &ch, posting, st->exists);
    ord_tx_readback(&tx, posting);
    snprintf(st->tpl, sizeof st->tpl, "%s", op.tpl_integration_type);
    snprintf(st->actions, sizeof st->actions, "%s", op.available_actions);
    int rc = tx.overflow ? RT_EFULL : rt_pg_tx(self, ORD_CORR_OZON, tx.n, tx.stmts);
    ord_tx_free(&tx);
    ozon_posting_free(&op);
    if (rc != RT_OK) {
        LOG_WARN("order_ozon_not_applied", "posting=%s error=%s", rt_self_key(self), rt_strerror(rc));
        ord_answer_waiters(self, st, RT_EIO);
        return;
    }
    st->job = ORD_JOB_OZON;
}

static void ord_on_ozon_committed(rt_actor_t *self, order_state_t *st, const rt_pg_result_t *r)
{
    st->job = ORD_JOB_NONE;
    if (r->status != RT_OK) {
        LOG_WARN("order_ozon_store_failed", "posting=%s error=\"%s\"", rt_self_key(self), r->error ? r->error : "");
        ord_answer_waiters(self, st, RT_EIO);
    } else {
        ord_commit_done(self, st, r, r->nstmts);
        ord_answer_waiters(self, st, RT_OK);
    }
    ord_next(self, st);
}

/* ---- pickup reminders ----------------------------------------------------------------------- */

static void ord_on_reminder(rt_actor_t *self, order_state_t *st, const rt_msg_t *m)
{
    msg_rt_reminder_t v;
    if (msg_rt_reminder_decode(m, &v) != RT_OK) return;
    int64_t now = notify_now_ms();
    if (st->status != ORDER_AT_PICKUP_POINT || (st->storage_until_ms > 0 && st->storage_until_ms <= now)) {
        rt_reminder_ack(self, m);   /* collected meanwhile, or the storage is over: nothing to say */
        return;
    }
    if (!notify_window_open(now)) {  /* fired at night (a restart, a lease): wait for the morning */
        char name[64], data[16];
        snprintf(name, sizeof name, "%.*s", (int)v.name.n, v.name.p ? v.name.p : "");
        snprintf(data, sizeof data, "%.*s", (int)(v.data.n < 15 ? v.data.n : 15), v.data.p ? v.data.p : "");
        rt_reminder_set(self, name, notify_window_next(now), data);   /* re-set: the old delivery's ack is void */
        return;
    }
    if (st->nremind == ORD_REMIND_Q) return;   /* not acknowledged: it comes back after its lease */
    rt_msg_t *copy = msg_rt_reminder_new(&v);
    if (!copy) return;
    st->remind_q[st->nremind++] = copy;
    ord_next(self, st);
}

static void ord_apply_reminder(rt_actor_t *self, order_state_t *st)
{
    rt_msg_t *m = st->remind_q[0];
    memmove(st->remind_q, st->remind_q + 1, (size_t)--st->nremind * sizeof st->remind_q[0]);
    msg_rt_reminder_t v;
    if (msg_rt_reminder_decode(m, &v) != RT_OK) {
        rt_msg_free(m);
        return;
    }
    if (st->status != ORDER_AT_PICKUP_POINT) {   /* the status moved while it waited */
        rt_reminder_ack(self, m);
        rt_msg_free(m);
        return;
    }
    char event[48], days[8];
    snprintf(days, sizeof days, "%.*s", (int)(v.data.n < 7 ? v.data.n : 7), v.data.p ? v.data.p : "");
    snprintf(event, sizeof event, "pickup_reminder_%s", days);
    ord_tx_t tx;
    ord_tx_init(&tx);
    const char *posting = rt_self_key(self);
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddStringToObject(vars, "posting", posting);
    cJSON_AddStringToObject(vars, "status", order_status_name_ru(st->status));
    char *vj = cJSON_PrintUnformatted(vars);
    cJSON_Delete(vars);
    ord_tx_notify(&tx, posting, event, ORDER_AT_PICKUP_POINT, vj ? vj : "{}", true);   /* owners only */
    int rc = tx.overflow ? RT_EFULL : rt_pg_tx(self, ORD_CORR_REMIND, tx.n, tx.stmts);
    ord_tx_free(&tx);
    free(vj);
    if (rc != RT_OK) {
        rt_msg_free(m);   /* not acknowledged: it comes back after its lease */
        return;
    }
    st->remind_msg = m;
    st->job = ORD_JOB_REMIND;
}

static void ord_on_remind_committed(rt_actor_t *self, order_state_t *st, const rt_pg_result_t *r)
{
    st->job = ORD_JOB_NONE;
    if (r->status == RT_OK) {
        ord_kick_notifier(self);
        if (st->remind_msg) rt_reminder_ack(self, st->remind_msg);
    }
    /* on failure the reminder is not acknowledged: it comes back after its lease */
    rt_msg_free(st->remind_msg);
    st->remind_msg = NULL;
    ord_next(self, st);
}

/* ---- the queue --------------------------------------------------------------------------------- */

/* Start the next waiting job unless one is in flight: Ozon first (a
 * conversation may be waiting for it), then logistics events, then
 * reminders. */
static void ord_next(rt_actor_t *self, order_state_t *st)
{
    while (st->job == ORD_JOB_NONE) {
        if (st->ozon_next) ord_apply_ozon(self, st);
        else if (st->events_wanted) ord_fetch_events(self, st);
        else if (st->nremind > 0) ord_apply_reminder(self, st);
        else return;
    }
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static int ord_load(rt_actor_t *self)
{
    const char *params[] = {rt_self_key(self)};
    int rc = rt_pg_query(self, RT_CORR_ACTIVATE,
                         "SELECT status, (extract(epoch FROM status_at) * 1000)::bigint,"
                         "       coalesce(tpl_integration_type, ''), available_actions,"
                         "       (extract(epoch FROM storage_until) * 1000)::bigint"
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
        if (rt_pg_value(r, 0, 4)) rt_pg_get_i64(r, 0, 4, &st->storage_until_ms);
    }
    return RT_OK;
}

static int ord_handle(rt_actor_t *self, const rt_msg_t *m)
{
    order_state_t *st = rt_self_state(self);
    switch (m->type) {
    case MSG_order_poke:
        st->events_wanted = true;
        ord_next(self, st);
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
        if (m->corr == st->retry_timer) {
            st->retry_timer = 0;
            st->events_wanted = true;
            ord_next(self, st);
        }
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
