/* tgsim_control.c — the control API under /control/ for tests and the web
 * page: routing, users and groups, reading chats (with long polling), the
 * "wait until the bot sent N messages" endpoint, statistics, runtime
 * configuration, fault injection, stored files and reset.
 *
 * Endpoint list and body fields: docs/tgsim.md.
 *
 * Exports: tgsim_control_handle, tgsim_file_serve, tgsim_ctl_ok,
 * tgsim_ctl_err, tgsim_ctl_i64, tgsim_ctl_num, tgsim_ctl_str,
 * tgsim_ctl_bool, tgsim_ctl_q, tgsim_ctl_msg_json.
 * Threads: civetweb workers; takes w->mu, releases it only inside waits.
 */
#include "tgsim_control_int.h"
#include "tgsim_api_int.h"
#include "tgsim_log.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tgsim_ctl_ok(tgsim_ctl_t *c, cJSON *o)
{
    cJSON *out = cJSON_CreateObject();
    cJSON_AddBoolToObject(out, "ok", 1);
    if (o) {
        while (o->child) {
            cJSON *it = o->child;
            cJSON_DetachItemViaPointer(o, it);
            cJSON_AddItemToObject(out, it->string, it);   /* cJSON copies the key */
        }
        cJSON_Delete(o);
    }
    char *s = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    c->r->status = 200;
    c->r->ctype = "application/json";
    c->r->body.len = 0;
    tgsim_buf_puts(&c->r->body, s);
    cJSON_free(s);
}

int tgsim_ctl_err(tgsim_ctl_t *c, int status, const char *msg)
{
    cJSON *out = cJSON_CreateObject();
    cJSON_AddBoolToObject(out, "ok", 0);
    cJSON_AddStringToObject(out, "error", msg);
    char *s = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    c->r->status = status;
    c->r->ctype = "application/json";
    c->r->body.len = 0;
    tgsim_buf_puts(&c->r->body, s);
    cJSON_free(s);
    return -1;
}

int tgsim_ctl_i64(const cJSON *in, const char *name, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, name);
    if (!v || cJSON_IsNull(v)) return 0;
    if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble)) { *out = (int64_t)v->valuedouble; return 1; }
    if (cJSON_IsString(v) && tgsim_parse_int64(v->valuestring, out) == 0) return 1;
    return -1;
}

int tgsim_ctl_num(const cJSON *in, const char *name, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, name);
    if (!v || cJSON_IsNull(v)) return 0;
    if (cJSON_IsNumber(v)) { *out = v->valuedouble; return 1; }
    if (cJSON_IsString(v) && tgsim_parse_double(v->valuestring, out) == 0) return 1;
    return -1;
}

const char *tgsim_ctl_str(const cJSON *in, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int tgsim_ctl_bool(const cJSON *in, const char *name, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, name);
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    if (cJSON_IsNumber(v)) return v->valuedouble != 0;
    if (cJSON_IsString(v)) return tgsim_parse_bool(v->valuestring) == 1;
    return dflt;
}

char *tgsim_ctl_q(const char *query, const char *name)
{
    if (!query) return NULL;
    size_t nl = strlen(name);
    for (const char *p = query; *p;) {
        const char *amp = strchr(p, '&');
        size_t l = amp ? (size_t)(amp - p) : strlen(p);
        if (l > nl && !strncmp(p, name, nl) && p[nl] == '=') return tgsim_url_decode(p + nl + 1, l - nl - 1, 1, NULL);
        if (l == nl && !strncmp(p, name, nl)) return tgsim_xstrdup("");
        p += l + (amp ? 1 : 0);
    }
    return NULL;
}

static double tgsim_q_num(const char *query, const char *name, double dflt)
{
    char *v = tgsim_ctl_q(query, name);
    double d;
    if (!v || tgsim_parse_double(v, &d) != 0) d = dflt;
    free(v);
    return d;
}

static const char *tgsim_msg_kind(const cJSON *j)
{
    static const char *const kinds[] = {"text", "photo", "document", "location", "contact", "invoice",
                                        "successful_payment", NULL};
    for (int i = 0; kinds[i]; i++)
        if (cJSON_GetObjectItemCaseSensitive(j, kinds[i])) return kinds[i];
    return "other";
}

cJSON *tgsim_ctl_msg_json(const tgsim_msg_t *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "message_id", (double)m->id);
    cJSON_AddBoolToObject(o, "from_bot", m->from_bot);
    cJSON_AddNumberToObject(o, "from_id", (double)m->from_id);
    cJSON_AddStringToObject(o, "kind", tgsim_msg_kind(m->json));
    cJSON *date = cJSON_GetObjectItemCaseSensitive(m->json, "date");
    cJSON_AddNumberToObject(o, "date", date ? date->valuedouble : 0);
    if (m->deleted) cJSON_AddBoolToObject(o, "deleted", 1);
    cJSON *text = cJSON_GetObjectItemCaseSensitive(m->json, "text");
    cJSON *ents = cJSON_GetObjectItemCaseSensitive(m->json, "entities");
    if (!text) {
        text = cJSON_GetObjectItemCaseSensitive(m->json, "caption");
        ents = cJSON_GetObjectItemCaseSensitive(m->json, "caption_entities");
    }
    if (text) cJSON_AddStringToObject(o, "text", text->valuestring);
    if (ents) cJSON_AddItemToObject(o, "entities", cJSON_Duplicate(ents, 1));
    if (m->parse_mode) cJSON_AddStringToObject(o, "parse_mode", m->parse_mode);
    if (m->from_bot && m->raw) cJSON_AddStringToObject(o, "raw_text", m->raw);
    if (m->markup) cJSON_AddItemToObject(o, "reply_markup", cJSON_Duplicate(m->markup, 1));
    if (m->files) cJSON_AddItemToObject(o, "files", cJSON_Duplicate(m->files, 1));
    if (m->meta) cJSON_AddItemToObject(o, "invoice_request", cJSON_Duplicate(m->meta, 1));
    if (!m->from_bot && cJSON_GetObjectItemCaseSensitive(m->json, "location"))
        cJSON_AddBoolToObject(o, "live_active", m->live_active && tgsim_now_mono() <= m->live_until);
    cJSON_AddNumberToObject(o, "edit_count", m->edits ? cJSON_GetArraySize(m->edits) : 0);
    cJSON_AddItemToObject(o, "edits", m->edits ? cJSON_Duplicate(m->edits, 1) : cJSON_CreateArray());
    cJSON_AddItemToObject(o, "message", cJSON_Duplicate(m->json, 1));
    return o;
}

static cJSON *tgsim_ctl_user_json(const tgsim_user_t *u)
{
    cJSON *o = tgsim_user_json(u);
    if (u->phone) cJSON_AddStringToObject(o, "phone", u->phone);
    if (u->role) cJSON_AddStringToObject(o, "role", u->role);
    cJSON_AddBoolToObject(o, "started", u->started);
    cJSON_AddBoolToObject(o, "blocked", u->blocked);
    return o;
}

/* ---- users and groups ---- */

static void tgsim_ctl_users_get(tgsim_ctl_t *c)
{
    cJSON *arr = cJSON_CreateArray();
    size_t pos = 0;
    tgsim_map_ent_t *e = NULL;
    tgsim_user_t *u;
    while ((u = tgsim_map_next(&c->w->users, &pos, &e))) cJSON_AddItemToArray(arr, tgsim_ctl_user_json(u));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "users", arr);
    tgsim_ctl_ok(c, o);
}

static void tgsim_ctl_users_post(tgsim_ctl_t *c)
{
    int64_t id = 0;
    if (tgsim_ctl_i64(c->in, "id", &id) < 0 || id < 0 || id >= (INT64_C(1) << 52)) {
        tgsim_ctl_err(c, 400, "id must be a positive integer below 2^52");
        return;
    }
    int existed = id > 0 && tgsim_user_find(c->w, id);
    tgsim_user_t *u = tgsim_user_upsert(c->w, id, tgsim_ctl_str(c->in, "first_name"), tgsim_ctl_str(c->in, "last_name"),
                                        tgsim_ctl_str(c->in, "username"), tgsim_ctl_str(c->in, "phone"),
                                        tgsim_ctl_str(c->in, "language_code"), tgsim_ctl_str(c->in, "role"));
    if (cJSON_GetObjectItemCaseSensitive(c->in, "started")) u->started = tgsim_ctl_bool(c->in, "started", 0);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "user", tgsim_ctl_user_json(u));
    cJSON_AddBoolToObject(o, "created", !existed);
    tgsim_ctl_ok(c, o);
}

static void tgsim_ctl_groups_post(tgsim_ctl_t *c)
{
    int64_t id = 0;
    if (tgsim_ctl_i64(c->in, "id", &id) < 0 || id > 0) { tgsim_ctl_err(c, 400, "id must be a negative integer"); return; }
    tgsim_chat_t *chat = tgsim_chat_create_group(c->w, id, tgsim_ctl_str(c->in, "title"), tgsim_ctl_str(c->in, "type"));
    if (!chat) { tgsim_ctl_err(c, 409, "a chat with that id exists"); return; }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "chat", tgsim_chat_json(c->w, chat));
    tgsim_ctl_ok(c, o);
}

/* ---- chats ---- */

static void tgsim_ctl_chats_list(tgsim_ctl_t *c)
{
    cJSON *arr = cJSON_CreateArray();
    size_t pos = 0;
    tgsim_map_ent_t *e = NULL;
    tgsim_chat_t *ch;
    while ((ch = tgsim_map_next(&c->w->chats, &pos, &e))) {
        cJSON *o = tgsim_chat_json(c->w, ch);
        cJSON_AddNumberToObject(o, "messages", (double)ch->nmsgs);
        cJSON_AddNumberToObject(o, "bot_messages", (double)ch->bot_msgs);
        cJSON_AddNumberToObject(o, "version", (double)ch->version);
        cJSON_AddItemToArray(arr, o);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "chats", arr);
    cJSON_AddNumberToObject(o, "version", (double)c->w->version);
    tgsim_ctl_ok(c, o);
}

static cJSON *tgsim_ctl_chat_full(tgsim_world_t *w, tgsim_chat_t *ch, const char *from)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "version", (double)ch->version);
    cJSON *cj = tgsim_chat_json(w, ch);
    tgsim_user_t *u = tgsim_user_find(w, ch->id);
    if (u) cJSON_AddItemToObject(cj, "user", tgsim_ctl_user_json(u));
    cJSON_AddItemToObject(o, "chat", cj);
    cJSON_AddNumberToObject(o, "bot_messages", (double)ch->bot_msgs);
    cJSON_AddItemToObject(o, "reply_keyboard", ch->reply_keyboard ? cJSON_Duplicate(ch->reply_keyboard, 1) : cJSON_CreateNull());
    cJSON *msgs = cJSON_AddArrayToObject(o, "messages");
    for (size_t i = 0; i < ch->nmsgs; i++) {
        tgsim_msg_t *m = ch->msgs[i];
        if (from && !strcmp(from, "bot") && !m->from_bot) continue;
        if (from && !strcmp(from, "user") && m->from_bot) continue;
        cJSON_AddItemToArray(msgs, tgsim_ctl_msg_json(m));
    }
    /* the command menu a client would show: the default scope, any language */
    cJSON *menu = NULL;
    for (cJSON *e = w->commands ? w->commands->child : NULL; e && !menu; e = e->next) {
        cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
        if (cJSON_IsString(k) && !strncmp(k->valuestring, "default|", 8))
            menu = cJSON_GetObjectItemCaseSensitive(e, "commands");
    }
    cJSON_AddItemToObject(o, "bot_commands", menu ? cJSON_Duplicate(menu, 1) : cJSON_CreateArray());
    cJSON *cbs = cJSON_AddArrayToObject(o, "callbacks");
    for (size_t i = 0; i < ch->ncbqs; i++) {
        tgsim_cbq_t *q = ch->cbqs[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", q->id);
        cJSON_AddNumberToObject(e, "message_id", (double)q->message_id);
        cJSON_AddNumberToObject(e, "user_id", (double)q->user_id);
        cJSON_AddStringToObject(e, "data", q->data ? q->data : "");
        cJSON_AddBoolToObject(e, "answered", q->answered);
        if (q->answer) cJSON_AddItemToObject(e, "answer", cJSON_Duplicate(q->answer, 1));
        cJSON_AddItemToArray(cbs, e);
    }
    cJSON *pays = cJSON_AddArrayToObject(o, "payments");
    double now = tgsim_now_mono();
    for (size_t i = 0; i < ch->npays; i++) {
        tgsim_payment_t *p = ch->pays[i];
        if (p->status == TGSIM_PAY_PENDING && now > p->deadline) p->status = TGSIM_PAY_EXPIRED;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "pre_checkout_query_id", p->id);
        cJSON_AddNumberToObject(e, "invoice_message_id", (double)p->invoice_message_id);
        cJSON_AddNumberToObject(e, "user_id", (double)p->user_id);
        cJSON_AddStringToObject(e, "status", tgsim_ctl_pay_status(p->status));
        cJSON_AddStringToObject(e, "currency", p->currency ? p->currency : "");
        cJSON_AddNumberToObject(e, "total_amount", (double)p->total);
        cJSON_AddStringToObject(e, "invoice_payload", p->payload ? p->payload : "");
        if (p->error_message) cJSON_AddStringToObject(e, "error_message", p->error_message);
        if (p->message_id) cJSON_AddNumberToObject(e, "message_id", (double)p->message_id);
        cJSON_AddItemToArray(pays, e);
    }
    return o;
}

static tgsim_chat_t *tgsim_ctl_chat_arg(tgsim_ctl_t *c, const char *seg, int64_t *id)
{
    if (tgsim_parse_int64(seg, id) != 0) { tgsim_ctl_err(c, 400, "bad chat id"); return NULL; }
    tgsim_chat_t *ch = tgsim_chat_find(c->w, *id);
    if (!ch) tgsim_ctl_err(c, 404, "chat not found");
    return ch;
}

/* GET /control/chats/<id>[?since_version=V&timeout=S&from=bot|user] */
static void tgsim_ctl_chat_get(tgsim_ctl_t *c, const char *seg)
{
    int64_t id;
    tgsim_chat_t *ch = tgsim_ctl_chat_arg(c, seg, &id);
    if (!ch) return;
    double since = tgsim_q_num(c->query, "since_version", -1);
    double deadline = tgsim_now_mono() + fmin(tgsim_q_num(c->query, "timeout", 0), 120);
    while (since >= 0 && (double)ch->version <= since && !c->w->stopping) {
        if (tgsim_world_wait(c->w, deadline)) break;
        ch = tgsim_chat_find(c->w, id);
        if (!ch) { tgsim_ctl_err(c, 404, "chat not found"); return; }
    }
    char *from = tgsim_ctl_q(c->query, "from");
    tgsim_ctl_ok(c, tgsim_ctl_chat_full(c->w, ch, from));
    free(from);
}

/* GET /control/chats/<id>/wait?count=N&timeout=S[&after_id=M][&edits=E][&answered=A]
 * Waits until the bot has sent at least N messages with message_id > M
 * (and, if given, made E edits / answered A callback queries in the chat). */
static void tgsim_ctl_chat_wait(tgsim_ctl_t *c, const char *seg)
{
    int64_t id;
    tgsim_chat_t *ch = tgsim_ctl_chat_arg(c, seg, &id);
    if (!ch) return;
    double count = tgsim_q_num(c->query, "count", 1), after = tgsim_q_num(c->query, "after_id", 0);
    double edits = tgsim_q_num(c->query, "edits", -1), answered = tgsim_q_num(c->query, "answered", -1);
    double deadline = tgsim_now_mono() + fmin(tgsim_q_num(c->query, "timeout", 10), 300);
    size_t n, ne, na;
    int timed_out = 0;
    for (;;) {
        n = ne = na = 0;
        for (size_t i = 0; i < ch->nmsgs; i++) {
            tgsim_msg_t *m = ch->msgs[i];
            if (!m->from_bot) continue;
            if ((double)m->id > after) n++;
            ne += m->edits ? (size_t)cJSON_GetArraySize(m->edits) : 0;
        }
        for (size_t i = 0; i < ch->ncbqs; i++) na += ch->cbqs[i]->answered ? 1 : 0;
        if ((double)n >= count && (edits < 0 || (double)ne >= edits) && (answered < 0 || (double)na >= answered)) break;
        if (c->w->stopping || tgsim_world_wait(c->w, deadline)) {
            timed_out = 1;
            break;
        }
        ch = tgsim_chat_find(c->w, id);
        if (!ch) { tgsim_ctl_err(c, 404, "chat not found"); return; }
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "count", (double)n);
    cJSON_AddNumberToObject(o, "edits", (double)ne);
    cJSON_AddNumberToObject(o, "answered", (double)na);
    cJSON *msgs = cJSON_AddArrayToObject(o, "messages");
    for (size_t i = 0; i < ch->nmsgs; i++)
        if (ch->msgs[i]->from_bot && (double)ch->msgs[i]->id > after)
            cJSON_AddItemToArray(msgs, tgsim_ctl_msg_json(ch->msgs[i]));
    if (!timed_out) {
        tgsim_ctl_ok(c, o);
        return;
    }
    cJSON_AddBoolToObject(o, "ok", 0);
    cJSON_AddStringToObject(o, "error", "timeout");
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    c->r->status = 408;
    c->r->ctype = "application/json";
    c->r->body.len = 0;
    tgsim_buf_puts(&c->r->body, s);
    cJSON_free(s);
}

/* ---- stats, config, faults, updates ---- */

static void tgsim_ctl_stats(tgsim_ctl_t *c)
{
    tgsim_world_t *w = c->w;
    tgsim_stats_t *s = &w->stats;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "calls", (double)s->calls);
    cJSON_AddNumberToObject(o, "ok_calls", (double)s->ok);
    cJSON_AddNumberToObject(o, "error_calls", (double)s->errors);
    cJSON_AddNumberToObject(o, "status_4xx", (double)s->status_4xx);
    cJSON_AddNumberToObject(o, "status_5xx", (double)s->status_5xx);
    cJSON_AddNumberToObject(o, "too_many_requests", (double)s->too_many_requests);
    cJSON_AddNumberToObject(o, "rate_limited", (double)s->rate_limited);
    cJSON_AddNumberToObject(o, "forced_429", (double)s->forced_429);
    cJSON_AddNumberToObject(o, "injected_5xx", (double)s->injected_5xx);
    cJSON_AddNumberToObject(o, "bot_messages", (double)s->bot_messages);
    cJSON_AddNumberToObject(o, "updates_created", (double)s->updates_created);
    cJSON_AddNumberToObject(o, "pending_updates", (double)w->npending);
    cJSON *wh = cJSON_AddObjectToObject(o, "webhook");
    cJSON_AddNumberToObject(wh, "delivered", (double)s->webhook_ok);
    cJSON_AddNumberToObject(wh, "failed_attempts", (double)s->webhook_failed);
    cJSON *ms = cJSON_AddObjectToObject(o, "methods");
    size_t pos = 0;
    tgsim_map_ent_t *e = NULL;
    tgsim_method_stat_t *m;
    while ((m = tgsim_map_next(&s->methods, &pos, &e))) cJSON_AddNumberToObject(ms, m->name, (double)m->count);
    tgsim_ctl_ok(c, o);
}

static cJSON *tgsim_ctl_config_json(const tgsim_config_t *cf)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "rate_limits", cf->rate_enabled);
    cJSON_AddNumberToObject(o, "rate_chat", cf->rate_chat);
    cJSON_AddNumberToObject(o, "rate_chat_burst", cf->rate_chat_burst);
    cJSON_AddNumberToObject(o, "rate_group_per_min", cf->rate_group_per_min);
    cJSON_AddNumberToObject(o, "rate_group_burst", cf->rate_group_burst);
    cJSON_AddNumberToObject(o, "rate_global", cf->rate_global);
    cJSON_AddNumberToObject(o, "rate_global_burst", cf->rate_global_burst);
    cJSON_AddBoolToObject(o, "rate_global_strict", cf->rate_global_strict);
    cJSON_AddNumberToObject(o, "webhook_retry_ms", cf->webhook_retry_ms);
    cJSON_AddNumberToObject(o, "webhook_retry_max_ms", cf->webhook_retry_max_ms);
    cJSON_AddNumberToObject(o, "webhook_timeout_ms", cf->webhook_timeout_ms);
    cJSON_AddNumberToObject(o, "webhook_max_attempts", cf->webhook_max_attempts);
    cJSON_AddNumberToObject(o, "callback_timeout_ms", cf->callback_timeout_ms);
    cJSON_AddNumberToObject(o, "precheckout_timeout_ms", cf->precheckout_timeout_ms);
    cJSON_AddStringToObject(o, "bot_username", cf->bot_username);
    return o;
}

static void tgsim_ctl_config(tgsim_ctl_t *c, int post)
{
    tgsim_world_t *w = c->w;
    tgsim_config_t *cf = &w->cfg;
    if (post) {
        static const struct { const char *name; size_t off; int is_int; } fields[] = {
            {"rate_chat", offsetof(tgsim_config_t, rate_chat), 0},
            {"rate_chat_burst", offsetof(tgsim_config_t, rate_chat_burst), 0},
            {"rate_group_per_min", offsetof(tgsim_config_t, rate_group_per_min), 0},
            {"rate_group_burst", offsetof(tgsim_config_t, rate_group_burst), 0},
            {"rate_global", offsetof(tgsim_config_t, rate_global), 0},
            {"rate_global_burst", offsetof(tgsim_config_t, rate_global_burst), 0},
            {"webhook_retry_ms", offsetof(tgsim_config_t, webhook_retry_ms), 1},
            {"webhook_retry_max_ms", offsetof(tgsim_config_t, webhook_retry_max_ms), 1},
            {"webhook_timeout_ms", offsetof(tgsim_config_t, webhook_timeout_ms), 1},
            {"webhook_max_attempts", offsetof(tgsim_config_t, webhook_max_attempts), 1},
            {"callback_timeout_ms", offsetof(tgsim_config_t, callback_timeout_ms), 1},
            {"precheckout_timeout_ms", offsetof(tgsim_config_t, precheckout_timeout_ms), 1},
        };
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            double v;
            int r = tgsim_ctl_num(c->in, fields[i].name, &v);
            if (r < 0 || (r == 1 && v < 0)) {
                char msg[128];
                snprintf(msg, sizeof msg, "%s must be a non-negative number", fields[i].name);
                tgsim_ctl_err(c, 400, msg);
                return;
            }
        }
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            double v;
            if (tgsim_ctl_num(c->in, fields[i].name, &v) != 1) continue;
            char *base = (char *)cf + fields[i].off;
            if (fields[i].is_int) *(int *)base = (int)v;
            else *(double *)base = v;
        }
        if (cJSON_GetObjectItemCaseSensitive(c->in, "rate_limits"))
            cf->rate_enabled = tgsim_ctl_bool(c->in, "rate_limits", 1);
        if (cJSON_GetObjectItemCaseSensitive(c->in, "rate_global_strict"))
            cf->rate_global_strict = tgsim_ctl_bool(c->in, "rate_global_strict", 0);
        /* new limits start from full buckets */
        size_t pos = 0;
        tgsim_map_ent_t *e = NULL;
        void *v;
        while ((v = tgsim_map_next(&w->buckets, &pos, &e))) free(v);
        tgsim_map_clear(&w->buckets);
        w->global_bucket.tokens = cf->rate_global_burst;
        w->global_bucket.last = tgsim_now_mono();
        w->global_window.n = w->global_window.pos = 0;
        tgsim_world_touch(w, NULL);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "config", tgsim_ctl_config_json(cf));
    tgsim_ctl_ok(c, o);
}

static int tgsim_ctl_fault_set(tgsim_ctl_t *c, const char *key, tgsim_fault_t *f, int is_429)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(c->in, key);
    if (!o) return 0;
    if (!cJSON_IsObject(o)) return tgsim_ctl_err(c, 400, "fault must be an object");
    int64_t count = 1, ra = 1, status = 500;
    if (tgsim_ctl_i64(o, "count", &count) < 0 || count < 0) return tgsim_ctl_err(c, 400, "count must be >= 0");
    if (tgsim_ctl_i64(o, "retry_after", &ra) < 0 || ra < 1) return tgsim_ctl_err(c, 400, "retry_after must be >= 1");
    if (tgsim_ctl_i64(o, "status", &status) < 0 || status < 500 || status > 599)
        return tgsim_ctl_err(c, 400, "status must be 500..599");
    memset(f, 0, sizeof *f);
    f->count = (int)count;
    f->status = is_429 ? 429 : (int)status;
    f->retry_after = (int)ra;
    cJSON *ms = cJSON_GetObjectItemCaseSensitive(o, "methods");
    size_t used = 0;
    for (cJSON *m = cJSON_IsArray(ms) ? ms->child : NULL; m; m = m->next) {
        if (!cJSON_IsString(m)) continue;
        for (const char *p = m->valuestring; *p && used + 2 < sizeof f->methods; p++)
            f->methods[used++] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
        if (used + 1 < sizeof f->methods) f->methods[used++] = ',';
    }
    if (used) f->methods[used - 1] = '\0';
    return 0;
}

static cJSON *tgsim_ctl_fault_json(const tgsim_fault_t *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "count", f->count);
    cJSON_AddNumberToObject(o, "status", f->status);
    if (f->status == 429) cJSON_AddNumberToObject(o, "retry_after", f->retry_after);
    cJSON_AddStringToObject(o, "methods", f->methods);
    return o;
}

static void tgsim_ctl_faults(tgsim_ctl_t *c, int post)
{
    tgsim_world_t *w = c->w;
    if (post) {
        if (tgsim_ctl_bool(c->in, "clear", 0)) {
            memset(&w->fault_429, 0, sizeof w->fault_429);
            memset(&w->fault_5xx, 0, sizeof w->fault_5xx);
        }
        if (tgsim_ctl_fault_set(c, "too_many_requests", &w->fault_429, 1)) return;
        if (tgsim_ctl_fault_set(c, "server_error", &w->fault_5xx, 0)) return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "too_many_requests", tgsim_ctl_fault_json(&w->fault_429));
    cJSON_AddItemToObject(o, "server_error", tgsim_ctl_fault_json(&w->fault_5xx));
    tgsim_ctl_ok(c, o);
}

static void tgsim_ctl_updates(tgsim_ctl_t *c)
{
    tgsim_world_t *w = c->w;
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "pending");
    for (tgsim_update_t *u = w->uhead; u; u = u->next) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "update_id", (double)u->id);
        cJSON_AddStringToObject(e, "type", tgsim_update_names[u->type]);
        cJSON_AddNumberToObject(e, "chat_id", (double)u->key);
        cJSON_AddNumberToObject(e, "attempts", u->attempts);
        cJSON_AddBoolToObject(e, "in_flight", u->in_flight);
        cJSON_AddItemToArray(arr, e);
    }
    cJSON *wh = cJSON_AddObjectToObject(o, "webhook");
    cJSON_AddStringToObject(wh, "url", w->webhook_url ? w->webhook_url : "");
    cJSON_AddBoolToObject(wh, "has_secret", w->webhook_secret != NULL);
    cJSON_AddNumberToObject(wh, "max_connections", w->webhook_max_conn);
    if (w->last_error_message) cJSON_AddStringToObject(wh, "last_error_message", w->last_error_message);
    cJSON_AddNumberToObject(o, "next_update_id", (double)w->next_update_id);
    tgsim_ctl_ok(c, o);
}

void tgsim_file_serve(tgsim_world_t *w, const char *id_or_path, tgsim_resp_t *r)
{
    pthread_mutex_lock(&w->mu);
    tgsim_file_t *f = tgsim_file_find(w, id_or_path);
    if (f && f->origin) f = f->origin;
    if (!f) {
        pthread_mutex_unlock(&w->mu);
        r->status = 404;
        r->ctype = "application/json";
        tgsim_buf_puts(&r->body, "{\"ok\":false,\"error_code\":404,\"description\":\"Not Found\"}");
        return;
    }
    r->status = 200;
    /* r->ctype must outlive the lock: answer with a static string */
    static const char *const known[] = {"image/png", "image/gif", "image/webp", "image/jpeg", "application/pdf",
                                        "text/plain", "text/csv", "application/json", "application/zip", NULL};
    const char *mt = f->mime_type;
    int iw, ih;
    if (!mt && tgsim_image_size(f->data, f->len, &iw, &ih))
        mt = f->data[0] == 0x89 ? "image/png" : f->data[0] == 'G' ? "image/gif" : f->data[0] == 'R' ? "image/webp" : "image/jpeg";
    r->ctype = "application/octet-stream";
    for (int i = 0; mt && known[i]; i++)
        if (!strcmp(mt, known[i])) r->ctype = known[i];
    tgsim_buf_put(&r->body, f->data, f->len);
    pthread_mutex_unlock(&w->mu);
}

/* ---- routing ---- */

static void tgsim_ctl_route(tgsim_ctl_t *c, const char *m, char **seg, int n)
{
    int get = !strcmp(m, "GET"), post = !strcmp(m, "POST");
    const char *s0 = n > 0 ? seg[0] : "";
    if (!strcmp(s0, "health") && n == 1) { tgsim_ctl_ok(c, NULL); return; }
    if (!strcmp(s0, "reset") && n == 1 && post) {
        int full = tgsim_ctl_bool(c->in, "bot_settings", 0);
        tgsim_world_reset(c->w, full);
        TGSIM_INFO("reset", "bot_settings=%d", full);
        tgsim_ctl_ok(c, NULL);
        return;
    }
    if (!strcmp(s0, "stats") && n == 1 && get) { tgsim_ctl_stats(c); return; }
    if (!strcmp(s0, "config") && n == 1 && (get || post)) { tgsim_ctl_config(c, post); return; }
    if (!strcmp(s0, "faults") && n == 1 && (get || post)) { tgsim_ctl_faults(c, post); return; }
    if (!strcmp(s0, "updates") && n == 1 && get) { tgsim_ctl_updates(c); return; }
    if (!strcmp(s0, "groups") && n == 1 && post) { tgsim_ctl_groups_post(c); return; }
    if (!strcmp(s0, "users")) {
        if (n == 1 && get) { tgsim_ctl_users_get(c); return; }
        if (n == 1 && post) { tgsim_ctl_users_post(c); return; }
        int64_t id;
        tgsim_user_t *u = n >= 2 && tgsim_parse_int64(seg[1], &id) == 0 ? tgsim_user_find(c->w, id) : NULL;
        if (n >= 2 && !u) { tgsim_ctl_err(c, 404, "user not found"); return; }
        if (n == 2 && get) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "user", tgsim_ctl_user_json(u));
            tgsim_ctl_ok(c, o);
            return;
        }
        if (n == 3 && post) { tgsim_ctl_act(c, u, seg[2]); return; }
    }
    if (!strcmp(s0, "chats") && get) {
        if (n == 1) { tgsim_ctl_chats_list(c); return; }
        if (n == 2) { tgsim_ctl_chat_get(c, seg[1]); return; }
        if (n == 3 && !strcmp(seg[2], "wait")) { tgsim_ctl_chat_wait(c, seg[1]); return; }
    }
    tgsim_ctl_err(c, 404, "no such control endpoint");
}

void tgsim_control_handle(tgsim_world_t *w, const char *http_method, const char *path,
                          const char *query, const char *body, size_t len, tgsim_resp_t *r)
{
    tgsim_ctl_t c = {w, NULL, query, r};
    if (len) {
        c.in = tgsim_json_parse(body, len);
        if (!cJSON_IsObject(c.in)) {
            cJSON_Delete(c.in);
            tgsim_ctl_err(&c, 400, "the body must be a JSON object");
            return;
        }
    } else {
        c.in = cJSON_CreateObject();
    }
    if (!strncmp(path, "/control/files/", 15) && !strcmp(http_method, "GET")) {
        char *id = tgsim_url_decode(path + 15, strlen(path + 15), 0, NULL);
        tgsim_file_serve(w, id, r);
        free(id);
        cJSON_Delete(c.in);
        return;
    }
    char *copy = tgsim_xstrdup(path + 9);       /* after "/control/" */
    char *seg[8];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(copy, "/", &save); t && n < 8; t = strtok_r(NULL, "/", &save)) seg[n++] = t;
    pthread_mutex_lock(&w->mu);
    tgsim_ctl_route(&c, http_method, seg, n);
    pthread_mutex_unlock(&w->mu);
    free(copy);
    cJSON_Delete(c.in);
}
