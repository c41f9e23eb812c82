/* crm_actor.c — the CRM linker: every registered person gets a CRM contact.
 *
 * Purpose: registration never waits for the CRM. A person is stored with
 * crm_contact_id NULL; this actor (key "main") links pending people one at a
 * time through the configured connector, on a kick after a registration and
 * every CRM_SWEEP_MS, so a CRM outage only delays linking. Any failure
 * (the CRM down or refusing, the database) ends the batch and backs off:
 * nothing is tried again for CRM_BACKOFF_MIN_MS, doubling per consecutive
 * failed try up to CRM_BACKOFF_MAX_MS; kicks and sweeps meanwhile only mark
 * that work is waiting. One success resets the back-off. So an outage costs
 * one request per back-off period, not a batch of requests per kick:
 *   builtin  — the company's own crm_customers table (one statement);
 *   bitrix24 — incoming-webhook REST: crm.contact.list filtered by PHONE
 *              (E.164 form, then the 8XXXXXXXXXX form, since portals store
 *              both), crm.contact.add when absent; the contact id stored.
 *
 * Exports: crm_kind.
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

#define CRM_SWEEP_MS 30000
#define CRM_BATCH 20
#define CRM_BACKOFF_MIN_MS 1000
#define CRM_BACKOFF_MAX_MS 30000   /* never longer than the sweep period */

enum { CRM_CORR_PENDING = 1, CRM_CORR_BUILTIN, CRM_CORR_STORE, CRM_CORR_FIND, CRM_CORR_FIND8, CRM_CORR_ADD, CRM_CORR_FAIL };

typedef struct crm_person {
    char tg_user_id[24];
    char phone[20];
    char name[128];
} crm_person_t;

typedef struct crm_state {
    bool busy, again;
    crm_person_t queue[CRM_BATCH];
    int nqueue, pos;
    uint32_t sweep_timer;
    uint32_t backoff_ms;      /* 0: no failure since the last success */
    uint32_t backoff_timer;   /* armed while backing off */
} crm_state_t;

static void crm_next(rt_actor_t *self, crm_state_t *st);
static void crm_back_off(rt_actor_t *self, crm_state_t *st);

static void crm_sweep(rt_actor_t *self, crm_state_t *st)
{
    if (st->busy || st->backoff_timer) { st->again = true; return; }
    st->busy = true;
    st->again = false;
    if (rt_pg_query(self, CRM_CORR_PENDING,
                    "SELECT tg_user_id, phone, first_name FROM users"
                    " WHERE crm_contact_id IS NULL AND phone IS NOT NULL"
                    " ORDER BY crm_attempts, tg_user_id LIMIT 20", 0, NULL) != RT_OK)
        crm_back_off(self, st);
}

/* Something failed: end the batch and try nothing before the back-off. */
static void crm_back_off(rt_actor_t *self, crm_state_t *st)
{
    st->backoff_ms = st->backoff_ms ? st->backoff_ms * 2 : CRM_BACKOFF_MIN_MS;
    if (st->backoff_ms > CRM_BACKOFF_MAX_MS) st->backoff_ms = CRM_BACKOFF_MAX_MS;
    st->nqueue = st->pos = 0;
    st->busy = false;
    st->again = true;   /* the people not linked are still waiting */
    st->backoff_timer = rt_timer_after(self, st->backoff_ms);
    LOG_INFO("crm_backoff", "ms=%u", st->backoff_ms);
}

static void crm_store(rt_actor_t *self, crm_person_t *p, const char *contact_id)
{
    const char *params[] = {p->tg_user_id, p->phone, contact_id};
    rt_pg_query(self, CRM_CORR_STORE, "UPDATE users SET crm_contact_id = $3, updated_at = now()"
                                      " WHERE tg_user_id = $1 AND phone = $2", 3, params);
}

static void crm_failed(rt_actor_t *self, crm_state_t *st, const char *why)
{
    crm_person_t *p = &st->queue[st->pos];
    LOG_WARN("crm_link_failed", "tg_user_id=%s reason=\"%s\"", p->tg_user_id, why ? why : "");
    const char *params[] = {p->tg_user_id};
    rt_pg_query(self, CRM_CORR_FAIL, "UPDATE users SET crm_attempts = crm_attempts + 1 WHERE tg_user_id = $1",
                1, params);
    crm_back_off(self, st);
}

static void crm_bitrix_call(rt_actor_t *self, crm_state_t *st, uint32_t corr, const char *method, cJSON *body)
{
    const char *base = plus7_actors_cfg()->bitrix24_webhook;
    char url[1024];
    snprintf(url, sizeof url, "%s%s%s.json", base, base[strlen(base) - 1] == '/' ? "" : "/", method);
    char *s = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    rt_http_req_t req = {.method = "POST", .url = url, .content_type = "application/json",
                         .body = s, .body_len = s ? strlen(s) : 0, .timeout_ms = 15000};
    int rc = s ? rt_http_request(self, corr, &req) : RT_ENOMEM;
    free(s);
    if (rc != RT_OK) crm_failed(self, st, "http start");
}

static void crm_bitrix_find(rt_actor_t *self, crm_state_t *st, uint32_t corr)
{
    crm_person_t *p = &st->queue[st->pos];
    char phone8[24];
    snprintf(phone8, sizeof phone8, "8%s", p->phone + 2);
    cJSON *b = cJSON_CreateObject();
    cJSON *f = cJSON_AddObjectToObject(b, "filter");
    cJSON_AddStringToObject(f, "PHONE", corr == CRM_CORR_FIND ? p->phone : phone8);
    cJSON *sel = cJSON_AddArrayToObject(b, "select");
    cJSON_AddItemToArray(sel, cJSON_CreateString("ID"));
    cJSON_AddItemToArray(sel, cJSON_CreateString("NAME"));
    cJSON_AddItemToArray(sel, cJSON_CreateString("PHONE"));
    crm_bitrix_call(self, st, corr, "crm.contact.list", b);
}

static void crm_next(rt_actor_t *self, crm_state_t *st)
{
    if (st->pos >= st->nqueue) {
        st->busy = false;
        if (st->again || st->nqueue == CRM_BATCH) crm_sweep(self, st);
        return;
    }
    crm_person_t *p = &st->queue[st->pos];
    if (plus7_actors_cfg()->crm == PLUS7_CRM_BITRIX24) {
        crm_bitrix_find(self, st, CRM_CORR_FIND);
        return;
    }
    const char *params[] = {p->tg_user_id, p->phone, p->name};
    if (rt_pg_query(self, CRM_CORR_BUILTIN,
                    "WITH c AS (INSERT INTO crm_customers (phone, name) VALUES ($2, $3)"
                    "           ON CONFLICT (phone) DO UPDATE SET name = EXCLUDED.name RETURNING id)"
                    " UPDATE users SET crm_contact_id = (SELECT id::text FROM c), updated_at = now()"
                    "  WHERE tg_user_id = $1 AND phone = $2", 3, params) != RT_OK)
        crm_failed(self, st, "pg start");
}

/* Bitrix24 answers {"result": [...] | id, "total": n} or {"error", "error_description"}. */
static void crm_on_bitrix(rt_actor_t *self, crm_state_t *st, uint32_t corr, const rt_http_result_t *h)
{
    if (!h || h->rc != RT_OK || h->status != 200) {
        crm_failed(self, st, h && h->rc != RT_OK ? h->error : "bitrix24 status");
        return;
    }
    cJSON *j = cJSON_ParseWithLength(h->body, h->body_len);
    cJSON *res = j ? cJSON_GetObjectItem(j, "result") : NULL;
    crm_person_t *p = &st->queue[st->pos];
    char id[32] = "";
    if (corr == CRM_CORR_ADD) {
        if (cJSON_IsNumber(res)) snprintf(id, sizeof id, "%lld", (long long)res->valuedouble);
        else if (cJSON_IsString(res)) snprintf(id, sizeof id, "%s", res->valuestring);
    } else if (cJSON_IsArray(res) && cJSON_GetArraySize(res) > 0) {
        cJSON *cid = cJSON_GetObjectItem(cJSON_GetArrayItem(res, 0), "ID");
        if (cJSON_IsString(cid)) snprintf(id, sizeof id, "%s", cid->valuestring);
        else if (cJSON_IsNumber(cid)) snprintf(id, sizeof id, "%lld", (long long)cid->valuedouble);
    }
    bool valid = cJSON_IsArray(res) || cJSON_IsNumber(res) || cJSON_IsString(res);
    cJSON_Delete(j);
    if (!valid) { crm_failed(self, st, "bitrix24 body"); return; }
    if (id[0]) { crm_store(self, p, id); return; }
    if (corr == CRM_CORR_FIND) { crm_bitrix_find(self, st, CRM_CORR_FIND8); return; }
    if (corr == CRM_CORR_ADD) { crm_failed(self, st, "bitrix24 add returned no id"); return; }
    cJSON *b = cJSON_CreateObject();
    cJSON *f = cJSON_AddObjectToObject(b, "FIELDS");
    cJSON_AddStringToObject(f, "NAME", p->name[0] ? p->name : "Клиент Telegram");
    cJSON *phones = cJSON_AddArrayToObject(f, "PHONE");
    cJSON *ph = cJSON_CreateObject();
    cJSON_AddStringToObject(ph, "VALUE", p->phone);
    cJSON_AddStringToObject(ph, "VALUE_TYPE", "MOBILE");
    cJSON_AddItemToArray(phones, ph);
    cJSON_AddStringToObject(f, "SOURCE_ID", "OTHER");
    cJSON_AddStringToObject(f, "SOURCE_DESCRIPTION", "Telegram-бот +7Доставки");
    crm_bitrix_call(self, st, CRM_CORR_ADD, "crm.contact.add", b);
}

static int crm_on_activate(rt_actor_t *self, const rt_msg_t *m)
{
    crm_state_t *st = rt_self_state(self);
    st->sweep_timer = rt_timer_after(self, CRM_SWEEP_MS);
    return RT_OK;
}

static int crm_handle(rt_actor_t *self, const rt_msg_t *m)
{
    crm_state_t *st = rt_self_state(self);
    const rt_pg_result_t *r = rt_pg_msg_result(m);
    switch (m->type) {
    case MSG_crm_link:
        crm_sweep(self, st);
        return RT_OK;
    case RT_MSG_TIMER:
        if (m->corr == st->sweep_timer) {
            st->sweep_timer = rt_timer_after(self, CRM_SWEEP_MS);
            crm_sweep(self, st);
        } else if (m->corr == st->backoff_timer && st->backoff_timer) {
            st->backoff_timer = 0;
            if (st->again) crm_sweep(self, st);
        }
        return RT_OK;
    case RT_MSG_HTTP_RESULT:
        crm_on_bitrix(self, st, m->corr, m->ptr);
        return RT_OK;
    case RT_MSG_PG_RESULT:
        break;
    default:
        return RT_OK;
    }
    switch (m->corr) {
    case CRM_CORR_PENDING:
        st->nqueue = st->pos = 0;
        if (!r || r->status != RT_OK) {
            LOG_WARN("crm_sweep_failed", "error=\"%s\"", r && r->error ? r->error : "");
            crm_back_off(self, st);
            return RT_OK;
        }
        for (int i = 0; i < r->nrows && i < CRM_BATCH; i++) {
            crm_person_t *p = &st->queue[st->nqueue++];
            snprintf(p->tg_user_id, sizeof p->tg_user_id, "%s", rt_pg_value(r, i, 0));
            snprintf(p->phone, sizeof p->phone, "%s", rt_pg_value(r, i, 1));
            snprintf(p->name, sizeof p->name, "%s", rt_pg_value(r, i, 2));
        }
        crm_next(self, st);
        break;
    case CRM_CORR_BUILTIN:
    case CRM_CORR_STORE:
        if (!r || r->status != RT_OK) { crm_failed(self, st, r ? r->error : NULL); break; }
        LOG_INFO("crm_linked", "tg_user_id=%s", st->queue[st->pos].tg_user_id);
        st->backoff_ms = 0;
        st->pos++;
        crm_next(self, st);
        break;
    default:
        break;
    }
    return RT_OK;
}

const rt_kind_t crm_kind = {
    .name = "crm",
    .state_size = sizeof(crm_state_t),
    .idle_age_ms = 0,
    .on_activate = crm_on_activate,
    .handle = crm_handle,
};
