/* notifier.c — the notifier actor (kind "notifier", key "main"): sends
 * notify_outbox rows, Telegram first, SMS (SMS.ru) as the fallback.
 *
 * Purpose: the order actor (and anyone else) inserts notify_outbox rows in
 * its own transaction and sends notify_kick{0}; at activation (start-up,
 * after kill -9, after a failure) every pending row is replayed. Three
 * pipelines, each with at most one database request in flight, so a row
 * is never handled twice at once:
 *
 *   Telegram  pending telegram rows, at most NF_TG_WINDOW of them handed to
 *             the gateway and not yet sent (the window keeps interactive
 *             replies, which share priority 0 with status notices, within
 *             about two seconds of the queue head; mass messages use
 *             priority 1 and wait behind both). Each row is rendered (its
 *             template, HTML-escaped values, the pickup reminder keyboard)
 *             and, in ONE transaction, marked 'queued' (UPDATE ... WHERE
 *             status = 'pending') together with its tg_outbox row
 *             (dedupe_key 'n<id>', notify_id = id, prio 0); then the gateway
 *             is kicked. A trigger (sql/006_notify.sql) marks the row 'sent'
 *             or 'failed' when the gateway records the outcome. A person
 *             known unreachable (users.tg_unreachable), a row without chat,
 *             or Telegram switched off: 'fallback' and an sms row for the
 *             same posting, event and person (dedupe key ending ":sms") when
 *             a phone is known, else 'failed'.
 *   recovery  the gateway got 403 for notification id (notify_kick
 *             tg_failed): the same fallback for that row ('queued' ->
 *             'fallback'). At activation, every 'queued' row whose
 *             tg_outbox row is 'blocked' is recovered too (a kick lost in a
 *             crash).
 *   SMS       pending sms rows that are due (next_attempt_at), up to
 *             NF_SMS_SLOTS requests in flight: POST {api}/sms/send; 100-103
 *             'sent' with the sms_id; transient failures retried with
 *             backoff up to SMSRU_MAX_ATTEMPTS (attempts and next_attempt_at
 *             are in the row, so a restart keeps counting); permanent ones
 *             'failed' with the code. PLUS7_SMS_PROVIDER=none fails sms
 *             rows with that reason.
 * Pickup reminders whose parcel has left the pickup point meanwhile, and
 * reminders or arrival notices whose storage has ended, are 'skipped' (a
 * past deadline is never shown). The SMS fallback is for owners only and
 * only for the events PLUS7_SMS_EVENTS chooses; otherwise the row fails
 * with that reason. SMS go out only within PLUS7_NOTIFY_HOURS: outside,
 * due rows are deferred (next_attempt_at) to the next opening. A crash between an SMS request and its 'sent' mark sends that
 * SMS again after the restart (the narrow window; the Telegram gateway has
 * the same one). Phone numbers are never logged.
 *
 * Files: this one (life cycle, Telegram, recovery), notify_sms.c (the SMS
 * pipeline), notify_outcome.c (outcome lists, set statements); shared state
 * in notifier_int.h.
 *
 * Exports: notifier_kind.
 * Threads: the actor's home worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "msg_types.h"
#include "notifier_int.h"
#include "notify_render.h"
#include "plus7_actors.h"
#include "rt_http.h"
#include "rt_log.h"
#include "rt_pg.h"

static void nf_state_free(void *p)
{
    nf_state_t *st = p;
    free(st->rec_ids);
}

/* ---- Telegram pipeline ------------------------------------------------------------ */

/* Columns: 0 id, 1 event, 2 chat_id, 3 vars, 4 posting, 5 phone, 6 unreachable,
 * 7 first_name, 8 order status, 9 pickup_point, 10 storage_until ms, 11 template,
 * 12 audience. */
static const char NF_SQL_TG_SCAN[] =
    "SELECT n.id, n.event, n.chat_id, n.vars, n.posting_number, coalesce(n.phone, u.phone),"
    "       coalesce(u.tg_unreachable, false)::text, u.first_name, o.status, o.pickup_point,"
    "       (extract(epoch FROM o.storage_until) * 1000)::bigint, t.body, n.audience"
    "  FROM notify_outbox n"
    "  LEFT JOIN users u ON u.tg_user_id = coalesce(n.tg_user_id, n.chat_id)"
    "  LEFT JOIN orders o ON o.posting_number = n.posting_number"
    "  LEFT JOIN LATERAL (SELECT b.body FROM notify_templates b"
    "                      WHERE b.channel = n.channel AND b.event IN (n.event,"
    "                            CASE WHEN n.event LIKE 'pickup\\_reminder\\_%' THEN 'pickup_reminder' END)"
    "                      ORDER BY b.event = n.event DESC LIMIT 1) t ON true"
    " WHERE n.status = 'pending' AND n.channel = 'telegram'"
    " ORDER BY n.id"
    " LIMIT least($2::int, greatest(0, $1::int - (SELECT count(*) FROM notify_outbox"
    "                                               WHERE status = 'queued' AND channel = 'telegram')))";

static const char NF_SQL_TG_QUEUED[] =
    "SELECT count(*) FROM notify_outbox WHERE status = 'queued' AND channel = 'telegram'";

static void nf_tg_cycle(rt_actor_t *self, nf_state_t *st)
{
    if (st->tg_busy) { st->tg_again = true; return; }
    char window[16], batch[16];
    snprintf(window, sizeof window, "%d", st->window);
    snprintf(batch, sizeof batch, "%d", NF_TG_BATCH);
    const char *params[] = {window, batch};
    rt_pg_stmt_t stmts[] = {{NF_SQL_TG_QUEUED, 0, NULL}, {NF_SQL_TG_SCAN, 2, params}};
    st->tg_again = false;
    if (rt_pg_tx(self, NF_CORR_TG_SCAN, 2, stmts) != RT_OK) {
        nf_arm(self, &st->tg_timer, NF_DB_RETRY_MS);
        return;
    }
    st->tg_busy = true;
}

static void nf_tg_scanned(rt_actor_t *self, nf_state_t *st, const rt_pg_result_t *r)
{
    const rt_pg_result_t *cnt = rt_pg_stmt(r, 0), *rows = rt_pg_stmt(r, 1);
    if (r->status != RT_OK || !cnt || !rows) {
        LOG_WARN("notify_db_error", "step=tg_scan error=\"%s\"", r->error ? r->error : rt_strerror(r->status));
        st->tg_busy = false;
        nf_arm(self, &st->tg_timer, NF_DB_RETRY_MS);
        return;
    }
    int64_t queued = nf_i64(cnt, 0, 0);
    if (rows->nrows == 0) {
        st->tg_busy = false;
        if (queued >= st->window) nf_arm(self, &st->tg_timer, NF_POLL_MS);   /* the gateway will free it */
        if (st->tg_again) nf_tg_cycle(self, st);
        return;
    }
    bool tg_on = nf_tg_on();
    nf_lists_t l;
    nf_lists_init(&l);
    for (int i = 0; i < rows->nrows; i++) {
        int64_t id = nf_i64(rows, i, 0);
        const char *event = rt_pg_value(rows, i, 1);
        const char *phone = nf_val(rows, i, 5);
        const char *ostatus = nf_val(rows, i, 8);
        bool has_chat = !rt_pg_is_null(rows, i, 2);
        bool unreachable = strcmp(rt_pg_value(rows, i, 6), "true") == 0;
        bool watcher = strcmp(rt_pg_value(rows, i, 12), "watcher") == 0;
        const char *obsolete = nf_obsolete(event, ostatus, nf_i64(rows, i, 10));
        if (obsolete) {
            nf_final(&l, id, "skipped", obsolete, 0);
            continue;
        }
        const char *why = !tg_on ? "telegram is off" : !has_chat ? "telegram: no chat"
                        : unreachable ? "telegram: unreachable (blocked or never started)" : NULL;
        if (why) {
            nf_fallback_for(&l, id, phone, event, watcher, why);
            continue;
        }
        notify_row_t row = {.event = event, .posting = nf_val(rows, i, 4), .vars_json = rt_pg_value(rows, i, 3),
                            .name = nf_val(rows, i, 7), .pickup_point = nf_val(rows, i, 9),
                            .storage_until_ms = nf_i64(rows, i, 10), .tpl = rt_pg_value(rows, i, 11),
                            .watcher = watcher};
        unsigned flags = 0;
        int64_t chat = nf_i64(rows, i, 2);
        char *params = notify_render_tg_params(&row, chat, &flags);
        if (!params) continue;   /* ENOMEM: stays pending, next pass */
        nf_log_render(st, id, event, "telegram", flags);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)id);
        cJSON_AddNumberToObject(o, "chat", (double)chat);
        cJSON_AddStringToObject(o, "params", params);
        cJSON_AddItemToArray(l.queue, o);
        l.nqueue++;
        free(params);
    }
    int rc = nf_lists_commit(self, NF_CORR_TG_TX, &l);
    st->tg_kick = l.nqueue > 0;
    if (rc == RT_OK) {
        nf_count_lists(&l);   /* counted when issued; a failed commit is retried and logged */
    } else {
        st->tg_busy = false;
        nf_arm(self, &st->tg_timer, NF_DB_RETRY_MS);
    }
    nf_lists_free(&l);
}

static void nf_tg_committed(rt_actor_t *self, nf_state_t *st, const rt_pg_result_t *r)
{
    st->tg_busy = false;
    if (r->status != RT_OK) {
        LOG_WARN("notify_db_error", "step=tg_queue error=\"%s\"", r->error ? r->error : rt_strerror(r->status));
        nf_arm(self, &st->tg_timer, NF_DB_RETRY_MS);
        return;
    }
    if (st->tg_kick && nf_tg_on()) {
        msg_tg_kick_t k = {.max_id = 0};
        rt_send_key(rt_self_runtime(self), &tg_gateway_kind, "main", msg_tg_kick_new(&k));
    }
    nf_sms_cycle(self, st);   /* fallbacks may have added sms rows */
    nf_tg_cycle(self, st);    /* more may be pending; an empty scan ends it */
}

/* ---- recovery after 403 --------------------------------------------------------------- */

static const char NF_SQL_REC_SCAN[] =
    "SELECT n.id, coalesce(n.phone, u.phone), t.status, n.event, n.audience"
    "  FROM notify_outbox n"
    "  JOIN tg_outbox t ON t.dedupe_key = 'n' || n.id"
    "  LEFT JOIN users u ON u.tg_user_id = coalesce(n.tg_user_id, n.chat_id)"
    " WHERE n.status = 'queued' AND n.channel = 'telegram'"
    "   AND (n.id = ANY ($1::bigint[]) OR ($2::boolean AND t.status = 'blocked'))";

static void nf_rec_cycle(rt_actor_t *self, nf_state_t *st)
{
    if (st->rec_busy || (st->nrec == 0 && !st->rec_all)) return;
    char *ids = nf_id_array(st->rec_ids, st->nrec);
    if (!ids) { nf_arm(self, &st->rec_timer, NF_DB_RETRY_MS); return; }
    const char *params[] = {ids, st->rec_all ? "true" : "false"};
    int rc = rt_pg_query(self, NF_CORR_REC_SCAN, NF_SQL_REC_SCAN, 2, params);
    free(ids);
    if (rc != RT_OK) { nf_arm(self, &st->rec_timer, NF_DB_RETRY_MS); return; }
    st->nrec = 0;
    st->rec_all = false;
    st->rec_busy = true;
}

static void nf_rec_scanned(rt_actor_t *self, nf_state_t *st, const rt_pg_result_t *r)
{
    if (r->status != RT_OK) {
        LOG_WARN("notify_db_error", "step=recovery_scan error=\"%s\"", r->error ? r->error : rt_strerror(r->status));
        st->rec_busy = false;
        st->rec_all = true;            /* the ids are gone from RAM: find them by their blocked rows */
        nf_arm(self, &st->rec_timer, NF_DB_RETRY_MS);
        return;
    }
    nf_lists_t l;
    nf_lists_init(&l);
    for (int i = 0; i < r->nrows; i++) {
        int64_t id = nf_i64(r, i, 0);
        LOG_INFO("notify_tg_blocked", "id=%lld tg_status=%s", (long long)id, rt_pg_value(r, i, 2));
        bool watcher = strcmp(rt_pg_value(r, i, 4), "watcher") == 0;
        nf_fallback_for(&l, id, nf_val(r, i, 1), rt_pg_value(r, i, 3), watcher,
                        "telegram: blocked or never started (403)");
    }
    int rc = nf_lists_commit(self, NF_CORR_REC_TX, &l);
    if (rc == RT_OK) nf_count_lists(&l);
    nf_lists_free(&l);
    if (rc == RT_ENOTFOUND) {
        st->rec_busy = false;
        nf_rec_cycle(self, st);
    } else if (rc != RT_OK) {
        st->rec_busy = false;
        st->rec_all = true;
        nf_arm(self, &st->rec_timer, NF_DB_RETRY_MS);
    }
}

static void nf_rec_committed(rt_actor_t *self, nf_state_t *st, const rt_pg_result_t *r)
{
    st->rec_busy = false;
    if (r->status != RT_OK) {
        LOG_WARN("notify_db_error", "step=recovery error=\"%s\"", r->error ? r->error : rt_strerror(r->status));
        st->rec_all = true;
        nf_arm(self, &st->rec_timer, NF_DB_RETRY_MS);
        return;
    }
    nf_sms_cycle(self, st);
    nf_rec_cycle(self, st);
}

static void nf_rec_add(rt_actor_t *self, nf_state_t *st, int64_t id)
{
    if (st->nrec == st->caprec) {
        int cap = st->caprec ? st->caprec * 2 : 16;
        int64_t *ids = realloc(st->rec_ids, (size_t)cap * sizeof *ids);
        if (!ids) {
            st->rec_all = true;     /* found later by its blocked tg_outbox row */
            nf_arm(self, &st->rec_timer, NF_DB_RETRY_MS);
            return;
        }
        st->rec_ids = ids;
        st->caprec = cap;
    }
    st->rec_ids[st->nrec++] = id;
    nf_rec_cycle(self, st);
}

/* ---- life cycle --------------------------------------------------------------------------- */

static int nf_load(rt_actor_t *self)
{
    nf_state_t *st = rt_self_state(self);
    int rate = plus7_actors_cfg()->tg_rate;
    st->window = rate > 0 ? 2 * rate : 60;
    if (st->window < 10) st->window = 10;
    return RT_OK;
}

static int nf_on_activate(rt_actor_t *self, const rt_msg_t *m)
{
    (void)m;
    nf_state_t *st = rt_self_state(self);
    st->rec_all = true;          /* 403s whose kick a crash lost */
    nf_rec_cycle(self, st);
    nf_tg_cycle(self, st);
    nf_sms_cycle(self, st);
    return RT_OK;
}

static void nf_on_timer(rt_actor_t *self, nf_state_t *st, uint32_t id)
{
    if (id == st->tg_timer.id) {
        st->tg_timer.id = 0;
        nf_tg_cycle(self, st);
    } else if (id == st->sms_timer.id) {
        st->sms_timer.id = 0;
        nf_sms_cycle(self, st);
    } else if (id == st->rec_timer.id) {
        st->rec_timer.id = 0;
        nf_rec_cycle(self, st);
    }
}

static int nf_handle(rt_actor_t *self, const rt_msg_t *m)
{
    nf_state_t *st = rt_self_state(self);
    switch (m->type) {
    case MSG_notify_kick: {
        msg_notify_kick_t v;
        if (msg_notify_kick_decode(m, &v) != RT_OK) return RT_OK;
        if (v.tg_failed && v.id > 0) {
            nf_rec_add(self, st, v.id);
        } else {
            nf_tg_cycle(self, st);
            nf_sms_cycle(self, st);
        }
        return RT_OK;
    }
    case RT_MSG_TIMER:
        nf_on_timer(self, st, m->corr);
        return RT_OK;
    case RT_MSG_PG_RESULT: {
        const rt_pg_result_t *r = rt_pg_msg_result(m);
        if (!r) return RT_OK;
        switch (m->corr) {
        case NF_CORR_TG_SCAN: nf_tg_scanned(self, st, r); break;
        case NF_CORR_TG_TX: nf_tg_committed(self, st, r); break;
        case NF_CORR_REC_SCAN: nf_rec_scanned(self, st, r); break;
        case NF_CORR_REC_TX: nf_rec_committed(self, st, r); break;
        case NF_CORR_SMS_SCAN: nf_sms_scanned(self, st, r); break;
        case NF_CORR_SMS_TX: nf_sms_marked_final(self, st, r); break;
        case NF_CORR_SMS_DEFER: nf_sms_deferred(self, st, r); break;
        case NF_CORR_SMS_MARK:
            if (r->status != RT_OK)
                LOG_ERROR("notify_db_error", "step=sms_mark error=\"%s\"", r->error ? r->error : rt_strerror(r->status));
            break;
        default: break;
        }
        return RT_OK;
    }
    case RT_MSG_HTTP_RESULT:
        if (m->corr >= NF_CORR_HTTP0 && m->corr < NF_CORR_HTTP0 + NF_SMS_SLOTS)
            nf_sms_done(self, st, (int)(m->corr - NF_CORR_HTTP0), m->ptr);
        return RT_OK;
    default:
        return RT_OK;
    }
}

const rt_kind_t notifier_kind = {
    .name = "notifier",
    .state_size = sizeof(nf_state_t),
    .idle_age_ms = 0,
    .load = nf_load,
    .on_activate = nf_on_activate,
    .handle = nf_handle,
    .state_free = nf_state_free,
};
