/* pay_actor.c — the payment actor: one per payment attempt (kind
 * "payment", key = attempt id).
 *
 * Purpose: everything plus7 does to an attempt after the chat created it.
 * On every poke the actor loads the attempt (and its oldest due refund)
 * and does the ONE thing due, then loads again until nothing is due:
 *   refund due      POST {api}/refunds with the refund's own
 *                   Idempotence-Key (the provider's payment id is the
 *                   YooKassa payment, or a Telegram invoice's
 *                   provider_payment_charge_id); accepted → pay_refund_done
 *                   («Возврат оплаты оформлен» once). A bank-QR or cash
 *                   payment was returned by staff: recorded at once.
 *   confirmed       bank QR / cash marked received by an operator →
 *                   pay_succeed.
 *   sbp, no payment POST {api}/payments with the attempt's Idempotence-Key
 *                   (stored with the attempt before the first call): on 200
 *                   the provider's id, the QR PNG and its sendPhoto row are
 *                   stored in ONE transaction; 5xx, timeouts and refused
 *                   connections are retried with the SAME key and growing
 *                   pauses (one payment whatever happens); 4xx cancels the
 *                   attempt and tells the payer.
 *   sbp, pending    GET {api}/payments/{id} — only the fetched status and
 *                   amount count: succeeded → pay_succeed; canceled →
 *                   canceled and the payer told; still pending → the next
 *                   check after a growing pause (5 s … 10 min), until the
 *                   attempt expires (the provider's one-hour window + 10 min).
 *                   Open notifications of the payment are marked processed.
 *   telegram        an invoice never paid expires with its window.
 * The next check time lives in the row (next_check_at): a volatile timer
 * wakes the actor, and pay_sweeper wakes it after a restart. Database
 * errors are retried with backoff; the actor never blocks.
 *
 * Exports: pay_kind, pay_poke.
 * Threads: the actor's home worker; pay_poke any thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "conv_form.h"
#include "conv_pay.h"
#include "msg_types.h"
#include "pay.h"
#include "pay_stats.h"
#include "pay_yk.h"
#include "plus7_actors.h"
#include "rt_http.h"
#include "rt_log.h"
#include "rt_pg.h"
#include "texts.h"
#include "tg_markup.h"

enum { PA_CORR_LOAD = 1, PA_CORR_WRITE, PA_CORR_HTTP };

#define PA_HTTP_TIMEOUT_MS 15000
#define PA_BACKOFF_MAX_S 600

typedef struct pa_state {
    bool busy, again;
    uint32_t timer;
    /* the attempt as loaded */
    char posting[32], method[16], status[16], provider_id[YK_ID_MAX], idem[40], phone[24];
    int64_t chat, amount, checks;
    bool expired, gone, confirmed, has_notes;
    /* the refund as loaded */
    int64_t refund_id, refund_amount;
    char refund_idem[40];
    enum { PA_HTTP_NONE, PA_HTTP_CREATE, PA_HTTP_GET, PA_HTTP_REFUND } http;
    bool kick_gateway;   /* the write being committed queued outbox rows */
    uint32_t sleep_ms;   /* after the write: wait this long (a retry), else load again */
} pa_state_t;

static const char pa_sql_load[] =
    "SELECT a.posting_number, a.method, a.status, coalesce(a.provider_id, ''), a.idem_key::text, a.chat_id,"
    "       a.amount_kop, a.checks, now() > a.expires_at + interval '10 minutes' AS gone,"
    "       now() > a.expires_at AS expired, a.confirmed_by IS NOT NULL AS confirmed,"
    "       coalesce(u.phone, ''),"
    "       EXISTS (SELECT 1 FROM pay_notifications n WHERE n.provider_id = a.provider_id"
    "                AND n.processed_at IS NULL) AS notes,"
    "       r.id, r.amount_kop, r.idem_key::text,"
    "       a.next_check_at <= now() AS due"
    "  FROM pay_attempts a LEFT JOIN users u ON u.tg_user_id = a.tg_user_id"
    "  LEFT JOIN LATERAL (SELECT id, amount_kop, idem_key FROM pay_refunds"
    "                      WHERE attempt_id = a.id AND status = 'created' AND next_try_at <= now()"
    "                      ORDER BY id LIMIT 1) r ON true"
    " WHERE a.id = $1";

static void pa_load(rt_actor_t *self, pa_state_t *st)
{
    const char *p[] = {rt_self_key(self)};
    st->busy = true;
    st->again = false;
    if (rt_pg_query(self, PA_CORR_LOAD, pa_sql_load, 1, p) != RT_OK) {
        st->busy = false;
        st->timer = rt_timer_after(self, 1000);
    }
}

/* Come back after `ms` (the row's next_check_at says the same to the sweeper). */
static void pa_later(rt_actor_t *self, pa_state_t *st, uint32_t ms)
{
    if (st->timer) rt_timer_cancel(self, st->timer);
    st->timer = rt_timer_after(self, ms);
}

static uint32_t pa_backoff_s(int64_t checks)
{
    uint64_t s = 5u << (checks < 8 ? checks : 8);
    return (uint32_t)(s > PA_BACKOFF_MAX_S ? PA_BACKOFF_MAX_S : s);
}

/* Run statements as one transaction, then load again. */
static void pa_write(rt_actor_t *self, pa_state_t *st, int n, const rt_pg_stmt_t *stmts, bool kick)
{
    st->kick_gateway = kick;
    if (rt_pg_tx(self, PA_CORR_WRITE, n, stmts) != RT_OK) {
        st->busy = false;
        st->sleep_ms = 0;
        pa_later(self, st, 1000);
    }
}

static void pa_write1(rt_actor_t *self, pa_state_t *st, const char *sql, int n, const char *const *params, bool kick)
{
    rt_pg_stmt_t s = {.sql = sql, .nparams = n, .params = params};
    pa_write(self, st, 1, &s, kick);
}

/* ---- HTTP to YooKassa ----------------------------------------------------------- */

static int pa_http(rt_actor_t *self, pa_state_t *st, const char *method, const char *path, const char *idem,
                   const char *body)
{
    const pay_cfg_t *c = pay_config();
    char url[1024], idem_hdr[80];
    snprintf(url, sizeof url, "%s%s", c->yk_api, path);
    const char *hdrs[2] = {pay_auth_header(), idem_hdr};
    size_t nh = 1;
    if (idem) {
        snprintf(idem_hdr, sizeof idem_hdr, "Idempotence-Key: %s", idem);
        nh = 2;
    }
    rt_http_req_t req = {.method = method, .url = url, .headers = hdrs, .nheaders = nh,
                         .content_type = body ? "application/json" : NULL, .body = body,
                         .body_len = body ? strlen(body) : 0, .timeout_ms = PA_HTTP_TIMEOUT_MS};
    return rt_http_request(self, PA_CORR_HTTP, &req);
}

static void pa_create(rt_actor_t *self, pa_state_t *st)
{
    char desc[128];
    snprintf(desc, sizeof desc, text_get(T_PAY_INVOICE_DESC), st->posting);
    char *body = yk_payment_body(rt_self_key(self), st->amount, desc, st->phone, true);
    st->http = PA_HTTP_CREATE;
    int rc = body ? pa_http(self, st, "POST", "/payments", st->idem, body) : RT_ENOMEM;
    free(body);
    if (rc != RT_OK) { st->busy = false; pa_later(self, st, 1000); }
}

static void pa_get(rt_actor_t *self, pa_state_t *st)
{
    char path[128];
    snprintf(path, sizeof path, "/payments/%s", st->provider_id);
    st->http = PA_HTTP_GET;
    if (pa_http(self, st, "GET", path, NULL, NULL) != RT_OK) { st->busy = false; pa_later(self, st, 1000); }
}

static void pa_refund(rt_actor_t *self, pa_state_t *st)
{
    char *body = yk_refund_body(st->provider_id, st->refund_amount);
    st->http = PA_HTTP_REFUND;
    int rc = body ? pa_http(self, st, "POST", "/refunds", st->refund_idem, body) : RT_ENOMEM;
    free(body);
    if (rc != RT_OK) { st->busy = false; pa_later(self, st, 1000); }
}

/* ---- settling --------------------------------------------------------------------- */

/* Notifications of this payment ($1 provider id) are answered by what we just learnt ($2). */
static const char pa_sql_notes[] =
    "UPDATE pay_notifications SET processed_at = now(), result = $2"
    " WHERE provider_id = $1 AND processed_at IS NULL";

static const char pa_sql_succeed[] = "SELECT pay_succeed($1, $2::bigint, $3, $4, NULL, NULL, $5, $6)";

static void pa_succeed(rt_actor_t *self, pa_state_t *st, int64_t amount, const char *provider_id, const char *receipt)
{
    char paid[1024], dbl[512], amt[24];
    conv_pay_paid_text(amount, st->posting, receipt, paid, sizeof paid);
    conv_pay_double_text(amount, st->posting, rt_self_key(self), dbl, sizeof dbl);
    snprintf(amt, sizeof amt, "%lld", (long long)amount);
    const char *p[] = {rt_self_key(self), amt, provider_id && *provider_id ? provider_id : NULL,
                       receipt && *receipt ? receipt : NULL, paid, dbl};
    const char *pn[] = {st->provider_id, "succeeded"};
    rt_pg_stmt_t s[2] = {{pa_sql_succeed, 6, p}, {pa_sql_notes, 2, pn}};
    pay_stat_add(PAY_STAT_SUCCEEDED);
    LOG_INFO("payment_succeeded", "attempt=%s posting=%s method=%s amount_kop=%lld", rt_self_key(self), st->posting,
             st->method, (long long)amount);
    pa_write(self, st, 2, s, true);
}

/* The attempt ends without money: its status, and a message to the payer
 * unless `text` is T__COUNT. */
static void pa_end(rt_actor_t *self, pa_state_t *st, const char *status, const char *error, text_id_t text)
{
    char msg[512], key[96], chat[24];
    snprintf(msg, sizeof msg, text_get(text), st->posting);
    snprintf(key, sizeof key, "pay:%s:%s", status, rt_self_key(self));
    snprintf(chat, sizeof chat, "%lld", (long long)st->chat);
    static const char upd[] =
        "UPDATE pay_attempts SET status = $2, last_error = $3, updated_at = now()"
        " WHERE id = $1 AND status IN ('created', 'pending')";
    static const char say[] = "SELECT pay_outbox_say($1::bigint, $2, $3)";
    const char *p0[] = {rt_self_key(self), status, error};
    const char *p1[] = {st->provider_id, status};
    const char *p2[] = {chat, msg, key};
    rt_pg_stmt_t s[3] = {{upd, 3, p0}, {pa_sql_notes, 2, p1}, {say, 3, p2}};
    pay_stat_add(PAY_STAT_ENDED);
    LOG_INFO("payment_ended", "attempt=%s status=%s error=\"%s\"", rt_self_key(self), status, error ? error : "");
    pa_write(self, st, text != T__COUNT ? 3 : 2, s, text != T__COUNT);
}

/* Still pending at the provider, or it failed for now: look again after a
 * growing pause. A failed call leaves the notifications open (they are
 * answered by the next successful read). */
static void pa_retry(rt_actor_t *self, pa_state_t *st, const char *error)
{
    uint32_t s = pa_backoff_s(st->checks);
    char secs[16];
    snprintf(secs, sizeof secs, "%u", s);
    static const char sql[] =
        "UPDATE pay_attempts SET checks = checks + 1, next_check_at = now() + $2::int * interval '1 second',"
        " last_error = $3, updated_at = now() WHERE id = $1";
    const char *p[] = {rt_self_key(self), secs, error};
    const char *pn[] = {st->provider_id, "pending"};
    rt_pg_stmt_t stmts[2] = {{sql, 3, p}, {pa_sql_notes, 2, pn}};
    st->sleep_ms = s * 1000u;
    pa_write(self, st, error ? 1 : 2, stmts, false);
}

static void pa_on_created(rt_actor_t *self, pa_state_t *st, const yk_payment_t *p)
{
    char *hex = NULL;
    if (p->status == YK_SUCCEEDED) { pa_succeed(self, st, p->amount_kop, p->id, p->receipt_url); return; }
    if (p->status == YK_CANCELED) { pa_end(self, st, "canceled", "canceled at create", T_PAY_QR_FAILED); return; }
    if (!p->confirmation_url[0] || pay_qr_bytea(p->confirmation_url, &hex) != RT_OK) {
        pa_end(self, st, "canceled", "no confirmation_data", T_PAY_QR_FAILED);
        return;
    }
    char money[64], caption[512], chat[24], key[96];
    conv_form_price_text(st->amount, money, sizeof money);
    snprintf(caption, sizeof caption, text_get(T_PAY_QR_CAPTION), st->posting, money);
    snprintf(chat, sizeof chat, "%lld", (long long)st->chat);
    snprintf(key, sizeof key, "pay:qr:%s", rt_self_key(self));
    cJSON *params = cJSON_CreateObject();
    cJSON_AddNumberToObject(params, "chat_id", (double)st->chat);
    cJSON_AddStringToObject(params, "caption", caption);
    cJSON_AddStringToObject(params, "parse_mode", "HTML");
    cJSON *kb = cJSON_AddObjectToObject(params, "reply_markup");
    cJSON *btn = cJSON_CreateObject();
    cJSON_AddStringToObject(btn, "text", text_get(T_PAY_BTN_OPEN));
    cJSON_AddStringToObject(btn, "url", p->confirmation_url);
    cJSON *row = cJSON_CreateArray();
    cJSON_AddItemToArray(row, btn);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(kb, "inline_keyboard"), row);
    char *pj = cJSON_PrintUnformatted(params);
    cJSON_Delete(params);
    static const char upd[] =
        "UPDATE pay_attempts SET provider_id = $2, confirmation_url = $3, status = 'pending', checks = 0,"
        " next_check_at = now() + interval '5 seconds', last_error = NULL, updated_at = now()"
        " WHERE id = $1 AND status = 'created'";
    static const char photo[] = PAY_SQL_PHOTO;
    const char *p0[] = {rt_self_key(self), p->id, p->confirmation_url};
    const char *p1[] = {chat, pj ? pj : "{}", hex, key};
    rt_pg_stmt_t s[2] = {{upd, 3, p0}, {photo, 4, p1}};
    pay_stat_add(PAY_STAT_CREATED);
    LOG_INFO("payment_created", "attempt=%s provider_id=%s", rt_self_key(self), p->id);
    pa_write(self, st, 2, s, true);
    free(pj);
    free(hex);
}

static void pa_on_http(rt_actor_t *self, pa_state_t *st, const rt_http_result_t *res)
{
    int kind = st->http;
    st->http = PA_HTTP_NONE;
    bool answered = res->rc == RT_OK && res->status >= 200 && res->status < 300 && res->status != 202;
    bool refused = res->rc == RT_OK && res->status >= 400 && res->status < 500 && res->status != 429;
    char error[160];
    snprintf(error, sizeof error, "%s %ld %s", kind == PA_HTTP_CREATE ? "create" : kind == PA_HTTP_GET ? "get" : "refund",
             res->status, res->rc == RT_OK ? "" : res->error);
    const char *field = NULL;
    if (kind == PA_HTTP_REFUND) {
        yk_refund_t r;
        char rid[24];
        snprintf(rid, sizeof rid, "%lld", (long long)st->refund_id);
        if (answered && yk_refund_parse(res->body, res->body_len, &r, &field) == RT_OK && r.status != YK_CANCELED) {
            char money[64], msg[512];
            conv_form_price_text(st->refund_amount, money, sizeof money);
            snprintf(msg, sizeof msg, text_get(T_PAY_REFUNDED), money, st->posting);
            const char *p[] = {rid, r.id, msg};
            pay_stat_add(PAY_STAT_REFUNDED);
            LOG_INFO("payment_refunded", "attempt=%s refund=%s amount_kop=%lld", rt_self_key(self), rid,
                     (long long)st->refund_amount);
            pa_write1(self, st, "SELECT pay_refund_done($1::bigint, $2, $3)", 3, p, true);
        } else if (refused || answered) {
            LOG_WARN("payment_refund_refused", "attempt=%s refund=%s error=\"%s\"", rt_self_key(self), rid, error);
            const char *p[] = {rid, answered ? "canceled" : "failed", error};
            pa_write1(self, st, "UPDATE pay_refunds SET status = $2, last_error = $3, updated_at = now() WHERE id = $1::bigint",
                      3, p, false);
        } else {
            const char *p[] = {rid, error};
            pa_write1(self, st, "UPDATE pay_refunds SET attempts = attempts + 1, last_error = $2, updated_at = now(),"
                                " next_try_at = now() + least(600, 5 * 2 ^ least(attempts, 7)) * interval '1 second'"
                                " WHERE id = $1::bigint", 2, p, false);
        }
        return;
    }
    yk_payment_t p;
    if (answered && yk_payment_parse(res->body, res->body_len, &p, &field) == RT_OK) {
        if (kind == PA_HTTP_CREATE) { pa_on_created(self, st, &p); return; }
        if (p.status == YK_SUCCEEDED) { pa_succeed(self, st, p.amount_kop, p.id, p.receipt_url); return; }
        if (p.status == YK_CANCELED) { pa_end(self, st, "canceled", "canceled by the provider", T_PAY_CANCELED); return; }
        if (st->gone) { pa_end(self, st, "expired", "still pending after the window", T__COUNT); return; }
        pa_retry(self, st, NULL);
        return;
    }
    if (answered) snprintf(error, sizeof error, "%s: bad answer (%s)", kind == PA_HTTP_CREATE ? "create" : "get",
                           field ? field : "?");
    if (kind == PA_HTTP_CREATE && refused) {
        LOG_WARN("payment_create_refused", "attempt=%s error=\"%s\"", rt_self_key(self), error);
        pa_end(self, st, "canceled", error, T_PAY_QR_FAILED);
        return;
    }
    if (kind == PA_HTTP_GET && res->rc == RT_OK && res->status == 404) {
        pa_end(self, st, "canceled", "unknown to the provider", T_PAY_CANCELED);
        return;
    }
    pay_stat_add(PAY_STAT_PROVIDER_RETRY);
    LOG_WARN("payment_retry", "attempt=%s error=\"%s\" checks=%lld", rt_self_key(self), error, (long long)st->checks);
    pa_retry(self, st, error);
}

/* ---- deciding what is due --------------------------------------------------------- */

static bool pa_is(const char *a, const char *b) { return strcmp(a, b) == 0; }

static void pa_decide(rt_actor_t *self, pa_state_t *st, bool due)
{
    bool open = pa_is(st->status, "created") || pa_is(st->status, "pending");
    bool offline = pa_is(st->method, "bank_qr") || pa_is(st->method, "cash") || pa_is(st->method, "card");
    if (st->refund_id) {
        if (offline) {      /* staff returned the money themselves */
            char rid[24], money[64], msg[512];
            snprintf(rid, sizeof rid, "%lld", (long long)st->refund_id);
            conv_form_price_text(st->refund_amount, money, sizeof money);
            snprintf(msg, sizeof msg, text_get(T_PAY_REFUNDED), money, st->posting);
            const char *p[] = {rid, NULL, msg};
            pa_write1(self, st, "SELECT pay_refund_done($1::bigint, $2, $3)", 3, p, true);
            return;
        }
        if (st->provider_id[0] && pay_yk_enabled()) { pa_refund(self, st); return; }
        char rid[24];   /* nothing to refund through: say so in the row instead of retrying forever */
        snprintf(rid, sizeof rid, "%lld", (long long)st->refund_id);
        const char *p[] = {rid};
        LOG_WARN("payment_refund_impossible", "attempt=%s refund=%s", rt_self_key(self), rid);
        pa_write1(self, st, "UPDATE pay_refunds SET status = 'failed', updated_at = now(),"
                            " last_error = 'no provider payment to refund through (YooKassa not configured?)'"
                            " WHERE id = $1::bigint", 1, p, false);
        return;
    }
    if (open && offline && st->confirmed) { pa_succeed(self, st, st->amount, NULL, NULL); return; }
    if (pa_is(st->method, "sbp") && pay_yk_enabled()) {
        if (open && !st->provider_id[0]) {
            if (st->expired) { pa_end(self, st, "expired", "never created", T__COUNT); return; }
            if (due) { pa_create(self, st); return; }
        } else if (st->provider_id[0] && (st->has_notes || (open && due))) {
            pa_get(self, st);
            return;
        }
    }
    if (open && !pa_is(st->method, "sbp") && !offline && st->gone) {   /* an unpaid invoice */
        pa_end(self, st, "expired", "invoice not paid in time", T__COUNT);
        return;
    }
    st->busy = false;
    if (st->again) pa_load(self, st);
}

static void pa_on_loaded(rt_actor_t *self, pa_state_t *st, const rt_pg_result_t *r)
{
    if (r->status != RT_OK) {
        LOG_WARN("payment_db_retry", "attempt=%s error=\"%s\"", rt_self_key(self), r->error ? r->error : "");
        st->busy = false;
        pa_later(self, st, 2000);
        return;
    }
    if (r->nrows == 0) {
        LOG_WARN("payment_unknown_attempt", "attempt=%s", rt_self_key(self));
        st->busy = false;
        return;
    }
    snprintf(st->posting, sizeof st->posting, "%s", rt_pg_value(r, 0, 0));
    snprintf(st->method, sizeof st->method, "%s", rt_pg_value(r, 0, 1));
    snprintf(st->status, sizeof st->status, "%s", rt_pg_value(r, 0, 2));
    snprintf(st->provider_id, sizeof st->provider_id, "%s", rt_pg_value(r, 0, 3));
    snprintf(st->idem, sizeof st->idem, "%s", rt_pg_value(r, 0, 4));
    rt_pg_get_i64(r, 0, 5, &st->chat);
    rt_pg_get_i64(r, 0, 6, &st->amount);
    rt_pg_get_i64(r, 0, 7, &st->checks);
    st->gone = rt_pg_value(r, 0, 8)[0] == 't';
    st->expired = rt_pg_value(r, 0, 9)[0] == 't';
    st->confirmed = rt_pg_value(r, 0, 10)[0] == 't';
    snprintf(st->phone, sizeof st->phone, "%s", rt_pg_value(r, 0, 11));
    st->has_notes = rt_pg_value(r, 0, 12)[0] == 't';
    st->refund_id = 0;
    if (!rt_pg_is_null(r, 0, 13)) {
        rt_pg_get_i64(r, 0, 13, &st->refund_id);
        rt_pg_get_i64(r, 0, 14, &st->refund_amount);
        snprintf(st->refund_idem, sizeof st->refund_idem, "%s", rt_pg_value(r, 0, 15));
    }
    pa_decide(self, st, rt_pg_value(r, 0, 16)[0] == 't');
}

static void pa_on_written(rt_actor_t *self, pa_state_t *st, const rt_pg_result_t *r)
{
    if (r->status != RT_OK) {
        LOG_WARN("payment_write_failed", "attempt=%s error=\"%s\"", rt_self_key(self), r->error ? r->error : "");
        st->busy = false;
        pa_later(self, st, 2000);
        return;
    }
    if (st->kick_gateway) {
        msg_tg_kick_t k = {0};
        rt_send_key(rt_self_runtime(self), &tg_gateway_kind, "main", msg_tg_kick_new(&k));
    }
    const rt_pg_result_t *s0 = rt_pg_stmt(r, 0);
    if (s0 && s0->nrows == 1 && s0->ncols == 1 && rt_pg_value(s0, 0, 0))
        LOG_INFO("payment_settled", "attempt=%s result=%s", rt_self_key(self), rt_pg_value(s0, 0, 0));
    if (st->sleep_ms) {       /* a retry was scheduled: the timer brings us back */
        pa_later(self, st, st->sleep_ms);
        st->sleep_ms = 0;
        st->busy = false;
        if (st->again) pa_load(self, st);
        return;
    }
    pa_load(self, st);        /* something else may be due (a refund after a double payment) */
}

static int pa_handle(rt_actor_t *self, const rt_msg_t *m)
{
    pa_state_t *st = rt_self_state(self);
    switch (m->type) {
    case MSG_pay_poke:
        if (st->busy) st->again = true;
        else pa_load(self, st);
        return RT_OK;
    case RT_MSG_TIMER:
        if (m->corr != st->timer) return RT_OK;
        st->timer = 0;
        if (st->busy) st->again = true;
        else pa_load(self, st);
        return RT_OK;
    case RT_MSG_PG_RESULT: {
        const rt_pg_result_t *r = rt_pg_msg_result(m);
        if (!r) return RT_OK;
        if (m->corr == PA_CORR_LOAD) pa_on_loaded(self, st, r);
        else if (m->corr == PA_CORR_WRITE) pa_on_written(self, st, r);
        return RT_OK;
    }
    case RT_MSG_HTTP_RESULT:
        if (m->corr == PA_CORR_HTTP && m->ptr && st->http != PA_HTTP_NONE) pa_on_http(self, st, m->ptr);
        return RT_OK;
    default:
        return RT_OK;
    }
}

const rt_kind_t pay_kind = {
    .name = "payment",
    .state_size = sizeof(pa_state_t),
    .idle_age_ms = 15 * 60 * 1000,
    .handle = pa_handle,
};

void pay_poke(void *rt, const char *id)
{
    msg_pay_poke_t p = {0};
    rt_msg_t *m = msg_pay_poke_new(&p);
    if (m) rt_send_key(rt, &pay_kind, id, m);
}
