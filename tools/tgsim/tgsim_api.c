/* tgsim_api.c — Bot API entry point: token check, injected faults, method
 * dispatch, statistics, and the methods about the bot itself (getMe,
 * commands), updates (getUpdates, webhooks) and files (getFile).
 *
 * Every call takes w->mu for its whole duration; getUpdates releases it
 * while it waits on w->cv. URL downloads for sendPhoto/sendDocument happen
 * before the lock is taken.
 *
 * Exports: tgsim_api_handle, tgsim_api_ok, tgsim_api_error, tgsim_bad,
 * tgsim_fail. Threads: civetweb workers and webhook workers (for a method
 * carried in a webhook reply).
 */
#include "tgsim_api_int.h"
#include "tgsim_log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tgsim_api_ok(tgsim_resp_t *r, cJSON *result, const char *description)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    cJSON_AddItemToObject(o, "result", result ? result : cJSON_CreateTrue());
    if (description) cJSON_AddStringToObject(o, "description", description);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    r->status = 200;
    r->ctype = "application/json";
    r->body.len = 0;
    tgsim_buf_puts(&r->body, s);
    cJSON_free(s);
}

void tgsim_api_error(tgsim_resp_t *r, int code, const char *description, int retry_after)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 0);
    cJSON_AddNumberToObject(o, "error_code", code);
    cJSON_AddStringToObject(o, "description", description);
    if (retry_after > 0) {
        cJSON *p = cJSON_AddObjectToObject(o, "parameters");
        cJSON_AddNumberToObject(p, "retry_after", retry_after);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    r->status = code;
    r->ctype = "application/json";
    r->body.len = 0;
    tgsim_buf_puts(&r->body, s);
    cJSON_free(s);
}

int tgsim_fail(tgsim_call_t *c, int code, const char *desc)
{
    tgsim_api_error(c->r, code, desc, 0);
    return -1;
}

int tgsim_bad(tgsim_call_t *c, const char *desc)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "Bad Request: %s", desc);
    return tgsim_fail(c, 400, buf);
}

/* ---- the bot ---- */

static void tgsim_m_getme(tgsim_call_t *c)
{
    cJSON *o = tgsim_bot_json(c->w, c->token);
    cJSON_AddBoolToObject(o, "can_join_groups", 1);
    cJSON_AddBoolToObject(o, "can_read_all_group_messages", 0);
    cJSON_AddBoolToObject(o, "supports_inline_queries", 0);
    cJSON_AddBoolToObject(o, "can_connect_to_business", 0);
    cJSON_AddBoolToObject(o, "has_main_web_app", 0);
    tgsim_api_ok(c->r, o, NULL);
}

static void tgsim_m_true(tgsim_call_t *c)
{
    tgsim_api_ok(c->r, NULL, NULL);
}

static void tgsim_m_getchat(tgsim_call_t *c)
{
    const char *cid = tgsim_params_str(c->p, "chat_id");
    int64_t id;
    if (!cid || !*cid) { tgsim_bad(c, "chat_id is empty"); return; }
    tgsim_chat_t *chat = tgsim_parse_int64(cid, &id) == 0 ? tgsim_chat_find(c->w, id) : NULL;
    if (!chat) { tgsim_bad(c, "chat not found"); return; }
    cJSON *o = tgsim_chat_json(c->w, chat);
    cJSON_AddNumberToObject(o, "accent_color_id", 0);
    cJSON_AddNumberToObject(o, "max_reaction_count", 11);
    tgsim_api_ok(c->r, o, NULL);
}

/* Commands are stored per (scope, language_code). */
static char *tgsim_commands_key(tgsim_call_t *c)
{
    const char *scope = tgsim_params_str(c->p, "scope");
    const char *lang = tgsim_params_str(c->p, "language_code");
    cJSON *s = scope ? tgsim_json_parse(scope, strlen(scope)) : NULL;
    const char *type = "default";
    cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type");
    if (cJSON_IsString(t)) type = t->valuestring;
    cJSON *ch = cJSON_GetObjectItemCaseSensitive(s, "chat_id");
    cJSON *us = cJSON_GetObjectItemCaseSensitive(s, "user_id");
    char buf[256];
    snprintf(buf, sizeof buf, "%s|%lld|%lld|%s", type, ch ? (long long)ch->valuedouble : 0LL,
             us ? (long long)us->valuedouble : 0LL, lang ? lang : "");
    cJSON_Delete(s);
    return tgsim_xstrdup(buf);
}

static cJSON *tgsim_commands_find(tgsim_world_t *w, const char *key)
{
    for (cJSON *e = w->commands ? w->commands->child : NULL; e; e = e->next) {
        cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
        if (cJSON_IsString(k) && !strcmp(k->valuestring, key)) return e;
    }
    return NULL;
}

static void tgsim_m_setmycommands(tgsim_call_t *c)
{
    const char *js = tgsim_params_str(c->p, "commands");
    if (!js || !*js) { tgsim_bad(c, "parameter \"commands\" is required"); return; }
    cJSON *arr = tgsim_json_parse(js, strlen(js));
    if (!cJSON_IsArray(arr)) { cJSON_Delete(arr); tgsim_bad(c, "can't parse commands JSON object"); return; }
    if (cJSON_GetArraySize(arr) > 100) { cJSON_Delete(arr); tgsim_bad(c, "BOT_COMMANDS_TOO_MUCH"); return; }
    cJSON *norm = cJSON_CreateArray();
    for (cJSON *e = arr->child; e; e = e->next) {
        cJSON *cmd = cJSON_GetObjectItemCaseSensitive(e, "command");
        cJSON *desc = cJSON_GetObjectItemCaseSensitive(e, "description");
        if (!cJSON_IsString(cmd) || !cJSON_IsString(desc)) {
            cJSON_Delete(arr); cJSON_Delete(norm);
            tgsim_bad(c, "can't parse BotCommand: Field \"command\" must be of type String");
            return;
        }
        const char *s = cmd->valuestring;
        if (*s == '/') s++;
        size_t l = strlen(s), ok = l >= 1 && l <= 32;
        for (size_t i = 0; ok && i < l; i++)
            ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_';
        size_t dl = tgsim_utf16_len(desc->valuestring, strlen(desc->valuestring));
        if (!ok || dl < 1 || dl > 256) {
            cJSON_Delete(arr); cJSON_Delete(norm);
            tgsim_bad(c, ok ? "BOT_COMMAND_DESCRIPTION_INVALID" : "BOT_COMMAND_INVALID");
            return;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "command", s);
        cJSON_AddStringToObject(o, "description", desc->valuestring);
        cJSON_AddItemToArray(norm, o);
    }
    cJSON_Delete(arr);
    char *key = tgsim_commands_key(c);
    if (!c->w->commands) c->w->commands = cJSON_CreateArray();
    cJSON *old = tgsim_commands_find(c->w, key);
    if (old) cJSON_DeleteItemFromObjectCaseSensitive(old, "commands");
    else {
        old = cJSON_CreateObject();
        cJSON_AddStringToObject(old, "key", key);
        cJSON_AddItemToArray(c->w->commands, old);
    }
    cJSON_AddItemToObject(old, "commands", norm);
    free(key);
    tgsim_world_touch(c->w, NULL);
    tgsim_api_ok(c->r, NULL, NULL);
}

static void tgsim_m_getmycommands(tgsim_call_t *c)
{
    char *key = tgsim_commands_key(c);
    cJSON *e = tgsim_commands_find(c->w, key);
    free(key);
    cJSON *cmds = cJSON_GetObjectItemCaseSensitive(e, "commands");
    tgsim_api_ok(c->r, cmds ? cJSON_Duplicate(cmds, 1) : cJSON_CreateArray(), NULL);
}

static void tgsim_m_deletemycommands(tgsim_call_t *c)
{
    char *key = tgsim_commands_key(c);
    cJSON *e = tgsim_commands_find(c->w, key);
    free(key);
    if (e) {
        cJSON_DetachItemViaPointer(c->w->commands, e);
        cJSON_Delete(e);
    }
    tgsim_api_ok(c->r, NULL, NULL);
}

/* ---- files ---- */

static void tgsim_m_getfile(tgsim_call_t *c)
{
    const char *id = tgsim_params_str(c->p, "file_id");
    if (!id || !*id) { tgsim_bad(c, "file_id is empty"); return; }
    tgsim_file_t *f = tgsim_file_find(c->w, id);
    if (!f || strcmp(f->file_id, id) != 0) { tgsim_bad(c, "invalid file_id"); return; }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file_id", f->file_id);
    cJSON_AddStringToObject(o, "file_unique_id", f->unique_id);
    cJSON_AddNumberToObject(o, "file_size", (double)f->len);
    cJSON_AddStringToObject(o, "file_path", f->file_path);
    tgsim_api_ok(c->r, o, NULL);
}

/* ---- updates ---- */

/* Parse allowed_updates (a JSON array of names) into the world's mask.
 * Absent: keep the previous setting. Empty list: the default set. */
static void tgsim_apply_allowed(tgsim_world_t *w, const char *js)
{
    if (!js) return;
    cJSON *arr = tgsim_json_parse(js, strlen(js));
    if (!cJSON_IsArray(arr)) { cJSON_Delete(arr); return; }
    uint32_t mask = 0;
    for (cJSON *e = arr->child; e; e = e->next)
        for (int t = 0; t < TGSIM_U_COUNT; t++)
            if (cJSON_IsString(e) && !strcmp(e->valuestring, tgsim_update_names[t])) mask |= 1u << t;
    w->allowed_mask = cJSON_GetArraySize(arr) == 0 ? TGSIM_ALLOWED_DEFAULT : mask;
    cJSON_Delete(w->allowed_list);
    w->allowed_list = cJSON_GetArraySize(arr) ? arr : NULL;
    if (!w->allowed_list) cJSON_Delete(arr);
}

static void tgsim_m_getupdates(tgsim_call_t *c)
{
    tgsim_world_t *w = c->w;
    if (w->webhook_url) {
        tgsim_fail(c, 409, "Conflict: can't use getUpdates method while webhook is active; "
                           "use deleteWebhook to delete the webhook first");
        return;
    }
    int64_t offset = 0, limit = 100, timeout = 0;
    const char *s;
    if ((s = tgsim_params_str(c->p, "offset")) && *s && tgsim_parse_int64(s, &offset)) offset = 0;
    if ((s = tgsim_params_str(c->p, "limit")) && *s && tgsim_parse_int64(s, &limit)) limit = 100;
    if ((s = tgsim_params_str(c->p, "timeout")) && *s && tgsim_parse_int64(s, &timeout)) timeout = 0;
    if (limit < 1) limit = 1;
    if (limit > 100) limit = 100;
    if (timeout < 0) timeout = 0;
    if (timeout > 600) timeout = 600;
    tgsim_apply_allowed(w, tgsim_params_str(c->p, "allowed_updates"));

    if (offset > 0) {
        while (w->uhead && w->uhead->id < offset) tgsim_update_remove(w, w->uhead);
    } else if (offset < 0) {
        size_t keep = (size_t)(-offset);
        while (w->npending > keep) tgsim_update_remove(w, w->uhead);
    }
    uint64_t my_gen = ++w->poll_gen;
    pthread_cond_broadcast(&w->cv);         /* an older long poll ends with 409 */
    double deadline = tgsim_now_mono() + (double)timeout;
    for (;;) {
        if (w->poll_gen != my_gen) {
            tgsim_fail(c, 409, w->webhook_url ? "Conflict: terminated by setWebhook request"
                                              : "Conflict: terminated by other getUpdates request; "
                                                "make sure that only one bot instance is running");
            return;
        }
        size_t n = 0;
        for (tgsim_update_t *u = w->uhead; u && n < (size_t)limit; u = u->next)
            if (u->id >= offset) n++;
        if (n > 0 || w->stopping || tgsim_now_mono() >= deadline) {
            tgsim_buf_t *b = &c->r->body;
            b->len = 0;
            tgsim_buf_puts(b, "{\"ok\":true,\"result\":[");
            size_t k = 0;
            for (tgsim_update_t *u = w->uhead; u && k < n; u = u->next) {
                if (u->id < offset) continue;
                if (k++) tgsim_buf_puts(b, ",");
                tgsim_buf_put(b, u->json, u->json_len);
            }
            tgsim_buf_puts(b, "]}");
            c->r->status = 200;
            c->r->ctype = "application/json";
            return;
        }
        tgsim_world_wait(w, deadline);
    }
}

static int tgsim_secret_ok(const char *s)
{
    size_t l = strlen(s);
    if (l < 1 || l > 256) return 0;
    for (size_t i = 0; i < l; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-') return 0;
    return 1;
}

static void tgsim_webhook_clear(tgsim_world_t *w)
{
    free(w->webhook_url); free(w->webhook_secret); free(w->webhook_token);
    w->webhook_url = w->webhook_secret = w->webhook_token = NULL;
    w->webhook_gen++;
}

static void tgsim_m_deletewebhook(tgsim_call_t *c)
{
    tgsim_world_t *w = c->w;
    int had = w->webhook_url != NULL;
    if (tgsim_parse_bool(tgsim_params_str(c->p, "drop_pending_updates")) == 1) tgsim_update_drop_all(w);
    tgsim_webhook_clear(w);
    tgsim_world_touch(w, NULL);
    tgsim_api_ok(c->r, NULL, had ? "Webhook was deleted" : "Webhook is already deleted");
}

static void tgsim_m_setwebhook(tgsim_call_t *c)
{
    tgsim_world_t *w = c->w;
    const char *url = tgsim_params_str(c->p, "url");
    if (!url || !*url) { tgsim_m_deletewebhook(c); return; }
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        tgsim_bad(c, "bad webhook: An HTTPS URL must be provided for webhook");
        return;
    }
    const char *secret = tgsim_params_str(c->p, "secret_token");
    if (secret && *secret && !tgsim_secret_ok(secret)) {
        tgsim_bad(c, "secret token contains unallowed characters");
        return;
    }
    int64_t maxc = 40;
    const char *mc = tgsim_params_str(c->p, "max_connections");
    if (mc && *mc && tgsim_parse_int64(mc, &maxc)) maxc = 40;
    if (maxc < 1) maxc = 1;
    if (maxc > 100) maxc = 100;
    int same = w->webhook_url && !strcmp(w->webhook_url, url) && w->webhook_max_conn == maxc &&
               !strcmp(w->webhook_secret ? w->webhook_secret : "", secret ? secret : "");
    if (tgsim_parse_bool(tgsim_params_str(c->p, "drop_pending_updates")) == 1) tgsim_update_drop_all(w);
    tgsim_apply_allowed(w, tgsim_params_str(c->p, "allowed_updates"));
    if (!same) {
        tgsim_webhook_clear(w);
        w->webhook_url = tgsim_xstrdup(url);
        w->webhook_secret = secret && *secret ? tgsim_xstrdup(secret) : NULL;
        w->webhook_token = tgsim_xstrdup(c->token);
        w->webhook_max_conn = (int)maxc;
        w->last_error_date = 0;
        free(w->last_error_message);
        w->last_error_message = NULL;
        for (tgsim_update_t *u = w->uhead; u; u = u->next) u->next_attempt = 0;
        w->poll_gen++;                       /* a waiting getUpdates ends with 409 */
        tgsim_webhook_ensure_threads(w, (int)maxc);
        TGSIM_INFO("webhook_set", "url=\"%s\" max_connections=%d secret=%s", url, (int)maxc,
                   w->webhook_secret ? "yes" : "no");
    }
    tgsim_world_touch(w, NULL);
    tgsim_api_ok(c->r, NULL, same ? "Webhook is already set" : "Webhook was set");
}

static void tgsim_m_getwebhookinfo(tgsim_call_t *c)
{
    tgsim_world_t *w = c->w;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "url", w->webhook_url ? w->webhook_url : "");
    cJSON_AddBoolToObject(o, "has_custom_certificate", 0);
    cJSON_AddNumberToObject(o, "pending_update_count", (double)w->npending);
    if (w->webhook_url) {
        cJSON_AddStringToObject(o, "ip_address", "127.0.0.1");
        if (w->last_error_date) {
            cJSON_AddNumberToObject(o, "last_error_date", (double)w->last_error_date);
            cJSON_AddStringToObject(o, "last_error_message", w->last_error_message ? w->last_error_message : "");
        }
        cJSON_AddNumberToObject(o, "max_connections", w->webhook_max_conn);
        if (w->allowed_list) cJSON_AddItemToObject(o, "allowed_updates", cJSON_Duplicate(w->allowed_list, 1));
    }
    tgsim_api_ok(c->r, o, NULL);
}

const char *tgsim_world_token(const tgsim_world_t *w)
{
    if (w->last_token[0]) return w->last_token;
    if (w->cfg.ntokens) return w->cfg.tokens[0];
    return "5000000000:tgsim";
}

/* ---- dispatch ---- */

static const struct {
    const char *name;           /* canonical spelling, for statistics */
    tgsim_method_fn fn;
} tgsim_methods[] = {
    {"getMe", tgsim_m_getme},
    {"logOut", tgsim_m_true},
    {"close", tgsim_m_true},
    {"getUpdates", tgsim_m_getupdates},
    {"setWebhook", tgsim_m_setwebhook},
    {"deleteWebhook", tgsim_m_deletewebhook},
    {"getWebhookInfo", tgsim_m_getwebhookinfo},
    {"sendMessage", tgsim_m_sendmessage},
    {"sendPhoto", tgsim_m_sendphoto},
    {"sendDocument", tgsim_m_senddocument},
    {"sendLocation", tgsim_m_sendlocation},
    {"sendInvoice", tgsim_m_sendinvoice},
    {"sendChatAction", tgsim_m_sendchataction},
    {"editMessageText", tgsim_m_editmessagetext},
    {"editMessageCaption", tgsim_m_editmessagecaption},
    {"editMessageReplyMarkup", tgsim_m_editmessagereplymarkup},
    {"deleteMessage", tgsim_m_deletemessage},
    {"answerCallbackQuery", tgsim_m_answercallbackquery},
    {"answerPreCheckoutQuery", tgsim_m_answerprecheckoutquery},
    {"setMyCommands", tgsim_m_setmycommands},
    {"getMyCommands", tgsim_m_getmycommands},
    {"deleteMyCommands", tgsim_m_deletemycommands},
    {"getFile", tgsim_m_getfile},
    {"getChat", tgsim_m_getchat},
};

int tgsim_api_token_ok(const tgsim_world_t *w, const char *token)
{
    if (w->cfg.ntokens) {
        for (size_t i = 0; i < w->cfg.ntokens; i++)
            if (!strcmp(w->cfg.tokens[i], token)) return 1;
        return 0;
    }
    const char *p = token;
    if (!isdigit((unsigned char)*p)) return 0;
    while (isdigit((unsigned char)*p)) p++;
    if (*p++ != ':' || !*p) return 0;
    for (; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') return 0;
    return 1;
}

static void tgsim_count_method(tgsim_world_t *w, const char *name)
{
    uint64_t key = tgsim_str_key(name);
    tgsim_method_stat_t *s = tgsim_map_get(&w->stats.methods, key);
    if (!s) {
        s = tgsim_xcalloc(1, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s", name);
        tgsim_map_put(&w->stats.methods, key, s);
    }
    s->count++;
}

static void tgsim_count_status(tgsim_world_t *w, int status)
{
    w->stats.calls++;
    if (status == 200) w->stats.ok++;
    else w->stats.errors++;
    if (status >= 400 && status < 500) w->stats.status_4xx++;
    if (status >= 500) w->stats.status_5xx++;
    if (status == 429) w->stats.too_many_requests++;
}

void tgsim_api_handle(tgsim_world_t *w, const char *token, const char *method,
                      tgsim_params_t *p, tgsim_resp_t *r)
{
    char lower[64];
    size_t ml = strlen(method);
    if (ml >= sizeof lower) ml = sizeof lower - 1;
    for (size_t i = 0; i < ml; i++) lower[i] = (char)tolower((unsigned char)method[i]);
    lower[ml] = '\0';

    if (!tgsim_api_token_ok(w, token)) {
        tgsim_api_error(r, 401, "Unauthorized", 0);
        pthread_mutex_lock(&w->mu);
        tgsim_count_status(w, 401);
        pthread_mutex_unlock(&w->mu);
        return;
    }
    int idx = -1;
    for (size_t i = 0; i < sizeof tgsim_methods / sizeof tgsim_methods[0]; i++)
        if (tgsim_strcaseeq(tgsim_methods[i].name, lower)) { idx = (int)i; break; }

    pthread_mutex_lock(&w->mu);
    snprintf(w->last_token, sizeof w->last_token, "%s", token);
    tgsim_count_method(w, idx >= 0 ? tgsim_methods[idx].name : lower);
    int retry_after = 0;
    int fault = idx >= 0 ? tgsim_fault_take(w, lower, &retry_after) : 0;
    pthread_mutex_unlock(&w->mu);

    if (idx < 0) {
        tgsim_api_error(r, 404, "Not Found", 0);
    } else if (fault == 429) {
        char d[96];
        snprintf(d, sizeof d, "Too Many Requests: retry after %d", retry_after);
        tgsim_api_error(r, 429, d, retry_after);
    } else if (fault == 500) {
        tgsim_api_error(r, 500, "Internal Server Error", 0);
    } else if (fault) {
        /* the real front end answers 502/504 with an nginx HTML page */
        r->status = fault;
        r->ctype = "text/html";
        r->body.len = 0;
        const char *txt = fault == 502 ? "502 Bad Gateway" : fault == 503 ? "503 Service Temporarily Unavailable"
                        : fault == 504 ? "504 Gateway Time-out" : "500 Internal Server Error";
        tgsim_buf_printf(&r->body, "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n"
                                   "<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n", txt, txt);
    } else if (tgsim_media_prefetch(lower, p, r) == 0) {
        tgsim_call_t c = {w, token, lower, p, r};
        pthread_mutex_lock(&w->mu);
        tgsim_methods[idx].fn(&c);
        pthread_mutex_unlock(&w->mu);
    }
    pthread_mutex_lock(&w->mu);
    if (fault == 429) w->stats.forced_429++;
    else if (fault) w->stats.injected_5xx++;
    else if (r->status == 429) w->stats.rate_limited++;
    tgsim_count_status(w, r->status);
    pthread_mutex_unlock(&w->mu);
    TGSIM_DEBUG("api_call", "method=%s status=%d", method, r->status);
}
