/* tg_intake.c — the Telegram intake actor: recovery, webhook set-up and
 * long polling.
 *
 * Purpose: at start, poke every chat that has stored but unprocessed
 * updates (replay after a crash). Then either register the webhook
 * (setWebhook with url, secret_token, allowed_updates; the web layer's
 * POST /telegram/webhook stores what arrives) or run the long-polling loop:
 * getUpdates from the stored offset (the command menu is set with
 * setMyCommands either way); the updates and the new offset are
 * stored in ONE transaction; only then are the chats poked and the next
 * getUpdates (which confirms the batch to Telegram) issued. So the offset
 * never advances past an update that is not stored.
 *
 * Exports: tg_intake_kind, tg_intake_store_sql (one statement per batch).
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
#include "pg_array.h"
#include "texts.h"
#include "tg_intake.h"
#include "tg_update.h"

enum { IN_CORR_RECOVER = 1, IN_CORR_OFFSET, IN_CORR_STORE, IN_CORR_WEBHOOK, IN_CORR_DELETE, IN_CORR_POLL, IN_CORR_COMMANDS };

#define IN_BATCH 50   /* getUpdates limit; one transaction per batch */

const char tg_intake_store_sql[] =
    "INSERT INTO tg_inbox (update_id, chat_id, body, processed_at)"
    " SELECT u.id::bigint, u.chat::bigint, u.body, CASE WHEN u.chat::bigint = 0 THEN now() END"
    "   FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, chat, body)"
    " ON CONFLICT (update_id) DO NOTHING";

static const char in_allowed_updates[] =
    "[\"message\",\"edited_message\",\"callback_query\",\"pre_checkout_query\"]";

typedef struct in_state {
    int64_t offset;
    uint32_t backoff_ms;
    uint32_t retry_timer;
    int step;                    /* IN_CORR_* being retried on the timer */
    int64_t pending_chats[IN_BATCH];
    int npending;
    int64_t pending_offset;
} in_state_t;

static void in_retry(rt_actor_t *self, in_state_t *st, int step, const char *why)
{
    st->backoff_ms = st->backoff_ms ? st->backoff_ms * 2 : 500;
    if (st->backoff_ms > 30000) st->backoff_ms = 30000;
    LOG_WARN("tg_intake_retry", "step=%d backoff_ms=%u reason=\"%s\"", step, st->backoff_ms, why ? why : "");
    st->step = step;
    st->retry_timer = rt_timer_after(self, st->backoff_ms);
}

static int in_call(rt_actor_t *self, uint32_t corr, const char *method, const char *json, uint32_t timeout_ms)
{
    const plus7_actors_cfg_t *cfg = plus7_actors_cfg();
    char url[1024];
    snprintf(url, sizeof url, "%s/bot%s/%s", cfg->tg_api, cfg->tg_token, method);
    rt_http_req_t req = {.method = "POST", .url = url, .content_type = "application/json",
                         .body = json, .body_len = strlen(json), .timeout_ms = timeout_ms};
    return rt_http_request(self, corr, &req);
}

static void in_poll(rt_actor_t *self, in_state_t *st)
{
    const plus7_actors_cfg_t *cfg = plus7_actors_cfg();
    char body[512];
    int timeout = cfg->poll_timeout_s > 0 ? cfg->poll_timeout_s : 25;
    snprintf(body, sizeof body, "{\"offset\":%lld,\"limit\":%d,\"timeout\":%d,\"allowed_updates\":%s}",
             (long long)st->offset, IN_BATCH, timeout, in_allowed_updates);
    if (in_call(self, IN_CORR_POLL, "getUpdates", body, (uint32_t)(timeout + 15) * 1000u) != RT_OK)
        in_retry(self, st, IN_CORR_POLL, "http start");
}

static void in_start_mode(rt_actor_t *self, in_state_t *st)
{
    const plus7_actors_cfg_t *cfg = plus7_actors_cfg();
    if (cfg->tg_webhook) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "url", cfg->tg_webhook_url);
        cJSON_AddStringToObject(p, "secret_token", cfg->tg_secret);
        cJSON_AddItemToObject(p, "allowed_updates", cJSON_Parse(in_allowed_updates));
        cJSON_AddNumberToObject(p, "max_connections", 40);
        char *s = cJSON_PrintUnformatted(p);
        cJSON_Delete(p);
        int rc = s ? in_call(self, IN_CORR_WEBHOOK, "setWebhook", s, 30000) : RT_ENOMEM;
        free(s);
        if (rc != RT_OK) in_retry(self, st, IN_CORR_WEBHOOK, "http start");
    } else {
        /* Going back to polling: a webhook left behind would make
         * getUpdates fail with 409. */
        if (in_call(self, IN_CORR_DELETE, "deleteWebhook", "{\"drop_pending_updates\":false}", 30000) != RT_OK)
            in_retry(self, st, IN_CORR_DELETE, "http start");
    }
}

/* The command menu Telegram shows next to the input field (setMyCommands).
 * Best effort: a failure is logged and the bot works without the menu. */
static void in_set_commands(rt_actor_t *self)
{
    static const struct { const char *cmd; text_id_t desc; } cmds[] = {
        {"start", T_CMD_START}, {"menu", T_CMD_MENU}, {"help", T_CMD_HELP}, {"cancel", T_CMD_CANCEL}};
    cJSON *p = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(p, "commands");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "command", cmds[i].cmd);
        cJSON_AddStringToObject(c, "description", text_get(cmds[i].desc));
        cJSON_AddItemToArray(arr, c);
    }
    char *s = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (s) in_call(self, IN_CORR_COMMANDS, "setMyCommands", s, 30000);
    free(s);
}

static void in_recover(rt_actor_t *self, in_state_t *st)
{
    if (rt_pg_query(self, IN_CORR_RECOVER,
                    "SELECT DISTINCT chat_id FROM tg_inbox WHERE processed_at IS NULL AND chat_id <> 0", 0, NULL) != RT_OK)
        in_retry(self, st, IN_CORR_RECOVER, "pg start");
}

static void in_load_offset(rt_actor_t *self, in_state_t *st)
{
    if (rt_pg_query(self, IN_CORR_OFFSET, "SELECT value FROM tg_state WHERE name = 'offset'", 0, NULL) != RT_OK)
        in_retry(self, st, IN_CORR_OFFSET, "pg start");
}

/* A getUpdates answer: store the batch and the new offset in one
 * transaction. */
static void in_on_updates(rt_actor_t *self, in_state_t *st, const rt_http_result_t *res)
{
    if (res->rc != RT_OK || res->status != 200) {
        if (res->rc == RT_OK && res->status == 409) { in_start_mode(self, st); return; }
        in_retry(self, st, IN_CORR_POLL, res->rc != RT_OK ? res->error : "getUpdates status");
        return;
    }
    cJSON *j = cJSON_ParseWithLength(res->body, res->body_len);
    cJSON *arr = j ? cJSON_GetObjectItem(j, "result") : NULL;
    if (!cJSON_IsArray(arr) || !cJSON_IsTrue(cJSON_GetObjectItem(j, "ok"))) {
        cJSON_Delete(j);
        in_retry(self, st, IN_CORR_POLL, "bad getUpdates body");
        return;
    }
    int n = cJSON_GetArraySize(arr);
    if (n == 0) {
        cJSON_Delete(j);
        st->backoff_ms = 0;
        in_poll(self, st);
        return;
    }
    if (n > IN_BATCH) n = IN_BATCH;
    pg_array_t ids, chats, bodies;
    pg_array_init(&ids);
    pg_array_init(&chats);
    pg_array_init(&bodies);
    int64_t max_id = st->offset - 1;
    st->npending = 0;
    for (int i = 0; i < n; i++) {
        char *body = cJSON_PrintUnformatted(cJSON_GetArrayItem(arr, i));
        tg_update_t up;
        if (!body || tg_update_parse(body, strlen(body), &up) != RT_OK) {
            free(body);
            continue;   /* not an update at all: nothing to store */
        }
        char id[24], chat[24];
        snprintf(id, sizeof id, "%lld", (long long)up.update_id);
        snprintf(chat, sizeof chat, "%lld", (long long)up.chat_id);
        pg_array_add(&ids, id);
        pg_array_add(&chats, chat);
        pg_array_add(&bodies, body);
        if (up.update_id > max_id) max_id = up.update_id;
        if (up.chat_id) st->pending_chats[st->npending++] = up.chat_id;
        tg_update_free(&up);
        free(body);
    }
    cJSON_Delete(j);
    st->pending_offset = max_id + 1;
    char offset[24];
    snprintf(offset, sizeof offset, "%lld", (long long)st->pending_offset);
    const char *store[3] = {pg_array_finish(&ids), pg_array_finish(&chats), pg_array_finish(&bodies)};
    const char *off[1] = {offset};
    rt_pg_stmt_t stmts[2] = {
        {tg_intake_store_sql, 3, store},
        {"INSERT INTO tg_state (name, value) VALUES ('offset', $1)"
         " ON CONFLICT (name) DO UPDATE SET value = GREATEST(tg_state.value, EXCLUDED.value)", 1, off},
    };
    int rc = store[0] && store[1] && store[2] ? rt_pg_tx(self, IN_CORR_STORE, 2, stmts) : RT_ENOMEM;
    for (int i = 0; i < 3; i++) free((char *)store[i]);
    if (rc != RT_OK) in_retry(self, st, IN_CORR_POLL, "pg start");
}

static int in_handle(rt_actor_t *self, const rt_msg_t *m)
{
    in_state_t *st = rt_self_state(self);
    rt_runtime_t *rt = rt_self_runtime(self);
    const rt_pg_result_t *r = rt_pg_msg_result(m);
    const rt_http_result_t *h = m->type == RT_MSG_HTTP_RESULT ? m->ptr : NULL;

    if (m->type == MSG_conv_poke) {                 /* "start" from plus7_actors_start */
        in_recover(self, st);
        return RT_OK;
    }
    if (m->type == RT_MSG_TIMER) {
        if (m->corr != st->retry_timer) return RT_OK;
        switch (st->step) {
        case IN_CORR_RECOVER: in_recover(self, st); break;
        case IN_CORR_OFFSET: in_load_offset(self, st); break;
        case IN_CORR_WEBHOOK: case IN_CORR_DELETE: in_start_mode(self, st); break;
        default: in_poll(self, st); break;
        }
        return RT_OK;
    }
    switch (m->corr) {
    case IN_CORR_RECOVER:
        if (!r || r->status != RT_OK) { in_retry(self, st, IN_CORR_RECOVER, r ? r->error : NULL); break; }
        for (int i = 0; i < r->nrows; i++) {
            int64_t chat = 0;
            if (rt_pg_get_i64(r, i, 0, &chat) == RT_OK) plus7_conv_poke(rt, chat, 0);
        }
        LOG_INFO("tg_recovered", "chats=%d", r->nrows);
        in_start_mode(self, st);
        break;
    case IN_CORR_WEBHOOK:
    case IN_CORR_DELETE:
        if (!h || h->rc != RT_OK || h->status != 200) {
            in_retry(self, st, (int)m->corr, h && h->rc != RT_OK ? h->error : "bad status");
            break;
        }
        st->backoff_ms = 0;
        LOG_INFO(m->corr == IN_CORR_WEBHOOK ? "tg_webhook_set" : "tg_polling_started", "mode=%s",
                 m->corr == IN_CORR_WEBHOOK ? "webhook" : "polling");
        if (m->corr == IN_CORR_DELETE) in_load_offset(self, st);
        in_set_commands(self);
        break;
    case IN_CORR_OFFSET:
        if (!r || r->status != RT_OK) { in_retry(self, st, IN_CORR_OFFSET, r ? r->error : NULL); break; }
        st->offset = 0;
        if (r->nrows > 0) rt_pg_get_i64(r, 0, 0, &st->offset);
        in_poll(self, st);
        break;
    case IN_CORR_POLL:
        if (h) in_on_updates(self, st, h);
        break;
    case IN_CORR_COMMANDS:
        if (!h || h->rc != RT_OK || h->status != 200)
            LOG_WARN("tg_set_commands_failed", "status=%ld", h ? h->status : 0L);
        break;
    case IN_CORR_STORE:
        if (!r || r->status != RT_OK) { in_retry(self, st, IN_CORR_POLL, r ? r->error : NULL); break; }
        st->offset = st->pending_offset;   /* stored: now it may advance */
        st->backoff_ms = 0;
        for (int i = 0; i < st->npending; i++) plus7_conv_poke(rt, st->pending_chats[i], 0);
        st->npending = 0;
        in_poll(self, st);
        break;
    default:
        break;
    }
    return RT_OK;
}

const rt_kind_t tg_intake_kind = {
    .name = "tg_intake",
    .state_size = sizeof(in_state_t),
    .idle_age_ms = 0,
    .handle = in_handle,
};
