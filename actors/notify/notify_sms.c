/* notify_sms.c — the notifier's SMS pipeline (see notifier.c for the whole).
 *
 * Purpose: pending sms rows that are due (next_attempt_at) are rendered
 * (plain text) and sent to SMS.ru, at most NF_SMS_SLOTS requests at a time:
 * POST {PLUS7_SMS_API}/sms/send (smsru.h). 100-103 'sent' with the sms_id;
 * transient failures (220, HTTP 5xx, network) stay 'pending' with
 * attempts + 1 and next_attempt_at = now + backoff, until
 * SMSRU_MAX_ATTEMPTS; permanent ones 'failed' with the code. With
 * PLUS7_SMS_PROVIDER=none rows fail with that reason; reminders whose
 * parcel left the pickup point are 'skipped'. Rows in flight are excluded
 * from the next scan; the mark of a finished request is issued before the
 * next scan on the same connection, so the scan sees it.
 *
 * Outside PLUS7_NOTIFY_HOURS nothing is sent: due rows get next_attempt_at
 * = the next opening (notify_policy.h) and the pipeline sleeps until then.
 *
 * Exports: nf_sms_cycle, nf_sms_scanned, nf_sms_marked_final, nf_sms_done,
 * nf_sms_deferred.
 * Threads: the notifier actor's home worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notifier_int.h"
#include "notify_policy.h"
#include "notify_render.h"
#include "notify_stats.h"
#include "plus7_actors.h"
#include "rt_log.h"
#include "smsru.h"

/* Columns: 0 id, 1 event, 2 phone, 3 vars, 4 posting, 5 attempts, 6 first_name,
 * 7 order status, 8 pickup_point, 9 storage_until ms, 10 template. */
static const char NF_SQL_SMS_SCAN[] =
    "SELECT n.id, n.event, n.phone, n.vars, n.posting_number, n.attempts, u.first_name, o.status,"
    "       o.pickup_point, (extract(epoch FROM o.storage_until) * 1000)::bigint, t.body"
    "  FROM notify_outbox n"
    "  LEFT JOIN users u ON u.phone = n.phone"
    "  LEFT JOIN orders o ON o.posting_number = n.posting_number"
    "  LEFT JOIN LATERAL (SELECT b.body FROM notify_templates b"
    "                      WHERE b.channel = n.channel AND b.event IN (n.event,"
    "                            CASE WHEN n.event LIKE 'pickup\\_reminder\\_%' THEN 'pickup_reminder' END)"
    "                      ORDER BY b.event = n.event DESC LIMIT 1) t ON true"
    " WHERE n.status = 'pending' AND n.channel = 'sms'"
    "   AND (n.next_attempt_at IS NULL OR n.next_attempt_at <= now())"
    "   AND n.id <> ALL ($2::bigint[])"
    " ORDER BY n.id LIMIT $1::int";

static const char NF_SQL_SMS_NEXT[] =
    "SELECT (extract(epoch FROM min(next_attempt_at) - now()) * 1000)::bigint"
    "  FROM notify_outbox WHERE status = 'pending' AND channel = 'sms' AND next_attempt_at > now()";

static int nf_free_slots(const nf_state_t *st)
{
    int n = 0;
    for (int i = 0; i < NF_SMS_SLOTS; i++) n += !st->slots[i].busy;
    return n;
}

/* Outside PLUS7_NOTIFY_HOURS: every due sms row waits for the opening
 * (next_attempt_at), and the timer wakes the pipeline then. */
static const char NF_SQL_SMS_DEFER[] =
    "UPDATE notify_outbox SET next_attempt_at = to_timestamp($1::bigint / 1000.0)"
    " WHERE status = 'pending' AND channel = 'sms'"
    "   AND (next_attempt_at IS NULL OR next_attempt_at < to_timestamp($1::bigint / 1000.0))";


static bool nf_sms_defer(rt_actor_t *self, nf_state_t *st)
{
    int64_t now = notify_now_ms(), open = notify_window_next(now);
    if (open == now) return false;
    char at[24];
    snprintf(at, sizeof at, "%lld", (long long)open);
    const char *params[] = {at};
    st->sms_again = false;
    if (rt_pg_query(self, NF_CORR_SMS_DEFER, NF_SQL_SMS_DEFER, 1, params) != RT_OK) {
        nf_arm(self, &st->sms_timer, NF_DB_RETRY_MS);
        return true;
    }
    st->sms_busy = true;
    nf_arm(self, &st->sms_timer, (uint32_t)(open - now) + 10);
    return true;
}

void nf_sms_deferred(rt_actor_t *self, nf_state_t *st, const rt_pg_result_t *r)
{
    st->sms_busy = false;
    if (r->status != RT_OK) {
        LOG_WARN("notify_db_error", "step=sms_defer error=\"%s\"", r->error ? r->error : rt_strerror(r->status));
        nf_arm(self, &st->sms_timer, NF_DB_RETRY_MS);
        return;
    }
    if (r->affected > 0) LOG_INFO("sms_deferred", "rows=%lld reason=outside_notify_hours", (long long)r->affected);
}

void nf_sms_cycle(rt_actor_t *self, nf_state_t *st)
{
    if (st->sms_busy) { st->sms_again = true; return; }
    if (nf_sms_defer(self, st)) return;
    int free_slots = nf_free_slots(st);
    if (free_slots == 0) { st->sms_again = true; return; }   /* a finishing request runs the cycle */
    int64_t busy[NF_SMS_SLOTS];
    int nbusy = 0;
    for (int i = 0; i < NF_SMS_SLOTS; i++)
        if (st->slots[i].busy) busy[nbusy++] = st->slots[i].id;
    char *ids = nf_id_array(busy, nbusy);
    char limit[16];
    snprintf(limit, sizeof limit, "%d", free_slots);
    const char *params[] = {limit, ids};
    rt_pg_stmt_t stmts[] = {{NF_SQL_SMS_SCAN, 2, params}, {NF_SQL_SMS_NEXT, 0, NULL}};
    st->sms_again = false;
    st->sms_asked = free_slots;
    int rc = ids ? rt_pg_tx(self, NF_CORR_SMS_SCAN, 2, stmts) : RT_ENOMEM;
    free(ids);
    if (rc != RT_OK) { nf_arm(self, &st->sms_timer, NF_DB_RETRY_MS); return; }
    st->sms_busy = true;
}

static int nf_sms_send(rt_actor_t *self, nf_state_t *st, int64_t id, int attempts, const char *phone,
                       const char *text)
{
    const plus7_actors_cfg_t *cfg = plus7_actors_cfg();
    int slot = -1;
    for (int i = 0; i < NF_SMS_SLOTS && slot < 0; i++)
        if (!st->slots[i].busy) slot = i;
    if (slot < 0) return RT_EFULL;
    char *form = smsru_form(cfg->sms_key, phone, text, cfg->sms_sender);
    if (!form) return RT_ENOMEM;
    char url[1024];
    snprintf(url, sizeof url, "%s/sms/send", cfg->sms_api ? cfg->sms_api : "https://sms.ru");
    rt_http_req_t req = {.method = "POST", .url = url, .content_type = "application/x-www-form-urlencoded",
                         .body = form, .body_len = strlen(form), .timeout_ms = NF_SMS_TIMEOUT_MS};
    int rc = rt_http_request(self, NF_CORR_HTTP0 + (uint32_t)slot, &req);
    free(form);
    if (rc != RT_OK) return rc;
    nf_slot_t *s = &st->slots[slot];
    s->busy = true;
    s->id = id;
    s->attempts = attempts;
    snprintf(s->phone, sizeof s->phone, "%s", phone);
    return RT_OK;
}

void nf_sms_scanned(rt_actor_t *self, nf_state_t *st, const rt_pg_result_t *r)
{
    const rt_pg_result_t *rows = rt_pg_stmt(r, 0), *next = rt_pg_stmt(r, 1);
    if (r->status != RT_OK || !rows || !next) {
        LOG_WARN("notify_db_error", "step=sms_scan error=\"%s\"", r->error ? r->error : rt_strerror(r->status));
        st->sms_busy = false;
        nf_arm(self, &st->sms_timer, NF_DB_RETRY_MS);
        return;
    }
    if (!rt_pg_is_null(next, 0, 0)) {   /* the earliest retry that is not due yet */
        int64_t wait = nf_i64(next, 0, 0);
        nf_arm(self, &st->sms_timer, (uint32_t)(wait < 0 ? 0 : wait > 600000 ? 600000 : wait) + 10);
    }
    const plus7_actors_cfg_t *cfg = plus7_actors_cfg();
    nf_lists_t l;
    nf_lists_init(&l);
    for (int i = 0; i < rows->nrows; i++) {
        int64_t id = nf_i64(rows, i, 0);
        const char *event = rt_pg_value(rows, i, 1), *phone = nf_val(rows, i, 2), *ostatus = nf_val(rows, i, 7);
        const char *obsolete = nf_obsolete(event, ostatus, nf_i64(rows, i, 9));
        if (obsolete) {
            nf_final(&l, id, "skipped", obsolete, 0);
            continue;
        }
        if (cfg->sms_provider != PLUS7_SMS_SMSRU) {
            nf_final(&l, id, "failed", "sms: no provider configured (PLUS7_SMS_PROVIDER=none)", 0);
            continue;
        }
        if (!phone) { nf_final(&l, id, "failed", "sms: no phone", 0); continue; }
        notify_row_t row = {.event = event, .posting = nf_val(rows, i, 4), .vars_json = rt_pg_value(rows, i, 3),
                            .name = nf_val(rows, i, 6), .pickup_point = nf_val(rows, i, 8),
                            .storage_until_ms = nf_i64(rows, i, 9), .tpl = rt_pg_value(rows, i, 10)};
        unsigned flags = 0;
        char *text = notify_render_text(&row, false, &flags);
        if (!text) continue;
        nf_log_render(st, id, event, "sms", flags);
        int rc = nf_sms_send(self, st, id, (int)nf_i64(rows, i, 5), phone, text);
        free(text);
        if (rc != RT_OK) {
            LOG_WARN("sms_request_not_started", "id=%lld error=%s", (long long)id, rt_strerror(rc));
            nf_arm(self, &st->sms_timer, NF_DB_RETRY_MS);
        }
    }
    notify_stat_add(NOTIFY_STAT_SMS_FAILED, (uint64_t)l.nfailed);
    notify_stat_add(NOTIFY_STAT_SKIPPED, (uint64_t)l.nskipped);
    int rc = nf_lists_commit(self, NF_CORR_SMS_TX, &l);
    nf_lists_free(&l);
    if (rc == RT_OK) return;   /* sms_busy until the marks commit; then the next scan */
    st->sms_busy = false;
    if (rc != RT_ENOTFOUND) nf_arm(self, &st->sms_timer, NF_DB_RETRY_MS);
    else if (rows->nrows >= st->sms_asked || st->sms_again) nf_sms_cycle(self, st);   /* more may be due */
}

void nf_sms_marked_final(rt_actor_t *self, nf_state_t *st, const rt_pg_result_t *r)
{
    st->sms_busy = false;
    if (r->status != RT_OK) {
        LOG_WARN("notify_db_error", "step=sms_final error=\"%s\"", r->error ? r->error : rt_strerror(r->status));
        nf_arm(self, &st->sms_timer, NF_DB_RETRY_MS);
        return;
    }
    nf_sms_cycle(self, st);
}

void nf_sms_done(rt_actor_t *self, nf_state_t *st, int slot, const rt_http_result_t *res)
{
    nf_slot_t *s = &st->slots[slot];
    if (!s->busy) return;
    smsru_result_t out;
    smsru_parse(res && res->rc == RT_OK, res ? res->error : "no result", res ? res->status : 0,
                res ? res->body : NULL, res ? res->body_len : 0, s->phone, &out);
    int attempts = s->attempts + 1;
    if (out.outcome == SMSRU_RETRY && attempts >= SMSRU_MAX_ATTEMPTS) {
        out.outcome = SMSRU_FAILED;
        size_t n = strlen(out.text);
        snprintf(out.text + n, sizeof out.text - n, " (gave up after %d attempts)", attempts);
    }
    char ids[24], code[16], backoff[16];
    snprintf(ids, sizeof ids, "%lld", (long long)s->id);
    snprintf(code, sizeof code, "%d", out.code);
    snprintf(backoff, sizeof backoff, "%u", smsru_backoff_ms(attempts));
    const char *sql;
    const char *params[4] = {ids, NULL, code, NULL};
    int nparams = 3;
    switch (out.outcome) {
    case SMSRU_SENT:
        sql = "UPDATE notify_outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1,"
              " provider_id = $2, error_code = $3, last_error = NULL WHERE id = $1 AND status = 'pending'";
        params[1] = out.sms_id[0] ? out.sms_id : NULL;
        notify_stat_add(NOTIFY_STAT_SMS_SENT, 1);
        LOG_INFO("sms_sent", "id=%lld code=%d attempts=%d", (long long)s->id, out.code, attempts);
        break;
    case SMSRU_RETRY:
        sql = "UPDATE notify_outbox SET attempts = attempts + 1, last_error = $2, error_code = $3,"
              " next_attempt_at = now() + $4::bigint * interval '1 millisecond' WHERE id = $1 AND status = 'pending'";
        params[1] = out.text;
        params[3] = backoff;
        nparams = 4;
        notify_stat_add(NOTIFY_STAT_SMS_RETRIED, 1);
        notify_stat_set_last_sms_code(out.code);
        LOG_WARN("sms_retry", "id=%lld attempt=%d backoff_ms=%s error=\"%s\"", (long long)s->id, attempts, backoff,
                 out.text);
        nf_arm(self, &st->sms_timer, smsru_backoff_ms(attempts) + 10);
        break;
    default:
        sql = "UPDATE notify_outbox SET status = 'failed', attempts = attempts + 1, last_error = $2,"
              " error_code = $3 WHERE id = $1 AND status = 'pending'";
        params[1] = out.text;
        notify_stat_add(NOTIFY_STAT_SMS_FAILED, 1);
        notify_stat_set_last_sms_code(out.code);
        LOG_WARN("sms_failed", "id=%lld attempts=%d error=\"%s\"", (long long)s->id, attempts, out.text);
        break;
    }
    /* Requests of one actor run in order on one connection: the next scan
     * sees this mark, so the slot may be reused at once. */
    if (rt_pg_query(self, NF_CORR_SMS_MARK, sql, nparams, params) != RT_OK)
        LOG_ERROR("notify_db_error", "step=sms_mark id=%lld error=not_queued", (long long)s->id);
    memset(s, 0, sizeof *s);
    nf_sms_cycle(self, st);
}
