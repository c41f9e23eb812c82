/* notify_outcome.c — the outcome lists of a notifier pass and the set
 * statements that apply them in one transaction; small helpers of the
 * notifier's files (see notifier_int.h).
 *
 * Each list is a JSON array given to one statement as $1 and read with
 * json_to_recordset: queue (mark 'queued' WHERE status = 'pending' and add
 * the tg_outbox row 'n<id>' only for rows that moved), fallback ('fallback'
 * and the sms row with the dedupe key <posting>:<event>:p<phone>:sms),
 * final ('failed' / 'skipped'). Phone numbers travel only as parameters.
 *
 * Exports: the nf_* helpers of notifier_int.h's notify_outcome.c section.
 * Threads: the notifier actor's home worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "notifier_int.h"
#include "notify_policy.h"
#include "notify_render.h"
#include "notify_stats.h"
#include "plus7_actors.h"
#include "rt_log.h"

void nf_arm(rt_actor_t *self, nf_timer_t *t, uint32_t ms)
{
    uint64_t due = rt_now_ms() + ms;
    if (t->id && t->due <= due) return;    /* an earlier one is set */
    t->id = rt_timer_after(self, ms ? ms : 1);
    t->due = due;
}

bool nf_tg_on(void)
{
    const plus7_actors_cfg_t *cfg = plus7_actors_cfg();
    return cfg->tg_token && *cfg->tg_token;
}

const char *nf_val(const rt_pg_result_t *r, int row, int col)
{
    const char *v = rt_pg_value(r, row, col);
    return v && *v ? v : NULL;
}

int64_t nf_i64(const rt_pg_result_t *r, int row, int col)
{
    int64_t v = 0;
    rt_pg_get_i64(r, row, col, &v);
    return v;
}

/* Postgres array literal {1,2,3} of ids. */
char *nf_id_array(const int64_t *ids, int n)
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

bool nf_is_reminder(const char *event) { return event && strncmp(event, "pickup_reminder", 15) == 0; }

const char *nf_obsolete(const char *event, const char *order_status, int64_t storage_until_ms)
{
    bool reminder = nf_is_reminder(event);
    if (reminder && (!order_status || strcmp(order_status, "at_pickup_point") != 0))
        return "obsolete: the parcel is no longer at the pickup point";
    if ((reminder || (event && strcmp(event, "at_pickup_point") == 0)) && order_status &&
        strcmp(order_status, "at_pickup_point") == 0 && storage_until_ms > 0 &&
        storage_until_ms <= (int64_t)time(NULL) * 1000)
        return "obsolete: the storage at the pickup point has ended";
    return NULL;
}

void nf_fallback_for(nf_lists_t *l, int64_t id, const char *phone, const char *event, bool watcher, const char *why)
{
    char reason[200];
    if (phone && watcher) {
        snprintf(reason, sizeof reason, "%s; no SMS to someone who only tracks the parcel", why);
        nf_final(l, id, "failed", reason, 0);
    } else if (phone && !notify_sms_event_on(event)) {
        snprintf(reason, sizeof reason, "%s; SMS not chosen for this event (PLUS7_SMS_EVENTS)", why);
        nf_final(l, id, "failed", reason, 0);
    } else {
        nf_fallback(l, id, phone, why);
    }
}


void nf_lists_init(nf_lists_t *l)
{
    memset(l, 0, sizeof *l);
    l->queue = cJSON_CreateArray();
    l->fallback = cJSON_CreateArray();
    l->final = cJSON_CreateArray();
}

void nf_lists_free(nf_lists_t *l)
{
    cJSON_Delete(l->queue);
    cJSON_Delete(l->fallback);
    cJSON_Delete(l->final);
}

void nf_final(nf_lists_t *l, int64_t id, const char *status, const char *reason, int code)
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
void nf_fallback(nf_lists_t *l, int64_t id, const char *phone, const char *why)
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
int nf_lists_commit(rt_actor_t *self, uint32_t corr, const nf_lists_t *l)
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

void nf_count_lists(const nf_lists_t *l)
{
    notify_stat_add(NOTIFY_STAT_TG_QUEUED, (uint64_t)l->nqueue);
    notify_stat_add(NOTIFY_STAT_FALLBACK, (uint64_t)l->nfallback);
    notify_stat_add(NOTIFY_STAT_TG_FAILED, (uint64_t)l->nfailed);
    notify_stat_add(NOTIFY_STAT_SKIPPED, (uint64_t)l->nskipped);
}

void nf_log_render(nf_state_t *st, int64_t id, const char *event, const char *channel, unsigned flags)
{
    if (!(flags & NOTIFY_GENERIC)) return;
    notify_stat_add(NOTIFY_STAT_TPL_MISSING, 1);
    char key[72];
    snprintf(key, sizeof key, "%s/%s/%u", event, channel, flags);
    for (int i = 0; i < st->nlogged; i++)
        if (strcmp(st->logged[i], key) == 0) return;
    if (st->nlogged < NF_LOGGED_MAX) snprintf(st->logged[st->nlogged++], sizeof st->logged[0], "%s", key);
    LOG_WARN("notify_template_missing", "id=%lld event=%s channel=%s reason=%s", (long long)id, event, channel,
             (flags & NOTIFY_BAD_TPL) ? "template_fails_check" : "no_template_row");
}
