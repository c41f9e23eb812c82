/* tg_gateway.c — the Telegram gateway actor: sends tg_outbox rows.
 *
 * Purpose: the only sender of Bot API calls. It loads pending outbox rows
 * (all of them after a restart; new ones when kicked), queues them in the
 * flood-control scheduler (tg_flood.c) and sends what the scheduler allows
 * with the asynchronous HTTP client, at most GW_MAX_INFLIGHT at a time. A
 * row with a file (tg_files: sendPhoto, sendDocument) is sent as a
 * multipart upload, its bytes read asynchronously just before.
 * Outcomes (Bot API semantics):
 *   200 ok        → row 'sent' (with Telegram's message_id);
 *   429           → back to the head of its chat's queue; the chat and the
 *                   bot pause for parameters.retry_after;
 *   403           → row 'blocked', the person marked unreachable (the
 *                   notifier falls back to SMS);
 *   other 4xx     → row 'failed', logged with method and description;
 *   5xx, network  → retried with exponential backoff, 'failed' after
 *                   GW_MAX_ATTEMPTS.
 * A crash between a send and its 'sent' mark resends that one message after
 * the restart: the narrow window the design allows. answerPreCheckoutQuery
 * is no message and has a 10 s deadline: it skips the flood queue (a FIFO of
 * its own, sent first; payments, docs/payments.md).
 *
 * Exports: tg_gateway_kind, tg_gateway_stats, tg_gateway_metrics_render.
 * Threads: the actor's home worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "msg_types.h"
#include "plus7_actors.h"
#include "rt_http.h"
#include "rt_log.h"
#include "rt_pg.h"
#include "tg_flood.h"
#include "tg_gateway.h"

#define GW_MAX_INFLIGHT 32
#define GW_MAX_ATTEMPTS 8
#define GW_LOAD_BATCH 500

enum { GW_CORR_LOAD = 1, GW_CORR_MARK = 2, GW_CORR_HTTP0 = 1000, GW_CORR_FILE0 = 2000 };

typedef struct gw_item {
    int64_t id;
    int64_t chat_id;
    char method[40];
    char *params;
    int prio;
    int attempts;
    int64_t notify_id;   /* the notification this message carries, 0 = none */
    int64_t file_id;     /* tg_files row uploaded with the call (multipart), 0 = none */
    char file_field[16]; /* its form field: "photo", "document" */
    bool direct;         /* an answer outside the message limits (see gw_is_direct) */
    struct gw_item *next;/* the direct queue */
} gw_item_t;

typedef struct gw_state {
    tg_flood_t *flood;
    bool loading, load_again;
    uint32_t pump_timer;
    uint64_t pump_due;
    gw_item_t *inflight[GW_MAX_INFLIGHT];
    int ninflight;
    gw_item_t *direct_head, **direct_tail;   /* answers that skip the flood queue, FIFO */
} gw_state_t;

/* answerPreCheckoutQuery is not a message: Telegram wants it within 10 s,
 * and the message limits do not apply, so it never waits behind them. */
static bool gw_is_direct(const char *method)
{
    return strcmp(method, "answerPreCheckoutQuery") == 0;
}

static void gw_direct_push(gw_state_t *st, gw_item_t *it)
{
    it->next = NULL;
    if (!st->direct_tail) st->direct_tail = &st->direct_head;
    *st->direct_tail = it;
    st->direct_tail = &it->next;
}

static gw_item_t *gw_direct_pop(gw_state_t *st)
{
    gw_item_t *it = st->direct_head;
    if (!it) return NULL;
    st->direct_head = it->next;
    if (!st->direct_head) st->direct_tail = &st->direct_head;
    return it;
}

/* Process-wide counters for metrics and benchmarks (relaxed: statistics). */
static _Atomic uint64_t gw_sent, gw_429, gw_blocked, gw_failed, gw_retried;

void tg_gateway_stats(tg_gateway_stats_t *out)
{
    out->sent = atomic_load_explicit(&gw_sent, memory_order_relaxed);
    out->rate_limited = atomic_load_explicit(&gw_429, memory_order_relaxed);
    out->blocked = atomic_load_explicit(&gw_blocked, memory_order_relaxed);
    out->failed = atomic_load_explicit(&gw_failed, memory_order_relaxed);
    out->retried = atomic_load_explicit(&gw_retried, memory_order_relaxed);
}

size_t tg_gateway_metrics_render(char *buf, size_t cap)
{
    tg_gateway_stats_t g;
    tg_gateway_stats(&g);
    const struct { const char *name, *help; uint64_t v; } rows[] = {
        {"plus7_tg_sent_total", "Bot API calls Telegram accepted.", g.sent},
        {"plus7_tg_rate_limited_total", "Bot API calls answered 429 (then retried after retry_after).", g.rate_limited},
        {"plus7_tg_blocked_total", "Messages refused with 403 (blocked, never started).", g.blocked},
        {"plus7_tg_failed_total", "Bot API calls that failed for good.", g.failed},
        {"plus7_tg_retried_total", "Bot API calls retried after a transient error.", g.retried},
    };
    size_t len = 0;
    if (cap) buf[0] = '\0';
    for (size_t i = 0; i < sizeof rows / sizeof rows[0] && len + 1 < cap; i++) {
        int n = snprintf(buf + len, cap - len, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", rows[i].name,
                         rows[i].help, rows[i].name, rows[i].name, (unsigned long long)rows[i].v);
        if (n < 0) break;
        len += (size_t)n < cap - len ? (size_t)n : cap - len - 1;
    }
    return len;
}

static void gw_item_free(void *p)
{
    gw_item_t *it = p;
    if (!it) return;
    free(it->params);
    free(it);
}

static void gw_state_free(void *p)
{
    gw_state_t *st = p;
    tg_flood_free(st->flood, gw_item_free);
    for (int i = 0; i < GW_MAX_INFLIGHT; i++) gw_item_free(st->inflight[i]);
    for (gw_item_t *it; (it = gw_direct_pop(st));) gw_item_free(it);
}

/* Claim and load the next pending rows not yet in memory (see
 * sql/009_outbox_claims.sql for why claims and not an id watermark). */
static void gw_load(rt_actor_t *self, gw_state_t *st)
{
    if (st->loading) { st->load_again = true; return; }
    st->loading = true;
    st->load_again = false;
    if (rt_pg_query(self, GW_CORR_LOAD,
                    "UPDATE tg_outbox SET claimed = true WHERE id IN ("
                    "   SELECT id FROM tg_outbox WHERE status = 'pending' AND NOT claimed ORDER BY id LIMIT 500)"
                    " RETURNING id, chat_id, method, params, prio, attempts, coalesce(notify_id, 0),"
                    "           coalesce(file_id, 0), coalesce(file_field, '')",
                    0, NULL) != RT_OK) {
        st->loading = false;
        st->pump_timer = rt_timer_after(self, 1000);
    }
}

static void gw_mark(rt_actor_t *self, const char *sql, int64_t id, const char *arg)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    const char *params[] = {ids, arg};
    rt_pg_query(self, GW_CORR_MARK, sql, arg ? 2 : 1, params);
}

static const char gw_sql_sent[] =
    "UPDATE tg_outbox SET status = 'sent', sent_at = now(), tg_message_id = $2, attempts = attempts + 1"
    " WHERE id = $1";
static const char gw_sql_blocked[] =
    "UPDATE tg_outbox SET status = 'blocked', last_error = $2, attempts = attempts + 1 WHERE id = $1";
static const char gw_sql_failed[] =
    "UPDATE tg_outbox SET status = 'failed', last_error = $2, attempts = attempts + 1 WHERE id = $1";

/* A row is settled for good: record the outcome (`sql` with $2 = detail),
 * count it, let its chat send again, and forget the item. */
static void gw_settle(rt_actor_t *self, gw_state_t *st, gw_item_t *it, const char *sql, const char *detail,
                      _Atomic uint64_t *counter)
{
    gw_mark(self, sql, it->id, detail);
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);   /* relaxed: a statistic */
    if (!it->direct) tg_flood_done(st->flood, it->chat_id, rt_now_ms());
    gw_item_free(it);
}

static void gw_arm(rt_actor_t *self, gw_state_t *st, int64_t wait_ms)
{
    uint64_t due = rt_now_ms() + (uint64_t)wait_ms;
    if (st->pump_timer && st->pump_due <= due) return;
    st->pump_timer = rt_timer_after(self, (uint32_t)(wait_ms > 0 ? wait_ms : 1));
    st->pump_due = due;
}

static void gw_pump(rt_actor_t *self, gw_state_t *st)
{
    const plus7_actors_cfg_t *cfg = plus7_actors_cfg();
    while (st->ninflight < GW_MAX_INFLIGHT) {
        int64_t chat, wait;
        gw_item_t *it = gw_direct_pop(st);
        if (it) chat = it->chat_id;
        else it = tg_flood_pop(st->flood, rt_now_ms(), &chat, &wait);
        if (!it) {
            if (wait >= 0) gw_arm(self, st, wait);
            return;
        }
        int slot = 0;
        while (st->inflight[slot]) slot++;
        int rc;
        if (it->file_id) {
            /* an upload: read the file's bytes first (asynchronously), send on arrival */
            char fid[24];
            snprintf(fid, sizeof fid, "%lld", (long long)it->file_id);
            const char *params[] = {fid};
            rc = rt_pg_query(self, GW_CORR_FILE0 + (uint32_t)slot,
                             "SELECT filename, content_type, data FROM tg_files WHERE id = $1", 1, params);
        } else {
            char url[1024];
            snprintf(url, sizeof url, "%s/bot%s/%s", cfg->tg_api, cfg->tg_token, it->method);
            rt_http_req_t req = {.method = "POST", .url = url, .content_type = "application/json",
                                 .body = it->params, .body_len = strlen(it->params), .timeout_ms = 30000};
            rc = rt_http_request(self, GW_CORR_HTTP0 + (uint32_t)slot, &req);
        }
        if (rc != RT_OK) {
            if (it->direct) gw_direct_push(st, it);
            else tg_flood_retry(st->flood, chat, it->prio, it, rt_now_ms(), 1000, false);
            gw_arm(self, st, 1000);
            return;
        }
        st->inflight[slot] = it;
        st->ninflight++;
    }
}

static int gw_hex_val(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The file of an upload arrived: send the call as multipart/form-data, the
 * JSON parameters as form fields (objects such as reply_markup as JSON
 * text, as the Bot API expects) plus the file part. */
static void gw_on_file(rt_actor_t *self, gw_state_t *st, int slot, const rt_pg_result_t *r)
{
    gw_item_t *it = st->inflight[slot];
    if (!it) return;
    const plus7_actors_cfg_t *cfg = plus7_actors_cfg();
    const char *hex = r && r->status == RT_OK && r->nrows == 1 ? rt_pg_value(r, 0, 2) : NULL;
    cJSON *params = cJSON_Parse(it->params);
    size_t nparts = 0, hexlen = hex ? strlen(hex) : 0;
    rt_http_part_t parts[24];
    char *texts[24] = {0};
    unsigned char *bytes = NULL;
    size_t nbytes = 0;
    int rc = RT_EINVAL;
    if (hex && hexlen >= 2 && hex[0] == '\\' && hex[1] == 'x' && cJSON_IsObject(params)) {
        nbytes = (hexlen - 2) / 2;
        bytes = malloc(nbytes ? nbytes : 1);
        for (size_t i = 0; bytes && i < nbytes; i++) {
            int hi = gw_hex_val(hex[2 + 2 * i]), lo = gw_hex_val(hex[3 + 2 * i]);
            bytes[i] = (unsigned char)((hi < 0 ? 0 : hi) << 4 | (lo < 0 ? 0 : lo));
        }
        for (cJSON *p = params->child; bytes && p && nparts < 23; p = p->next) {
            char *v = cJSON_IsString(p) ? strdup(p->valuestring) : cJSON_PrintUnformatted(p);
            if (!v) continue;
            texts[nparts] = v;
            parts[nparts++] = (rt_http_part_t){.name = p->string, .data = v, .len = strlen(v)};
        }
        if (bytes) {
            parts[nparts++] = (rt_http_part_t){.name = it->file_field[0] ? it->file_field : "document",
                                               .data = bytes, .len = nbytes,
                                               .filename = rt_pg_value(r, 0, 0), .content_type = rt_pg_value(r, 0, 1)};
            char url[1024];
            snprintf(url, sizeof url, "%s/bot%s/%s", cfg->tg_api, cfg->tg_token, it->method);
            rt_http_req_t req = {.method = "POST", .url = url, .parts = parts, .nparts = nparts, .timeout_ms = 60000};
            rc = rt_http_request(self, GW_CORR_HTTP0 + (uint32_t)slot, &req);   /* copies everything */
        }
    }
    for (size_t i = 0; i < nparts; i++) free(texts[i]);
    free(bytes);
    cJSON_Delete(params);
    if (rc == RT_OK) return;
    /* no file (or not readable): the call cannot be made; a database error is retried */
    st->inflight[slot] = NULL;
    st->ninflight--;
    if (r && r->status != RT_OK && ++it->attempts < GW_MAX_ATTEMPTS) {
        tg_flood_retry(st->flood, it->chat_id, it->prio, it, rt_now_ms(), 1000, false);
    } else {
        LOG_WARN("tg_upload_failed", "method=%s file_id=%lld", it->method, (long long)it->file_id);
        gw_settle(self, st, it, gw_sql_failed, "file to upload is missing or unreadable", &gw_failed);
    }
    gw_pump(self, st);
}

static void gw_on_loaded(rt_actor_t *self, gw_state_t *st, const rt_pg_result_t *r)
{
    st->loading = false;
    if (r->status != RT_OK) {
        LOG_WARN("tg_outbox_load_failed", "error=\"%s\"", r->error ? r->error : rt_strerror(r->status));
        gw_arm(self, st, 1000);
        st->load_again = true;
        return;
    }
    /* RETURNING has no order: queue by id, so each chat's messages keep
     * the order in which they were written. */
    int order[GW_LOAD_BATCH];
    int n = r->nrows < GW_LOAD_BATCH ? r->nrows : GW_LOAD_BATCH;
    int64_t ids[GW_LOAD_BATCH];
    for (int i = 0; i < n; i++) {
        order[i] = i;
        rt_pg_get_i64(r, i, 0, &ids[i]);
    }
    for (int i = 1; i < n; i++)   /* insertion sort: batches arrive nearly sorted */
        for (int k = i; k > 0 && ids[order[k - 1]] > ids[order[k]]; k--) {
            int t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    for (int oi = 0; oi < n; oi++) {
        int i = order[oi];
        gw_item_t *it = calloc(1, sizeof *it);
        if (!it) break;
        it->id = ids[i];
        rt_pg_get_i64(r, i, 1, &it->chat_id);
        snprintf(it->method, sizeof it->method, "%s", rt_pg_value(r, i, 2));
        it->params = strdup(rt_pg_value(r, i, 3));
        int64_t v = 0;
        rt_pg_get_i64(r, i, 4, &v);
        it->prio = (int)v;
        rt_pg_get_i64(r, i, 5, &v);
        it->attempts = (int)v;
        rt_pg_get_i64(r, i, 6, &it->notify_id);
        rt_pg_get_i64(r, i, 7, &it->file_id);
        snprintf(it->file_field, sizeof it->file_field, "%s", rt_pg_value(r, i, 8));
        it->direct = gw_is_direct(it->method) && !it->file_id;
        if (it->direct && it->params) {
            gw_direct_push(st, it);
            continue;
        }
        if (!it->params || tg_flood_push(st->flood, it->chat_id, it->prio, it) != RT_OK) {
            gw_item_free(it);
            break;
        }
    }
    if (r->nrows == GW_LOAD_BATCH || st->load_again) gw_load(self, st);
    gw_pump(self, st);
}

/* Read the Bot API envelope: ok, error_code, description, retry_after,
 * result.message_id. */
typedef struct gw_reply {
    bool ok;
    int error_code;
    char description[200];
    int retry_after;
    int64_t message_id;
} gw_reply_t;

static void gw_parse_reply(const rt_http_result_t *res, gw_reply_t *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->error_code = (int)res->status;
    cJSON *j = cJSON_ParseWithLength(res->body, res->body_len);
    if (!j) return;
    rep->ok = cJSON_IsTrue(cJSON_GetObjectItem(j, "ok"));
    cJSON *v = cJSON_GetObjectItem(j, "error_code");
    if (cJSON_IsNumber(v)) rep->error_code = v->valueint;
    v = cJSON_GetObjectItem(j, "description");
    if (cJSON_IsString(v)) snprintf(rep->description, sizeof rep->description, "%s", v->valuestring);
    v = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "parameters"), "retry_after");
    if (cJSON_IsNumber(v)) rep->retry_after = v->valueint;
    v = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "result"), "message_id");
    if (cJSON_IsNumber(v)) rep->message_id = (int64_t)v->valuedouble;
    cJSON_Delete(j);
}

static void gw_on_sent(rt_actor_t *self, gw_state_t *st, int slot, const rt_http_result_t *res)
{
    gw_item_t *it = st->inflight[slot];
    st->inflight[slot] = NULL;
    st->ninflight--;
    if (!it) return;
    uint64_t now = rt_now_ms();
    gw_reply_t rep;
    if (res->rc == RT_OK) gw_parse_reply(res, &rep);
    else memset(&rep, 0, sizeof rep);

    if (res->rc == RT_OK && res->status == 200 && rep.ok) {
        char mid[24];
        snprintf(mid, sizeof mid, "%lld", (long long)rep.message_id);
        gw_settle(self, st, it, gw_sql_sent, mid, &gw_sent);
    } else if (res->rc == RT_OK && res->status == 429) {
        uint32_t wait_ms = (uint32_t)(rep.retry_after > 0 ? rep.retry_after : 1) * 1000u;
        LOG_WARN("tg_rate_limited", "method=%s retry_after=%d", it->method, rep.retry_after);
        atomic_fetch_add_explicit(&gw_429, 1, memory_order_relaxed);   /* relaxed: a statistic */
        if (it->direct) { gw_direct_push(st, it); gw_arm(self, st, wait_ms); return; }
        tg_flood_retry(st->flood, it->chat_id, it->prio, it, now, wait_ms, true);
    } else if (res->rc == RT_OK && res->status == 403) {
        LOG_INFO("tg_unreachable", "chat=%lld description=\"%s\"", (long long)it->chat_id, rep.description);
        char chat[24];
        snprintf(chat, sizeof chat, "%lld", (long long)it->chat_id);
        const char *p[] = {chat};
        rt_pg_query(self, GW_CORR_MARK, "UPDATE users SET tg_unreachable = true, updated_at = now()"
                                        " WHERE chat_id = $1", 1, p);
        const rt_kind_t *nk = it->notify_id ? rt_kind_find(rt_self_runtime(self), PLUS7_KIND_NOTIFIER) : NULL;
        if (nk) {   /* a notification: the notifier falls back to SMS */
            msg_notify_kick_t v = {.id = it->notify_id, .tg_failed = true};
            rt_send_key(rt_self_runtime(self), nk, "main", msg_notify_kick_new(&v));
        }
        gw_settle(self, st, it, gw_sql_blocked, rep.description, &gw_blocked);
    } else if (res->rc == RT_OK && res->status >= 400 && res->status < 500) {
        LOG_WARN("tg_call_refused", "method=%s status=%ld description=\"%s\"", it->method, res->status,
                 rep.description);
        gw_settle(self, st, it, gw_sql_failed, rep.description, &gw_failed);
    } else if (++it->attempts >= GW_MAX_ATTEMPTS) {
        const char *why = res->rc == RT_OK ? rep.description : res->error;
        LOG_WARN("tg_call_gave_up", "method=%s attempts=%d error=\"%s\"", it->method, it->attempts, why);
        gw_settle(self, st, it, gw_sql_failed, why, &gw_failed);
    } else {
        uint32_t backoff = 500u << (it->attempts < 7 ? it->attempts : 7);
        LOG_INFO("tg_call_retry", "method=%s attempt=%d backoff_ms=%u status=%ld", it->method, it->attempts,
                 backoff, res->status);
        atomic_fetch_add_explicit(&gw_retried, 1, memory_order_relaxed);   /* relaxed: a statistic */
        if (it->direct) { gw_direct_push(st, it); gw_arm(self, st, backoff); return; }
        tg_flood_retry(st->flood, it->chat_id, it->prio, it, now, backoff, false);
    }
    gw_pump(self, st);
}

static int gw_load_state(rt_actor_t *self)
{
    gw_state_t *st = rt_self_state(self);
    tg_flood_cfg_t fc = {.global_per_sec = plus7_actors_cfg()->tg_rate};
    st->flood = tg_flood_new(&fc);
    return st->flood ? RT_OK : RT_ENOMEM;
}

/* Pause after a (re)start: Telegram's per-chat buckets may still be empty
 * from before the restart, while ours start full. */
#define GW_START_PAUSE_MS 3000

static int gw_on_activate(rt_actor_t *self, const rt_msg_t *m)
{
    gw_state_t *st = rt_self_state(self);
    /* Nothing is in memory now: release every claim, then replay all that
     * is pending (the two requests run in this order on our connection). */
    rt_pg_query(self, GW_CORR_MARK, "UPDATE tg_outbox SET claimed = false WHERE status = 'pending' AND claimed",
                0, NULL);
    tg_flood_pause(st->flood, rt_now_ms() + GW_START_PAUSE_MS);
    gw_load(self, st);
    return RT_OK;
}

static int gw_handle(rt_actor_t *self, const rt_msg_t *m)
{
    gw_state_t *st = rt_self_state(self);
    switch (m->type) {
    case MSG_tg_kick:
        gw_load(self, st);
        return RT_OK;
    case RT_MSG_TIMER:
        if (m->corr != st->pump_timer) return RT_OK;
        st->pump_timer = 0;
        if (st->load_again && !st->loading) gw_load(self, st);
        gw_pump(self, st);
        return RT_OK;
    case RT_MSG_PG_RESULT:
        if (m->corr == GW_CORR_LOAD) {
            gw_on_loaded(self, st, rt_pg_msg_result(m));
        } else if (m->corr >= GW_CORR_FILE0 && m->corr < GW_CORR_FILE0 + GW_MAX_INFLIGHT) {
            gw_on_file(self, st, (int)(m->corr - GW_CORR_FILE0), rt_pg_msg_result(m));
        } else {
            const rt_pg_result_t *r = rt_pg_msg_result(m);
            if (r && r->status != RT_OK) LOG_WARN("tg_outbox_mark_failed", "error=\"%s\"", r->error ? r->error : "");
        }
        return RT_OK;
    case RT_MSG_HTTP_RESULT:
        if (m->corr >= GW_CORR_HTTP0 && m->corr < GW_CORR_HTTP0 + GW_MAX_INFLIGHT)
            gw_on_sent(self, st, (int)(m->corr - GW_CORR_HTTP0), m->ptr);
        return RT_OK;
    default:
        return RT_OK;
    }
}

const rt_kind_t tg_gateway_kind = {
    .name = "tg_gateway",
    .state_size = sizeof(gw_state_t),
    .idle_age_ms = 0,
    .load = gw_load_state,
    .on_activate = gw_on_activate,
    .handle = gw_handle,
    .state_free = gw_state_free,
};
