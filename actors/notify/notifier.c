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
 * Pickup reminders whose parcel has left the pickup point meanwhile are
 * 'skipped'. A crash between an SMS request and its 'sent' mark sends that
 * SMS again after the restart (the narrow window; the Telegram gateway has
 * the same one). Phone numbers are never logged.
 *
 * Exports: notifier_kind.
 * Threads: the actor's home worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "msg_types.h"
#include "notify_render.h"
#include "notify_stats.h"
#include "plus7_actors.h"
#include "rt_http.h"
#include "rt_log.h"
#include "rt_pg.h"
#include "smsru.h"

#define NF_TG_BATCH 200          /* rows per Telegram scan (the window caps it further) */
#define NF_SMS_SLOTS 4           /* SMS requests in flight */
#define NF_POLL_MS 250           /* re-check a full window this often */
#define NF_DB_RETRY_MS 1000
#define NF_SMS_TIMEOUT_MS 20000

enum {
    NF_CORR_TG_SCAN = 1,
    NF_CORR_TG_TX,
    NF_CORR_REC_SCAN,
    NF_CORR_REC_TX,
    NF_CORR_SMS_SCAN,
    NF_CORR_SMS_TX,
    NF_CORR_SMS_MARK,
    NF_CORR_HTTP0 = 1000,
};

typedef struct nf_slot {
    bool busy;
    int64_t id;
    int attempts;
    char phone[24];
} nf_slot_t;

typedef struct nf_timer {
    uint32_t id;
    uint64_t due;
} nf_timer_t;

typedef struct nf_state {
    /* Telegram pipeline */
    bool tg_busy, tg_again, tg_kick;   /* tg_kick: the transaction in flight queues messages */
    nf_timer_t tg_timer;
    int window;
    /* recovery after 403 */
    bool rec_busy, rec_all;
    int64_t *rec_ids;
    int nrec, caprec;
    nf_timer_t rec_timer;
    /* SMS pipeline */
    bool sms_busy, sms_again;
    int sms_asked;                     /* rows the scan in flight asked for */
    nf_timer_t sms_timer;
    nf_slot_t slots[NF_SMS_SLOTS];
} nf_state_t;

static void nf_state_free(void *p)
{
    nf_state_t *st = p;
    free(st->rec_ids);
}

/* ---- helpers ---------------------------------------------------------------------- */

static void nf_arm(rt_actor_t *self, nf_timer_t *t, uint32_t ms)
{
    uint64_t due = rt_now_ms() + ms;
    if (t->id && t->due <= due) return;    /* an earlier one is set */
    t->id = rt_timer_after(self, ms ? ms : 1);
    t->due = due;
}

static bool nf_tg_on(void)
{
    const plus7_actors_cfg_t *cfg = plus7_actors_cfg();
    return cfg->tg_token && *cfg->tg_token;
}

static const char *nf_val(const rt_pg_result_t *r, int row, int col)
{
    const char *v = rt_pg_value(r, row, col);
    return v && *v ? v : NULL;
}

static int64_t nf_i64(const rt_pg_result_t *r, int row, int col)
{
    int64_t v = 0;
    rt_pg_get_i64(r, row, col, &v);
    return v;
}

/* Postgres array literal {1,2,3} of ids. */
static char *nf_id_array(const int64_t *ids, int n)
{
    size_t cap = 3 + (size_t)n * 21;
    char *s = malloc(cap);
    if (!s) return NULL;
    size_t len = 0;
    s[len++] = '{';
    for (int i = 0; i < n; i++) len += (size_t)snprintf(s + len, cap - len, "%s%lld", i ? "," : "", (long long)ids[i]);
    s[len++] = '}';
    s[len] = '\0';
    return s;
}

static bool nf_is_reminder(const char *event) { return event && strncmp(event, "pickup_reminder", 15) == 0; }

/* The outcome lists of one pass, as JSON arrays for the set statements. */
typedef struct nf_lists {
    cJSON *queue;      /* {id, chat, params} */
    cJSON *fallback;   /* {id, phone, reason} */
    cJSON *final;      /* {id, status, reason, code} */
    int nqueue, nfallback, nfailed, nskipped;
} nf_lists_t;

static void nf_lists_init(nf_lists_t *l)
{
    memset(l, 0, sizeof *l);
    l->queue = cJSON_CreateArray();
    l->fallback = cJSON_CreateArray();
    l->final = cJSON_CreateArray();
}

static void nf_lists_free(nf_lists_t *l)
{
    cJSON_Delete(l->queue);
    cJSON_Delete(l->fallback);
    cJSON_Delete(l->final);
}

static void nf_final(nf_lists_t *l, int64_t id, const char *status, const char *reason, int code)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "status", status);
    cJSON_AddStringToObject(o, "reason", reason);
    if (code) cJSON_AddNumberToObject(o, "code", code);
    cJSON_AddItemToArray(l->final, o);
    if (strcmp(status, "skipped") == 0) l->nskipped++;
    else l->nfailed++;
}

/* Telegram cannot reach the person: SMS when a phone is known. */
static void nf_fallback(nf_lists_t *l, int64_t id, const char *phone, const char *why)
{
    char reason[160];
    if (!phone) {
        snprintf(reason, sizeof reason, "%s; no phone for SMS", why);
        nf_final(l, id, "failed", reason, 0);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "phone", phone);
    cJSON_AddStringToObject(o, "reason", why);
    cJSON_AddItemToArray(l->fallback, o);
    l->nfallback++;
}

static const char NF_SQL_QUEUE[] =
    "WITH x AS (SELECT * FROM json_to_recordset($1::json) AS x(id bigint, chat bigint, params text)),"
    "     u AS (UPDATE notify_outbox n SET status = 'queued', attempts = n.attempts + 1 FROM x"
    "            WHERE n.id = x.id AND n.status = 'pending' RETURNING n.id)"
    " INSERT INTO tg_outbox (chat_id, method, params, prio, dedupe_key, notify_id)"
    " SELECT x.chat, 'sendMessage', x.params, 0, 'n' || x.id, x.id FROM x JOIN u ON u.id = x.id ORDER BY x.id"
    " ON CONFLICT (dedupe_key) DO NOTHING";

static const char NF_SQL_FALLBACK[] =
    "WITH x AS (SELECT * FROM json_to_recordset($1::json) AS x(id bigint, phone text, reason text)),"
    "     f AS (UPDATE notify_outbox n SET status = 'fallback', last_error = x.reason FROM x"
    "            WHERE n.id = x.id AND n.status IN ('pending', 'queued') AND n.channel = 'telegram'"
    "        RETURNING n.id, n.posting_number, n.event, n.tg_user_id, n.chat_id, x.phone, n.vars)"
    " INSERT INTO notify_outbox (dedupe_key, posting_number, event, tg_user_id, chat_id, phone, channel, vars)"
    " SELECT coalesce(f.posting_number, '') || ':' || f.event || ':p' || f.phone || ':sms',"
    "        f.posting_number, f.event, f.tg_user_id, f.chat_id, f.phone, 'sms', f.vars FROM f ORDER BY f.id"
    " ON CONFLICT (dedupe_key) DO NOTHING";

static const char NF_SQL_FINAL[] =
    "UPDATE notify_outbox n SET status = x.status, last_error = x.reason, error_code = x.code"
    "  FROM json_to_recordset($1::json) AS x(id bigint, status text, reason text, code int)"
    " WHERE n.id = x.id AND n.status IN ('pending', 'queued')";

/* Run the non-empty lists as one transaction. RT_OK (a result follows with
 * `corr`), RT_ENOTFOUND (nothing to do) or an error. */
static int nf_lists_commit(rt_actor_t *self, uint32_t corr, const nf_lists_t *l)
{
    rt_pg_stmt_t stmts[3];
    const char *params[3][1];
    char *texts[3] = {0};
    int n = 0;
    const struct { const char *sql; const cJSON *list; int count; } parts[] = {
        {NF_SQL_QUEUE, l->queue, l->nqueue},
        {NF_SQL_FALLBACK, l->fallback, l->nfallback},
        {NF_SQL_FINAL, l->final, l->nfailed + l->nskipped},
    };
    int rc = RT_OK;
    for (int i = 0; i < 3; i++) {
        if (parts[i].count == 0) continue;
        texts[n] = cJSON_PrintUnformatted(parts[i].list);
        if (!texts[n]) { rc = RT_ENOMEM; break; }
        params[n][0] = texts[n];
        stmts[n] = (rt_pg_stmt_t){parts[i].sql, 1, params[n]};
        n++;
    }
    if (rc == RT_OK) rc = n == 0 ? RT_ENOTFOUND : rt_pg_tx(self, corr, n, stmts);
    for (int i = 0; i < 3; i++) free(texts[i]);
    return rc;
}

static void nf_count_lists(const nf_lists_t *l)
{
    notify_stat_add(NOTIFY_STAT_TG_QUEUED, (uint64_t)l->nqueue);
    notify_stat_add(NOTIFY_STAT_FALLBACK, (uint64_t)l->nfallback);
    notify_stat_add(NOTIFY_STAT_TG_FAILED, (uint64_t)l->nfailed);
    notify_stat_add(NOTIFY_STAT_SKIPPED, (uint64_t)l->nskipped);
}

static void nf_log_render(int64_t id, const char *event, const char *channel, unsigned flags)
{
    if (!(flags & NOTIFY_GENERIC)) return;
    notify_stat_add(NOTIFY_STAT_TPL_MISSING, 1);
    LOG_WARN("notify_template_missing", "id=%lld event=%s channel=%s reason=%s", (long long)id, event, channel,
             (flags & NOTIFY_BAD_TPL) ? "template_fails_check" : "no_template_row");
}

/* ---- Telegram pipeline ------------------------------------------------------------ */

/* Columns: 0 id, 1 event, 2 chat_id, 3 vars, 4 posting, 5 phone, 6 unreachable,
 * 7 first_name, 8 order status, 9 pickup_point, 10 storage_until ms, 11 template. */
static const char NF_SQL_TG_SCAN[] =
    "SELECT n.id, n.event, n.chat_id, n.vars, n.posting_number, coalesce(n.phone, u.phone),"
    "       coalesce(u.tg_unreachable, false)::text, u.first_name, o.status, o.pickup_point,"
    "       (extract(epoch FROM o.storage_until) * 1000)::bigint, t.body"
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

static void nf_sms_cycle(rt_actor_t *self, nf_state_t *st);

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
        if (nf_is_reminder(event) && (!ostatus || strcmp(ostatus, "at_pickup_point") != 0)) {
            nf_final(&l, id, "skipped", "obsolete: the parcel is no longer at the pickup point", 0);
            continue;
        }
        if (!tg_on) { nf_fallback(&l, id, phone, "telegram is off"); continue; }
        if (!has_chat) { nf_fallback(&l, id, phone, "telegram: no chat"); continue; }
        if (unreachable) { nf_fallback(&l, id, phone, "telegram: unreachable (blocked or never started)"); continue; }
        notify_row_t row = {.event = event, .posting = nf_val(rows, i, 4), .vars_json = rt_pg_value(rows, i, 3),
                            .name = nf_val(rows, i, 7), .pickup_point = nf_val(rows, i, 9),
                            .storage_until_ms = nf_i64(rows, i, 10), .tpl = rt_pg_value(rows, i, 11)};
        unsigned flags = 0;
        int64_t chat = nf_i64(rows, i, 2);
        char *params = notify_render_tg_params(&row, chat, &flags);
        if (!params) continue;   /* ENOMEM: stays pending, next pass */
        nf_log_render(id, event, "telegram", flags);
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
    "SELECT n.id, coalesce(n.phone, u.phone), t.status"
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
        nf_fallback(&l, id, nf_val(r, i, 1), "telegram: blocked or never started (403)");
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

/* ---- SMS pipeline --------------------------------------------------------------------- */

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

static void nf_sms_cycle(rt_actor_t *self, nf_state_t *st)
{
    if (st->sms_busy) { st->sms_again = true; return; }
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

static void nf_sms_scanned(rt_actor_t *self, nf_state_t *st, const rt_pg_result_t *r)
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
        if (nf_is_reminder(event) && (!ostatus || strcmp(ostatus, "at_pickup_point") != 0)) {
            nf_final(&l, id, "skipped", "obsolete: the parcel is no longer at the pickup point", 0);
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
        nf_log_render(id, event, "sms", flags);
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

static void nf_sms_marked_final(rt_actor_t *self, nf_state_t *st, const rt_pg_result_t *r)
{
    st->sms_busy = false;
    if (r->status != RT_OK) {
        LOG_WARN("notify_db_error", "step=sms_final error=\"%s\"", r->error ? r->error : rt_strerror(r->status));
        nf_arm(self, &st->sms_timer, NF_DB_RETRY_MS);
        return;
    }
    nf_sms_cycle(self, st);
}

static void nf_sms_done(rt_actor_t *self, nf_state_t *st, int slot, const rt_http_result_t *res)
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
